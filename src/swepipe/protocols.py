"""The protocols every component implements, and the context the runner hands them.

Three stage protocols (the seed's "Proposed Component Interfaces"), the `Experiment` the RL
infrastructure calls, and the services a component may use: `Model`, `Embedder`, `Executor`.

A component never receives an endpoint URL or a store connection. It receives a `StageContext`
whose `model` is a handle the runner bound to (run, instance, stage, config); the handle writes a
`sequences` row for every call, so logging for training cannot be forgotten: the type system
gives a component no other way to reach a model.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np

from swepipe.types import (
    CodePointer, Completion, ExecutionOutput, Instance, Message, Patch, SamplingParams, Selection,
)


@runtime_checkable
class Model(Protocol):
    """A logged, cached handle to one model. Obtained from the runner, never built by components."""

    name: str
    """Model identity as it enters config hashes (e.g. `Qwen/Qwen2.5-Coder-32B-Instruct`)."""

    async def chat(self, messages: Sequence[Message], params: SamplingParams | None = None, *,
                   sample_idx: int = 0, trajectory_id: str | None = None,
                   turn: int = 0) -> Completion:
        """One chat completion (`params.n` choices). Recorded in `sequences`; answered from the
        call cache when the same (model, messages, params, sample_idx) already succeeded."""
        ...

    async def count_tokens(self, text: str) -> int:
        """Exact count when the endpoint offers a tokenizer, else a documented estimate."""
        ...

    async def drain(self) -> None:
        """Wait until the calls made so far are durable in `sequences` (for components that
        save their own state, like a state machine, and must not save past the log)."""
        ...


@runtime_checkable
class Embedder(Protocol):
    """Turns texts into unit-length vectors (a served model; the retrieval localizer fuses it)."""

    name: str
    dim: int

    async def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Shape (len(texts), dim), float32, rows L2-normalized."""
        ...


@runtime_checkable
class Executor(Protocol):
    """Runs commands against a fresh working copy of a repository, never in place."""

    async def run(self, repo: Path, command: Sequence[str], *, patch: str | None = None,
                  files: dict[str, str] | None = None, timeout_s: float = 60.0) -> ExecutionOutput:
        """Copy `repo`, apply `patch`, write `files` (repo-relative path -> text), run `command`
        inside the copy with time and memory limits and no secrets in the environment."""
        ...


@dataclass
class StageContext:
    """What the runner hands a component for one instance."""

    model: Model | None
    """The logged model handle; None for components that need no model (oracle, voting)."""
    repo_dir: Path | None = None
    """A checkout of the instance's repository at `base_commit` (read-only for components)."""
    executor: Executor | None = None
    embedder: Embedder | None = None
    log: logging.Logger = field(default_factory=lambda: logging.getLogger("swepipe"))
    extras: dict[str, Any] = field(default_factory=dict)
    """Stage-specific inputs a runner may pass (e.g. generated tests for selection)."""


@runtime_checkable
class Localizer(Protocol):
    async def locate(self, instance: Instance, ctx: StageContext) -> list[CodePointer]: ...


@runtime_checkable
class PatchGenerator(Protocol):
    async def generate(self, instance: Instance, context: list[CodePointer],
                       ctx: StageContext) -> list[Patch]: ...


@runtime_checkable
class Selector(Protocol):
    async def select(self, instance: Instance, patches: list[Patch],
                     ctx: StageContext) -> Selection: ...


@runtime_checkable
class Experiment(Protocol):
    """What the RL infrastructure calls (the seed's "Experiment Framework")."""

    async def run(self, instance_id: str, model_endpoint: str) -> Selection:
        """Run the whole pipeline for one instance against `model_endpoint`; every model call is
        written to `sequences` on the way."""
        ...

    def hypers(self) -> list[dict[str, Any]]:
        """The hyper-parameter settings this experiment sweeps, one dict per config."""
        ...
