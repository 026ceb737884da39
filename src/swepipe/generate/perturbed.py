"""Perturbed gold: deliberately damaged variants of the gold patch, for validating rewards and
selectors (a reward that scores a broken variant like the gold patch is measuring noise).

Damages, each one candidate with a `sample_idx` fixed per kind (so SQL can compare kinds across
instances): 0 = the gold patch itself (`include_gold`), then, in `DAMAGES` order:

| kind | sample_idx | what | `meta["expect"]` |
|---|---|---|---|
| `drop_hunk` | 1 | one hunk of the gold patch left out | `worse` |
| `flip_line` | 2 | one added line with an operator or constant flipped (`==`/`!=`, `<`/`>=`, `+`/`-`, `True`/`False`, `and`/`or`, ...) | `worse` |
| `noop` | 3 | the gold patch plus a comment line (Python) or a trailing blank line: same behaviour, different text; it normalizes to the gold patch's normal form | `same` |
| `empty` | 4 | no change at all (`status = "empty"`) | `worse` |

Which hunk or line is picked comes from a RNG seeded by (`seed`, instance id, kind), so a rerun
damages the same place. A damage that does not apply to an instance (one hunk only, no line
with a flippable token) is still a row: `status = "empty"`, `meta["applicable"] = False` and the
reason. Diffs are rebuilt from file contents (`patch.apply.make_diff`), so every variant applies
cleanly; that needs the checkout (`ctx.repo_dir`).
"""

from __future__ import annotations

import random
import re
from pathlib import Path
from typing import Literal

from unidiff import PatchSet

from swepipe.errors import InputError
from swepipe.generate.oracle import gold_patch
from swepipe.hashing import ComponentConfig
from swepipe.patch.apply import make_diff
from swepipe.patch.diff import apply_to_texts, parse_diff
from swepipe.patch.normalize import normalize_python, normalized_diff
from swepipe.protocols import StageContext
from swepipe.types import CodePointer, Instance, Patch

Damage = Literal["drop_hunk", "flip_line", "noop", "empty"]
DAMAGES: tuple[Damage, ...] = ("drop_hunk", "flip_line", "noop", "empty")
EXPECT: dict[Damage, str] = {"drop_hunk": "worse", "flip_line": "worse", "noop": "same",
                             "empty": "worse"}
# longest tokens first, so `<=` is not read as `<`
_FLIPS = [("==", "!="), ("!=", "=="), ("<=", ">"), (">=", "<"), ("is not", "is"),
          (" < ", " >= "), (" > ", " <= "), (" + ", " - "), (" - ", " + "), ("True", "False"),
          ("False", "True"), (" and ", " or "), (" or ", " and "), ("+= ", "-= "), ("-= ", "+= ")]
_NOOP_COMMENT = "# no-op line added by perturbed_gold"

Texts = dict[str, str | None]


class NotApplicable(Exception):
    """This damage cannot be made on this gold patch."""


class PerturbedGoldConfig(ComponentConfig):
    component: str = "perturbed_gold"
    code_version: str = "1"
    include_gold: bool = True
    """Emit the undamaged gold patch as sample 0."""
    damages: list[Damage] = list(DAMAGES)
    """Which damaged variants to emit (each keeps its fixed sample_idx)."""
    seed: int = 0
    """Seed of the choice of hunk or line (combined with the instance id and the kind)."""


def flip(line: str) -> str | None:
    """The line with its first flippable token flipped; None when it has none (or is a comment)."""
    if line.lstrip().startswith("#"):
        return None
    for old, new in _FLIPS:
        if old in line:
            return line.replace(old, new, 1)
    return None


def _drop_hunk(gold: str, before: Texts, rng: random.Random) -> tuple[Texts, str]:
    patch_set = PatchSet(gold)
    hunks = [(f, h) for f, pf in enumerate(patch_set) for h in range(len(pf))]
    if len(hunks) < 2:
        raise NotApplicable("the gold patch has a single hunk")
    f, h = rng.choice(hunks)
    path = patch_set[f].path
    patch_set[f].pop(h)
    if not len(patch_set[f]):
        patch_set.pop(f)
    return apply_to_texts(str(patch_set), before), f"dropped hunk {h} of {path}"


def _added_lines(gold: str) -> list[tuple[str, int]]:
    """(target path, target line number) of every added line."""
    out = []
    for pf in PatchSet(gold):
        path = pf.target_file[2:] if pf.target_file.startswith("b/") else pf.target_file
        out += [(path, line.target_line_no) for hunk in pf for line in hunk if line.is_added]
    return out


def _flip_line(gold: str, after: Texts, rng: random.Random) -> tuple[Texts, str]:
    choices = []
    for path, number in _added_lines(gold):
        lines = (after.get(path) or "").splitlines(keepends=True)
        if number <= len(lines) and flip(lines[number - 1]) is not None:
            choices.append((path, number))
    if not choices:
        raise NotApplicable("no added line has a flippable token")
    path, number = rng.choice(choices)
    lines = (after[path] or "").splitlines(keepends=True)
    old = lines[number - 1]
    lines[number - 1] = flip(old) or old
    return {**after, path: "".join(lines)}, f"{path}:{number}: {old.strip()!r} -> " \
                                            f"{lines[number - 1].strip()!r}"


def _noop(gold: str, after: Texts) -> tuple[Texts, str]:
    for path, number in _added_lines(gold):
        text = after.get(path)
        if not path.endswith(".py") or text is None:
            continue
        lines = text.splitlines(keepends=True)
        indent = re.match(r"[ \t]*", lines[number - 1]).group(0)
        new = "".join(lines[:number - 1] + [f"{indent}{_NOOP_COMMENT}\n"] + lines[number - 1:])
        if normalize_python(new) == normalize_python(text):  # not inside a string literal
            return {**after, path: new}, f"comment line before {path}:{number}"
    path = next(p for p, t in after.items() if t is not None)
    return {**after, path: (after[path] or "") + "\n"}, f"blank line at the end of {path}"


def _variant(kind: Damage, gold: str, before: Texts, after: Texts,
             rng: random.Random) -> tuple[Texts, str]:
    if kind == "drop_hunk":
        return _drop_hunk(gold, before, rng)
    if kind == "flip_line":
        return _flip_line(gold, after, rng)
    return _noop(gold, after)


def damaged(instance: Instance, repo: Path, kind: Damage, seed: int = 0) -> Patch:
    """One damaged variant of the gold patch (see the module docstring)."""
    sample = 1 + DAMAGES.index(kind)
    meta = {"damage": kind, "expect": EXPECT[kind], "applicable": True}
    if kind == "empty":
        return Patch(diff="", sample_idx=sample, status="empty", meta=meta,
                     reason="deliberately empty (perturbed_gold)")
    rng = random.Random(f"{seed}:{instance.instance_id}:{kind}")
    try:
        changes = parse_diff(instance.patch, source="gold patch")
        before: Texts = {}
        for change in changes:
            if change.source_path:
                file = repo / change.source_path
                before[change.source_path] = file.read_text(encoding="utf-8") \
                    if file.is_file() else None
        after = apply_to_texts(instance.patch, before)
        new, detail = _variant(kind, instance.patch, before, after, rng)
    except NotApplicable as exc:
        return Patch(diff="", sample_idx=sample, status="empty", reason=f"{kind}: {exc}",
                     meta={**meta, "applicable": False})
    except (InputError, ValueError) as exc:  # a gold patch that does not match the checkout
        return Patch(diff="", sample_idx=sample, status="error", reason=f"{kind}: {exc}",
                     meta={**meta, "applicable": False})
    old = {p: before.get(p) for p in new}  # only the files the variant still touches
    diff = make_diff(old, new)
    files = sorted(p for p in new if old.get(p) != new[p])
    return Patch(diff=diff, sample_idx=sample, files=files, meta={**meta, "detail": detail},
                 normalized_diff=normalized_diff(old, new))


class PerturbedGoldGenerator:
    Config = PerturbedGoldConfig
    uses_model = False

    def __init__(self, config: PerturbedGoldConfig) -> None:
        self.config = config

    async def generate(self, instance: Instance, context: list[CodePointer],
                       ctx: StageContext) -> list[Patch]:
        if ctx.repo_dir is None:
            raise InputError("perturbed_gold needs the repository checkout: set repos_dir",
                             field="repos_dir")
        out = [gold_patch(instance, ctx)] if self.config.include_gold else []
        if not instance.patch.strip():
            return out + [Patch(diff="", sample_idx=1 + DAMAGES.index(k), status="empty",
                                reason="the instance has no gold patch",
                                meta={"damage": k, "applicable": False})
                          for k in self.config.damages]
        return out + [damaged(instance, Path(ctx.repo_dir), k, self.config.seed)
                      for k in dict.fromkeys(self.config.damages)]
