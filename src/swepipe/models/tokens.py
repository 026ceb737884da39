"""Token counting without a tokenizer: the documented estimate, and the scripted tokenizer.

Rule (used everywhere swepipe needs a count and the endpoint offers no `/tokenize`):

    estimate_tokens(text) = ceil(len(text.encode("utf-8")) / 4)

Why bytes / 4: BPE tokenizers of current code models (Llama 3, Qwen 2.5, GPT-4's cl100k/o200k)
average about 3.5-4.5 UTF-8 bytes per token on English prose and source code, so 4 is the usual
rule of thumb (OpenAI documents "about 4 characters per token"). Counting bytes rather than
characters makes non-ASCII text (CJK, emoji), which tokenizes to more tokens per character, count
more, which errs on the side of budgets that fit. No vocabulary file is needed, so it works
offline (tiktoken would download its encodings on first use).

The scripted server uses the same rule for its `usage` and `/tokenize`, so tests can predict
counts exactly; its token ids are a deterministic function of each 4-byte chunk.
"""

from __future__ import annotations

import hashlib
import math

BYTES_PER_TOKEN = 4
"""The estimate's divisor (UTF-8 bytes per token)."""

SCRIPTED_VOCAB = 32_000
"""Size of the scripted tokenizer's id space."""


def estimate_tokens(text: str) -> int:
    """ceil(utf-8 bytes / 4): the fallback token count (see the module docstring for why)."""
    return math.ceil(len(text.encode("utf-8")) / BYTES_PER_TOKEN)


def scripted_token_chunks(text: str) -> list[bytes]:
    """The scripted tokenizer's tokens: consecutive 4-byte chunks of the UTF-8 text."""
    raw = text.encode("utf-8")
    return [raw[i:i + BYTES_PER_TOKEN] for i in range(0, len(raw), BYTES_PER_TOKEN)]


def scripted_token_ids(text: str) -> list[int]:
    """Deterministic ids for `scripted_token_chunks(text)` (stable across processes)."""
    return [int.from_bytes(hashlib.blake2b(chunk, digest_size=4).digest(), "big") % SCRIPTED_VOCAB
            for chunk in scripted_token_chunks(text)]
