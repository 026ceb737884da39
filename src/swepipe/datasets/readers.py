"""Read SWE-bench rows from JSONL, JSON, CSV or Parquet, keeping where each row came from.

Every error names the file and the line (the row number for Parquet). Gzip-compressed files
(`.jsonl.gz`, `.json.gz`, `.csv.gz`) are read transparently; a truncated or corrupt one names the
line where its readable text stops. JSON Lines are split on `\\n` only: U+2028, U+2029 and U+0085
are valid inside JSON strings (and `migrate` reads them), so `str.splitlines` would cut valid rows.
A CSV row is numbered by the line it starts on, however many lines its quoted fields span.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from swepipe.errors import InputError

FORMATS = ("jsonl", "json", "csv", "parquet")
_JSON_BLANKS = " \t\r"  # JSON's whitespace besides the newline the lines were split on


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


def _readable_prefix(data: bytes) -> bytes:
    """What a broken gzip stream yields before it breaks (members decoded one by one)."""
    out = b""
    while data:
        member = zlib.decompressobj(wbits=31)  # 31: gzip header and trailer
        try:
            out += member.decompress(data)
        except zlib.error:
            break
        if not member.eof:
            break
        data = member.unused_data
    return out


def _gunzip(data: bytes, path: Path) -> bytes:
    try:
        return gzip.decompress(data)
    except (EOFError, gzip.BadGzipFile, zlib.error) as exc:
        line = _readable_prefix(data).count(b"\n") + 1
        raise InputError(f"truncated or corrupt gzip data from this line on ({exc}); is the "
                         "download complete?", source=str(path), line=line) from None


def _read_bytes(path: Path) -> bytes:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read: {exc}", source=str(path)) from exc
    return _gunzip(data, path) if path.suffix.lower() == ".gz" else data


def _decode(data: bytes, path: Path) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise InputError("not UTF-8 text", source=str(path), line=line) from exc


def _jsonl_rows(text: str, path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip(_JSON_BLANKS):
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            # json's messages end in "at" when they name a position ("Unterminated string
            # starting at"): the column finishes the sentence
            raise InputError(f"invalid JSON ({exc.msg.removesuffix(' at')} at column "
                             f"{exc.colno}); "
                             "is the line truncated?", source=str(path), line=number) from exc
        if not isinstance(row, dict):
            raise InputError("a line must hold one JSON object", source=str(path), line=number)
        yield number, row


def _json_rows(text: str, path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    try:
        rows = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"invalid JSON ({exc.msg})", source=str(path), line=exc.lineno) from exc
    if isinstance(rows, dict) and isinstance(rows.get("rows"), list):
        rows = [r.get("row", r) for r in rows["rows"]]  # the Hugging Face datasets-server shape
    if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
        raise InputError("a .json file must hold a list of objects", source=str(path))
    yield from enumerate(rows, start=1)


def _csv_rows(text: str, path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    # The csv module refuses fields over 128 KiB by default (a process-wide limit); SWE-bench
    # gold patches and problem statements can be longer, and no field can exceed the file.
    csv.field_size_limit(max(csv.field_size_limit(), len(text)))
    reader = csv.reader(io.StringIO(text, newline=""))
    header: list[str] | None = None
    while True:
        start = reader.line_num + 1  # the row's first line: line_num counts lines read so far
        try:
            values = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise InputError(f"unreadable CSV ({exc})", source=str(path), line=start) from exc
        if not values:
            continue  # a blank line
        if header is None:
            header = values
        elif len(values) != len(header):
            raise InputError(f"row has {len(values)} fields, the header has {len(header)}",
                             source=str(path), line=start)
        else:
            yield start, dict(zip(header, values))


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
    rows = {"jsonl": _jsonl_rows, "json": _json_rows, "csv": _csv_rows}[kind]
    yield from rows(text, path)
