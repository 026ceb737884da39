-- The stored cells of one instance's test matrix for the given candidates ($patches, content
-- hashes; '' = original code) and test kinds ($kinds).
SELECT patch_hash, test_kind, test_id, status, exit_code, duration_s, output, executor
FROM test_runs
WHERE instance_id = $instance_id AND list_contains($patches, patch_hash)
  AND list_contains($kinds, test_kind)
