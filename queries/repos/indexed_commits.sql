-- Every (repository, base commit) an instance of any dataset or revision refers to: the
-- index views `swepipe index gc` keeps.
SELECT DISTINCT repo, base_commit FROM instances
