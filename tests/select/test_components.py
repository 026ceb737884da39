"""Every selector is found by its short name, built from a config section, and implements the
`Selector` protocol; runtime settings stay out of the config hash."""

from swepipe.protocols import Selector
from swepipe.registry import build
from swepipe.select import COMPONENTS


def test_every_component_builds_from_its_short_name():
    for name in COMPONENTS:
        component, config = build("select", {"component": name})
        assert isinstance(component, Selector) and config.component == name


def test_script_and_gold_test_settings_do_not_change_the_hash():
    _, a = build("select", {"component": "codemonkeys"})
    _, b = build("select", {"component": "codemonkeys",
                            "scripts": {"timeout_s": 5, "batch_size": 1, "python": "python"}})
    _, c = build("select", {"component": "codemonkeys", "top_k": 5})
    assert a.hash() == b.hash() != c.hash()
