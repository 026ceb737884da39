"""`swepipe migrate agentless DIR|FILE`: find the Agentless files and turn each into a plan.

A folder is searched recursively for `*.jsonl` files; `args.json` files are read as the configs
of their folders, anything else is ignored. Copies that Agentless writes of a stage's input
(`used_locs.jsonl`, `model_used_locs.jsonl`, `embed_used_locs.jsonl`) are skipped: the original
is imported from its own folder, and importing the copy again would only duplicate it.
"""

from __future__ import annotations

from pathlib import Path

from swepipe.errors import InputError
from swepipe.migrate.agentless_loc import read_loc
from swepipe.migrate.agentless_repair import READERS
from swepipe.migrate.detect import COPIES, Unknown, classify, read_jsonl
from swepipe.migrate.importer import Source
from swepipe.migrate.plan import FilePlan, ReadContext


def build_plan(path: Path, checksum: str, ctx: ReadContext) -> FilePlan:
    """Read, detect and validate one Agentless file (never raises for bad lines)."""
    good, bad = read_jsonl(path)
    plan = FilePlan(source=str(path), checksum=checksum, format="unknown")
    plan.bad += bad
    if not good:
        if not bad:
            plan.format = "empty"
            plan.notes.append("empty file; nothing to import")
        return plan
    found = classify(path, [r for _, r, _ in good], ctx.configs.args_for(path.parent))
    if isinstance(found, Unknown):
        line, _, raw = good[found.index]
        plan.refuse(line, found.reason, raw)
        plan.unknown_format = True
        return plan
    plan.format = found.format
    if found.kind == "copy":
        plan.notes.append("a copy of an upstream stage's output; imported from its own folder")
        return plan
    if found.kind in ("loc", "retrieval", "combined"):
        read_loc(plan, path, found, good, ctx)
    else:
        READERS[found.kind](plan, path, found, good, ctx)
    return plan


def agentless_sources(path: Path) -> list[Source]:
    """The files to import under `path` (or `path` itself), in a stable order."""
    path = Path(path)
    if not path.exists():
        raise InputError("no such file or folder", source=str(path))
    if path.is_file():
        if path.suffix != ".jsonl":
            raise InputError("unknown format: an Agentless cache file is JSONL (*.jsonl)",
                             source=str(path))
        return [Source(path, lambda c, ctx, p=path: build_plan(p, c, ctx))]
    files = sorted(p for p in path.rglob("*.jsonl") if p.is_file() and p.name not in COPIES)
    if not files:
        raise InputError("no Agentless *.jsonl files here", source=str(path))
    return [Source(f, lambda c, ctx, p=f: build_plan(p, c, ctx)) for f in files]
