"""Oracle generation: the gold patch as the only candidate (an upper bound, and a check that
generation rewards give the gold patch full marks).

One Patch, `sample_idx` 0, `meta["source"] = "gold"`; its normalized diff is made against the
checkout when there is one. An instance without a gold patch gives an `empty` Patch with that
reason, and a gold patch that does not parse an `error` one: outcomes, not exceptions.
"""

from __future__ import annotations

from swepipe.errors import InputError
from swepipe.hashing import ComponentConfig
from swepipe.patch.diff import parse_diff
from swepipe.patch.normalize import normalize_patch
from swepipe.protocols import StageContext
from swepipe.types import CodePointer, Instance, Patch


class OracleGeneratorConfig(ComponentConfig):
    component: str = "oracle"
    code_version: str = "1"


def gold_patch(instance: Instance, ctx: StageContext, sample_idx: int = 0) -> Patch:
    """The instance's gold patch as a candidate (see the module docstring)."""
    meta = {"source": "gold"}
    if not instance.patch.strip():
        return Patch(diff="", sample_idx=sample_idx, status="empty", meta=meta,
                     reason="the instance has no gold patch")
    try:
        files = [c.path for c in parse_diff(instance.patch, source="gold patch")]
    except InputError as exc:
        return Patch(diff=instance.patch, sample_idx=sample_idx, status="error", meta=meta,
                     reason=str(exc))
    normalized = normalize_patch(instance.patch, ctx.repo_dir) if ctx.repo_dir else None
    return Patch(diff=instance.patch, sample_idx=sample_idx, files=files,
                 normalized_diff=normalized, meta=meta)


class OracleGenerator:
    Config = OracleGeneratorConfig
    uses_model = False
    needs_repo = False  # runs without a checkout (`repos_dir` unset)
    """The config hash is not keyed by a model: no model is called."""

    def __init__(self, config: OracleGeneratorConfig) -> None:
        self.config = config

    async def generate(self, instance: Instance, context: list[CodePointer],
                       ctx: StageContext) -> list[Patch]:
        return [gold_patch(instance, ctx)]
