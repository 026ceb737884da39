"""Load SWE-bench rows into the store: `swepipe ingest PATH [--dataset NAME]`.

- A file imports in one transaction: any bad row (truncated line, missing or mistyped field,
  duplicate id, bad encoding, unknown format) fails the whole file with file, line and field named,
  and nothing from it is stored.
- `FAIL_TO_PASS` / `PASS_TO_PASS` may be JSON-encoded strings (the Hugging Face export) or lists.
- Instances are versioned. Re-ingesting the same rows is a no-op. A changed row for a known
  `instance_id` is stored as a new revision (old revisions are kept) and the dataset points at it;
  a stage result counts only for the revision it was computed on. This is how SWE-bench Lite and
  Verified can share ids whose test lists differ.
- SWE-bench Verified rows that carry their Lite test fields under `from_lite` get them lifted.
- The gold patch is parsed (unidiff) into `gold_files` and `gold_hunks`; a non-empty `patch` that
  is not a diff (no file in it) is a bad row, not zero gold files.
- `instance_id` and `repo` become file and folder names later (checkouts, `owner__name` clones,
  logs), so they must have the shapes SWE-bench uses: `repo` is `owner/name` (letters, digits,
  `_ . -`; the name not `.` or `..`), `instance_id` one word of letters, digits and `_ . + -` not
  starting with `.` or `-` (`django__django-11099`). Anything else (empty, `..`, `/`) is refused.
- `ingest_instances` (the Python API, what the demo uses) applies the same checks as a file
  (`checked`): shapes, unique ids, a gold patch that is a diff.
- `require_dataset` is the one "unknown dataset" check of the commands that take a dataset name.
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from swepipe.datasets.readers import read_rows
from swepipe.errors import InputError
from swepipe.patch.diff import FileChange, parse_diff
from swepipe.store.sql_files import load_query
from swepipe.store.store import Store, insert_rows
from swepipe.types import Instance


# (field, shape, what it must be): `instance_id` and `repo` name files and folders later
_SHAPES = (
    ("instance_id", re.compile(r"[A-Za-z0-9][A-Za-z0-9_.+-]*"),
     "an instance id: one word of letters, digits and '_.+-', not starting with '.' or '-' "
     "(it names files)"),
    ("repo", re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*/(?!\.\.?$)[A-Za-z0-9_.-]+"),
     "owner/name (letters, digits and '_.-'; it names folders)"),
)


class SweBenchRow(BaseModel):
    """One input row as SWE-bench publishes it (field names as in the dataset)."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)

    instance_id: str
    repo: str
    base_commit: str
    problem_statement: str
    hints_text: str | None = ""
    patch: str | None = ""
    test_patch: str | None = ""
    FAIL_TO_PASS: list[str] = Field(default_factory=list)
    PASS_TO_PASS: list[str] = Field(default_factory=list)
    version: str | None = None
    environment_setup_commit: str | None = None
    created_at: str | None = None
    difficulty: str | None = None

    @field_validator("FAIL_TO_PASS", "PASS_TO_PASS", mode="before")
    @classmethod
    def _decode_json_list(cls, value: Any) -> Any:
        if value is None or value == "":
            return []
        if isinstance(value, str):
            try:
                return json.loads(value)
            except json.JSONDecodeError as exc:
                raise ValueError(f"not a JSON list of test ids ({exc.msg})") from exc
        return value

    @field_validator("version", mode="before")
    @classmethod
    def _version_text(cls, value: Any) -> Any:
        # some exports store "3.0" as a float; it is a label, not a number
        return str(value) if isinstance(value, (int, float)) and not isinstance(value, bool) \
            else value

    def to_instance(self) -> Instance:
        extra = dict(self.model_extra or {})
        lite = extra.get("from_lite")
        test_fields = {"test_patch": self.test_patch or "", "fail_to_pass": self.FAIL_TO_PASS,
                       "pass_to_pass": self.PASS_TO_PASS}
        if isinstance(lite, dict) and not self.test_patch:
            lifted = SweBenchRow.model_validate({**self.model_dump(include={
                "instance_id", "repo", "base_commit", "problem_statement"}), **lite})
            test_fields = {"test_patch": lifted.test_patch or "",
                           "fail_to_pass": lifted.FAIL_TO_PASS,
                           "pass_to_pass": lifted.PASS_TO_PASS}
        return Instance(
            instance_id=self.instance_id, repo=self.repo, base_commit=self.base_commit,
            problem_statement=self.problem_statement, hints_text=self.hints_text or "",
            patch=self.patch or "", repo_version=self.version,
            environment_setup_commit=self.environment_setup_commit,
            created_at=self.created_at, difficulty=self.difficulty, extra=extra, **test_fields)


@dataclass
class IngestReport:
    dataset: str
    source: str
    rows: int
    new: int
    unchanged: int
    new_revisions: int
    added: int = 0
    """Rows that joined the dataset (an instance already stored for another dataset counts)."""
    new_dataset: bool = False

    def __str__(self) -> str:
        # the dataset's membership and the instances' storage are told apart: Lite rows ingested
        # again as a second dataset are 300 added, 0 new instances
        return (f"{self.source}: {self.rows} rows into {'new ' * self.new_dataset}dataset "
                f"{self.dataset!r}, {self.added} added to it; instances: {self.new} new, "
                f"{self.new_revisions} new revisions, {self.unchanged} unchanged")


def _row_instance(row: dict[str, Any], path: Path, line: int) -> Instance:
    try:
        return SweBenchRow.model_validate(row).to_instance()
    except ValidationError as exc:
        err = exc.errors()[0]
        field = ".".join(str(p) for p in err["loc"]) or None
        message = err["msg"].removeprefix("Value error, ")
        raise InputError(message[:1].lower() + message[1:], source=str(path), line=line,
                         field=field) from exc


def parse_file(path: Path) -> list[tuple[Instance, list[FileChange]]]:
    """Validate every row of a file, parsing its gold patch; the first problem raises
    `InputError` naming line and field."""
    instances = checked(((line, _row_instance(row, path, line))
                         for line, row in read_rows(path)), str(path))
    if not instances:
        raise InputError("no rows", source=str(path))
    return instances


def checked(numbered: Iterable[tuple[int, Instance]],
            source: str) -> list[tuple[Instance, list[FileChange]]]:
    """The checks every way in applies (a file's rows and `ingest_instances` alike), one
    instance at a time so the first problem is the one raised: `instance_id` and `repo` shapes,
    unique ids, a gold patch that is a diff. Returns each instance with its gold patch's files;
    errors name `source`, the line (or position) and the field."""
    out: list[tuple[Instance, list[FileChange]]] = []
    seen: dict[str, int] = {}
    for line, instance in numbered:
        for field, shape, what in _SHAPES:
            value = getattr(instance, field)
            if not shape.fullmatch(value):
                raise InputError(f"{value[:80]!r} is not {what}", source=source, line=line,
                                 field=field)
        if instance.instance_id in seen:
            raise InputError(f"duplicate instance_id {instance.instance_id!r} (first at line "
                             f"{seen[instance.instance_id]})", source=source, line=line,
                             field="instance_id")
        seen[instance.instance_id] = line
        out.append((instance, _gold_changes(instance.patch, source, line)))
    return out


def _gold_changes(patch: str, source: str, line: int) -> list[FileChange]:
    try:
        changes = parse_diff(patch)
    except InputError as exc:
        raise InputError(f"gold patch is not a parseable diff ({exc.__cause__})",
                         source=source, line=line, field="patch") from exc
    if patch.strip() and not changes:
        raise InputError("gold patch is not a diff (no '--- a/x' / '+++ b/x' file header)",
                         source=source, line=line, field="patch")
    return changes


def instance_row(instance: Instance, revision: int) -> dict[str, Any]:
    data = instance.model_dump()
    data["extra"] = json.dumps(data["extra"], ensure_ascii=False) if data["extra"] else None
    return {**data, "revision": revision, "content_hash": instance.content_hash()}


def gold_rows(instance: Instance, revision: int,
              changes: list[FileChange]) -> tuple[list[dict], list[dict]]:
    files, hunks = [], []
    key = {"instance_id": instance.instance_id, "revision": revision}
    for change in changes:
        files.append({**key, "path": change.path, "source_path": change.source_path,
                      "target_path": change.target_path, "change_type": change.change_type,
                      "is_binary": change.is_binary, "added": change.added,
                      "removed": change.removed})
        for idx, h in enumerate(change.hunks):
            hunks.append({**key, "path": change.path, "hunk_idx": idx,
                          "source_start": h.source_start, "source_length": h.source_length,
                          "target_start": h.target_start, "target_length": h.target_length,
                          "section_header": h.section_header,
                          "removed_lines": list(h.removed_lines),
                          "added_after": list(h.added_after)})
    return files, hunks


def ingest_instances(store: Store, instances: list[Instance], dataset: str,
                     source: str) -> IngestReport:
    """Store instances for a dataset in one transaction, after the checks a file's rows get
    (`checked`; an error names `source` and the instance's 1-based position in the list)."""
    return _ingest(store, checked(enumerate(instances, start=1), source), dataset, source)


def _ingest(store: Store, parsed: list[tuple[Instance, list[FileChange]]], dataset: str,
            source: str) -> IngestReport:
    ids = [i.instance_id for i, _ in parsed]
    new = unchanged = new_revisions = 0
    rows, files, hunks, members = [], [], [], []
    with store.transaction() as conn:
        known: dict[str, dict[str, int]] = {}
        for instance_id, revision, content_hash in conn.execute(
                "SELECT instance_id, revision, content_hash FROM instances "
                "WHERE list_contains($ids, instance_id)", {"ids": ids}).fetchall():
            known.setdefault(instance_id, {})[content_hash] = revision
        members_before, size_before = conn.execute(
            "SELECT count(*) FILTER (WHERE list_contains($ids, instance_id)), count(*) "
            "FROM dataset_instances WHERE dataset = $dataset",
            {"ids": ids, "dataset": dataset}).fetchall()[0]
        for instance, changes in parsed:
            revisions = known.get(instance.instance_id, {})
            revision = revisions.get(instance.content_hash())
            if revision is not None:
                unchanged += 1
            else:
                revision = max(revisions.values(), default=0) + 1
                new_revisions += bool(revisions)
                new += not revisions
                rows.append(instance_row(instance, revision))
                f, h = gold_rows(instance, revision, changes)
                files += f
                hunks += h
            members.append({"dataset": dataset, "instance_id": instance.instance_id,
                            "revision": revision, "source": source})
        insert_rows(conn, "instances", rows)
        insert_rows(conn, "gold_files", files)
        insert_rows(conn, "gold_hunks", hunks)
        conn.execute("DELETE FROM dataset_instances WHERE dataset = $dataset "
                      "AND list_contains($ids, instance_id)", {"dataset": dataset, "ids": ids})
        insert_rows(conn, "dataset_instances", members)
    return IngestReport(dataset, source, len(parsed), new, unchanged, new_revisions,
                        added=len(set(ids)) - members_before, new_dataset=size_before == 0)


def dataset_name_for(path: Path) -> str:
    name = path.name
    for suffix in (".gz", ".jsonl", ".ndjson", ".json", ".csv", ".parquet"):
        name = name.removesuffix(suffix)
    return name


def ingest_file(store: Store, path: str | Path, dataset: str | None = None) -> IngestReport:
    path = Path(path)
    return _ingest(store, parse_file(path), dataset or dataset_name_for(path), str(path))


def dataset_names(store: Store) -> list[str]:
    """The datasets the store holds, sorted."""
    return store.query(load_query("datasets/names")).column("dataset").to_pylist()


def require_dataset(source: Store | Collection[str], name: str, *,
                    field: str = "dataset", hint: str | None = None) -> None:
    """Refuse a dataset the store does not hold, else a command filtered on it finds no
    instances and succeeds on nothing. The InputError names the datasets held, then `hint`
    (what to do) when given. `source`: the store, or the names it holds
    (`dataset_names`; for a caller that must not open or create the store to ask)."""
    known = dataset_names(source) if isinstance(source, Store) else list(source)
    if name in known:
        return
    todo = f"; {hint}" if hint else ""
    raise InputError(f"unknown dataset {name!r} (known: {', '.join(known) or 'none'}){todo}",
                     field=field)


def load_instances(store: Store, dataset: str, instance_ids: list[str] | None = None,
                   limit: int | None = None) -> list[Instance]:
    """The instances a dataset holds (its current revisions), in id order."""
    table = store.query(
        "SELECT i.* FROM dataset_instances AS d JOIN instances AS i USING (instance_id, revision) "
        "WHERE d.dataset = $dataset AND ($ids IS NULL OR list_contains($ids, i.instance_id)) "
        "ORDER BY i.instance_id LIMIT $limit",
        {"dataset": dataset, "ids": instance_ids, "limit": limit if limit is not None else 2**62})
    out = []
    for row in table.to_pylist():
        row["extra"] = json.loads(row["extra"]) if row["extra"] else {}
        out.append(Instance.model_validate(row))
    return out
