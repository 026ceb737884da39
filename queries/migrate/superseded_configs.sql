-- Configs an earlier import layout gave a file that is being re-migrated: legacy configs with the
-- stage and params of a config the new import of that file creates, and the same component (or,
-- for Agentless localization, any level's component: the one-config layout named a v1.0 file
-- after its finest filled level), under a hash the import does not create (their component or
-- upstream differ). `stage_runs` counts their runs for the instances the new import covers,
-- which is what re-migrating replaces.
-- $stages, $params, $components: the file's new configs (aligned lists; params as canonical JSON)
-- $hashes: every config hash the whole import creates; $instances: the file's instance ids;
-- $loc_components: the Agentless localization level components.
WITH new AS (
    SELECT unnest($stages) AS stage, unnest($params) AS params, unnest($components) AS component
),
old AS (
    SELECT DISTINCT c.config_hash, c.component, c.stage
    FROM configs AS c
    JOIN new AS n ON n.stage = c.stage AND n.params = c.params::VARCHAR
    WHERE c.legacy AND NOT list_contains($hashes, c.config_hash)
      AND (c.component = n.component OR (list_contains($loc_components, c.component)
                                         AND list_contains($loc_components, n.component)))
)
SELECT old.config_hash, old.component, old.stage, count(s.instance_id) AS stage_runs
FROM old
LEFT JOIN stage_runs AS s ON s.config_hash = old.config_hash
                         AND list_contains($instances, s.instance_id)
GROUP BY ALL
ORDER BY old.component, old.config_hash
