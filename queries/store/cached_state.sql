-- Per requested instance (registered as `_keys`: instance_id, instance_hash) for one stage and
-- config ($stage, $config_hash): the latest `done` attempt on that instance revision (the cached
-- result), the status and error of the latest attempt of any kind on that revision (to tell failed
-- from pending: a failure, like a result, counts only for the revision it was computed on), and
-- the highest attempt number on any revision.
WITH runs AS (
    SELECT s.instance_id, s.attempt, s.status, s.instance_hash = k.instance_hash AS same_revision,
           s.error_class, s.error_message
    FROM stage_runs AS s JOIN _keys AS k USING (instance_id)
    WHERE s.stage = $stage AND s.config_hash = $config_hash
)
SELECT instance_id,
       max(attempt) FILTER (WHERE status = 'done' AND same_revision) AS done_attempt,
       arg_max(status, attempt) FILTER (WHERE same_revision) AS last_status,
       arg_max(error_class, attempt) FILTER (WHERE same_revision) AS last_error_class,
       arg_max(error_message, attempt) FILTER (WHERE same_revision) AS last_error_message,
       max(attempt) AS max_attempt
FROM runs
GROUP BY instance_id
