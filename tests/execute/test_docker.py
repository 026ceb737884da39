"""The Docker executor against a real daemon, in a locally built stand-in harness image.

Tests that need the daemon skip with the reason when none answers (`.ci/run` starts one when it
runs as root). The image is `sweb.eval.x86_64.minibench__intervals-1`: Debian with python3, git
and pytest, the harness's activation line, and the mini-benchmark repository at /testbed (see
harness_image.py).
"""

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from tests.execute.harness_image import instance_image, require_daemon

from swepipe.cli import main
from swepipe.datasets.ingest import ingest_instances
from swepipe.errors import ExecutionError
from swepipe.execute.docker import DockerConfig, DockerExecutor, _apply_script
from swepipe.execute.docker_images import image_names, resolve_image
from swepipe.execute.docker_reaper import OWNER_LABEL, owner_tag, reap_orphans
from swepipe.execute.evaluate import evaluate
from swepipe.execute.executors import Executors
from swepipe.execute.gold_tests import run_gold_tests
from swepipe.execute.workcopy import PatchRejected
from swepipe.experiments.commands import run_config
from swepipe.experiments.config import build_stages, load_config
from swepipe.experiments.preflight import check_run
from swepipe.minibench import build_minibench
from swepipe.patch.apply import make_diff
from swepipe.store import Store
from swepipe.store.codecs import to_rows
from swepipe.store.writer import StageCommit, write_units
from swepipe.types import Instance, Patch

BUGGY = "    return a[0] < b[1] and b[0] < a[1]\n"
BROKEN = "diff --git a/nope.py b/nope.py\n--- a/nope.py\n+++ b/nope.py\n@@ -1 +1 @@\n-x\n+y\n"
GOLD_FIX = "    return a[0] <= b[1] and b[0] <= a[1]\n"
WRONG_FIX = "    return a[0] <= b[1] and b[0] < a[1]\n"  # fixes one argument order only


@pytest.fixture(scope="module")
def harness(tmp_path_factory) -> tuple[Instance, Path, str]:
    require_daemon()
    repos = tmp_path_factory.mktemp("repos")
    instance = next(i for i in build_minibench(repos) if i.instance_id == "minibench__intervals-1")
    repo = repos / instance.repo.replace("/", "__")
    return instance, repo, instance_image(instance.instance_id, repo)


@pytest.fixture(scope="module")
def flask_like(harness) -> tuple[Instance, Path, str]:
    """The same repository posing as a SWE-bench repository (pallets/flask 2.0, whose harness
    spec is `pytest -rA` with the `pytest` log parser), in an image of its own id."""
    instance, repo, _ = harness
    posing = instance.model_copy(update={"instance_id": "pallets__flask-90001",
                                         "repo": "pallets/flask", "repo_version": "2.0"})
    return posing, repo, instance_image(posing.instance_id, repo)


@pytest.fixture
def token() -> str:
    """A label value naming this test's containers, to look for leftovers."""
    return uuid.uuid4().hex


def leftovers(token: str) -> list[str]:
    return subprocess.run(["docker", "ps", "-aq", "--no-trunc", "--filter",
                           f"label=swepipe.test={token}"],
                          capture_output=True, text=True, check=True).stdout.split()


def wrong_patch(instance: Instance) -> str:
    assert "+" + GOLD_FIX in instance.patch
    return instance.patch.replace("+" + GOLD_FIX, "+" + WRONG_FIX)


def test_image_names_follow_swebench_conventions():
    assert image_names("django__django-11099") == (
        "sweb.eval.x86_64.django__django-11099:latest",
        "swebench/sweb.eval.x86_64.django_1776_django-11099:latest")


def test_the_apply_script_checks_each_path_for_symlinks_with_the_path_quoted(tmp_path):
    # the script's symlink checks need no image: run them with the host's bash in a workdir
    work, outside = tmp_path / "testbed", tmp_path / "outside"
    (work / "pkg").mkdir(parents=True)
    outside.mkdir()
    (work / "out").symlink_to(outside)
    (work / "pkg" / "alias.py").symlink_to("mod.py")

    def apply(*paths: str) -> subprocess.CompletedProcess:
        diff = "".join(f"--- a/{p}\n+++ b/{p}\n@@ -1 +1 @@\n-a\n+b\n" for p in paths)
        return subprocess.run(["bash", "-c", _apply_script({"candidate": diff}, str(work))],
                              capture_output=True, text=True, cwd=tmp_path)

    through = apply("pkg/ok.py", "out/evil.py")
    assert through.returncode == 98 and through.stderr == (
        f"swepipe: candidate: path out/evil.py resolves outside the repository (to "
        f"{outside.resolve()}/evil.py) through a symlink\n")
    link = apply("pkg/alias.py")
    assert link.returncode == 98 and link.stderr == (
        "swepipe: candidate: diff touches pkg/alias.py, a symlink in the working copy; diffs "
        "with symlinks are refused\n")
    # a path the shell would expand passes the checks as text; only the (absent) diff fails
    odd = apply("pkg/$(touch pwned) `touch pwned2` x.py")
    assert odd.returncode == 97 and "swepipe: candidate did not apply" in odd.stderr
    assert not list(tmp_path.rglob("pwned*"))


async def test_without_a_daemon_nothing_runs_and_the_error_says_why(store, tmp_path):
    with pytest.raises(ExecutionError, match="no Docker daemon"):
        resolve_image("x__y-1", docker=str(tmp_path / "no-docker"))
    (inst,) = build_minibench(tmp_path / "repos")[:1]
    ingest_instances(store, [inst], "mini", "test")
    with store.transaction() as conn:
        write_units(conn, [StageCommit("generate", "g" * 64, inst.instance_id, inst.content_hash(),
                                       "done", to_rows("generate", [Patch(diff=inst.patch)]))])
    executors = Executors("docker", docker=DockerConfig(docker=str(tmp_path / "no-docker")))
    with pytest.raises(ExecutionError, match=r"no harness image for 1 of 1 .*no Docker daemon"):
        await evaluate(store, executors, tmp_path / "repos", tmp_path / "cache")
    assert store.query("SELECT count(*) AS n FROM test_runs").to_pylist() == [{"n": 0}]


async def test_gold_patch_resolves_and_a_wrong_patch_does_not(harness):
    instance, repo, image = harness
    executor = DockerExecutor(image)
    gold = await run_gold_tests(instance, instance.patch, executor, repo)
    assert gold.status == "ok" and gold.resolved, gold.log_tail
    wrong = await run_gold_tests(instance, wrong_patch(instance), executor, repo)
    assert wrong.status == "ok" and not wrong.resolved
    assert {o.test_id: o.status for o in wrong.outcomes} == {
        "tests/test_core.py::test_touching_intervals_overlap": "failed",
        "tests/test_core.py::test_length": "passed", "tests/test_core.py::test_disjoint": "passed"}


async def test_a_swebench_repository_runs_the_harness_eval_script_and_grading(flask_like):
    instance, repo, image = flask_like
    executor = DockerExecutor(image)
    gold = await run_gold_tests(instance, instance.patch, executor, repo)
    assert gold.command == ["pytest -rA tests/test_core.py"]  # the harness's command
    # the test output is between the markers, as in the harness's test_output.txt (2>&1)
    inside = gold.log_tail.split(">>>>> Start Test Output")[1].split(">>>>> End Test Output")[0]
    assert "PASSED tests/test_core.py::test_touching_intervals_overlap" in inside, gold.log_tail
    assert gold.status == "ok" and gold.resolved, gold.log_tail
    wrong = await run_gold_tests(instance, wrong_patch(instance), executor, repo)
    assert not wrong.resolved
    assert {o.test_id: o.status for o in wrong.outcomes} == {
        "tests/test_core.py::test_touching_intervals_overlap": "failed",
        "tests/test_core.py::test_length": "passed", "tests/test_core.py::test_disjoint": "passed"}
    broken = await run_gold_tests(instance, BROKEN, executor, repo)
    assert broken.status == "apply_failed" and not broken.resolved


async def test_commands_run_in_the_activated_environment_at_testbed(harness, tmp_path, token):
    _, repo, image = harness
    executor = DockerExecutor(image, DockerConfig(labels={"swepipe.test": token}))
    out = await executor.run(repo, ["sh", "-c", "pwd; command -v python; git status --short"],
                             files={"probe/deep/p.txt": "x"}, timeout_s=120)
    assert out.exit_code == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[:2] == ["/testbed", "/opt/miniconda3/envs/testbed/bin/python"]
    assert "?? probe/" in lines
    # this interpreter's path, as components write it for the local sandbox, means `python`
    out = await executor.run(repo, [sys.executable, "-c", "import sys; print(sys.prefix)"])
    assert out.exit_code == 0 and out.stdout.strip() == "/usr"
    failing = await executor.run(repo, ["sh", "-c", "echo no >&2; exit 3"])
    assert (failing.exit_code, failing.stderr) == (3, "no\n")
    assert leftovers(token) == []  # removed after success and after failure


async def test_no_network_inside(harness):
    _, repo, image = harness
    probe = ("import os, socket\nprint(sorted(os.listdir('/sys/class/net')))\n"
             "try:\n    socket.create_connection(('1.1.1.1', 53), timeout=5)\n    print('open')\n"
             "except OSError as exc:\n    print('blocked', exc.errno)\n")
    out = await DockerExecutor(image).run(repo, ["python", "-c", probe], timeout_s=60)
    assert out.stdout.splitlines() == ["['lo']", "blocked 101"], out.stderr  # ENETUNREACH


async def test_memory_and_pid_limits_hold(harness):
    _, repo, image = harness
    executor = DockerExecutor(image, DockerConfig(memory_mb=128, pids_limit=40))
    big = await executor.run(repo, ["python", "-c", "x = bytearray(512 * 2**20); x[-1] = 1"])
    assert big.exit_code == 137  # the OOM killer's SIGKILL
    spawn = ("import subprocess\nps = [subprocess.Popen(['sleep', '30']) for _ in range(100)]\n")
    many = await executor.run(repo, ["python", "-c", spawn])
    assert many.exit_code != 0 and "Resource temporarily unavailable" in many.stderr


async def test_timeout_kills_and_removes_the_container(harness, token):
    _, repo, image = harness
    executor = DockerExecutor(image, DockerConfig(labels={"swepipe.test": token}))
    start = time.monotonic()
    out = await executor.run(repo, ["sleep", "300"], timeout_s=3)
    assert out.timed_out and time.monotonic() - start < 60
    assert leftovers(token) == []


async def test_a_patch_that_does_not_apply_is_rejected_and_removed(harness, token):
    instance, repo, image = harness
    executor = DockerExecutor(image, DockerConfig(labels={"swepipe.test": token}))
    broken = instance.patch.replace(BUGGY.strip(), "return something_else")
    with pytest.raises(PatchRejected) as err:
        await executor.run(repo, ["true"], patches={"candidate": broken})
    assert err.value.kind == "apply_failed" and err.value.which == "candidate"
    assert leftovers(token) == []


async def test_a_failed_copy_or_apply_step_is_an_error_and_leaves_nothing(harness, token):
    instance, repo, image = harness
    executor = DockerExecutor(image, DockerConfig(workdir="/nope", labels={"swepipe.test": token}))
    with pytest.raises(ExecutionError, match="docker cp failed: .*nope"):
        await executor.run(repo, ["true"], files={"probe.txt": "x"})
    with pytest.raises(ExecutionError, match="applying patches failed: .*nope"):
        await executor.run(repo, ["true"], patch=instance.patch)
    assert leftovers(token) == []


_OWNER = """
import asyncio, sys
from pathlib import Path
from swepipe.execute.docker import DockerConfig, DockerExecutor, _apply_script
ex = DockerExecutor(sys.argv[1], DockerConfig(labels={"swepipe.test": sys.argv[2]}))
asyncio.run(ex.run(Path(sys.argv[3]), ["sleep", "300"], timeout_s=600))
"""


def test_nothing_is_left_after_the_owner_is_sigkilled(harness, token):
    _, repo, image = harness
    since = str(int(time.time()) - 1)
    # the daemon's event stream says when the command runs and when the container is gone
    events = subprocess.Popen(
        ["docker", "events", "--since", since, "--until", str(int(since) + 180),
         "--filter", f"label=swepipe.test={token}", "--format", "{{.Status}}"],
        stdout=subprocess.PIPE, text=True)
    owner = subprocess.Popen([sys.executable, "-c", _OWNER, image, token, str(repo)],
                             env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
    seen = []
    try:
        for line in events.stdout:  # type: ignore[union-attr]
            seen.append(line.strip())
            if line.startswith("exec_start") and "sleep 300" in line:
                assert owner.poll() is None
                owner.send_signal(signal.SIGKILL)
            if line.startswith("destroy"):
                break
    finally:
        events.kill()
        owner.kill()
        owner.wait()
    assert owner.returncode == -signal.SIGKILL, seen
    assert seen[-1].startswith("destroy") and leftovers(token) == []


def test_reaper_removes_containers_whose_owner_died(harness, token):
    _, _, image = harness
    gone = subprocess.Popen(["sleep", "60"])
    dead_tag = owner_tag(gone.pid)
    gone.kill()
    gone.wait()
    tags = {"dead": dead_tag, "alive": owner_tag(), "other-host": "elsewhere/1/1"}
    ids = {k: subprocess.run(["docker", "create", "--label", f"{OWNER_LABEL}={tag}", "--label",
                              f"swepipe.test={token}", image, "true"], capture_output=True,
                             text=True, check=True).stdout.strip() for k, tag in tags.items()}
    try:
        reaped = reap_orphans()
        assert ids["dead"] in reaped and ids["alive"] not in reaped
        assert ids["other-host"] not in reaped
        assert sorted(leftovers(token)) == sorted(ids[k] for k in ("alive", "other-host"))
    finally:
        subprocess.run(["docker", "rm", "-f", *ids.values()], capture_output=True)


def test_hub_images_are_pulled_only_when_asked(harness):
    with pytest.raises(ExecutionError, match="--docker-pull") as err:
        resolve_image("swepipe__absent-1")
    assert "sweb.eval.x86_64.swepipe__absent-1" in str(err.value)
    # there is no registry here: the pull is attempted and fails with the daemon's reason
    with pytest.raises(ExecutionError, match=r"docker pull swebench/sweb\.eval\.x86_64\."
                                             r"swepipe_1776_absent-1:latest failed"):
        resolve_image("swepipe__absent-1", pull=True)


async def test_an_absent_image_is_never_pulled_implicitly(harness, token):
    _, repo, _ = harness
    executor = DockerExecutor("swepipe-test/absent:0", DockerConfig(labels={"swepipe.test": token}))
    with pytest.raises(ExecutionError, match="docker run swepipe-test/absent:0 failed: .*No such"):
        await executor.run(repo, ["true"])
    assert leftovers(token) == []
    with pytest.raises(ExecutionError, match=r"for 1 of 2 instances \(swepipe__absent-1\): "):
        Executors("docker").prepare(["swepipe__absent-1", "minibench__intervals-1"])


def test_evaluate_with_the_docker_executor(harness, tmp_path, capsys):
    instance, repo, _ = harness
    store_path = tmp_path / "store.duckdb"
    store = Store(store_path)
    ingest_instances(store, [instance], "mini", "test")
    patches = [Patch(diff=instance.patch, sample_idx=0),
               Patch(diff=wrong_patch(instance), sample_idx=1)]
    with store.transaction() as conn:
        write_units(conn, [StageCommit("generate", "g" * 64, instance.instance_id,
                                       instance.content_hash(), "done",
                                       to_rows("generate", patches))])
    del store
    code = main(["--store", str(store_path), "evaluate", "--executor", "docker",
                 "--repos-dir", str(repo.parent), "--cache-dir", str(tmp_path / "cache")])
    assert code == 0
    assert "2 candidates: 1 resolved" in capsys.readouterr().out
    rows = Store(store_path).query(
        "SELECT patch_hash, test_kind, status, executor FROM test_runs").to_pylist()
    assert {r["executor"] for r in rows} == {"DockerExecutor"}
    failed = {(r["patch_hash"], r["test_kind"]) for r in rows if r["status"] != "passed"}
    assert failed == {(patches[1].content_hash, "fail_to_pass")}


def test_evaluate_in_images_needs_no_local_clones(harness, flask_like, tmp_path, capsys):
    # a user grading candidates in harness images has no clones: /testbed holds the code
    instance, _, _ = harness
    posing = flask_like[0]  # a SWE-bench repository: the harness's eval script and grading
    store_path = tmp_path / "store.duckdb"
    store = Store(store_path)
    ingest_instances(store, [instance, posing], "mini", "test")
    escape = make_diff({}, {"../escape.py": "x = 1\n"})
    patches = [Patch(diff=instance.patch, sample_idx=0),
               Patch(diff=wrong_patch(instance), sample_idx=1), Patch(diff=escape, sample_idx=2)]
    with store.transaction() as conn:
        write_units(conn, [StageCommit("generate", "g" * 64, instance.instance_id,
                                       instance.content_hash(), "done",
                                       to_rows("generate", patches)),
                           StageCommit("generate", "g" * 64, posing.instance_id,
                                       posing.content_hash(), "done",
                                       to_rows("generate", [Patch(diff=posing.patch)]))])
    del store
    code = main(["--store", str(store_path), "evaluate", "--executor", "docker",
                 "--cache-dir", str(tmp_path / "cache")])
    assert code == 0
    assert "4 candidates: 2 resolved, 1 did not apply" in capsys.readouterr().out
    rows = Store(store_path).query(
        "SELECT patch_hash, test_kind, status, output FROM test_runs WHERE instance_id = ?",
        [instance.instance_id]).to_pylist()
    by = {p.content_hash: {r["status"] for r in rows if r["patch_hash"] == p.content_hash}
          for p in patches}
    assert by[patches[0].content_hash] == {"passed"}
    assert by[patches[1].content_hash] == {"passed", "failed"}
    refused = [r for r in rows if r["patch_hash"] == patches[2].content_hash]
    assert refused and {r["status"] for r in refused} == {"error"}
    assert all("climbs out of the repository" in r["output"] for r in refused)
    assert not (tmp_path / "cache").exists()  # nothing was checked out


async def test_a_patch_through_a_symlink_in_the_image_is_refused_in_the_container(harness,
                                                                                 tmp_path):
    # the host has no checkout to resolve links in (an empty directory passes): the container
    # checks against its workdir; /etc/mtab -> /proc/mounts stands in for a link in /testbed
    _, _, image = harness
    executor = DockerExecutor(image, DockerConfig(workdir="/etc"))
    empty = tmp_path / "empty"
    empty.mkdir()
    through = make_diff({}, {"mtab/evil.py": "x = 1\n"})
    with pytest.raises(PatchRejected) as err:
        await executor.run(empty, ["true"], patches={"candidate": through})
    assert (err.value.kind, err.value.which) == ("unsafe", "candidate")
    assert "mtab/evil.py resolves outside the repository (to /proc/" in err.value.reason
    # a link that stays inside is refused too (git would keep writing it as a link)
    link = "dpkg/origins/default"  # -> /etc/dpkg/origins/debian
    with pytest.raises(PatchRejected, match=f"touches {link}, a symlink in the working copy"):
        await executor.run(empty, ["true"],
                           patch=f"--- a/{link}\n+++ b/{link}\n@@ -1 +1 @@\n-a\n+b\n")
    fine = await executor.run(empty, ["cat", "/etc/ok.txt"],
                              patch=make_diff({}, {"ok.txt": "applied\n"}))
    assert fine.exit_code == 0 and fine.stdout == "applied\n", fine.stderr


def test_evaluate_locally_still_needs_the_clones(harness, tmp_path, capsys):
    store_path = tmp_path / "store.duckdb"
    Store(store_path)
    assert main(["--store", str(store_path), "evaluate"]) == 2
    assert "--repos-dir is required with --executor local" in capsys.readouterr().err


async def test_a_pipeline_runs_its_tests_in_the_image_through_config(harness, store, tmp_path):
    instance, repo, _ = harness
    ingest_instances(store, [instance], "mini", "test")
    # the oracle selector runs the gold tests of the (oracle) candidate in ctx.executor
    config = load_config(None, [f"repos_dir={repo.parent}", f"cache_dir={tmp_path / 'cache'}",
                                "dataset=mini", "select.component=oracle", "execution=docker",
                                "docker.memory_mb=1024"])
    # the run's checks find the instance's image (tests/experiments/test_preflight.py: refused
    # when it is absent)
    assert [i.instance_id for i in check_run(store, config, build_stages(config))] == [
        instance.instance_id]
    outcomes, _ = await run_config(store, config, live=False)
    (outcome,) = outcomes
    assert outcome.selection is not None and "share of gold tests passed: 1.00" in \
        outcome.selection.rationale, outcome.results
    rows = store.query("SELECT status, executor FROM test_runs").to_pylist()
    assert rows and {(r["status"], r["executor"]) for r in rows} == {("passed", "DockerExecutor")}
