"""Results of the official SWE-bench harness brought into the store (`swepipe import-evaluation`).

`read_evaluation(PATH)` reads any of the four shapes (a `logs/run_evaluation` tree, a run summary
json, a leaderboard `results.json`, a folder of legacy v1 logs); `import_evaluation(store, PATH)`
attaches the verdicts to candidates, grading the test output itself (`swepipe.execute.grading`).
`official` runs the `swebench` package's own grading for parity checks. See docs/execution.md.
"""
