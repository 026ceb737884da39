import pytest

from tests.localize.shop import shop_setup


@pytest.fixture
def setup(tmp_path):
    """(instance, ctx, retrieval config) over the shop repository (`tests/localize/shop.py`)."""
    return shop_setup(tmp_path)
