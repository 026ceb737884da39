"""`swepipe coverage`: which lines of the files a candidate changes its generated tests execute.

For every current candidate and every test script of its candidate set (`Patch.test`: the
CodeMonkeys tests of all samples, or Agentless' reproduction test; `coverage_todo.sql`), the
script runs under coverage.py in the sandbox on the patched working copy, and the executed line
numbers of each file the candidate changes (patched numbering) become one `test_coverage` row per
(candidate, test, file): `test_id` = the script's sha256, `test_kind` = `generated` or
`reproduction`. A changed file the test never reaches gets a row with no lines, so "measured,
nothing covered" (coverage 0) differs from "not measured" (no rows, no reward). Rows already in
the table are not measured again.

Scripts run as `script_runner` runs them: `python script.py` from the repository root with the
root on `PYTHONPATH`, up to `batch_size` scripts per working copy, each its own process with its
own time limit, driven by a small driver that prints JSON. The interpreter is the runner's own
(`sys.executable` by default), which has coverage.py installed; the repository is imported from
the working copy. A script that fails or exits non-zero still counts: coverage is saved at exit.
A script that times out, or a candidate that does not apply, records nothing (logged).
"""

from __future__ import annotations

import asyncio
import json
import logging
import sys
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
from pydantic import BaseModel

from swepipe.errors import ExecutionError, InputError
from swepipe.execute.workcopy import PatchRejected
from swepipe.patch.diff import parse_diff
from swepipe.protocols import Executor
from swepipe.repos.checkout import CheckoutConfig, Checkouts, require_dir
from swepipe.store.sql_files import load_query
from swepipe.store.store import Store, insert_rows

log = logging.getLogger("swepipe.execute")

_MARKER = "@@SWEPIPE-COVERAGE@@"
_DIR = ".swepipe_coverage"
_DRIVER = f"""
import json, os, subprocess, sys
spec = json.load(open(sys.argv[1]))
root = os.path.realpath(os.getcwd())
env = dict(os.environ)
env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH")) if p)
include = ",".join(os.path.join(root, p) for p in spec["paths"])
results = []
for i, script in enumerate(spec["scripts"]):
    data = os.path.join(root, {_DIR!r}, "data_%d" % i)
    report = data + ".json"
    try:
        run = subprocess.run([sys.executable, "-m", "coverage", "run", "--data-file=" + data,
                              "--include=" + include, script], cwd=root, env=env,
                             stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                             stderr=subprocess.PIPE, timeout=spec["timeout_s"])
    except subprocess.TimeoutExpired:
        results.append({{"error": "timed out"}})
        continue
    if not os.path.exists(data):
        tail = run.stderr.decode("utf-8", "replace")[-500:]
        results.append({{"error": "no coverage data (exit %d): %s" % (run.returncode, tail)}})
        continue
    # exits 1 with "No data to report" when no changed file ran: that is empty coverage
    subprocess.run([sys.executable, "-m", "coverage", "json", "--data-file=" + data, "-q",
                    "-o", report, "--include=" + include], cwd=root, env=env,
                   stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    files = json.load(open(report))["files"] if os.path.exists(report) else {{}}
    lines = {{os.path.relpath(os.path.join(root, name), root): f["executed_lines"]
              for name, f in files.items()}}
    results.append({{"exit_code": run.returncode, "lines": lines}})
print({_MARKER!r} + json.dumps(results))
"""


class CoverageConfig(BaseModel):
    """How tests are run for coverage (runtime settings: nothing here changes what is measured)."""

    model_config = {"extra": "forbid"}

    python: str = sys.executable
    """Interpreter inside the sandbox; it must be able to import coverage."""
    timeout_s: float = 60.0
    """Wall-time limit of one script."""
    batch_size: int = 16
    """Scripts sharing one working copy."""
    concurrency: int = 2
    """Sandbox runs in flight at once."""


@dataclass
class CoverageReport:
    candidates: int = 0
    tests: int = 0
    """(candidate, test) pairs that were to be measured."""
    measured: int = 0
    skipped: int = 0
    """Pairs that recorded nothing (did not apply, timed out, driver failed)."""
    rows: int = 0

    def __str__(self) -> str:
        return (f"coverage of {self.tests} tests on {self.candidates} candidates: "
                f"{self.measured} measured, {self.skipped} not measured, {self.rows} rows")


def changed_paths(diff: str) -> list[str]:
    """Files the diff leaves in the tree (patched numbering): modified, added, renamed targets."""
    return sorted({f.target_path for f in parse_diff(diff) if f.target_path and not f.is_binary})


async def measure_coverage(store: Store, executor: Executor, repos_dir: Path, cache_dir: Path, *,
                           config: str | None = None,
                           settings: CoverageConfig | None = None) -> CoverageReport:
    """Measure every missing (candidate, test) pair of the current candidates (`config`: a
    generation config hash prefix) and store `test_coverage` rows, one candidate per commit."""
    settings = settings or CoverageConfig()
    require_dir(repos_dir, "--repos-dir")  # else every candidate would fail the same way
    todo = store.query(load_query("execute/coverage_todo"), {"config": config}).to_pylist()
    groups: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for row in todo:
        groups[(row["instance_id"], row["patch_hash"])].append(row)
    report = CoverageReport(candidates=len(groups), tests=len(todo))
    checkouts = Checkouts(CheckoutConfig(cache_dir=cache_dir, repos_dir=repos_dir))
    gate = asyncio.Semaphore(max(settings.concurrency, 1))
    executor_name = type(executor).__name__

    async def one(rows: list[dict]) -> None:
        first = rows[0]
        try:
            paths = changed_paths(first["diff"])
        except InputError as exc:
            log.warning("%s: %s", first["instance_id"], exc)
            report.skipped += len(rows)
            return
        size = max(settings.batch_size, 1)
        out: list[dict] = []
        async with gate:
            repo = await checkouts.checkout_async(first["repo"], first["base_commit"])
            for i in range(0, len(rows), size):
                out += await _run_batch(executor, repo, first["diff"], paths, rows[i:i + size],
                                        settings, executor_name)
        report.measured += len({(r["test_kind"], r["test_id"]) for r in out})
        report.skipped += len(rows) - len({(r["test_kind"], r["test_id"]) for r in out})
        if out:
            report.rows += await asyncio.to_thread(_commit, store, out)

    await asyncio.gather(*(one(rows) for rows in groups.values()))
    return report


async def _run_batch(executor: Executor, repo: Path, diff: str, paths: list[str],
                     rows: list[dict], settings: CoverageConfig, executor_name: str) -> list[dict]:
    """`test_coverage` rows of one batch of scripts on one candidate ([] when it cannot run)."""
    where = f"{rows[0]['instance_id']} {rows[0]['patch_hash'][:12]}"
    scripts = [f"{_DIR}/test_{i}.py" for i in range(len(rows))]
    files = dict(zip(scripts, (r["script"] for r in rows)))
    files[f"{_DIR}/driver.py"] = _DRIVER
    files[f"{_DIR}/spec.json"] = json.dumps({"scripts": scripts, "paths": paths,
                                             "timeout_s": settings.timeout_s})
    try:
        # the driver enforces per-script limits; this bound only catches a hung driver
        out = await executor.run(repo, [settings.python, f"{_DIR}/driver.py",
                                        f"{_DIR}/spec.json"], patch=diff, files=files,
                                 timeout_s=2 * settings.timeout_s * len(rows) + 30)
    except PatchRejected as exc:
        log.warning("%s: candidate cannot be set up: %s", where, exc)
        return []
    except ExecutionError as exc:
        log.warning("%s: coverage could not run: %s", where, exc)
        return []
    stdout = out.stdout or ""
    at = stdout.rfind(_MARKER)
    if at < 0:
        log.warning("%s: coverage driver gave no results (exit %s): %s", where, out.exit_code,
                    (out.stderr or stdout)[-500:])
        return []
    results = json.loads(stdout[at + len(_MARKER):].splitlines()[0])
    found = []
    for row, result in zip(rows, results):
        if "error" in result:
            log.warning("%s: test %s: %s", where, row["test_id"][:12], result["error"])
            continue
        found += [{"instance_id": row["instance_id"], "patch_hash": row["patch_hash"],
                   "test_kind": row["test_kind"], "test_id": row["test_id"], "path": path,
                   "lines": sorted(result["lines"].get(path, [])), "executor": executor_name}
                  for path in paths]
    return found


_ROW_SCHEMA = pa.schema([("instance_id", pa.string()), ("patch_hash", pa.string()),
                         ("test_kind", pa.string()), ("test_id", pa.string()),
                         ("path", pa.string()), ("lines", pa.list_(pa.int32())),
                         ("executor", pa.string())])


def _commit(store: Store, rows: list[dict]) -> int:
    # explicit schema: a batch whose lists are all empty would otherwise infer list<null>
    with store.transaction() as conn:
        return insert_rows(conn, "test_coverage", pa.Table.from_pylist(rows, schema=_ROW_SCHEMA),
                           ignore_existing=True)
