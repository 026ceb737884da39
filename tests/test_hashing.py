import os
import subprocess
import sys
from typing import Annotated

import pytest

from swepipe.errors import InputError
from swepipe.hashing import AddedLater, ComponentConfig, Runtime, canonical_json, config_hash


class Demo(ComponentConfig):
    component: str = "demo"
    code_version: str = "3"
    temperature: float = 0.8
    samples: int = 4
    timeout_s: Annotated[float, Runtime()] = 60.0


def test_key_order_does_not_change_the_hash():
    a = config_hash("c", "1", {"x": 1, "y": {"b": 2, "a": 1}})
    b = config_hash("c", "1", {"y": {"a": 1, "b": 2}, "x": 1})
    assert a == b


def test_hash_is_stable_across_processes_with_different_hash_seeds():
    code = ("from swepipe.hashing import config_hash;"
            "print(config_hash('c','1',{'s':{'b':1,'a':[1,2.5,'x']}},{'up':'h'}))")
    outs = set()
    for seed in ("0", "12345"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        outs.add(subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                                text=True, check=True).stdout.strip())
    assert len(outs) == 1
    assert outs == {config_hash("c", "1", {"s": {"b": 1, "a": [1, 2.5, "x"]}}, {"up": "h"})}


def test_concatenation_collisions_are_impossible():
    assert config_hash("c", "1", {"k": ["ab", "c"]}) != config_hash("c", "1", {"k": ["a", "bc"]})
    assert config_hash("ab", "c", {}) != config_hash("a", "bc", {})


@pytest.mark.parametrize("bad", [{1, 2}, b"x", float("nan"), object(), {1: "int key"}])
def test_unencodable_values_raise_naming_the_field(bad):
    with pytest.raises(InputError, match="bad"):
        canonical_json({"outer": {"bad": bad}})


def test_changing_upstream_rekeys_downstream_only():
    loc = Demo(component="loc").hash()
    loc2 = Demo(component="loc", samples=5).hash()
    gen = Demo(component="gen")
    assert gen.hash({"localize": loc}) != gen.hash({"localize": loc2})
    # the upstream stage itself is unaffected by what consumes it
    assert Demo(component="loc").hash() == loc


def test_runtime_settings_do_not_enter_the_hash():
    assert Demo(timeout_s=5).hash() == Demo(timeout_s=500).hash()
    assert Demo(temperature=0.2).hash() != Demo().hash()
    assert "timeout_s" not in Demo().identity()


class DemoWithNewOption(Demo):
    top_k: Annotated[int | None, AddedLater()] = None
    tags: Annotated[list[str], AddedLater()] = []


def test_a_field_added_later_keeps_old_hashes_until_it_is_set():
    assert DemoWithNewOption().hash() == Demo().hash()
    assert DemoWithNewOption(top_k=5).hash() != Demo().hash()
    assert DemoWithNewOption(tags=["x"]).hash() != DemoWithNewOption().hash()
    assert DemoWithNewOption(top_k=5).identity()["top_k"] == 5


def test_code_version_enters_the_hash():
    assert Demo(code_version="4").hash() != Demo().hash()
