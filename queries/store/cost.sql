-- Tokens and money per dataset, stage and config from `sequences` and a price table registered as
-- `_prices` (model, input_per_mtok, output_per_mtok, cached_input_per_mtok; USD per million
-- tokens). Cache hits cost nothing and are not counted. Every call is counted once, so the rows
-- add up: under the dataset its run ran over, or, for a call without a run (imported), under its
-- instance's datasets joined into one name (`lite+verified`). Models without a price show NULL
-- cost.
WITH instance_datasets AS (
    SELECT instance_id, string_agg(DISTINCT dataset, '+' ORDER BY dataset) AS datasets
    FROM dataset_instances
    GROUP BY instance_id
),
calls AS (
    SELECT coalesce(r.dataset, i.datasets, '(none)') AS dataset, s.stage, s.config_hash, s.model,
           s.prompt_tokens, s.completion_tokens, s.cached_tokens
    FROM sequences AS s
    LEFT JOIN runs AS r USING (run_id)
    LEFT JOIN instance_datasets AS i USING (instance_id)
    WHERE NOT s.from_cache
)
SELECT c.dataset, c.stage, c.config_hash[1:12] AS config, c.model, count(*) AS calls,
       sum(c.prompt_tokens) AS prompt_tokens, sum(c.completion_tokens) AS completion_tokens,
       sum(c.cached_tokens) AS cached_tokens,
       round(sum((c.prompt_tokens - c.cached_tokens) * p.input_per_mtok
                 + c.cached_tokens * coalesce(p.cached_input_per_mtok, p.input_per_mtok)
                 + c.completion_tokens * p.output_per_mtok) / 1e6, 4) AS cost_usd
FROM calls AS c LEFT JOIN _prices AS p USING (model)
GROUP BY ALL
ORDER BY 1, 2, 3
