"""The stage names in pipeline order. Its own module so that the CLI's parser, which must start
fast, can offer them as choices without importing pydantic."""

from __future__ import annotations

from typing import Literal

StageName = Literal["localize", "generate", "select"]
STAGES: tuple[StageName, ...] = ("localize", "generate", "select")
