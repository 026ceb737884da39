"""Start-up time: `swepipe --help` (target <= 0.5 s wall on 2 cores) and every `swepipe COMMAND
--help` (target <= 1 s: what a command pays before its own work starts), against the baseline
`python -c pass` measured in the same run. Then `python -X importtime` of `swepipe --help`: the
slowest imports, and any heavy module (scipy, pyarrow, polars, duckdb, matplotlib, ray, ...)
that the parser should not import.

    python benchmarks/startup.py [--repeat 5]

Exits 1 when a command fails or a heavy module is imported to build the parser.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from swepipe.cli import build_parser
from swepipe.store import Store

HEAVY = ("scipy", "pyarrow", "polars", "duckdb", "matplotlib", "ray", "numpy", "aiohttp",
         "pydantic", "rich")
SWEPIPE = [sys.executable, "-m", "swepipe.cli"]


def wall(argv: list[str], repeat: int) -> float:
    """Median wall time of `argv` over `repeat` runs (fails loudly when the command fails)."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        done = subprocess.run(argv, capture_output=True, text=True)
        times.append(time.perf_counter() - start)
        if done.returncode != 0:
            raise SystemExit(f"FAILED: {' '.join(argv)} exited {done.returncode}: "
                             f"{done.stderr.strip()[-300:]}")
    return statistics.median(times)


def commands() -> list[list[str]]:
    """Every command and sub-command, as argv prefixes."""
    out, todo = [], [(build_parser(), [])]
    while todo:
        parser, prefix = todo.pop()
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, child in action.choices.items():
                    out.append(prefix + [name])
                    todo.append((child, prefix + [name]))
    return sorted(out)


def import_profile() -> tuple[list[tuple[int, str]], list[str]]:
    """(cumulative us, module) of the slowest top-level imports of `swepipe --help`, and the
    heavy modules among everything it imported."""
    done = subprocess.run([sys.executable, "-X", "importtime", *SWEPIPE[1:], "--help"],
                          capture_output=True, text=True, check=True)
    rows = []
    for line in done.stderr.splitlines():
        if not line.startswith("import time:") or "cumulative" in line:
            continue
        _, cumulative, name = (p.strip() for p in line[len("import time:"):].split("|"))
        rows.append((int(cumulative), name))
    heavy = sorted({n.strip() for _, n in rows if n.strip().split(".")[0] in HEAVY})
    top = sorted(((us, n) for us, n in rows if not n.startswith(" ")), reverse=True)[:8]
    return top, heavy


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=5, help="runs per command (median)")
    args = ap.parse_args()

    baseline = wall([sys.executable, "-c", "pass"], args.repeat)
    main_help = wall([*SWEPIPE, "--help"], args.repeat)
    version = wall([*SWEPIPE, "--version"], args.repeat)
    print(f"python -c pass      {baseline * 1000:7.0f} ms  (baseline)")
    print(f"swepipe --help      {main_help * 1000:7.0f} ms  {main_help / baseline:5.1f}x baseline"
          f"  target <= 500 ms: {'met' if main_help <= 0.5 else 'MISSED'}")
    print(f"swepipe --version   {version * 1000:7.0f} ms  {version / baseline:5.1f}x baseline")
    slowest = 0.0
    for argv in commands():
        t = wall([*SWEPIPE, *argv, "--help"], max(1, args.repeat // 2))
        slowest = max(slowest, t)
        print(f"  {' '.join(argv) + ' --help':<32} {t * 1000:7.0f} ms  {t / baseline:5.1f}x")
    print(f"slowest command --help {slowest * 1000:.0f} ms  target <= 1000 ms: "
          f"{'met' if slowest <= 1.0 else 'MISSED'}")
    with tempfile.TemporaryDirectory() as tmp:  # whole small commands: imports + their work
        store = str(Path(tmp) / "s.duckdb")
        Store(store).schema_version()  # an empty, migrated store
        for argv in (["status"], ["sql", "SELECT 1"], ["store", "info"]):
            t = wall([*SWEPIPE, "--store", store, *argv], args.repeat)
            print(f"swepipe {' '.join(argv):<24} {t * 1000:7.0f} ms  {t / baseline:5.1f}x "
                  "(whole command, empty store)")
    # its work is loading the config and importing and building the preset's components
    t = wall([*SWEPIPE, "run", "agentless", "--show"], max(1, args.repeat // 2))
    print(f"swepipe {'run agentless --show':<24} {t * 1000:7.0f} ms  {t / baseline:5.1f}x "
          "(whole command)")
    top, heavy = import_profile()
    print("slowest imports of `swepipe --help` (cumulative):")
    for us, name in top:
        print(f"  {us / 1000:7.1f} ms  {name}")
    if heavy:
        print(f"FAILED: building the parser imports heavy modules: {', '.join(heavy)}")
        return 1
    print("heavy modules imported by the parser: none")
    return 0


if __name__ == "__main__":
    sys.exit(main())
