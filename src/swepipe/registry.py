"""Finding components by short name or dotted path, and building them from config.

Each stage package lists its components in a `COMPONENTS` dict (`swepipe.localize.COMPONENTS`,
`swepipe.generate.COMPONENTS`, `swepipe.select.COMPONENTS`): short name -> "module:Class". A config
may also name any importable class as "package.module:Class", which is how a researcher plugs in
a component of their own without touching swepipe.

A component class has a `Config` class attribute (a `ComponentConfig` subclass) and is built as
`Class(config)`.
"""

from __future__ import annotations

import importlib
from typing import Any

from pydantic import ValidationError

from swepipe.errors import InputError
from swepipe.hashing import ComponentConfig
from swepipe.types import StageName

STAGE_PACKAGES: dict[StageName, str] = {
    "localize": "swepipe.localize", "generate": "swepipe.generate", "select": "swepipe.select",
}


def _import(path: str) -> Any:
    module_name, _, attr = path.partition(":")
    try:
        module = importlib.import_module(module_name)
        return getattr(module, attr) if attr else module
    except (ImportError, AttributeError) as exc:
        raise InputError(f"cannot import component {path!r}: {exc}") from exc


def available(stage: StageName) -> dict[str, str]:
    """Short name -> "module:Class" for a stage."""
    return dict(getattr(_import(STAGE_PACKAGES[stage]), "COMPONENTS", {}))


def component_class(stage: StageName, name: str) -> type:
    if ":" in name:
        return _import(name)
    known = available(stage)
    if name in known:
        return _import(known[name])
    raise InputError(f"unknown {stage} component {name!r}; known: {', '.join(sorted(known))} "
                     "(or give module.path:Class)", field=f"{stage}.component")


def build(stage: StageName, spec: dict[str, Any]) -> tuple[Any, ComponentConfig]:
    """The component and its validated config from a config-file section."""
    if "component" not in spec:
        raise InputError("missing the component name", field=f"{stage}.component")
    cls = component_class(stage, spec["component"])
    config_cls: type[ComponentConfig] = getattr(cls, "Config", None)
    if config_cls is None:
        raise InputError(f"{cls.__qualname__} has no Config class", field=f"{stage}.component")
    try:
        config = config_cls.model_validate(spec)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"])
        raise InputError(err["msg"], field=f"{stage}.{where}" if where else stage) from exc
    return cls(config), config
