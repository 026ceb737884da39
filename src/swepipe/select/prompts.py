"""Prompt files of the LLM selectors, how candidates and files are shown, and reply parsing.

Prompts live in `select/prompts/<name>_v<version>.txt`; a component's `prompt_version` field picks
the file, so the version enters the config hash (an edited prompt is a new file). Templates use
`{name}` placeholders replaced in one pass, so braces in issues and code are left alone.

Replies name a choice as `<choice>N</choice>` (N = the candidate's number as shown, from 1) and a
new test as `<test>...</test>` (a fenced block inside the tags is unwrapped). A reply with neither,
or with a number out of range, is unparseable: selectors record that and fall back.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

from swepipe.prompts import load_prompt_file
from swepipe.types import Patch

_PLACEHOLDER = re.compile(r"\{([A-Za-z_]\w*)\}")
_CHOICE = re.compile(r"<choice>\s*(\d+)\s*</choice>", re.IGNORECASE)
_TEST = re.compile(r"<test>(.*?)</test>", re.DOTALL | re.IGNORECASE)
_FENCE = re.compile(r"^\s*```[^\n]*\n(.*?)\n?```\s*$", re.DOTALL)


def load_prompt(name: str, version: str) -> str:
    return load_prompt_file("swepipe.select", f"{name}_v{version}.txt")


def prompt(name: str, version: str, **values: str) -> str:
    """Load `name` and replace the given placeholders (others are left as written)."""
    return _PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)),
                            load_prompt(name, version))


def format_candidates(patches: Sequence[Patch]) -> str:
    return "\n\n".join(f"<candidate number={i}>\n{p.diff.rstrip()}\n</candidate>"
                       for i, p in enumerate(patches, 1))


def touched_files(patches: Sequence[Patch]) -> list[str]:
    """Files any candidate changes, in first-seen order (from `Patch.files`, else the diff)."""
    found: list[str] = []
    for p in patches:
        found += p.files or re.findall(r"^diff --git a/(\S+) b/", p.diff, re.MULTILINE)
    return list(dict.fromkeys(found))


def format_files(repo_dir: Path | None, paths: Sequence[str], max_chars: int) -> str:
    """The original text of `paths` from the checkout, until `max_chars` is spent."""
    if repo_dir is None:
        return "(the repository checkout is not available)"
    parts, left = [], max_chars
    for path in paths:
        file = Path(repo_dir) / path
        text = file.read_text(errors="replace") if file.is_file() else "(new file)"
        if len(text) > left:
            text = text[:max(left, 0)] + "\n... (truncated)"
        parts.append(f"<file path={path}>\n{text.rstrip()}\n</file>")
        left -= len(text)
        if left <= 0:
            break
    return "\n\n".join(parts) or "(no files)"


def parse_choice(reply: str, count: int) -> int | None:
    """The 0-based index named by the last `<choice>N</choice>`, or None."""
    found = _CHOICE.findall(reply or "")
    if not found:
        return None
    n = int(found[-1])
    return n - 1 if 1 <= n <= count else None


def parse_test(reply: str) -> str | None:
    """The script inside the last `<test>...</test>`, or None."""
    found = _TEST.findall(reply or "")
    if not found:
        return None
    body = found[-1]
    fenced = _FENCE.match(body)
    script = (fenced.group(1) if fenced else body).strip("\n")
    return script + "\n" if script.strip() else None
