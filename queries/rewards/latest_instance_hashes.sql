-- (instance_id, content_hash) of the latest revision of each requested instance ($ids): the
-- revision an imported prediction is recorded against.
SELECT instance_id, arg_max(content_hash, revision) AS content_hash
FROM instances WHERE list_contains($ids, instance_id)
GROUP BY instance_id
