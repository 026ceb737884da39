import json
import os
import sys
import uuid
from pathlib import Path

import pytest

from swepipe import event_loop
from swepipe.execute.sandbox import LocalSandbox, SandboxConfig
from swepipe.execute.workcopy import PatchRejected
from swepipe.patch.apply import make_diff
from swepipe.protocols import Executor

PY = sys.executable


def processes_with(marker: str) -> list[int]:
    """Host pids whose command line contains `marker` (reads /proc; kills nothing)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if marker in (entry / "cmdline").read_bytes().decode(errors="replace"):
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


def test_local_sandbox_implements_the_executor_protocol(sandbox: LocalSandbox):
    assert isinstance(sandbox, Executor)


async def test_command_runs_in_a_patched_copy_and_the_source_is_untouched(sandbox, repo: Path):
    ops = (repo / "calc/ops.py").read_text()
    patch = make_diff({"calc/ops.py": ops}, {"calc/ops.py": ops.replace("a - b", "a + b")})
    out = await sandbox.run(repo, [PY, "-c", "import os, calc.ops as o; print(o.add(2, 3), "
                                   "os.getcwd())"], patch=patch, files={"notes/n.txt": "hi"})
    value, cwd = out.stdout.split()
    assert out.exit_code == 0 and value == "5"
    assert Path(cwd) != repo and not Path(cwd).exists()  # fresh copy, removed afterwards
    assert (repo / "calc/ops.py").read_text() == ops and not (repo / "notes").exists()


async def test_extra_files_are_written_into_the_copy(sandbox, repo: Path):
    out = await sandbox.run(repo, ["cat", "tests/gen/t.py"], files={"tests/gen/t.py": "x = 1\n"})
    assert out.stdout == "x = 1\n"


async def test_loop_forever_is_killed_at_the_timeout_with_its_whole_group(sandbox, repo: Path):
    marker = f"swepipe-loop-{uuid.uuid4().hex}"
    script = (f"{PY} -c 'import time; time.sleep(1000)' {marker} & "
              f"setsid {PY} -c 'import time; time.sleep(1000)' {marker} & "
              f"{PY} -c 'while True: pass' {marker}")
    out = await sandbox.run(repo, ["sh", "-c", script], timeout_s=1.0)
    assert out.timed_out and out.exit_code != 0
    assert out.duration_s < 5
    survivors = processes_with(marker)
    if sandbox.level != "namespaces":  # a setsid'd process escapes a plain process group
        pytest.skip(f"isolation level {sandbox.level}: only the process group is killed")
    assert survivors == []


def test_timeouts_and_output_work_on_the_commands_event_loop(sandbox, repo: Path):
    # CLI commands run on uvloop (swepipe.event_loop), which implements subprocesses itself
    pytest.importorskip("uvloop")
    out = event_loop.run(sandbox.run(repo, ["sh", "-c", "echo started; while :; do :; done"],
                                     timeout_s=1.0))
    assert out.timed_out and out.exit_code != 0 and out.duration_s < 5
    assert "started" in out.stdout


async def test_background_process_does_not_keep_a_finished_run_waiting(sandbox, repo: Path):
    out = await sandbox.run(repo, ["sh", "-c", "sleep 1000 & echo done"], timeout_s=20)
    assert out.stdout == "done\n" and not out.timed_out and out.duration_s < 5


async def test_memory_hog_is_stopped(repo: Path):
    sandbox = LocalSandbox(SandboxConfig(memory_mb=256))
    out = await sandbox.run(repo, [PY, "-c", "x = bytearray(2 * 1024**3)"], timeout_s=20)
    assert out.exit_code != 0 and "MemoryError" in out.stderr and not out.timed_out


async def test_writes_outside_the_working_copy_do_not_change_files(sandbox, repo: Path,
                                                                   tmp_path: Path):
    if sandbox.level != "namespaces":
        pytest.skip(f"isolation level {sandbox.level} cannot stop writes outside the copy")
    victim = tmp_path / "victim.txt"
    victim.write_text("original\n")
    script = (f"import pathlib\n"
              f"for p in [{str(victim)!r}, {str(repo / 'calc/ops.py')!r}, "
              f"{str(tmp_path / 'new.txt')!r}]:\n"
              f"    try:\n        pathlib.Path(p).write_text('pwned')\n"
              f"    except OSError as e:\n        print(e.strerror)\n")
    out = await sandbox.run(repo, [PY, "-c", script])
    assert victim.read_text() == "original\n"
    assert "pwned" not in (repo / "calc/ops.py").read_text()
    assert not (tmp_path / "new.txt").exists()
    assert out.stdout.count("Read-only file system") == 3


async def test_secrets_in_the_parent_environment_are_not_visible(sandbox, repo: Path,
                                                                 monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-secret")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "aws-secret")
    out = await sandbox.run(repo, [PY, "-c", "import json, os; print(json.dumps(dict(os.environ)))"])
    env = json.loads(out.stdout)
    assert "OPENAI_API_KEY" not in env and "AWS_SECRET_ACCESS_KEY" not in env
    assert "sk-test-secret" not in out.stdout and "aws-secret" not in out.stdout
    assert env["HOME"] != os.environ["HOME"] and env["HOME"].endswith("/home")


async def test_network_is_cut_where_the_os_allows(sandbox, repo: Path):
    if sandbox.level == "none":
        pytest.skip("no network namespace on this machine (documented in docs/execution.md)")
    code = ("import socket\ntry:\n socket.create_connection(('192.0.2.1', 80), timeout=2)\n"
            "except OSError as e:\n print('errno', e.errno)")
    out = await sandbox.run(repo, [PY, "-c", code])
    assert out.stdout.strip() in ("errno 101", "errno 99", "errno 113")


async def test_output_is_truncated_keeping_head_and_tail(repo: Path):
    sandbox = LocalSandbox(SandboxConfig(max_output_bytes=1000))
    out = await sandbox.run(repo, [PY, "-c", "print('START'); print('x' * 100000); print('END')"])
    assert out.stdout.startswith("START") and out.stdout.rstrip().endswith("END")
    assert "bytes truncated" in out.stdout and len(out.stdout) < 1200


async def test_missing_executable_is_an_outcome_not_an_exception(sandbox, repo: Path):
    out = await sandbox.run(repo, ["no-such-program-xyz"])
    assert out.exit_code != 0


@pytest.mark.parametrize("path", ["../escape.py", "/tmp/escape.py", ".git/hooks/post-checkout"])
async def test_unsafe_patch_is_rejected_before_anything_runs(sandbox, repo: Path, path: str,
                                                             tmp_path: Path):
    marker = tmp_path / "ran"
    with pytest.raises(PatchRejected) as err:
        await sandbox.run(repo, ["touch", str(marker)], patch=make_diff({}, {path: "x\n"}))
    assert err.value.kind == "unsafe" and not marker.exists()


async def test_patch_through_a_symlink_leading_out_is_rejected(sandbox, repo: Path,
                                                               tmp_path: Path):
    (tmp_path / "outside").mkdir()
    os.symlink(tmp_path / "outside", repo / "out")
    with pytest.raises(PatchRejected, match="symlink"):
        await sandbox.run(repo, ["true"], patch=make_diff({}, {"out/x.py": "x\n"}))
    assert not (tmp_path / "outside/x.py").exists()


async def test_unsafe_extra_file_is_rejected(sandbox, repo: Path):
    with pytest.raises(PatchRejected, match="files unsafe"):
        await sandbox.run(repo, ["true"], files={"../x.py": "x"})


async def test_patch_that_does_not_apply_raises_apply_failed(sandbox, repo: Path):
    bad = make_diff({"calc/ops.py": "not the file\n"}, {"calc/ops.py": "x\n"})
    with pytest.raises(PatchRejected) as err:
        await sandbox.run(repo, ["true"], patch=bad)
    assert err.value.kind == "apply_failed" and "git_apply" in err.value.reason
