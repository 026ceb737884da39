-- The instance ids of dataset $dataset, or (when $dataset is NULL) of the one dataset that holds
-- every id of $ids: the dataset whose other instances a leaderboard counts as unresolved.
-- `n_datasets` > 1 when that choice is ambiguous.
WITH fits AS (
    SELECT dataset FROM dataset_instances
    WHERE $dataset IS NULL AND list_contains($ids, instance_id)
    GROUP BY dataset HAVING count(*) = len(list_distinct($ids))
),
chosen AS (
    SELECT $dataset AS dataset WHERE $dataset IS NOT NULL
    UNION ALL
    SELECT min(dataset) FROM fits HAVING count(*) = 1
)
SELECT d.dataset, d.instance_id, (SELECT count(*) FROM fits) AS n_datasets
FROM dataset_instances AS d JOIN chosen USING (dataset)
ORDER BY d.instance_id
