"""The error hierarchy. The CLI prints one line for a `SwepipeError` and exits non-zero;
anything else is a bug and keeps its traceback."""

from __future__ import annotations


class SwepipeError(Exception):
    """Base of every error swepipe raises on purpose."""


class InputError(SwepipeError):
    """Bad user input. The message names the file, line or field."""

    def __init__(self, message: str, *, source: str | None = None, line: int | None = None,
                 field: str | None = None) -> None:
        where = ":".join(str(p) for p in (source, line) if p is not None)
        prefix = f"{where}: " if where else ""
        suffix = f" (field {field!r})" if field else ""
        super().__init__(f"{prefix}{message}{suffix}")
        self.source, self.line, self.field = source, line, field


class StoreError(SwepipeError):
    """The store cannot be opened, migrated or written."""


class ModelError(SwepipeError):
    """A model call failed for good (after retries, or a 4xx that retrying cannot fix)."""


class ExecutionError(SwepipeError):
    """The sandbox could not run something (as opposed to a test that ran and failed)."""
