-- Coverage to measure: each distinct current candidate (non-empty diff; $config: a generation
-- config hash prefix, NULL = all) x each test script of its candidate set (the `test` of every
-- candidate of the same config, instance and attempt), with no `test_coverage` row yet.
-- `test_kind` is 'reproduction' for Agentless' reproduction test (the candidate's meta has a
-- `reproduction` summary) and 'generated' otherwise (CodeMonkeys' per-candidate tests);
-- `test_id` is the script's sha256, as in `test_runs` and `contents`.
WITH cur AS (
    SELECT r.config_hash, r.instance_id, r.attempt, r.revision
    FROM current_results AS r
    WHERE r.stage = 'generate' AND ($config IS NULL OR starts_with(r.config_hash, $config))
),
cand AS (
    SELECT cur.config_hash, cur.instance_id, cur.attempt, cur.revision,
           p.content_hash AS patch_hash, p.diff
    FROM cur JOIN patches AS p USING (config_hash, instance_id, attempt)
    WHERE trim(p.diff) <> ''
),
tests AS (
    SELECT DISTINCT cur.config_hash, cur.instance_id, cur.attempt, p.test AS script,
           CASE WHEN json_extract(p.meta, '$.reproduction') IS NOT NULL
                THEN 'reproduction' ELSE 'generated' END AS test_kind
    FROM cur JOIN patches AS p USING (config_hash, instance_id, attempt)
    WHERE p.test IS NOT NULL AND trim(p.test) <> ''
),
todo AS (
    SELECT DISTINCT c.instance_id, c.revision, c.patch_hash, c.diff, t.test_kind,
           sha256(t.script) AS test_id, t.script
    FROM cand AS c JOIN tests AS t USING (config_hash, instance_id, attempt)
)
SELECT todo.*, i.repo, i.base_commit
FROM todo JOIN instances AS i USING (instance_id, revision)
WHERE NOT EXISTS (
    SELECT 1 FROM test_coverage AS v
    WHERE v.instance_id = todo.instance_id AND v.patch_hash = todo.patch_hash
      AND v.test_kind = todo.test_kind AND v.test_id = todo.test_id)
ORDER BY todo.instance_id, todo.patch_hash, todo.test_kind, todo.test_id
