-- swepipe store schema, version 1.
-- Keys: every stage row is keyed by (stage, config_hash, instance_id, attempt[, sample_idx]).
-- `attempt` numbers the computations of one (stage, config, instance): failures, retries and
-- `recompute` each add an attempt; the current result is the latest `done` attempt whose
-- `instance_hash` matches the instance revision it ran on.

-- Instances are versioned: a changed row for a known instance_id becomes a new revision.
CREATE TABLE instances (
    instance_id VARCHAR NOT NULL,
    revision INTEGER NOT NULL,
    content_hash VARCHAR NOT NULL,
    repo VARCHAR NOT NULL,
    base_commit VARCHAR NOT NULL,
    problem_statement VARCHAR NOT NULL,
    hints_text VARCHAR NOT NULL DEFAULT '',
    patch VARCHAR NOT NULL DEFAULT '',
    test_patch VARCHAR NOT NULL DEFAULT '',
    fail_to_pass VARCHAR[] NOT NULL DEFAULT [],
    pass_to_pass VARCHAR[] NOT NULL DEFAULT [],
    repo_version VARCHAR,
    environment_setup_commit VARCHAR,
    created_at VARCHAR,
    difficulty VARCHAR,
    extra JSON,
    ingested_at TIMESTAMP NOT NULL DEFAULT current_timestamp,
    PRIMARY KEY (instance_id, revision)
);

-- Which revision of an instance a dataset holds. Re-pointed when a dataset is re-ingested with a
-- changed row; the old revision stays in `instances`.
CREATE TABLE dataset_instances (
    dataset VARCHAR NOT NULL,
    instance_id VARCHAR NOT NULL,
    revision INTEGER NOT NULL,
    source VARCHAR,
    PRIMARY KEY (dataset, instance_id)
);

-- The gold patch parsed with unidiff. `path` is the source path (target path for a new file).
CREATE TABLE gold_files (
    instance_id VARCHAR NOT NULL,
    revision INTEGER NOT NULL,
    path VARCHAR NOT NULL,
    source_path VARCHAR,
    target_path VARCHAR,
    change_type VARCHAR NOT NULL,      -- added | deleted | modified | renamed
    is_binary BOOLEAN NOT NULL,
    added INTEGER NOT NULL,
    removed INTEGER NOT NULL,
    PRIMARY KEY (instance_id, revision, path)
);

CREATE TABLE gold_hunks (
    instance_id VARCHAR NOT NULL,
    revision INTEGER NOT NULL,
    path VARCHAR NOT NULL,
    hunk_idx INTEGER NOT NULL,
    source_start INTEGER NOT NULL,
    source_length INTEGER NOT NULL,
    target_start INTEGER NOT NULL,
    target_length INTEGER NOT NULL,
    section_header VARCHAR,
    removed_lines INTEGER[] NOT NULL,   -- original-file line numbers of removed lines
    added_after INTEGER[] NOT NULL,     -- per added line, the original line it follows (0 = top)
    PRIMARY KEY (instance_id, revision, path, hunk_idx)
);

CREATE TABLE runs (
    run_id VARCHAR PRIMARY KEY,
    experiment VARCHAR,
    dataset VARCHAR,
    started_at TIMESTAMP NOT NULL DEFAULT current_timestamp,
    finished_at TIMESTAMP,
    status VARCHAR NOT NULL DEFAULT 'running',   -- running | finished | failed | interrupted
    settings JSON,
    swepipe_version VARCHAR
);

CREATE TABLE configs (
    config_hash VARCHAR PRIMARY KEY,
    stage VARCHAR NOT NULL,
    component VARCHAR NOT NULL,
    code_version VARCHAR NOT NULL,
    params JSON NOT NULL,
    upstream JSON NOT NULL,
    legacy BOOLEAN NOT NULL DEFAULT false,
    created_at TIMESTAMP NOT NULL DEFAULT current_timestamp
);

-- One row per computation attempt. Outputs and this row commit in one transaction.
CREATE TABLE stage_runs (
    stage VARCHAR NOT NULL,
    config_hash VARCHAR NOT NULL,
    instance_id VARCHAR NOT NULL,
    attempt INTEGER NOT NULL,
    status VARCHAR NOT NULL,           -- done | failed
    instance_hash VARCHAR,             -- instances.content_hash it ran on
    run_id VARCHAR,
    error_class VARCHAR,
    error_message VARCHAR,
    started_at TIMESTAMP,
    finished_at TIMESTAMP NOT NULL DEFAULT current_timestamp,
    duration_s DOUBLE,
    PRIMARY KEY (stage, config_hash, instance_id, attempt)
);

-- One row per CodePointer.
CREATE TABLE localizations (
    config_hash VARCHAR NOT NULL,
    instance_id VARCHAR NOT NULL,
    attempt INTEGER NOT NULL,
    sample_idx INTEGER NOT NULL,
    pointer_idx INTEGER NOT NULL,
    file_path VARCHAR NOT NULL,
    start_line INTEGER,
    end_line INTEGER,
    kind VARCHAR NOT NULL,
    symbol VARCHAR,
    rank INTEGER NOT NULL,
    score DOUBLE,
    resolved BOOLEAN NOT NULL DEFAULT true,
    tokens INTEGER,
    PRIMARY KEY (config_hash, instance_id, attempt, sample_idx, pointer_idx)
);

CREATE TABLE patches (
    config_hash VARCHAR NOT NULL,
    instance_id VARCHAR NOT NULL,
    attempt INTEGER NOT NULL,
    sample_idx INTEGER NOT NULL,
    diff VARCHAR NOT NULL,
    normalized_diff VARCHAR,
    files VARCHAR[] NOT NULL,
    content_hash VARCHAR NOT NULL,
    status VARCHAR NOT NULL,           -- ok | empty | unparseable | apply_failed | error
    reason VARCHAR,
    test VARCHAR,
    trajectory_id VARCHAR,
    meta JSON,
    PRIMARY KEY (config_hash, instance_id, attempt, sample_idx)
);

-- Patch x test -> outcome. `patch_hash` is the candidate's content hash ('' = original code),
-- so a matrix is reused across configs that produce the same candidate.
CREATE TABLE test_runs (
    instance_id VARCHAR NOT NULL,
    patch_hash VARCHAR NOT NULL,
    test_kind VARCHAR NOT NULL,        -- fail_to_pass | pass_to_pass | generated | reproduction | regression
    test_id VARCHAR NOT NULL,
    status VARCHAR NOT NULL,           -- passed | failed | error | skipped | timeout | missing
    exit_code INTEGER,
    duration_s DOUBLE,
    output VARCHAR,
    executor VARCHAR,
    run_at TIMESTAMP NOT NULL DEFAULT current_timestamp,
    PRIMARY KEY (instance_id, patch_hash, test_kind, test_id)
);

CREATE TABLE selections (
    config_hash VARCHAR NOT NULL,
    instance_id VARCHAR NOT NULL,
    attempt INTEGER NOT NULL,
    chosen_sample_idx INTEGER,
    patch VARCHAR NOT NULL,
    method VARCHAR NOT NULL,
    scores STRUCT(sample_idx INTEGER, score DOUBLE)[],
    rationale VARCHAR,
    PRIMARY KEY (config_hash, instance_id, attempt)
);

-- Message contents stored once (content-addressed): 40 samples share one long prompt.
CREATE TABLE contents (
    content_hash VARCHAR PRIMARY KEY,
    text VARCHAR NOT NULL
);

-- One row per model call.
CREATE TABLE sequences (
    sequence_id VARCHAR PRIMARY KEY,
    run_id VARCHAR,
    instance_id VARCHAR,
    stage VARCHAR,
    config_hash VARCHAR,
    sample_idx INTEGER,
    trajectory_id VARCHAR,
    turn INTEGER,
    model VARCHAR NOT NULL,
    weights_revision VARCHAR,
    request_hash VARCHAR NOT NULL,
    messages STRUCT(role VARCHAR, content_hash VARCHAR)[] NOT NULL,
    completions STRUCT(content_hash VARCHAR, finish_reason VARCHAR, token_ids INTEGER[], logprobs DOUBLE[])[],
    sampling JSON,
    prompt_tokens INTEGER,
    completion_tokens INTEGER,
    cached_tokens INTEGER,
    latency_s DOUBLE,
    attempts INTEGER,
    status VARCHAR NOT NULL,           -- ok | failed
    error VARCHAR,
    from_cache BOOLEAN NOT NULL DEFAULT false,
    created_at TIMESTAMP NOT NULL DEFAULT current_timestamp
);
CREATE INDEX sequences_request_hash ON sequences (request_hash);

CREATE TABLE rewards (
    instance_id VARCHAR NOT NULL,
    stage VARCHAR NOT NULL,
    config_hash VARCHAR NOT NULL,
    sample_idx INTEGER NOT NULL,       -- -1 = per instance (aggregated over samples)
    metric VARCHAR NOT NULL,
    value DOUBLE,
    computed_at TIMESTAMP NOT NULL DEFAULT current_timestamp,
    PRIMARY KEY (instance_id, stage, config_hash, sample_idx, metric)
);

CREATE TABLE legacy_imports (
    source_path VARCHAR NOT NULL,
    checksum VARCHAR NOT NULL,
    format VARCHAR NOT NULL,
    rows JSON NOT NULL,                -- {table: row count}
    imported_at TIMESTAMP NOT NULL DEFAULT current_timestamp,
    PRIMARY KEY (source_path, checksum)
);
