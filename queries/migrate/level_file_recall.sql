-- file_recall per instance of each level migrated from one legacy localization file, side by side
-- (docs/legacy-migration.md). The levels are the configs its latest import recorded in
-- `legacy_imports.rows.configs`; the values are the per-instance `file_recall` rewards
-- (`swepipe rewards --stage localize` computes them). NULL: no reward (no gold files) or the file
-- has no such level.
-- $source: the file's absolute path.
WITH latest AS (
    SELECT rows FROM legacy_imports WHERE source_path = $source
    ORDER BY imported_at DESC LIMIT 1
),
levels AS (
    SELECT DISTINCT c ->> 'config_hash' AS config_hash, c ->> 'level' AS level
    FROM latest, unnest(CAST(latest.rows -> 'configs' AS JSON[])) AS u(c)
    WHERE c ->> 'level' IS NOT NULL
)
SELECT r.instance_id,
       max(r.value) FILTER (WHERE l.level = 'file') AS file_level,
       max(r.value) FILTER (WHERE l.level = 'related') AS related_level,
       max(r.value) FILTER (WHERE l.level = 'edit') AS edit_level
FROM rewards AS r
JOIN levels AS l USING (config_hash)
WHERE r.stage = 'localize' AND r.metric = 'file_recall' AND r.sample_idx = -1
GROUP BY r.instance_id
ORDER BY r.instance_id
