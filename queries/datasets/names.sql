-- The datasets the store holds (a dataset exists while it has a member), sorted.
SELECT DISTINCT dataset FROM dataset_instances ORDER BY dataset
