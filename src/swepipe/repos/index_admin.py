"""Index stores on disk: their size, and dropping what no stored instance uses.

`index_usage(root)` sums, per repository store, the views, segments and bytes. `collect_garbage`
keeps the views of the (repo, base_commit) pairs a swepipe store holds instances of, drops the
other views, drops segments no kept view uses, and rewrites a segment some of whose contents
only dropped views used (`compact_segment`: the live contents' chunks, postings and vectors,
renumbered), so every stored byte serves a stored instance. It holds each repository store's
build lock, so no build runs while its segments change; readers that already opened a view
keep their memory-mapped files (unlinked files live on while mapped).
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from swepipe.repos.checkout import repo_dirname
from swepipe.repos.locking import file_lock
from swepipe.repos.segments import KEY_BYTES, Segment, inverted_file, list_segments, write_arrays

if TYPE_CHECKING:
    from swepipe.store.store import Store


@dataclass
class StoreUsage:
    repo_dir: str
    fingerprint: str
    views: int = 0
    segments: int = 0
    bytes: int = 0


@dataclass
class GcReport:
    views_dropped: int = 0
    segments_dropped: int = 0
    segments_compacted: int = 0
    bytes_before: int = 0
    bytes_after: int = 0
    kept_views: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        return (f"dropped {self.views_dropped} views and {self.segments_dropped} segments, "
                f"compacted {self.segments_compacted}; {self.bytes_before / 1e6:.1f} MB -> "
                f"{self.bytes_after / 1e6:.1f} MB ({len(self.kept_views)} views kept)")


def _stores(root: Path) -> list[Path]:
    return sorted(p for p in Path(root).glob("*/*") if (p / "views").is_dir()
                  or (p / "segments").is_dir())


def _bytes(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def _views(store: Path) -> list[Path]:
    return sorted(p for p in (store / "views").glob("*") if (p / "view.json").is_file())


def index_usage(root: Path) -> list[StoreUsage]:
    """Views, segments and bytes of every repository store under `root`."""
    return [StoreUsage(s.parent.name, s.name, len(_views(s)),
                       len(list_segments(s / "segments")), _bytes(s)) for s in _stores(root)]


def format_usage(rows: list[StoreUsage]) -> str:
    lines = [f"{'repository':34s} {'store':16s} {'views':>6s} {'segments':>9s} {'MB':>9s}"]
    lines += [f"{r.repo_dir:34s} {r.fingerprint:16s} {r.views:6d} {r.segments:9d} "
              f"{r.bytes / 1e6:9.1f}" for r in rows]
    total = sum(r.bytes for r in rows)
    lines.append(f"{'total':34s} {'':16s} {sum(r.views for r in rows):6d} "
                 f"{sum(r.segments for r in rows):9d} {total / 1e6:9.1f}")
    return "\n".join(lines)


def compact_segment(seg: Segment, live: np.ndarray) -> Path:
    """Write a segment holding only the contents where `live` (by content row) is true."""
    ptr = np.asarray(seg.content_ptr, dtype=np.int64)
    counts = np.diff(ptr)
    chunk_live = np.repeat(live, counts)
    new_id = np.cumsum(chunk_live) - 1
    terms = np.asarray(seg.terms)
    post_term = np.repeat(terms, np.diff(np.asarray(seg.term_ptr)))
    post_chunk = np.asarray(seg.post_chunk, dtype=np.int64)
    keep = chunk_live[post_chunk]
    arrays = {
        "keys": np.asarray(seg.keys)[live],
        "content_ptr": np.concatenate(([0], np.cumsum(counts[live]))).astype(np.int32),
        "file_tokens": np.asarray(seg.file_tokens)[live],
        **{name: np.asarray(a)[chunk_live] for name, a in seg.chunk.items()},
        **inverted_file(post_term[keep], new_id[post_chunk[keep]],
                        np.asarray(seg.post_weight)[keep], int(chunk_live.sum())),
    }
    if seg.vectors is not None:
        arrays["vectors"] = np.asarray(seg.vectors)[chunk_live]
    symbols = [s for s, ok in zip(seg.symbols, chunk_live) if ok]
    return write_arrays(seg.path.parent, arrays, symbols)


def collect_garbage(root: Path, live_commits: set[tuple[str, str]]) -> GcReport:
    """Keep the views of `live_commits` ((owner/name, base_commit) pairs), drop the rest."""
    live = {(repo_dirname(repo), commit.lower()) for repo, commit in live_commits}
    report = GcReport(bytes_before=_bytes(Path(root)) if Path(root).exists() else 0)
    for store in _stores(root):
        with file_lock(store / ".segments.lock"):
            used: list[np.ndarray] = []
            for view in _views(store):
                meta = json.loads((view / "view.json").read_text())
                if (store.parent.name, str(meta.get("commit", "")).lower()) in live:
                    report.kept_views.append(f"{store.parent.name}/{view.name}")
                    used.append(np.array([bytes.fromhex(k) for k in meta["keys"]],
                                         dtype=f"S{KEY_BYTES}"))
                else:
                    shutil.rmtree(view)
                    report.views_dropped += 1
            keys = np.unique(np.concatenate(used)) if used else np.zeros(0, f"S{KEY_BYTES}")
            for seg in list_segments(store / "segments"):
                alive = np.isin(np.asarray(seg.keys), keys)
                if not alive.any():
                    shutil.rmtree(seg.path)
                    report.segments_dropped += 1
                elif not alive.all():
                    compact_segment(seg, alive)
                    shutil.rmtree(seg.path)
                    report.segments_compacted += 1
    report.bytes_after = _bytes(Path(root)) if Path(root).exists() else 0
    return report


def collect_garbage_for(store: Store, root: Path) -> GcReport:
    """`collect_garbage` keeping the commits the swepipe store's instances refer to."""
    from swepipe.store.sql_files import load_query

    rows = store.query(load_query("repos/indexed_commits"), read_only=True).to_pylist()
    return collect_garbage(root, {(r["repo"], r["base_commit"]) for r in rows})
