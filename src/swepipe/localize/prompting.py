"""Prompt files of the LLM localizers, and the reply helpers they share.

Prompts live in `localize/prompts/<name>_v<version>.txt`, next to the components that use them.
A component's `prompt_version` config field picks the file, so the version enters the config hash
and an edited prompt is a new file with a new version, never a silent change under an old hash.

Templates use `{name}` placeholders. Only the names a caller passes are replaced, and in one pass:
issue texts and code are full of braces, and a value is never re-scanned for placeholders.
"""

from __future__ import annotations

import re

from swepipe.errors import InputError
from swepipe.prompts import load_prompt_file

_PLACEHOLDER = re.compile(r"\{([A-Za-z_]\w*)\}")
_FENCE = re.compile(r"```[^\n`]*\n(.*?)(?:```|\Z)", re.DOTALL)


def load_prompt(name: str, version: str) -> str:
    """The text of `prompts/<name>_v<version>.txt` (without its final newline)."""
    return load_prompt_file("swepipe.localize", f"{name}_v{version}.txt")


def check_prompts(names: tuple[str, ...], version: str) -> None:
    """Raise ValueError (a config validation error) when a prompt file of `version` is missing,
    so a config with a bad `prompt_version` fails when it is loaded, not mid-run."""
    for name in names:
        try:
            load_prompt(name, version)
        except InputError as exc:
            raise ValueError(str(exc)) from exc


def render(template: str, **values: str) -> str:
    """Replace `{name}` for the given names; every given name must occur in the template."""
    unused = set(values) - set(_PLACEHOLDER.findall(template))
    if unused:
        raise ValueError(f"template has no placeholder for {sorted(unused)}")
    return _PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), template)


def prompt(name: str, version: str, **values: str) -> str:
    """Load and render in one step."""
    return render(load_prompt(name, version), **values)


def code_blocks(text: str) -> str:
    """The contents of the reply's fenced blocks, joined; the whole reply when it has none.

    An unterminated fence (a reply cut by max_tokens) counts up to the end of the text, which
    keeps the locations written before the cut.
    """
    blocks = _FENCE.findall(text or "")
    return "\n".join(blocks) if blocks else (text or "")
