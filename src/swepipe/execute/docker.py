"""`DockerExecutor`: run commands in an instance's SWE-bench harness image, one container per call.

The image already holds the repository at `base_commit` in `/testbed` and the conda environment
`testbed` (see `docker_images` for which image), so the `repo` argument of `run` is only used to
check patch and file paths on the host before anything starts (`patch.safety`: absolute, `..`,
`.git`, symlink modes); it may be an empty directory when there is no local checkout. The
checks that need the checkout (a path that is, or goes through, a symlink) run in the container
against the workdir before each patch is applied. Per call:

1. start a container (`--network none`, memory, swap and pid limits, `--rm`, the owner label;
   its main process is the watchdog of `docker_reaper`, so it dies with this process);
2. copy the patches and files in as a tar stream, refuse a patch whose paths meet a symlink in
   the workdir (`PatchRejected("unsafe")`), and apply the patches with the attempts of
   `patch.apply` (git apply, git apply --recount --ignore-whitespace, patch --fuzz=5). Extra
   files' paths are checked on the host only: `docker cp` stays inside the container's root, so
   a symlink in the image can at worst misplace a file within the throwaway container;
3. run the command in `/testbed` after the harness's activation line, with a wall-time limit and
   capped output;
4. remove the container: on success, failure, timeout (which is what stops the command: killing
   `docker exec` does not), cancellation, and, through the watchdog, when swepipe is killed.

A command whose first word is this process's interpreter (`sys.executable`, what components use
for the local sandbox) runs the environment's `python` instead, so every stage that runs tests
works unchanged in an image.
"""

from __future__ import annotations

import asyncio
import io
import os
import shlex
import subprocess
import sys
import tarfile
import time
import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path

from pydantic import BaseModel, Field

from swepipe.errors import ExecutionError
from swepipe.execute.docker_images import HUB_TEMPLATE, LOCAL_TEMPLATE, resolve_image
from swepipe.execute.docker_reaper import OWNER_LABEL, owner_tag, reap_once
from swepipe.execute.process import run_limited
from swepipe.execute.workcopy import PatchRejected, check_inputs
from swepipe.patch.safety import diff_paths
from swepipe.types import ExecutionOutput

_APPLY_FAILED = 97  # exit code of the apply script when no attempt applied a patch
_UNSAFE = 98  # ... when a patch's path reaches outside the workdir through a symlink there
_READY = b"swepipe-ready"
# the watchdog: say we are up, then read stdin until the owner's pipe closes
_WATCHDOG = f"echo {_READY.decode()}; exec cat >/dev/null"


class DockerConfig(BaseModel):
    """Runtime settings of the Docker executor (nothing here changes what a test means)."""

    model_config = {"extra": "forbid"}

    docker: str = "docker"
    """The docker CLI to call."""
    image_template: str = LOCAL_TEMPLATE
    """Local image name; `{id}` is the instance id (the harness's `sweb.eval.x86_64.<id>`)."""
    hub_template: str = HUB_TEMPLATE
    """Docker Hub name; `{id_1776}` is the id with `__` replaced by `_1776_`."""
    pull: bool = False
    """Pull the Hub image when neither name is present (off: images are GBs each)."""
    workdir: str = "/testbed"
    """Where the image keeps the repository."""
    activate: str = "source /opt/miniconda3/bin/activate && conda activate testbed"
    """Shell line that activates the test environment (the harness's eval scripts' line)."""
    python: str = "python"
    """The environment's interpreter; replaces `sys.executable` as a command's first word."""
    memory_mb: int = 8192
    """Memory limit of the container (swap included: no swap beyond it)."""
    pids_limit: int = 4096
    network: str = "none"
    """`--network` of the container; `none` leaves only a loopback."""
    cpus: float | None = None
    """`--cpus` quota; None leaves CPU unlimited."""
    labels: dict[str, str] = Field(default_factory=dict)
    """Extra container labels (the owner label is always set)."""
    max_output_bytes: int = 1_000_000
    """Cap on stdout and on stderr each (head and tail kept)."""
    start_timeout_s: float = 120.0
    """Limit on starting the container, copying in and applying patches."""


def find_image(instance_id: str, config: DockerConfig) -> str:
    """`resolve_image` with the config's CLI, names and pull setting."""
    return resolve_image(instance_id, docker=config.docker, pull=config.pull,
                         local_template=config.image_template, hub_template=config.hub_template)


def _tar(entries: dict[str, str]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for name, text in entries.items():
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size, info.mtime, info.mode = len(data), int(time.time()), 0o644
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


# `swepipe_check PATCH PATH`: exit `_UNSAFE` when PATH is, or resolves outside the workdir $W
# through, a symlink there (defined once in the apply script, called per path)
_CHECK_FUNCTION = (
    'swepipe_check() { t=$(realpath -m -- "$W/$2"); case "$t" in "$W"|"$W"/*) ;; *) '
    'echo "swepipe: $1: path $2 resolves outside the repository (to $t) through a symlink" >&2; '
    f'exit {_UNSAFE};; esac; if [ -L "$W/$2" ]; then echo "swepipe: $1: diff touches $2, a '
    f'symlink in the working copy; diffs with symlinks are refused" >&2; exit {_UNSAFE}; fi; }}')


def _symlink_checks(name: str, diff: str) -> list[str]:
    """Shell lines refusing `diff` when a path it names is a symlink in the image's checkout or
    resolves outside it through one: `patch.safety`'s checks that need the checkout, which the
    host may not have (`evaluate --executor docker` without `--repos-dir`)."""
    return [f"swepipe_check {shlex.quote(name)} {shlex.quote(path)}" for path in diff_paths(diff)]


def _apply_script(patches: dict[str, str], workdir: str) -> str:
    # without the exit a missing workdir would leave the patches applied in the image's WORKDIR
    lines = [f"cd {shlex.quote(workdir)} || exit 2", "W=$(pwd -P)", _CHECK_FUNCTION]
    for name, diff in patches.items():
        p = f"/tmp/swepipe/{name}.diff"
        lines += _symlink_checks(name, diff)  # before each: an earlier patch may add a link
        lines.append(
            f"git apply --verbose {p} || git apply --verbose --recount --ignore-whitespace {p} "
            f"|| (patch --batch --fuzz=5 -p1 --forward --dry-run -i {p} && "
            f"patch --batch --fuzz=5 -p1 --forward -i {p}) "
            f"|| {{ echo 'swepipe: {name} did not apply' >&2; exit {_APPLY_FAILED}; }}")
    return "\n".join(lines) + "\n"


def _kill(proc: asyncio.subprocess.Process) -> None:
    try:
        proc.kill()
    except ProcessLookupError:  # it has exited already
        pass


def _cli_env() -> dict[str, str]:
    # what the docker CLI needs to reach its daemon; the container never sees this environment
    keep = ("PATH", "HOME", "DOCKER_HOST", "DOCKER_CONFIG", "DOCKER_CONTEXT", "DOCKER_CERT_PATH",
            "DOCKER_TLS_VERIFY")
    return {k: os.environ[k] for k in keep if k in os.environ}


class DockerExecutor:
    """Runs commands in a fresh container of one harness image. Implements `Executor`."""

    def __init__(self, image: str | None = None, config: DockerConfig | None = None, *,
                 instance_id: str | None = None) -> None:
        if image is None and instance_id is None:
            raise ValueError("DockerExecutor needs an image or an instance id")
        self.image, self.instance_id = image, instance_id
        self.config = config or DockerConfig()

    @classmethod
    def for_instance(cls, instance_id: str, config: DockerConfig | None = None
                     ) -> DockerExecutor:
        """An executor for the instance's harness image, looked up at the first `run`."""
        return cls(None, config, instance_id=instance_id)

    async def _image(self) -> str:
        if self.image is None:
            self.image = await asyncio.to_thread(find_image, str(self.instance_id), self.config)
        return self.image

    async def _docker(self, *args: str, stdin: bytes | None = None) -> tuple[int, str]:
        """(exit code, stderr) of a docker CLI call limited to `start_timeout_s`."""
        proc = await asyncio.create_subprocess_exec(
            self.config.docker, *args, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, env=_cli_env())
        try:
            _, err = await asyncio.wait_for(proc.communicate(stdin), self.config.start_timeout_s)
        except TimeoutError:
            _kill(proc)
            await proc.wait()
            raise ExecutionError(f"docker {args[0]} took over {self.config.start_timeout_s}s")
        return int(proc.returncode or 0), err.decode(errors="replace")

    async def _checked(self, *args: str, stdin: bytes | None = None) -> None:
        code, err = await self._docker(*args, stdin=stdin)
        if code != 0:
            raise ExecutionError(f"docker {args[0]} failed: {err[-500:].strip()}")

    @asynccontextmanager
    async def container(self) -> AsyncIterator[str]:
        """A running container of the image, removed on leaving; yields its name."""
        c, image = self.config, await self._image()
        await asyncio.to_thread(reap_once, c.docker)
        name = f"swepipe-{os.getpid()}-{uuid.uuid4().hex[:12]}"
        labels = {**c.labels, OWNER_LABEL: owner_tag()}
        limits = [f"--network={c.network}", f"--memory={c.memory_mb}m",
                  f"--memory-swap={c.memory_mb}m", f"--pids-limit={c.pids_limit}"]
        if c.cpus is not None:
            limits.append(f"--cpus={c.cpus}")
        # stdin is a pipe only this process holds: the watchdog's EOF when it dies
        # (own session: a Ctrl-C to the terminal reaches swepipe, whose cleanup removes it)
        proc = await asyncio.create_subprocess_exec(
            c.docker, "run", "-i", "--rm", "--pull=never", "--name", name, *limits,
            *(f"--label={k}={v}" for k, v in labels.items()),
            "--entrypoint", "sh", image, "-c", _WATCHDOG,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            env=_cli_env(), start_new_session=True)
        assert proc.stdout is not None and proc.stderr is not None and proc.stdin is not None
        try:
            try:
                line = await asyncio.wait_for(proc.stdout.readline(), c.start_timeout_s)
            except TimeoutError:
                line = b""
            if line.strip() != _READY:
                _kill(proc)
                err = (await proc.stderr.read()).decode(errors="replace")[-500:].strip()
                raise ExecutionError(f"docker run {image} failed: {err or 'no ready line'}")
            yield name
        finally:
            # removing the container is what stops commands inside it (also on timeout)
            rm = await asyncio.create_subprocess_exec(
                c.docker, "rm", "-f", name, stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL, env=_cli_env())
            await rm.wait()
            proc.stdin.close()
            await proc.wait()

    async def _prepare(self, name: str, patches: dict[str, str], files: dict[str, str],
                       scripts: dict[str, str]) -> None:
        c = self.config
        entries = {f"swepipe/{n}.diff": text for n, text in patches.items()}
        entries.update({f"swepipe/{n}": text for n, text in scripts.items()})
        entries["swepipe/apply.sh"] = _apply_script(patches, c.workdir)
        await self._checked("cp", "-", f"{name}:/tmp", stdin=_tar(entries))
        if files:
            await self._checked("cp", "-", f"{name}:{c.workdir}", stdin=_tar(files))
        code, err = await self._docker("exec", name, "bash", "/tmp/swepipe/apply.sh")
        if code == _UNSAFE:
            which = next((n for n in patches if f"swepipe: {n}: " in err), "patch")
            raise PatchRejected("unsafe", err.strip().splitlines()[-1].removeprefix(
                f"swepipe: {which}: "), which)
        if code == _APPLY_FAILED:
            which = next((n for n in patches if f"{n} did not apply" in err), "patch")
            raise PatchRejected("apply_failed", err[-800:], which)
        if code != 0:
            raise ExecutionError(f"applying patches failed: {err[-500:].strip()}")

    def script(self, command: Sequence[str]) -> str:
        """The shell line run in the container: activation, cd, then the command."""
        c = self.config
        argv = list(command)
        if argv and argv[0] == sys.executable:
            argv[0] = c.python
        return f"{c.activate} && cd {shlex.quote(c.workdir)} && exec {shlex.join(argv)}"

    async def run(self, repo: Path, command: Sequence[str], *, patch: str | None = None,
                  files: dict[str, str] | None = None, timeout_s: float = 60.0,
                  patches: dict[str, str] | None = None,
                  scripts: dict[str, str] | None = None) -> ExecutionOutput:
        """Like `LocalSandbox.run`; `repo` is only used to check paths (the image has the code;
        an empty directory does when there is no checkout).
        `scripts` (name -> text) are copied to `/tmp/swepipe/<name>`, outside the repository
        (where the harness's eval script goes)."""
        all_patches = {k: v for k, v in {"patch": patch, **(patches or {})}.items()
                       if v and v.strip()}
        check_inputs(Path(repo), all_patches, files)
        c = self.config
        async with self.container() as name:
            await self._prepare(name, all_patches, files or {}, scripts or {})
            return await run_limited([c.docker, "exec", name, "bash", "-c", self.script(command)],
                                     cwd=Path("."), env=_cli_env(), timeout_s=timeout_s,
                                     memory_bytes=None, max_output_bytes=c.max_output_bytes)
