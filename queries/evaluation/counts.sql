-- Row counts of the tables an evaluation import writes (before/after: what it added).
SELECT (SELECT count(*) FROM harness_verdicts) AS verdicts,
       (SELECT count(*) FROM test_runs) AS test_rows
