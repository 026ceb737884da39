"""Which SWE-bench harness image an instance runs in, and getting it onto the daemon.

The harness builds `sweb.eval.x86_64.<instance_id>` locally; Docker Hub mirrors the same images
as `swebench/sweb.eval.x86_64.<id with __ replaced by _1776_>` (Docker names allow no double
underscore in that position). A local image of either name is used as is; the Hub name is
pulled only when asked (`pull=True`, `swepipe evaluate --docker-pull`): an image is several GB
and a silent pull per instance would turn an evaluation into a download.
"""

from __future__ import annotations

import functools
import subprocess

from swepipe.errors import ExecutionError

LOCAL_TEMPLATE = "sweb.eval.x86_64.{id}:latest"
HUB_TEMPLATE = "swebench/sweb.eval.x86_64.{id_1776}:latest"


def image_names(instance_id: str, local_template: str = LOCAL_TEMPLATE,
                hub_template: str = HUB_TEMPLATE) -> tuple[str, str]:
    """(local name, Docker Hub name) of an instance's image, lower-cased as Docker requires."""
    ids = {"id": instance_id, "id_1776": instance_id.replace("__", "_1776_")}
    return (local_template.format(**ids).lower(), hub_template.format(**ids).lower())


def _run(docker: str, *args: str, timeout_s: float) -> subprocess.CompletedProcess:
    try:
        return subprocess.run([docker, *args], capture_output=True, text=True,
                              timeout=timeout_s, check=False)
    except (OSError, subprocess.SubprocessError) as exc:
        raise ExecutionError(f"docker {args[0]}: {exc}") from exc


@functools.cache
def daemon_problem(docker: str = "docker") -> str | None:
    """Why no Docker daemon answers (None when one does); cached for the process."""
    try:
        proc = _run(docker, "version", "--format", "{{.Server.Version}}", timeout_s=20)
    except ExecutionError as exc:
        return str(exc)
    if proc.returncode != 0:
        return (proc.stderr.strip().splitlines() or ["docker version failed"])[-1]
    return None


def image_present(docker: str, image: str) -> bool:
    return _run(docker, "image", "inspect", "--format", "{{.Id}}", image,
                timeout_s=60).returncode == 0


def resolve_image(instance_id: str, *, docker: str = "docker", pull: bool = False,
                  local_template: str = LOCAL_TEMPLATE, hub_template: str = HUB_TEMPLATE,
                  pull_timeout_s: float = 3600.0) -> str:
    """The image to run `instance_id` in: the local name, else the Hub name if present, else
    (only with `pull`) the Hub name after `docker pull`. Raises ExecutionError saying which."""
    problem = daemon_problem(docker)
    if problem is not None:
        raise ExecutionError(f"no Docker daemon: {problem}")
    local, hub = image_names(instance_id, local_template, hub_template)
    for image in (local, hub):
        if image_present(docker, image):
            return image
    if not pull:
        raise ExecutionError(f"{instance_id}: neither {local} nor {hub} is on the Docker daemon "
                             f"(build it with the SWE-bench harness, or pull it: --docker-pull)")
    proc = _run(docker, "pull", hub, timeout_s=pull_timeout_s)
    if proc.returncode != 0:
        tail = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        raise ExecutionError(f"{instance_id}: docker pull {hub} failed: {tail}")
    return hub
