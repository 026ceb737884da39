"""Fixtures of the experiments tests: the pipeline of pkg.py over a store, and one local Ray
cluster for the Ray tests of this package (a start costs seconds)."""

from __future__ import annotations

import pytest

from swepipe.datasets.ingest import ingest_instances
from tests.experiments.pkg import make_pkg_repo, pipeline_overrides, pkg_instances


@pytest.fixture
def setup(tmp_path, store):
    """(store, overrides): four `demo/pkg` instances ingested as dataset `mini`, and the
    overrides that run the test components on them."""
    repos = tmp_path / "repos"
    ingest_instances(store, pkg_instances(make_pkg_repo(repos), 4), "mini", "test")
    return store, pipeline_overrides(tmp_path, repos)


@pytest.fixture(scope="package")
def ray_session():
    ray = pytest.importorskip("ray", reason="ray is an optional extra (pip install swepipe[ray])")
    ray.init(num_cpus=2, include_dashboard=False)
    yield ray
    ray.shutdown()
