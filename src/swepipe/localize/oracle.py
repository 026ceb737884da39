"""Oracle localization: the gold patch's locations. An upper bound, and a check of the rewards
(it must score recall 1.0).

One `lines` pointer per gold hunk, spanning the hunk's changed lines in the original file (a pure
insertion spans the line it follows, or line 1 when it is at the top), plus a `file` pointer per
gold file ranked first. New files get a whole-file pointer (they have no original lines).
"""

from __future__ import annotations

from swepipe.hashing import ComponentConfig
from swepipe.patch.diff import parse_diff
from swepipe.protocols import StageContext
from swepipe.types import CodePointer, Instance


class OracleLocalizerConfig(ComponentConfig):
    component: str = "oracle"
    code_version: str = "1"
    include_files: bool = True
    """Also emit one whole-file pointer per gold file (ranked before the hunks)."""


class OracleLocalizer:
    Config = OracleLocalizerConfig
    uses_model = False
    needs_repo = False  # runs without a checkout (`repos_dir` unset)

    def __init__(self, config: OracleLocalizerConfig) -> None:
        self.config = config

    async def locate(self, instance: Instance, ctx: StageContext) -> list[CodePointer]:
        changes = parse_diff(instance.patch, source=f"{instance.instance_id} gold patch")
        files = [CodePointer(file_path=c.path, kind="file", rank=r, score=1.0)
                 for r, c in enumerate(changes)] if self.config.include_files else []
        spans = []
        for change in changes:
            if change.change_type == "added":
                if not self.config.include_files:
                    spans.append(CodePointer(file_path=change.path, kind="file", score=1.0))
                continue
            for hunk in change.hunks:
                lines = list(hunk.removed_lines) + [max(a, 1) for a in hunk.added_after]
                if lines:
                    spans.append(CodePointer(file_path=change.path, start_line=min(lines),
                                             end_line=max(lines), kind="lines", score=1.0))
        for rank, pointer in enumerate(spans):
            pointer.rank = rank
        return files + spans
