-- The call cache: for each requested request_hash (registered as `_hashes`), the earliest
-- successful model call that produced it, with its completion texts and usage.
WITH hits AS (
    SELECT s.*, row_number() OVER (PARTITION BY s.request_hash ORDER BY s.created_at, s.sequence_id) AS k
    FROM sequences AS s JOIN _hashes AS h USING (request_hash)
    WHERE s.status = 'ok' AND NOT s.from_cache
)
SELECT h.request_hash, h.sequence_id, h.model, h.prompt_tokens, h.completion_tokens,
       h.cached_tokens,
       list({'text': c.text, 'finish_reason': u.completion.finish_reason,
             'token_ids': u.completion.token_ids, 'logprobs': u.completion.logprobs}
            ORDER BY u.idx) AS choices
FROM hits AS h,
     LATERAL (SELECT unnest(h.completions) AS completion, generate_subscripts(h.completions, 1) AS idx) AS u
JOIN contents AS c ON c.content_hash = u.completion.content_hash
WHERE h.k = 1
GROUP BY ALL
