-- The instance rows an imported evaluation is graded against: for each id of $ids, the revision
-- dataset $dataset points at, or (when $dataset is NULL) the latest revision.
WITH pick AS (
    SELECT instance_id, revision FROM dataset_instances
    WHERE $dataset IS NOT NULL AND dataset = $dataset AND list_contains($ids, instance_id)
    UNION ALL
    SELECT instance_id, max(revision) FROM instances
    WHERE $dataset IS NULL AND list_contains($ids, instance_id)
    GROUP BY instance_id
)
SELECT i.instance_id, i.revision, i.content_hash, i.repo, i.repo_version, i.fail_to_pass,
       i.pass_to_pass
FROM instances AS i JOIN pick USING (instance_id, revision)
