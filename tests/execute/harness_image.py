"""A stand-in SWE-bench harness image built on the machine, for tests against a real daemon.

No registry is reachable, so the base is built from Debian packages: `docker_image/rootfs.sh`
(debootstrap minbase bookworm with python3, git, patch, pytest and the harness's activation
shape) imported with `docker import`, tagged by a hash of that script. An instance image
`sweb.eval.x86_64.<id>` adds the repository at `/testbed` (the harness's layout, installed into
the environment), labelled with a hash of base, commit and layout. Both are reused while their
recipe is unchanged; building the base takes one to three minutes and needs root and
`debootstrap` (otherwise tests skip, saying so).
"""

from __future__ import annotations

import fcntl
import hashlib
import io
import os
import shutil
import subprocess
import tarfile
import tempfile
from pathlib import Path

import pytest

from swepipe.execute.docker_images import daemon_problem, image_names, image_present

RECIPE = Path(__file__).parent / "docker_image" / "rootfs.sh"
RECIPE_LABEL = "swepipe.test-recipe"
_PTH = "usr/lib/python3/dist-packages/testbed.pth"
_LOCK = Path(tempfile.gettempdir()) / "swepipe-test-image.lock"


def _docker(*args: str, stdin: bytes | None = None, timeout: float = 600) -> str:
    proc = subprocess.run(["docker", *args], input=stdin, capture_output=True, timeout=timeout,
                          check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"docker {' '.join(args[:2])}: {proc.stderr.decode()[-800:]}")
    return proc.stdout.decode().strip()


def require_daemon() -> None:
    problem = daemon_problem("docker")
    if problem is not None:
        pytest.skip(f"no Docker daemon ({problem}); .ci/run starts one when it runs as root")


def base_image() -> str:
    """The base image's tag, built now if absent (skips without root or debootstrap)."""
    tag = f"swepipe-test/bookworm-testbed:{hashlib.sha256(RECIPE.read_bytes()).hexdigest()[:16]}"
    if image_present("docker", tag):
        return tag
    if os.geteuid() != 0 or shutil.which("debootstrap") is None:
        pytest.skip(f"test image {tag} is absent and building it needs root and debootstrap "
                    "(apt-get install debootstrap)")
    with _LOCK.open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # another test process may be building it
        if not image_present("docker", tag):
            with tempfile.TemporaryDirectory(dir="/var/tmp", prefix="swepipe-rootfs-") as tmp:
                root = Path(tmp) / "root"
                subprocess.run(["bash", str(RECIPE), str(root)], check=True, capture_output=True,
                               timeout=1200)
                tar = subprocess.Popen(["tar", "-C", str(root), "-c", "."],
                                       stdout=subprocess.PIPE)
                subprocess.run(["docker", "import", "-", tag], stdin=tar.stdout, check=True,
                               capture_output=True, timeout=600)
                tar.wait()
    return tag


def _repo_tar(repo: Path) -> bytes:
    # owned by root like the harness's /testbed, so git never calls it dubious
    def as_root(info: tarfile.TarInfo) -> tarfile.TarInfo:
        info.uid = info.gid = 0
        info.uname = info.gname = "root"
        return info

    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        tar.add(repo, arcname="testbed", filter=as_root)
        # the harness's images have the repository installed editable in `testbed`; a .pth
        # entry is the same for a pure-Python package (and needs no pip)
        pth = tarfile.TarInfo(_PTH)
        pth.size = len(b"/testbed\n")
        tar.addfile(pth, io.BytesIO(b"/testbed\n"))
    return buf.getvalue()


def instance_image(instance_id: str, repo: Path) -> str:
    """`sweb.eval.x86_64.<instance_id>`: the base plus `repo` (a git checkout) at /testbed."""
    base = base_image()
    commit = subprocess.run(["git", "-C", str(repo), "rev-parse", "HEAD"], capture_output=True,
                            text=True, check=True).stdout.strip()
    layout = f"{base}\n{commit}\n/testbed + {_PTH}"  # change this and images are rebuilt
    key = hashlib.sha256(layout.encode()).hexdigest()[:16]
    name = image_names(instance_id)[0]
    stale = None
    if image_present("docker", name):
        if _docker("image", "inspect", "--format",
                   f'{{{{index .Config.Labels "{RECIPE_LABEL}"}}}}', name) == key:
            return name
        stale = _docker("image", "inspect", "--format", "{{.Id}}", name)
    cid = _docker("create", base, "true")
    try:
        _docker("cp", "-", f"{cid}:/", stdin=_repo_tar(repo))
        _docker("commit", "--change", f"LABEL {RECIPE_LABEL}={key}", "--change",
                "WORKDIR /testbed", cid, name)
    finally:
        _docker("rm", "-f", cid)
    if stale:  # the image of an older recipe, untagged now
        subprocess.run(["docker", "rmi", stale], capture_output=True, check=False)
    return name
