"""`DockerExecutor`: run commands in an instance's SWE-bench image (`sweb.eval.x86_64.<id>`).

The image already holds the repository at `base_commit` in `/testbed` and its conda environment
`testbed`, so the `repo` argument of `run` is only used to check patch paths before anything
starts. Per call: start a container (`--network none`, memory and pid limits), copy the patches
and files in as a tar stream, apply the patches with the same attempts as `patch.apply`, run the
command in the activated environment with a wall-time limit, and remove the container.

Used when a Docker daemon and the image are present (`available()`); otherwise use
`LocalSandbox`. There is no Docker daemon on the development machines, so this module is tested
only where one exists (tests skip with the reason otherwise).
"""

from __future__ import annotations

import asyncio
import functools
import io
import os
import shlex
import subprocess
import tarfile
import time
from collections.abc import Sequence
from pathlib import Path

from pydantic import BaseModel, Field

from swepipe.errors import ExecutionError
from swepipe.execute.process import run_limited
from swepipe.execute.workcopy import PatchRejected, check_inputs
from swepipe.types import ExecutionOutput

_APPLY_FAILED = 97  # exit code of the apply script when no attempt applied a patch


class DockerConfig(BaseModel):
    """Runtime settings of the Docker executor."""

    model_config = {"extra": "forbid"}

    docker: str = "docker"
    """The docker CLI to call."""
    image_templates: list[str] = Field(default_factory=lambda: [
        "sweb.eval.x86_64.{id}:latest", "swebench/sweb.eval.x86_64.{id_1776}:latest"])
    """Image names to try in order; `{id}` is the instance id, `{id_1776}` the id with `__`
    replaced by `_1776_` (the Docker Hub spelling)."""
    workdir: str = "/testbed"
    """Where the image keeps the repository."""
    activate: str = "source /opt/miniconda3/bin/activate testbed"
    """Shell line that activates the test environment before the command."""
    memory_mb: int = 8192
    pids_limit: int = 4096
    network: str = "none"
    """`--network` of the container; `none` cuts it."""
    max_output_bytes: int = 1_000_000
    start_timeout_s: float = 120.0


def image_candidates(instance_id: str, config: DockerConfig) -> list[str]:
    """The image names tried for an instance, lower-cased as Docker requires."""
    ids = {"id": instance_id, "id_1776": instance_id.replace("__", "_1776_")}
    return [t.format(**ids).lower() for t in config.image_templates]


@functools.cache
def docker_available(docker: str = "docker") -> bool:
    """A daemon answers (cached for the process)."""
    try:
        return subprocess.run([docker, "info"], capture_output=True, timeout=20,
                              check=False).returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False


def find_image(instance_id: str, config: DockerConfig | None = None) -> str | None:
    """The first candidate image present locally; None without a daemon or image."""
    config = config or DockerConfig()
    if not docker_available(config.docker):
        return None
    for image in image_candidates(instance_id, config):
        proc = subprocess.run([config.docker, "image", "inspect", image], capture_output=True,
                              check=False)
        if proc.returncode == 0:
            return image
    return None


def _apply_script(names: Sequence[str], workdir: str) -> str:
    lines = [f"cd {shlex.quote(workdir)}"]
    for name in names:
        p = f"/tmp/swepipe/{name}.diff"
        lines.append(
            f"git apply --verbose {p} || git apply --verbose --recount --ignore-whitespace {p} "
            f"|| (patch --batch --fuzz=5 -p1 --forward --dry-run -i {p} && "
            f"patch --batch --fuzz=5 -p1 --forward -i {p}) "
            f"|| {{ echo 'swepipe: {name} did not apply' >&2; exit {_APPLY_FAILED}; }}")
    return "\n".join(lines) + "\n"


def _tar(entries: dict[str, str]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for name, text in entries.items():
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size, info.mtime, info.mode = len(data), int(time.time()), 0o644
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def _cli_env() -> dict[str, str]:
    # what the docker CLI needs to reach its daemon; the container never sees this environment
    keep = ("PATH", "HOME", "DOCKER_HOST", "DOCKER_CONFIG", "DOCKER_CONTEXT", "DOCKER_CERT_PATH",
            "DOCKER_TLS_VERIFY")
    return {k: os.environ[k] for k in keep if k in os.environ}


class DockerExecutor:
    """Runs commands in a fresh container of one SWE-bench image. Implements `Executor`."""

    def __init__(self, image: str, config: DockerConfig | None = None) -> None:
        self.image, self.config = image, config or DockerConfig()

    @classmethod
    def for_instance(cls, instance_id: str, config: DockerConfig | None = None
                     ) -> DockerExecutor:
        image = find_image(instance_id, config)
        if image is None:
            raise ExecutionError(f"no Docker daemon or no SWE-bench image for {instance_id}")
        return cls(image, config)

    def _docker(self, *args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess:
        proc = subprocess.run([self.config.docker, *args], input=stdin, capture_output=True,
                              timeout=self.config.start_timeout_s, check=False)
        if proc.returncode != 0:
            raise ExecutionError(f"docker {args[0]} failed: {proc.stderr.decode()[-500:]}")
        return proc

    def _start(self, patches: dict[str, str], files: dict[str, str]) -> str:
        c = self.config
        cid = self._docker("run", "-d", "--rm", f"--network={c.network}",
                           f"--memory={c.memory_mb}m", f"--pids-limit={c.pids_limit}",
                           "--entrypoint", "sleep", self.image, "infinity").stdout.decode().strip()
        try:
            entries = {f"swepipe/{name}.diff": text for name, text in patches.items()}
            entries["swepipe/apply.sh"] = _apply_script(list(patches), c.workdir)
            self._docker("cp", "-", f"{cid}:/tmp", stdin=_tar(entries))
            if files:
                self._docker("cp", "-", f"{cid}:{c.workdir}", stdin=_tar(files))
            proc = subprocess.run([c.docker, "exec", cid, "bash", "/tmp/swepipe/apply.sh"],
                                  capture_output=True, timeout=c.start_timeout_s, check=False)
            if proc.returncode == _APPLY_FAILED:
                which = next((n for n in patches if f"{n} did not apply" in proc.stderr.decode()),
                             "patch")
                raise PatchRejected("apply_failed", proc.stderr.decode()[-800:], which)
            if proc.returncode != 0:
                raise ExecutionError(f"applying patches failed: {proc.stderr.decode()[-500:]}")
            return cid
        except BaseException:
            subprocess.run([c.docker, "rm", "-f", cid], capture_output=True, check=False)
            raise

    async def run(self, repo: Path, command: Sequence[str], *, patch: str | None = None,
                  files: dict[str, str] | None = None, timeout_s: float = 60.0,
                  patches: dict[str, str] | None = None) -> ExecutionOutput:
        """Like `LocalSandbox.run`; `repo` is only used to check paths (the image has the code)."""
        all_patches = {k: v for k, v in {"patch": patch, **(patches or {})}.items()
                       if v and v.strip()}
        check_inputs(Path(repo), all_patches, files)
        cid = await asyncio.to_thread(self._start, all_patches, files or {})
        c = self.config
        script = f"{c.activate} && cd {shlex.quote(c.workdir)} && exec {shlex.join(command)}"
        try:
            out = await run_limited([c.docker, "exec", cid, "bash", "-c", script],
                                    cwd=Path("."), env=_cli_env(),
                                    timeout_s=timeout_s, memory_bytes=None,
                                    max_output_bytes=c.max_output_bytes)
        finally:
            # killing `docker exec` does not stop the command inside: removing the container does
            await asyncio.to_thread(subprocess.run, [c.docker, "rm", "-f", cid],
                                    capture_output=True, check=False)
        return out
