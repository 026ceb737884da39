"""Line spans for migrated symbol locations (`class: X`, `function: A.b`, `variable: v`).

Without a checkout a symbol pointer is stored with null lines and `resolved=false`. Given a
directory of checkouts, the pointers are mapped to their definition's span with
`repos.locations.resolve_in_repo` (the same resolver live Agentless localization uses; spans are
not widened, the ±10 context is the consumer's business). A checkout is found as:
1. `<repos_dir>/<instance_id>/`: a plain tree at the instance's base commit, used as is;
2. `<repos_dir>/<owner>__<name>`: a clone; `repos.checkout.Checkouts` materializes the
   instance's base commit under `cache_dir` (default `<repos_dir>/.checkouts`).
Instances with no checkout keep their unresolved pointers. `swepipe migrate resolve` updates
the stored rows in place (one transaction): resolution is a function of the checkout, so the
config hash stays the same.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa

from swepipe.errors import InputError
from swepipe.migrate.importer import _read_state
from swepipe.repos.checkout import CheckoutConfig, Checkouts, repo_dirname
from swepipe.repos.locations import resolve_in_repo
from swepipe.store.store import Store, registered
from swepipe.types import CodePointer

_SYMBOL_KINDS = ("class", "function", "variable")


class CheckoutResolver:
    """Resolves an instance's pointers against its checkout (see the module docstring)."""

    def __init__(self, repos_dir: Path, instances: dict[str, tuple[str, str]],
                 cache_dir: Path | None = None) -> None:
        self.repos_dir = Path(repos_dir)
        self.instances = instances
        self._checkouts = Checkouts(CheckoutConfig(
            cache_dir=cache_dir or self.repos_dir / ".checkouts", repos_dir=self.repos_dir))
        self.missing: set[str] = set()

    @classmethod
    def for_store(cls, store: Store, repos_dir: Path, dataset: str | None = None, *,
                  read_only: bool = False, cache_dir: Path | None = None) -> CheckoutResolver:
        if not Path(repos_dir).is_dir():
            raise InputError("no such folder", source=str(repos_dir), field="--repos-dir")
        if dataset:
            sql = ("SELECT i.instance_id, i.repo, i.base_commit FROM dataset_instances d "
                   "JOIN instances i USING (instance_id, revision) WHERE d.dataset = ?")
            params: list[str] | None = [dataset]
        else:
            sql = ("SELECT instance_id, arg_max(repo, revision), arg_max(base_commit, revision) "
                   "FROM instances GROUP BY instance_id")
            params = None
        rows = _read_state(store, read_only, sql, params)
        return cls(repos_dir, {r[0]: (r[1], r[2]) for r in rows}, cache_dir)

    def checkout_for(self, instance_id: str) -> Path | None:
        plain = self.repos_dir / instance_id
        if plain.is_dir():
            return plain
        if instance_id not in self.instances:
            return None
        repo, commit = self.instances[instance_id]
        try:
            if not (self.repos_dir / repo_dirname(repo)).exists():
                return None
            return self._checkouts.checkout(repo, commit)
        except InputError:
            return None

    def __call__(self, instance_id: str, pointers: list[CodePointer]) -> list[CodePointer]:
        todo = [i for i, p in enumerate(pointers) if not p.resolved and p.kind in _SYMBOL_KINDS]
        if not todo:
            return pointers
        root = self.checkout_for(instance_id)
        if root is None:
            self.missing.add(instance_id)
            return pointers
        resolved = resolve_in_repo([pointers[i] for i in todo], root)
        out = list(pointers)
        for i, p in zip(todo, resolved):
            # keep rank/sample of the original; the resolver owns lines, symbol and the flag
            out[i] = pointers[i].model_copy(update={
                "start_line": p.start_line, "end_line": p.end_line, "symbol": p.symbol,
                "resolved": p.resolved})
        return out


@dataclass
class ResolveReport:
    pointers: int
    resolved: int
    instances: int
    without_checkout: int

    def __str__(self) -> str:
        return (f"resolved {self.resolved} of {self.pointers} unresolved symbol pointers in "
                f"{self.instances} instances ({self.without_checkout} instances had no "
                "checkout)")


def resolve_store(store: Store, repos_dir: str | Path, *, dataset: str | None = None,
                  cache_dir: str | Path | None = None) -> ResolveReport:
    """Fill in spans of unresolved symbol pointers of legacy configs, in place."""
    resolver = CheckoutResolver.for_store(store, Path(repos_dir), dataset,
                                          cache_dir=Path(cache_dir) if cache_dir else None)
    with store.session():
        rows = store.query(
            "SELECT l.config_hash, l.instance_id, l.attempt, l.sample_idx, l.pointer_idx, "
            "l.file_path, l.kind, l.symbol, l.rank FROM localizations l "
            "JOIN configs c USING (config_hash) WHERE c.legacy AND NOT l.resolved "
            "AND l.kind IN ('class', 'function', 'variable')").to_pylist()
        by_instance: dict[str, list[dict]] = defaultdict(list)
        for r in rows:
            by_instance[r["instance_id"]].append(r)
        updates = []
        for iid, group in by_instance.items():
            pointers = [CodePointer(file_path=r["file_path"], kind=r["kind"], symbol=r["symbol"],
                                    rank=r["rank"], sample_idx=r["sample_idx"], resolved=False)
                        for r in group]
            for r, p in zip(group, resolver(iid, pointers)):
                if p.resolved:
                    updates.append({**{k: r[k] for k in ("config_hash", "instance_id", "attempt",
                                                          "sample_idx", "pointer_idx")},
                                    "start_line": p.start_line, "end_line": p.end_line,
                                    "symbol": p.symbol})
        if updates:
            with store.transaction() as conn:
                with registered(conn, _resolved=pa.Table.from_pylist(updates)):
                    conn.execute(
                        "UPDATE localizations AS l SET start_line = u.start_line, "
                        "end_line = u.end_line, symbol = u.symbol, resolved = true "
                        "FROM _resolved u WHERE l.config_hash = u.config_hash "
                        "AND l.instance_id = u.instance_id AND l.attempt = u.attempt "
                        "AND l.sample_idx = u.sample_idx AND l.pointer_idx = u.pointer_idx")
    return ResolveReport(len(rows), len(updates), len(by_instance), len(resolver.missing))
