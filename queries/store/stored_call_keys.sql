-- The first 16 hex digits (64 bits) of every request hash with a successful stored call: the
-- Ray call broker's snapshot of what its store lookups could find (experiments/ray_calls.py).
SELECT DISTINCT left(request_hash, 16) AS prefix
FROM sequences
WHERE status = 'ok' AND NOT from_cache
