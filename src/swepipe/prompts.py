"""Prompt files: text next to the component that uses them, in `<package>/prompts/`.

A component's `prompt_version` config field names the file (`<name>_v<version>.txt`), so the
version enters the config hash: an edited prompt is a new file, never a silent change under an
old hash. Each stage fills its templates its own way (see its `prompting`/`prompts` module).
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources

from swepipe.errors import InputError


@lru_cache(maxsize=256)
def load_prompt_file(package: str, filename: str) -> str:
    """The text of `<package>/prompts/<filename>` without its final newline."""
    try:
        text = resources.files(package).joinpath("prompts", filename).read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise InputError(f"no prompt file {filename} in {package}/prompts",
                         field="prompt_version") from exc
    return text.removesuffix("\n")
