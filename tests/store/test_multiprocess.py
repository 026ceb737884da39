import subprocess
import sys
from pathlib import Path

from swepipe.cli import main as cli_main
from swepipe.datasets.ingest import ingest_instances

from tests.store.helpers import make_instances

WORKER = Path(__file__).with_name("two_writers_worker.py")
ROOT = Path(__file__).resolve().parents[2]


def test_two_processes_share_a_store_without_lost_or_duplicated_rows(store, capsys):
    ingest_instances(store, make_instances(200), "demo", "test")
    procs = [subprocess.Popen([sys.executable, str(WORKER), str(store.path), str(seed)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT)
             for seed in (1, 2)]
    # a reader keeps querying while both write: it must get answers, not lock errors
    answers = 0
    while any(p.poll() is None for p in procs):
        assert cli_main(["--store", str(store.path), "sql",
                         "SELECT count(*) FROM stage_runs", "--format", "csv"]) == 0
        answers += 1
    outs = [p.communicate() for p in procs]
    assert [p.returncode for p in procs] == [0, 0], [o[1][-2000:] for o in outs]
    computed = sum(int(o[0].strip()) for o in outs)
    assert computed >= 200  # every instance computed at least once, by one process or both
    rows = store.query("SELECT count(*) AS runs, count(DISTINCT instance_id) AS ids, "
                       "max(attempt) AS max_attempt FROM stage_runs").to_pylist()
    assert rows == [{"runs": 200, "ids": 200, "max_attempt": 1}]
    assert store.query("SELECT count(*) AS n FROM localizations").to_pylist() == [{"n": 600}]
    assert answers >= 1
