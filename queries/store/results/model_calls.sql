-- Model calls actually made (not answered from a cache), per stage and config.
SELECT stage, config_hash, count(*) AS calls
FROM sequences WHERE NOT from_cache AND status = 'ok'
GROUP BY ALL
