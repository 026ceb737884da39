"""What every selector does with a candidate set: order it, tell usable candidates from empty or
failed ones, key it for voting, and vote.

- Candidates are considered in `sample_idx` order, so "earliest sample" breaks ties and the
  greedy sample (index 0 in Agentless and CodeMonkeys) comes first.
- A candidate is *usable* when its status is `ok` and its diff is not blank. Unusable candidates
  are never chosen while a usable one exists; when none exists, `nothing_usable` picks the
  earliest candidate and submits an empty patch (what Agentless writes in that case).
- The vote key is the normalized diff (`patch/normalize.py`): the generator's when it set one,
  else computed against the checkout, else from the diff text alone.
- A candidate's rows in `test_runs` are keyed by `swepipe.types.patch_hash`: its content hash,
  '' for an empty diff (an empty candidate *is* the original code, so it shares the original's
  rows).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path

from swepipe.patch.normalize import normalize_diff_text, normalize_patch
from swepipe.types import Patch, Selection


def ordered(patches: Sequence[Patch]) -> list[Patch]:
    """Candidates by sample index (stable for equal indices)."""
    return sorted(patches, key=lambda p: p.sample_idx)


def usable(patch: Patch) -> bool:
    """A candidate that may be submitted: status `ok` and a non-blank diff."""
    return patch.status == "ok" and bool(patch.diff.strip())


def vote_key(patch: Patch, repo_dir: Path | None) -> str:
    """The normalized form two candidates must share to count as the same vote."""
    if patch.normalized_diff is not None:
        return patch.normalized_diff.strip()
    if repo_dir is not None:
        return normalize_patch(patch.diff, repo_dir).strip()
    return normalize_diff_text(patch.diff).strip()


def vote_keyer(repo_dir: Path | None) -> Callable[[Patch], str]:
    """`vote_key` for one selection, normalizing each distinct diff once: samples often repeat
    a diff, and normalizing reads and parses the files it touches. Per selection, not global:
    the same `repo_dir` path may hold another checkout next time."""
    normalized: dict[str, str] = {}

    def key(patch: Patch) -> str:
        if patch.normalized_diff is not None:
            return patch.normalized_diff.strip()
        if patch.diff not in normalized:
            normalized[patch.diff] = vote_key(patch, repo_dir)
        return normalized[patch.diff]
    return key


def first_of_each(patches: Sequence[Patch], key: Callable[[Patch], str]) -> list[Patch]:
    """The earliest candidate of each distinct key, in order of first appearance."""
    seen: dict[str, Patch] = {}
    for p in patches:
        seen.setdefault(key(p), p)
    return list(seen.values())


def changed_lines(diff: str) -> int:
    """Added plus removed lines: "shorter diff" when breaking ties (CodeMonkeys)."""
    return sum(1 for line in diff.splitlines()
               if line[:1] in "+-" and not line.startswith(("+++", "---")))


def majority(patches: Sequence[Patch], key: Callable[[Patch], str]
             ) -> tuple[Patch, dict[int, float]]:
    """The most frequent key among `patches` (already ordered); ties go to the key that
    appeared first. Returns the first candidate with that key and the votes of every
    candidate (the count of its key)."""
    keys = [key(p) for p in patches]
    counts = Counter(keys)
    first: dict[str, int] = {}
    for i, k in enumerate(keys):
        first.setdefault(k, i)
    best = max(counts, key=lambda k: (counts[k], -first[k]))
    return patches[first[best]], {p.sample_idx: float(counts[k]) for p, k in zip(patches, keys)}


def chosen(patch: Patch, method: str, scores: dict[int, float], rationale: str) -> Selection:
    return Selection(chosen_sample_idx=patch.sample_idx, patch=patch.diff, method=method,
                     scores=scores, rationale=rationale)


def nothing_usable(patches: Sequence[Patch], method: str) -> Selection:
    """The selection when no candidate is usable: the earliest one, submitted as no change."""
    if not patches:
        return Selection(chosen_sample_idx=None, patch="", method=method,
                         rationale="no candidates")
    first = ordered(patches)[0]
    statuses = Counter(p.status if p.diff.strip() else "empty" for p in patches)
    summary = ", ".join(f"{n} {s}" for s, n in sorted(statuses.items()))
    return Selection(chosen_sample_idx=first.sample_idx, patch="", method=method,
                     scores={p.sample_idx: 0.0 for p in patches},
                     rationale=f"no usable candidate ({summary}); submitting no change")
