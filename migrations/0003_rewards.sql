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

-- Pointers of the current localization results.
CREATE VIEW loc_pointers AS
SELECT r.config_hash, r.instance_id, r.revision, l.sample_idx, l.pointer_idx, l.file_path,
       l.start_line, l.end_line, l.kind, l.symbol, l.rank, l.resolved, l.tokens
FROM current_results AS r
JOIN localizations AS l USING (config_hash, instance_id, attempt)
WHERE r.stage = 'localize';

-- Every localization sample of the current results: the sample indices that have pointers; a
-- result with no pointers at all is one empty sample 0 (it scores 0, not "undefined").
CREATE VIEW loc_samples AS
SELECT DISTINCT r.config_hash, r.instance_id, r.revision, coalesce(l.sample_idx, 0) AS sample_idx
FROM current_results AS r
LEFT JOIN localizations AS l USING (config_hash, instance_id, attempt)
WHERE r.stage = 'localize';

-- Candidates of the current generation results with the gold patch and tests of the revision they
-- ran on. A result with no candidates is one empty candidate 0. `run_hash` is the key of the
-- candidate's rows in `test_runs` ('' = the original code, which is what an empty diff runs).
CREATE VIEW current_patches AS
WITH c AS (
    SELECT r.config_hash, r.instance_id, r.revision, coalesce(p.sample_idx, 0) AS sample_idx,
           coalesce(p.diff, '') AS diff, coalesce(p.content_hash, '') AS content_hash,
           coalesce(p.status, 'empty') AS status, p.meta
    FROM current_results AS r
    LEFT JOIN patches AS p USING (config_hash, instance_id, attempt)
    WHERE r.stage = 'generate'
)
SELECT c.*, CASE WHEN c.diff = '' THEN '' ELSE c.content_hash END AS run_hash,
       i.patch AS gold_patch, i.fail_to_pass, i.pass_to_pass
FROM c JOIN instances AS i USING (instance_id, revision);

-- Each candidate x each of its instance's gold tests (FAIL_TO_PASS and PASS_TO_PASS) with the
-- outcome recorded in `test_runs` (`status` NULL: no row for that test). `ran`: the candidate has
-- at least one gold-test row, i.e. an executor ran its gold tests.
CREATE VIEW candidate_gold_tests AS
WITH t AS (
    SELECT config_hash, instance_id, sample_idx, diff, run_hash, 'fail_to_pass' AS test_kind,
           unnest(fail_to_pass) AS test_id
    FROM current_patches
    UNION ALL
    SELECT config_hash, instance_id, sample_idx, diff, run_hash, 'pass_to_pass',
           unnest(pass_to_pass)
    FROM current_patches
),
ran AS (
    SELECT DISTINCT instance_id, patch_hash AS run_hash FROM test_runs
    WHERE test_kind IN ('fail_to_pass', 'pass_to_pass')
)
SELECT t.config_hash, t.instance_id, t.sample_idx, t.diff, t.test_kind, t.test_id, x.status,
       ran.run_hash IS NOT NULL AS ran
FROM t
LEFT JOIN test_runs AS x
  ON x.instance_id = t.instance_id AND x.patch_hash = t.run_hash
 AND x.test_kind = t.test_kind AND x.test_id = t.test_id
LEFT JOIN ran ON ran.instance_id = t.instance_id AND ran.run_hash = t.run_hash;

-- Current selection results with the generation config whose candidates they chose among (the
-- upstream config of stage `generate`; the smallest hash if a selector consumed several).
CREATE VIEW current_selections AS
WITH s AS (
    SELECT r.config_hash, r.instance_id, r.revision, s.chosen_sample_idx, s.patch, s.method
    FROM current_results AS r
    JOIN selections AS s USING (config_hash, instance_id, attempt)
    WHERE r.stage = 'select'
),
up AS (
    SELECT c.config_hash,
           unnest(map_values(json_transform(c.upstream, '"MAP(VARCHAR, VARCHAR)"'))) AS up_hash
    FROM configs AS c WHERE c.stage = 'select'
),
gen AS (
    SELECT up.config_hash, min(up.up_hash) AS generate_config
    FROM up JOIN configs AS g ON g.config_hash = up.up_hash AND g.stage = 'generate'
    GROUP BY up.config_hash
)
SELECT s.*, gen.generate_config FROM s JOIN gen USING (config_hash);

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
-- (DISTINCT over an unnest in the same SELECT de-duplicates before unnesting: keep them apart)
removed AS (
    SELECT DISTINCT * FROM (
        SELECT instance_id, revision, path, unnest(removed_lines) AS line FROM h)
),
inserted AS (
    SELECT DISTINCT * FROM (
        SELECT instance_id, revision, path, unnest(added_after) AS line FROM h)
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
