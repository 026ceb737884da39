"""How swepipe runs its coroutines: on uvloop where it is installed, else on asyncio's loop.

A run spends most of its event-loop time making model calls, and at hundreds of calls in flight
on two cores the client's CPU per call is what bounds throughput: uvloop cut it by about a
quarter (`benchmarks/model_calls_logged.py`). Set `SWEPIPE_EVENT_LOOP=asyncio` to use the
standard loop, e.g. to rule uvloop out while debugging.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


def loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop's loop constructor, or None for asyncio's default."""
    if os.environ.get("SWEPIPE_EVENT_LOOP", "uvloop") == "asyncio":
        return None
    try:
        import uvloop
    except ImportError:  # Windows, or a trimmed install
        return None
    return uvloop.new_event_loop


def run(main: Coroutine[Any, Any, T]) -> T:
    """`asyncio.run(main)` on the chosen loop."""
    with asyncio.Runner(loop_factory=loop_factory()) as runner:
        return runner.run(main)
