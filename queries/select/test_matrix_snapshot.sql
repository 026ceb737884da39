-- Every stored cell of the test matrices of some instances ($instance_ids): what a Ray worker
-- is handed with a chunk (select/test_matrix.py, SnapshotTestMatrix).
SELECT instance_id, patch_hash, test_kind, test_id, status, exit_code, duration_s, output, executor
FROM test_runs
WHERE list_contains($instance_ids, instance_id)
