"""Every example configuration in docs/localizers.md builds its component."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

from swepipe.registry import build

DOC = Path(__file__).resolve().parents[2] / "docs" / "localizers.md"
EXAMPLES = re.findall(r"```toml\n(.*?)```", DOC.read_text(), re.DOTALL) if DOC.exists() else []


def test_the_doc_has_an_example_for_each_llm_localizer():
    names = {tomllib.loads(text)["localize"]["component"] for text in EXAMPLES}
    assert {"agentless", "codemonkeys", "codemonkeys_retrieval_first", "combine"} <= names


@pytest.mark.parametrize("text", EXAMPLES)
def test_documented_configuration_builds(text):
    component, config = build("localize", tomllib.loads(text)["localize"])
    assert config.hash() and hasattr(component, "locate")
