import os
from pathlib import Path

import pytest

from swepipe.execute.docker import DockerConfig, DockerExecutor, find_image, image_candidates


def test_image_names_follow_swebench_conventions():
    assert image_candidates("django__django-11099", DockerConfig()) == [
        "sweb.eval.x86_64.django__django-11099:latest",
        "swebench/sweb.eval.x86_64.django_1776_django-11099:latest"]


async def test_docker_executor_runs_in_the_instance_image(tmp_path: Path):
    instance_id = os.environ.get("SWEPIPE_DOCKER_INSTANCE", "astropy__astropy-12907")
    image = find_image(instance_id)
    if image is None:
        pytest.skip(f"no Docker daemon or no image for {instance_id} "
                    "(set SWEPIPE_DOCKER_INSTANCE to an instance whose image is present)")
    out = await DockerExecutor(image).run(tmp_path, ["sh", "-c", "pwd; git status --short"],
                                          files={"swepipe_probe.txt": "x"}, timeout_s=120)
    assert out.exit_code == 0 and out.stdout.startswith("/testbed")
    assert "swepipe_probe.txt" in out.stdout
