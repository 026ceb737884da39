-- The test matrix: outcomes by key (durations, outputs with timings, and executors vary by run).
SELECT instance_id, patch_hash, test_kind, test_id, status, exit_code
FROM test_runs
