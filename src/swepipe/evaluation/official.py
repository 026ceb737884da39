"""The official `swebench` package's grading, for checking swepipe's against it (parity).

swepipe does not depend on `swebench`: installed normally (5.0.2) it pulls docker, modal, the
Hugging Face `datasets` stack and more (~490 MB, ~40 s), and `swebench.harness.grading` cannot be
imported without docker, unidiff, datasets, dotenv, modal and tenacity, because the package
`__init__` files import the Docker harness. Its grading code itself needs nothing beyond the
standard library. So `ensure_swebench()` installs the pinned version with `--no-deps` into its own
folder (27 MB, ~1 s; never into swepipe's environment), and `official_grades` runs
`official_worker.py` in a subprocess that enters only the grading modules.

`parity(store, PATH)` compares, for every instance of an imported evaluation that has test output
and a store row, swepipe's grade (`harness_verdicts.graded_resolved`) with the official
`get_eval_report` on the same text and the same FAIL_TO_PASS / PASS_TO_PASS lists.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from swepipe.errors import ExecutionError
from swepipe.evaluation.formats import read_evaluation
from swepipe.store.sql_files import load_query
from swepipe.store.store import Store

SWEBENCH_VERSION = "5.0.2"
WORKER = Path(__file__).with_name("official_worker.py")


def default_dir() -> Path:
    """`$SWEPIPE_SWEBENCH_DIR`, else a per-version folder in the temp directory."""
    env = os.environ.get("SWEPIPE_SWEBENCH_DIR")
    if env:
        return Path(env)
    return Path(tempfile.gettempdir()) / f"swepipe-swebench-{SWEBENCH_VERSION}"


def ensure_swebench(target: Path | None = None) -> Path:
    """A folder holding `swebench` (installed there with `pip --no-deps` when missing)."""
    target = target or default_dir()
    if (target / "swebench" / "harness" / "grading.py").is_file():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=target.name + ".", dir=target.parent))
    proc = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps",
                           "--disable-pip-version-check", "--target", str(staging),
                           f"swebench=={SWEBENCH_VERSION}"], capture_output=True, text=True)
    if proc.returncode != 0:
        shutil.rmtree(staging, ignore_errors=True)
        raise ExecutionError(f"pip could not install swebench=={SWEBENCH_VERSION}: "
                             f"{(proc.stderr or proc.stdout).strip().splitlines()[-1:]}")
    try:
        staging.rename(target)  # atomic: a concurrent installer's folder wins, ours goes
    except OSError:
        shutil.rmtree(staging, ignore_errors=True)
    return target


def official_grades(items: list[dict], swebench_dir: Path) -> dict[str, bool]:
    """`{key: resolved}` by the official grading for items `{key, repo, instance_id, version,
    log, FAIL_TO_PASS, PASS_TO_PASS}`."""
    payload = "".join(json.dumps(i) + "\n" for i in items)
    proc = subprocess.run([sys.executable, str(WORKER), str(swebench_dir)], input=payload,
                          capture_output=True, text=True)
    if proc.returncode != 0:
        raise ExecutionError(f"the official grading failed: {proc.stderr.strip()[-500:]}")
    return {d["key"]: d["resolved"] for d in map(json.loads, proc.stdout.splitlines())}


@dataclass
class ParityReport:
    name: str
    compared: int = 0
    equal: int = 0
    official_resolved: int = 0
    differing: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        extra = f": {', '.join(self.differing)}" if self.differing else ""
        return (f"{self.name}: swepipe's grade equals the official grading on {self.equal} of "
                f"{self.compared} instances ({self.official_resolved} resolved){extra}")


def parity_items(store: Store, path: str | Path, name: str | None = None
                 ) -> tuple[str, list[dict], dict[str, bool]]:
    """(evaluation name, official-grading items, swepipe's grade per instance) for the instances
    of an imported evaluation that have test output and were graded."""
    ev = read_evaluation(path)
    name = name or ev.name
    rows = store.query(load_query("evaluation/graded_verdicts"), {"evaluation": name},
                       read_only=True).to_pylist()
    graded = {r["instance_id"]: r for r in rows}
    items = [{"key": r.instance_id, "repo": graded[r.instance_id]["repo"],
              "instance_id": r.instance_id, "version": graded[r.instance_id]["repo_version"],
              "log": r.test_output, "FAIL_TO_PASS": graded[r.instance_id]["fail_to_pass"],
              "PASS_TO_PASS": graded[r.instance_id]["pass_to_pass"]}
             for r in ev.records if r.instance_id in graded and r.test_output is not None]
    return name, items, {k: bool(v["graded_resolved"]) for k, v in graded.items()}


def parity(store: Store, path: str | Path, *, name: str | None = None,
           swebench_dir: Path | None = None) -> ParityReport:
    """Compare an imported evaluation's grades with the official grading (module docstring)."""
    name, items, mine = parity_items(store, path, name)
    return compare(name, items, mine, official_grades(items, swebench_dir or ensure_swebench()))


def compare(name: str, items: list[dict], mine: dict[str, bool], official: dict[str, bool]
            ) -> ParityReport:
    """Count where swepipe's grade (`mine`) equals the official one, item by item."""
    report = ParityReport(name, compared=len(items))
    for item in items:
        report.official_resolved += official[item["key"]]
        if mine[item["key"]] == official[item["key"]]:
            report.equal += 1
        else:
            report.differing.append(item["key"])
    return report
