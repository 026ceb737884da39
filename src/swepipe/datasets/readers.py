"""Read SWE-bench rows from JSONL, JSON, CSV or Parquet, keeping where each row came from.

Every error names the file and the line (the row number for Parquet). Gzip-compressed files
(`.jsonl.gz`, `.json.gz`, `.csv.gz`) are read transparently.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from swepipe.errors import InputError

FORMATS = ("jsonl", "json", "csv", "parquet")


def detect_format(path: Path) -> str:
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes and suffixes[-1] == ".gz":
        suffixes = suffixes[:-1]
    kind = suffixes[-1].lstrip(".") if suffixes else ""
    if kind == "ndjson":
        kind = "jsonl"
    if kind not in FORMATS:
        raise InputError(f"unknown format {''.join(path.suffixes) or '(no extension)'!r}; "
                         f"expected one of .{', .'.join(FORMATS)} (optionally .gz)",
                         source=str(path))
    return kind


def _read_bytes(path: Path) -> bytes:
    try:
        data = path.read_bytes()
        return gzip.decompress(data) if path.suffix.lower() == ".gz" else data
    except OSError as exc:
        raise InputError(f"cannot read: {exc}", source=str(path)) from exc


def _decode(data: bytes, path: Path) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise InputError("not UTF-8 text", source=str(path), line=line) from exc


def read_rows(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """Yield (line number, row) pairs. Raises `InputError` naming file and line."""
    kind = detect_format(path)
    if kind == "parquet":
        try:
            table = pq.read_table(path)
        except Exception as exc:  # noqa: BLE001 - pyarrow raises several types for bad files
            raise InputError(f"not a readable Parquet file: {exc}", source=str(path)) from exc
        yield from enumerate(table.to_pylist(), start=1)
        return
    text = _decode(_read_bytes(path), path)
    if kind == "jsonl":
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                raise InputError(f"invalid JSON ({exc.msg} at column {exc.colno}); "
                                 "is the line truncated?", source=str(path), line=number) from exc
            if not isinstance(row, dict):
                raise InputError("a line must hold one JSON object", source=str(path), line=number)
            yield number, row
    elif kind == "json":
        try:
            rows = json.loads(text)
        except json.JSONDecodeError as exc:
            raise InputError(f"invalid JSON ({exc.msg})", source=str(path),
                             line=exc.lineno) from exc
        if isinstance(rows, dict) and isinstance(rows.get("rows"), list):
            rows = [r.get("row", r) for r in rows["rows"]]  # the Hugging Face datasets-server shape
        if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
            raise InputError("a .json file must hold a list of objects", source=str(path))
        yield from enumerate(rows, start=1)
    else:
        reader = csv.DictReader(io.StringIO(text, newline=""))
        for row in reader:
            # line_num is the reader's line after the row, which is right for one-line rows and
            # names the row's last line for multi-line fields
            yield reader.line_num, {k: v for k, v in row.items() if k is not None}
