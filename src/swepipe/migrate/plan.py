"""What importing one legacy file would write: the plan that `--dry-run` prints and the importer
commits in one transaction.

A reader (agentless_loc, agentless_repair, codemonkeys) turns a file into a `FilePlan`: stage
results (written through `write_units`, so attempts are numbered as in a live run), plain rows
(`sequences`, `contents`, `test_runs`), the legacy configs they are keyed by, and the bad lines
it refused. Ids of trajectories and sequences are derived from what they belong to, so a file
read twice yields the same rows and inserting them again is a no-op.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ValidationError

from swepipe.store.sequences import sequence_rows
from swepipe.types import (Choice, CodePointer, Message, Patch, SamplingParams, Selection,
                           StageName, Usage)

if TYPE_CHECKING:
    from swepipe.migrate.legacy_configs import LegacyConfigs

RAW_LIMIT = 100_000
"""Quarantined raw lines are cut to this many characters."""

_MODEL_NAME = re.compile(r"^[\w.:/@+-]{1,200}$")


@dataclass
class BadLine:
    source: str
    line: int | None
    reason: str
    raw: str | None = None

    def __str__(self) -> str:
        where = f"{self.source}:{self.line}" if self.line is not None else self.source
        return f"{where}: {self.reason}"


@dataclass
class StageResult:
    """One (stage, config, instance) result: pointers, patches or a selection."""

    stage: StageName
    config_hash: str
    instance_id: str
    value: list[CodePointer] | list[Patch] | Selection


@dataclass
class FilePlan:
    source: str
    checksum: str
    format: str
    records: int = 0
    configs: dict[str, dict[str, Any]] = field(default_factory=dict)
    results: list[StageResult] = field(default_factory=list)
    tables: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    contents: dict[str, str] = field(default_factory=dict)
    bad: list[BadLine] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    levels: dict[str, str] = field(default_factory=dict)
    """Localization files: config hash -> the level (file, related, edit) it holds."""
    superseded: list[dict[str, Any]] = field(default_factory=list)
    """Configs an earlier import layout gave this file, replaced by this import (reshape.py)."""
    unknown_format: bool = False
    """The file is of no known format: refused whole, even with `--skip-bad` (no line of it is
    a good line of a known shape, and recording it would make a later import skip it)."""

    def _by_config(self) -> dict[str | None, Counter[str]]:
        out: dict[str | None, Counter[str]] = {h: Counter() for h in self.configs}
        for r in self.results:
            c = out.setdefault(r.config_hash, Counter())
            c["stage_runs"] += 1
            if r.stage == "localize":
                c["localizations"] += len(r.value)  # type: ignore[arg-type]
            elif r.stage == "generate":
                c["patches"] += len(r.value)  # type: ignore[arg-type]
            else:
                c["selections"] += 1
        for row in self.tables.get("sequences", []):
            out.setdefault(row.get("config_hash"), Counter())["sequences"] += 1
        return out

    def config_counts(self) -> list[dict[str, Any]]:
        """Per config this plan writes to (for a localization file: per level), coarse to fine:
        its hash, component, level and rows per table; what `--dry-run` lists per file."""
        out = []
        for h, counts in self._by_config().items():
            row = self.configs.get(h or "", {})
            out.append({"config_hash": h, "component": row.get("component"),
                        "level": self.levels.get(h or ""), **dict(sorted(counts.items()))})
        return out

    def refuse(self, line: int | None, reason: str, raw: str | None = None) -> None:
        self.bad.append(BadLine(self.source, line, reason,
                                raw[:RAW_LIMIT] if raw is not None else None))

    def add_rows(self, table: str, rows: list[dict[str, Any]]) -> None:
        self.tables.setdefault(table, []).extend(rows)

    def counts(self) -> dict[str, int]:
        """Rows per table this plan offers (stage rows before de-duplication)."""
        out: Counter[str] = Counter()
        out["records"] = self.records
        for counts in self._by_config().values():
            out.update(counts)
        for table, rows in self.tables.items():
            if table != "sequences":  # counted per config
                out[table] += len(rows)
        if self.contents:
            out["contents"] += len(self.contents)
        if self.bad:
            out["bad_lines"] = len(self.bad)
        return dict(out)


def short_hash(*parts: object) -> str:
    return hashlib.sha256("\x1f".join(str(p) for p in parts).encode()).hexdigest()[:32]


def text_id(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def usage_of(usage: dict[str, Any] | None) -> Usage:
    """OpenAI/DeepSeek (`prompt_tokens`) or Anthropic (`input_tokens`, cache counts) usage."""
    u = usage or {}

    def num(*keys: str) -> int:
        for k in keys:
            v = u.get(k)
            if isinstance(v, (int, float)) and not isinstance(v, bool):
                return int(v)
        return 0

    details = u.get("prompt_tokens_details") if isinstance(u.get("prompt_tokens_details"),
                                                            dict) else {}
    cached = num("cache_read_input_tokens", "prompt_cache_hit_tokens") or \
        int(details.get("cached_tokens") or 0)
    prompt = num("prompt_tokens") or (num("input_tokens") + cached
                                      + num("cache_creation_input_tokens"))
    return Usage(prompt_tokens=prompt, completion_tokens=num("completion_tokens", "output_tokens"),
                 cached_tokens=cached)


def add_call(plan: FilePlan, *, messages: list[tuple[str, str]], completions: list[str],
             usage: dict[str, Any] | None, model: str | None, stage: StageName,
             config_hash: str, instance_id: str, trajectory_id: str, sample_idx: int = 0,
             turn: int = 0, temperature: float | None = None) -> None:
    """One `sequences` row (a model call) and its texts, with ids derived from its place."""
    msgs = [Message(role=role if role in ("system", "user", "assistant", "tool") else "user",
                    content=text) for role, text in messages]
    model = model if model and _MODEL_NAME.match(model) else (model or "unknown")[:200]
    params = SamplingParams(temperature=temperature if temperature is not None else 0.0,
                            n=max(1, len(completions)))
    row, contents = sequence_rows(
        model=model, messages=msgs, params=params, sample_idx=sample_idx,
        choices=[Choice(text=c) for c in completions], usage=usage_of(usage),
        instance_id=instance_id, stage=stage, config_hash=config_hash,
        trajectory_id=trajectory_id, turn=turn,
        sequence_id=short_hash("seq", trajectory_id, turn))
    plan.add_rows("sequences", [row])
    for c in contents:
        plan.contents.setdefault(c["content_hash"], c["text"])


def validated(plan: FilePlan, good: list[tuple[int, dict[str, Any], str]],
              model: type[BaseModel]) -> Iterator[tuple[int, Any]]:
    """Validate records against a legacy shape, refusing (line, field: reason) for each bad one
    and for repeated instance ids (two results for one instance cannot both be the output)."""
    seen: dict[str, int] = {}
    for line, row, raw in good:
        plan.records += 1
        try:
            record = model.model_validate(row)
        except ValidationError as exc:
            reasons = []
            for err in exc.errors()[:5]:
                loc = ".".join(str(p) for p in err["loc"])
                reasons.append(f"field {loc!r}: {err['msg'].lower()}")
            plan.refuse(line, "; ".join(reasons), raw)
            continue
        instance_id = getattr(record, "instance_id", None)
        if instance_id is not None:
            if not instance_id.strip():
                plan.refuse(line, "field 'instance_id': empty", raw)
                continue
            if instance_id in seen:
                plan.refuse(line, f"duplicate instance_id {instance_id!r} (first at line "
                                  f"{seen[instance_id]})", raw)
                continue
            seen[instance_id] = line
        yield line, record


Resolver = Callable[[str, list[CodePointer]], list[CodePointer]]


@dataclass
class ReadContext:
    """What readers share during one import."""

    configs: LegacyConfigs
    resolve: Resolver | None = None
    """Maps an instance's pointers to line spans when checkouts are available."""
