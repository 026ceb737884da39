"""Random ids for rows written thousands of times a second (a `sequences` row per model call).

`uuid.uuid4()` reads the OS random source on every call, which costs about 8 µs on the VMs this
runs on: two ids per model call were a tenth of the logging budget. A per-process generator,
seeded once from that source, gives the same 128 random bits per id for a fraction of the cost.
A forked child reseeds, so parent and child never draw the same ids.
"""

from __future__ import annotations

import os
import random

_rng = random.Random(os.urandom(32))
os.register_at_fork(after_in_child=lambda: _rng.seed(os.urandom(32)))


def new_id() -> str:
    """32 random hex digits, the shape of `uuid.uuid4().hex`."""
    return f"{_rng.getrandbits(128):032x}"
