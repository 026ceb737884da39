-- Tokens and money per dataset, stage and config from `sequences` and a price table registered as
-- `_prices` (model, input_per_mtok, output_per_mtok, cached_input_per_mtok; USD per million
-- tokens). Cache hits cost nothing and are not counted. A call of an instance that belongs to
-- several datasets counts in each. Models without a price show NULL cost.
WITH calls AS (
    SELECT coalesce(d.dataset, '(none)') AS dataset, s.stage, s.config_hash, s.model,
           s.prompt_tokens, s.completion_tokens, s.cached_tokens
    FROM sequences AS s
    LEFT JOIN dataset_instances AS d USING (instance_id)
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
