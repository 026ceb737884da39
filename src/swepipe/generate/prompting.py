"""What generators share about talking to a model: prompt files, sampling parameters, code
blocks in replies, and sandbox output shown back to a model.

Prompts are text files in `prompts/` beside the generators, versioned with them; `{{name}}`
placeholders are filled in one pass, so an issue text containing braces (or `{{...}}`) is never
re-expanded.

Outputs shown to a model are made deterministic (`show_output`): the sandbox's working-copy path
and memory addresses vary from run to run, and a prompt that varies defeats the call cache, so a
re-run would pay for calls it has already made.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable, Iterable
from typing import TypeVar

from swepipe.prompts import load_prompt_file
from swepipe.types import ExecutionOutput, SamplingParams

T = TypeVar("T")

_PLACEHOLDER = re.compile(r"\{\{(\w+)\}\}")
_FENCE = re.compile(r"```[ \t]*(?P<lang>[\w+-]*)[ \t]*\n(?P<body>.*?)(?:\n)?```", re.DOTALL)
_SANDBOX_DIR = re.compile(r"/[^\s'\"]*?swepipe-sbx-[^/\s'\"]+/(?P<which>repo|home)(?=/|\b)")
_ADDRESS = re.compile(r"\b0x[0-9a-fA-F]{6,}\b")


def load_prompt(name: str) -> str:
    """The template `prompts/<name>.txt`."""
    return load_prompt_file("swepipe.generate", f"{name}.txt")


def render(name: str, **values: str) -> str:
    """Fill `{{key}}` placeholders of a prompt file (unknown keys are an error, not silence)."""
    template = load_prompt(name)
    missing = {m for m in _PLACEHOLDER.findall(template)} - set(values)
    if missing:
        raise KeyError(f"prompt {name!r} needs {sorted(missing)}")
    return _PLACEHOLDER.sub(lambda m: values[m[1]], template).strip() + "\n"


def sample_params(sample_idx: int, *, temperature: float, max_tokens: int | None,
                  seed: int | None, greedy_first: bool = True) -> SamplingParams:
    """Sample 0 is greedy (Agentless) when `greedy_first`; the others use `temperature`.
    With a `seed`, sample i sends `seed + i` so samples differ on servers that honour seeds."""
    greedy = greedy_first and sample_idx == 0
    return SamplingParams(temperature=0.0 if greedy else temperature, max_tokens=max_tokens,
                          seed=None if seed is None else seed + sample_idx)


def code_blocks(text: str, lang: str = "python") -> list[str]:
    """Bodies of fenced blocks tagged `lang` (or untagged), in order."""
    return [m["body"] for m in _FENCE.finditer(text or "")
            if m["lang"].lower() in ("", lang, "py" if lang == "python" else lang)]


def first_code_block(text: str, lang: str = "python") -> str | None:
    """The first fenced `lang` block, stripped; None when there is none or it is blank."""
    blocks = [b.strip() for b in code_blocks(text, lang)]
    return next((b for b in blocks if b), None)


def scrub(text: str) -> str:
    """Remove what differs between two runs of the same command: sandbox paths, addresses."""
    text = _SANDBOX_DIR.sub(lambda m: "." if m["which"] == "repo" else "~", text)
    return _ADDRESS.sub("0x…", text)


def _clip(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    half = limit // 2
    return f"{text[:half]}\n... [{len(text) - 2 * half} characters cut] ...\n{text[-half:]}"


def show_output(out: ExecutionOutput, *, timeout_s: float, limit: int = 6000,
                meaning: dict[int, str] | None = None) -> str:
    """An execution output as a model sees it: exit status (with its meaning), stdout, stderr.
    Durations are left out on purpose: they vary, and the text must not."""
    if out.timed_out:
        status = f"timed out after {timeout_s:g} s (killed)"
    else:
        status = f"exit code {out.exit_code}"
        if meaning and out.exit_code in meaning:
            status += f" ({meaning[out.exit_code]})"
    stdout = _clip(scrub(out.stdout or ""), limit).rstrip()
    stderr = _clip(scrub(out.stderr or ""), limit).rstrip()
    return (f"{status}\n--- stdout ---\n{stdout or '(empty)'}\n"
            f"--- stderr ---\n{stderr or '(empty)'}")


async def gather_samples(items: Iterable[int], fn: Callable[[int], Awaitable[T]],
                         max_concurrency: int) -> list[T]:
    """Run `fn` for every item, at most `max_concurrency` at once. Every sample runs to its end
    before the first error is raised, so the calls that succeeded are logged and cached and a
    retry pays only for the ones that failed."""
    gate = asyncio.Semaphore(max(1, max_concurrency))

    async def bounded(i: int) -> T:
        async with gate:
            return await fn(i)

    results = await asyncio.gather(*(bounded(i) for i in items), return_exceptions=True)
    for result in results:
        if isinstance(result, BaseException):
            raise result
    return results  # type: ignore[return-value]
