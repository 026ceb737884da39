"""Localizers inside localizers: nested configs for combinators and file sources.

A config field typed `NestedLocalizer` accepts a config-file table (`{component = "retrieval",
top_files = 20}`) or a built `ComponentConfig`, and holds the sub-localizer's validated config.
`ComposedConfig.identity()` replaces each nested config by its component name and config hash,
so a change anywhere inside a sub-localizer re-keys the composite, and runtime settings of the
sub-localizer (index directories, batch sizes) stay out of the hash exactly as they do on their
own.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

from pydantic import BeforeValidator, SerializeAsAny, ValidationError

from swepipe.errors import InputError
from swepipe.hashing import ComponentConfig
from swepipe.protocols import Localizer
from swepipe.registry import component_class
from swepipe.types import CodePointer


def _to_config(value: Any) -> Any:
    if isinstance(value, ComponentConfig) or value is None:
        return value
    if not isinstance(value, Mapping):
        raise ValueError("a nested localizer is a table with a `component` key")
    if "component" not in value:
        raise ValueError("a nested localizer needs a `component` key")
    try:
        cls = component_class("localize", str(value["component"]))
    except InputError as exc:  # pydantic reports ValueErrors with the field's path
        raise ValueError(str(exc)) from exc
    config_cls = config_class(cls)
    try:
        return config_cls.model_validate(dict(value))
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"])
        raise ValueError(f"{value['component']}.{where}: {err['msg']}") from exc


def config_class(cls: type) -> type[ComponentConfig]:
    found = getattr(cls, "Config", None)
    if found is None:
        raise ValueError(f"{cls.__qualname__} has no Config class")
    return found


NestedLocalizer = Annotated[SerializeAsAny[ComponentConfig], BeforeValidator(_to_config)]
"""A sub-localizer's config, given as a table in the config file."""


class ComposedConfig(ComponentConfig):
    """A config with nested localizer configs; their hashes stand for them in the identity."""

    def identity(self) -> dict[str, Any]:
        out = super().identity()
        for name in out:
            value = getattr(self, name)
            if isinstance(value, ComponentConfig):
                out[name] = {"component": value.component, "config_hash": value.hash()}
        return out


def build_localizer(config: ComponentConfig) -> Localizer:
    """The component a nested config describes, built as the registry builds components."""
    return component_class("localize", config.component)(config)


def ranked_files(pointers: list[CodePointer]) -> list[str]:
    """A localizer's output read as a file ranking: its `file` pointers in rank order, then the
    files of its other pointers in (sample, rank) order, each file once."""
    order = sorted(pointers, key=lambda p: (p.kind != "file", p.sample_idx, p.rank))
    return list(dict.fromkeys(p.file_path for p in order if p.file_path))
