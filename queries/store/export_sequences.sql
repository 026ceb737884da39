-- Training export: one row per (model call, choice) with the OpenAI `messages` of the whole
-- conversation (the request's messages, then the completion as the assistant turn), the ids that
-- place it, usage, token ids / logprobs when the server gave them, and the rewards attached to
-- the call (`sequence_rewards`: the sample's rewards and the instance-level ones).
-- Filters: $experiment, $stage, $config (a hash prefix); NULL = all. Cache hits are left out
-- unless $include_cached, since they repeat an earlier call's conversation.
WITH picked AS (
    SELECT s.*, r.experiment
    FROM sequences AS s LEFT JOIN runs AS r USING (run_id)
    WHERE s.status = 'ok'
      AND ($include_cached OR NOT s.from_cache)
      AND ($experiment IS NULL OR r.experiment = $experiment)
      AND ($stage IS NULL OR s.stage = $stage)
      AND ($config IS NULL OR starts_with(s.config_hash, $config))
),
prompt AS (
    SELECT p.sequence_id, list({'role': p.m.role, 'content': c.text} ORDER BY p.i) AS messages
    FROM (SELECT sequence_id, unnest(messages) AS m, generate_subscripts(messages, 1) AS i
          FROM picked) AS p
    JOIN contents AS c ON c.content_hash = p.m.content_hash
    GROUP BY p.sequence_id
),
choice AS (
    SELECT x.sequence_id, x.i - 1 AS choice_idx, c.text AS completion,
           x.k.finish_reason, x.k.token_ids, x.k.logprobs
    FROM (SELECT sequence_id, unnest(completions) AS k, generate_subscripts(completions, 1) AS i
          FROM picked) AS x
    JOIN contents AS c ON c.content_hash = x.k.content_hash
),
credit AS (
    SELECT sequence_id, list({'metric': metric, 'value': value, 'level': level}
                             ORDER BY level, metric) AS rewards
    FROM sequence_rewards WHERE sequence_id IN (SELECT sequence_id FROM picked)
    GROUP BY sequence_id
)
SELECT s.sequence_id, s.run_id, s.experiment, s.instance_id, s.stage, s.config_hash,
       s.sample_idx, s.trajectory_id, s.turn, ch.choice_idx, s.model, s.weights_revision,
       list_concat(p.messages, [{'role': 'assistant', 'content': ch.completion}]) AS messages,
       ch.finish_reason, ch.token_ids, ch.logprobs, s.prompt_tokens, s.completion_tokens,
       s.cached_tokens, s.latency_s, s.sampling, coalesce(cr.rewards, []) AS rewards,
       s.created_at
FROM picked AS s
JOIN prompt AS p USING (sequence_id)
JOIN choice AS ch USING (sequence_id)
LEFT JOIN credit AS cr USING (sequence_id)
ORDER BY s.instance_id, s.stage, s.trajectory_id, s.turn, ch.choice_idx
