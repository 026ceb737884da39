-- Pseudo-rewards: gold locations, the current result of each stage, coverage of candidate code by
-- generated tests, fitted reward models, and rewards joined to the model calls that earned them.
-- Exact metric definitions: docs/metrics.md and the header of each queries/rewards/*.sql file.

-- The result a reward scores: per (stage, config, instance) the latest `done` attempt, with the
-- instance revision it ran on (so it is scored against that revision's gold patch and tests).
CREATE VIEW current_results AS
SELECT s.stage, s.config_hash, s.instance_id, s.attempt, i.revision
FROM (
    SELECT stage, config_hash, instance_id, max(attempt) AS attempt,
           arg_max(instance_hash, attempt) AS instance_hash
    FROM stage_runs WHERE status = 'done'
    GROUP BY stage, config_hash, instance_id
) AS s
JOIN instances AS i ON i.instance_id = s.instance_id AND i.content_hash = s.instance_hash;

-- The files localization is scored against: every file the gold patch changes that exists in the
-- original tree (modified, deleted, or the source side of a rename), binary files excluded.
-- New files are excluded: no localizer can point at a file that does not exist yet. (SWE-bench
-- Verified's `swerl_gt_files` is the same set restricted to `.py` files.)
CREATE VIEW gold_loc_files AS
SELECT instance_id, revision, coalesce(source_path, path) AS path
FROM gold_files
WHERE change_type <> 'added' AND NOT is_binary;

-- The gold patch's changed lines in the original file's numbering:
--   kind = 'removed': a removed (or replaced) original line;
--   kind = 'insert_after': an insertion point, the gap after original line `line` (0 = top of
--     file), for added lines that do not directly replace a removed line (when line `line` is
--     itself removed, the removed line already marks the place).
-- Only files in `gold_loc_files` (new files have no original lines).
CREATE VIEW gold_lines AS
WITH h AS (
    SELECT g.instance_id, g.revision, coalesce(f.source_path, g.path) AS path,
           g.removed_lines, g.added_after
    FROM gold_hunks AS g
    JOIN gold_files AS f USING (instance_id, revision, path)
    WHERE f.change_type <> 'added' AND NOT f.is_binary
),
removed AS (
    SELECT DISTINCT instance_id, revision, path, unnest(removed_lines) AS line FROM h
),
inserted AS (
    SELECT DISTINCT instance_id, revision, path, unnest(added_after) AS line FROM h
)
SELECT instance_id, revision, path, line, 'removed' AS kind FROM removed
UNION ALL
SELECT i.instance_id, i.revision, i.path, i.line, 'insert_after' AS kind
FROM inserted AS i
ANTI JOIN removed AS r USING (instance_id, revision, path, line);

-- The definitions (functions, methods, classes) that enclose gold changed lines, found with
-- tree-sitter in a checkout of the repository at `base_commit` (`swepipe rewards --repos DIR`).
-- `symbol` is qualified (`Cls.meth`); `line`/`kind` name the gold line it encloses (innermost
-- definition only). Instances without rows here get no `function_recall`.
CREATE TABLE gold_symbols (
    instance_id VARCHAR NOT NULL,
    revision INTEGER NOT NULL,
    path VARCHAR NOT NULL,
    symbol VARCHAR NOT NULL,
    symbol_kind VARCHAR NOT NULL,      -- function | class
    start_line INTEGER NOT NULL,
    end_line INTEGER NOT NULL,
    line INTEGER NOT NULL,             -- the enclosed gold line (gold_lines.line)
    line_kind VARCHAR NOT NULL,        -- gold_lines.kind
    PRIMARY KEY (instance_id, revision, path, line, line_kind)
);

-- Lines executed while running tests against a candidate (coverage.py inside the sandbox).
-- `patch_hash` is the candidate's content hash as in `test_runs`; `lines` are line numbers of the
-- patched file (the candidate's numbering). `test_id` '' = all tests of that kind together.
CREATE TABLE test_coverage (
    instance_id VARCHAR NOT NULL,
    patch_hash VARCHAR NOT NULL,
    test_kind VARCHAR NOT NULL,        -- as test_runs.test_kind (generated | reproduction | ...)
    test_id VARCHAR NOT NULL DEFAULT '',
    path VARCHAR NOT NULL,
    lines INTEGER[] NOT NULL,
    executor VARCHAR,
    run_at TIMESTAMP NOT NULL DEFAULT current_timestamp,
    PRIMARY KEY (instance_id, patch_hash, test_kind, test_id, path)
);

-- Models fitted on rewards (e.g. `predicted_resolved`), with their fit quality.
CREATE TABLE reward_models (
    name VARCHAR NOT NULL,
    fitted_at TIMESTAMP NOT NULL DEFAULT current_timestamp,
    target VARCHAR NOT NULL,
    features VARCHAR[] NOT NULL,
    coefficients DOUBLE[] NOT NULL,    -- intercept first, then one per feature (standardized)
    means DOUBLE[] NOT NULL,
    scales DOUBLE[] NOT NULL,
    n_train INTEGER NOT NULL,
    n_positive INTEGER NOT NULL,
    auc DOUBLE,                        -- in-sample ROC AUC
    cv_auc DOUBLE,                     -- cross-validated ROC AUC (folds grouped by instance)
    log_loss DOUBLE,
    brier DOUBLE,
    PRIMARY KEY (name, fitted_at)
);

-- Rewards attached to the model calls that produced the scored output, for the training export:
-- a call of (instance, stage, config, sample) gets that sample's rewards (`level` = 'sample') and
-- the instance-level ones (sample_idx -1, `level` = 'instance').
CREATE VIEW sequence_rewards AS
SELECT q.sequence_id, q.trajectory_id, q.instance_id, q.stage, q.config_hash, q.sample_idx,
       r.metric, r.value, CASE WHEN r.sample_idx = -1 THEN 'instance' ELSE 'sample' END AS level
FROM sequences AS q
JOIN rewards AS r
  ON r.instance_id = q.instance_id AND r.stage = q.stage AND r.config_hash = q.config_hash
 AND (r.sample_idx = q.sample_idx OR r.sample_idx = -1);
