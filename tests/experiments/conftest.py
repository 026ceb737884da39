"""One local Ray cluster for the Ray tests of this package (a start costs seconds)."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="package")
def ray_session():
    ray = pytest.importorskip("ray", reason="ray is an optional extra (pip install swepipe[ray])")
    ray.init(num_cpus=2, include_dashboard=False)
    yield ray
    ray.shutdown()
