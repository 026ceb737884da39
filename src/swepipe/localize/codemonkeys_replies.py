"""Reading CodeMonkeys replies, and merging sampled rankings.

- `parse_relevance`: `RELEVANCE: Relevant|Not Relevant` plus `SUMMARY: ...` ->
  `RelevanceDecision` with CodeMonkeys' statuses (`relevant`, `not_relevant`, `parse_error`).
  Markdown around the keywords is tolerated; a reply without a verdict is a `parse_error`, which
  the scan treats as not relevant and logs.
- `parse_ranking`: a JSON list of paths (in a fence or bare); when the JSON does not parse, the
  lines that name a relevant file, in order. Paths that were not among the candidates are dropped.
- `merge_rankings`: CodeMonkeys merges its k sampled rankings by average relative rank. The
  relative rank of a file in a ranking of length L is `position / L` (0 for the first); a file
  the ranking leaves out gets 1.0, behind every ranked file. Files are ordered by their mean over
  the k rankings; ties go to the file that comes first in the earliest ranking, then by path.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from swepipe.localize.agentless_text import match_path
from swepipe.localize.prompting import code_blocks

_VERDICT = re.compile(r"RELEVANCE\W*:\W*(not[\s_-]*relevant|irrelevant|relevant)",
                      re.IGNORECASE)
_SUMMARY = re.compile(r"SUMMARY\W*:[ \t*_]*(.*)", re.IGNORECASE | re.DOTALL)
_JSON_LIST = re.compile(r"\[.*\]", re.DOTALL)


@dataclass(frozen=True)
class RelevanceDecision:
    """One file's judgement (CodeMonkeys' `RelevanceDecision`, plus the path)."""

    path: str
    status: Literal["relevant", "not_relevant", "parse_error"]
    summary: str | None
    message: str
    """The raw reply."""


def parse_relevance(path: str, text: str) -> RelevanceDecision:
    verdict = _VERDICT.search(text or "")
    if verdict is None:
        return RelevanceDecision(path, "parse_error", None, text)
    if not verdict.group(1).lower().startswith("relevant"):
        return RelevanceDecision(path, "not_relevant", None, text)
    summary = _SUMMARY.search(text, verdict.end())
    return RelevanceDecision(path, "relevant", summary.group(1).strip() if summary else "", text)


def parse_ranking(text: str, candidates: Sequence[str]) -> tuple[list[str], list[str]]:
    """(ranking, problems): candidate paths in the reply's order, each once."""
    body = code_blocks(text)
    items: list[str] | None = None
    match = _JSON_LIST.search(body)
    if match is not None:
        try:
            value = json.loads(match.group(0))
            if isinstance(value, list):
                items = [str(v) for v in value]
        except ValueError:
            items = None
    problems: list[str] = []
    if items is None:
        problems.append("ranking is not a JSON list; read line by line")
        items = body.splitlines()
    known = set(candidates)
    out: list[str] = []
    for item in items:
        path = match_path(item, candidates, known)
        if path is None:
            if item.strip() and match is not None:
                problems.append(f"ranked path not among the relevant files: {item.strip()!r}")
        elif path not in out:
            out.append(path)
    if not out:
        problems.append("ranking names none of the relevant files")
    return out, problems


def merge_rankings(rankings: Sequence[Sequence[str]],
                   files: Sequence[str]) -> list[tuple[str, float]]:
    """(path, mean relative rank) for every file in `files`, best first (module docstring)."""
    if not rankings:
        return [(f, 1.0) for f in sorted(files)]
    first_seen: dict[str, tuple[int, int]] = {}
    total = dict.fromkeys(files, 0.0)
    for j, ranking in enumerate(rankings):
        ranked = [f for f in dict.fromkeys(ranking) if f in total]
        where = {f: i / len(ranked) for i, f in enumerate(ranked)}
        for i, f in enumerate(ranked):
            first_seen.setdefault(f, (j, i))
        for f in total:
            total[f] += where.get(f, 1.0)
    far = (len(rankings), 0)
    order = sorted(total, key=lambda f: (total[f], first_seen.get(f, far), f))
    return [(f, total[f] / len(rankings)) for f in order]
