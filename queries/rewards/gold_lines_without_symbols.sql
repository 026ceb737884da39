-- Gold lines (with their instance's repo and base commit) of instance revisions that have no
-- `gold_symbols` rows yet: the work list of `swepipe.rewards.gold.compute_gold_symbols`.
-- $ids: instance ids to restrict to, or NULL for all.
SELECT g.instance_id, g.revision, i.repo, i.base_commit, g.path, g.line, g.kind
FROM gold_lines AS g
JOIN instances AS i USING (instance_id, revision)
WHERE ($ids IS NULL OR list_contains($ids, g.instance_id))
  AND NOT EXISTS (SELECT 1 FROM gold_symbols AS s
                  WHERE s.instance_id = g.instance_id AND s.revision = g.revision)
ORDER BY g.instance_id, g.revision, g.path, g.line
