"""Config identity: canonical JSON and the config hash that keys every stage row.

`config_hash = sha256(canonical_json({component, code_version, params, upstream}))`.

- Canonical JSON is `json.dumps(sort_keys=True, separators=(",", ":"), ensure_ascii=False,
  allow_nan=False)` over plain JSON values only. There is no `default=`: a set, bytes, a NaN or an
  arbitrary object raises `InputError` naming its path, because a silent `repr` fallback would
  make hashes depend on memory addresses or ordering.
- `code_version` is an explicit string a component bumps by hand when its behaviour changes.
- `upstream` holds the hashes of the stages a component consumes, so a change upstream re-keys
  everything downstream and nothing else.
- Runtime settings (endpoint, API key, concurrency, rate limits, timeouts) never enter `params`:
  config classes mark them with `Runtime` and `ComponentConfig.identity()` leaves them out.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from swepipe.errors import InputError

_SCALARS = (str, int, bool, type(None))


def _check_json(value: Any, path: str) -> None:
    """Refuse anything that is not plain JSON, naming where it is."""
    if isinstance(value, _SCALARS):
        return
    if isinstance(value, float):
        if not math.isfinite(value):
            raise InputError(f"config value {value!r} is not finite JSON", field=path)
        return
    if isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            _check_json(item, f"{path}[{i}]")
        return
    if isinstance(value, Mapping):
        for key, item in value.items():
            if not isinstance(key, str):
                raise InputError(f"config key {key!r} is not a string", field=path)
            _check_json(item, f"{path}.{key}" if path else key)
        return
    raise InputError(f"config value of type {type(value).__name__} cannot be hashed "
                     "(only JSON values: str, int, float, bool, None, list, dict)", field=path)


def canonical_json(value: Any) -> str:
    """The one serialization that config hashes are taken over."""
    _check_json(value, "")
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False)


def config_hash(component: str, code_version: str, params: Mapping[str, Any],
                upstream: Mapping[str, str] | None = None) -> str:
    """sha256 hex of the canonical JSON of `{component, code_version, params, upstream}`."""
    body = {"component": component, "code_version": code_version, "params": dict(params),
            "upstream": dict(upstream or {})}
    return hashlib.sha256(canonical_json(body).encode()).hexdigest()


class Runtime:
    """Marks a config field as a runtime setting: `timeout_s: Annotated[float, Runtime()] = 60`.

    Runtime fields are left out of `ComponentConfig.identity()` and so out of the hash."""

    def __repr__(self) -> str:
        return "Runtime()"


class AddedLater:
    """Marks a field added to an existing config: `x: Annotated[int | None, AddedLater()] = None`.

    While it holds its default the field is left out of `identity()`, so configs written before
    it existed keep their hash (and their stored results); any other value enters the hash."""

    def __repr__(self) -> str:
        return "AddedLater()"


class ComponentConfig(BaseModel):
    """Base of every component's config. Subclasses set `component` and `code_version`."""

    model_config = {"extra": "forbid"}

    component: str
    """Registry name of the component, e.g. `agentless.files`."""

    code_version: str = "1"
    """Bumped by hand when the component's behaviour changes."""

    @classmethod
    def runtime_fields(cls) -> set[str]:
        return {name for name, info in cls.model_fields.items()
                if any(isinstance(m, Runtime) for m in info.metadata)}

    def identity(self) -> dict[str, Any]:
        """The params that define this config's results (runtime settings excluded, fields
        added later left out while at their default)."""
        skip = self.runtime_fields() | {"component", "code_version"}
        skip |= {name for name, info in type(self).model_fields.items()
                 if any(isinstance(m, AddedLater) for m in info.metadata)
                 and getattr(self, name) == info.get_default(call_default_factory=True)}
        return self.model_dump(mode="json", exclude=skip)

    def hash(self, upstream: Mapping[str, str] | None = None) -> str:
        return config_hash(self.component, self.code_version, self.identity(), upstream)


def file_checksum(path: Path) -> str:
    """sha256 of a file's bytes; of a folder: over its files' relative paths and hashes. Keys
    imported files (a changed predictions file or legacy cache is a new config) and their
    `legacy_imports` rows."""
    if path.is_file():
        return hashlib.sha256(path.read_bytes()).hexdigest()
    h = hashlib.sha256()
    for f in sorted(p for p in path.rglob("*") if p.is_file()):
        h.update(f.relative_to(path).as_posix().encode() + b"\0")
        h.update(hashlib.sha256(f.read_bytes()).digest())
    return h.hexdigest()
