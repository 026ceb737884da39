"""Legacy cache migration: Agentless and CodeMonkeys output folders into the store.

After migration the old results are rows like any live run's (same tables, legacy configs), so
resuming, SQL analysis and pseudo-rewards work on them unchanged. See docs/legacy-migration.md.
"""

from __future__ import annotations

import lazy_loader

# lazy: `swepipe --help` imports the command modules of this package and must start fast
__getattr__, __dir__, __all__ = lazy_loader.attach(
    __name__, submod_attrs={"api": ["migrate_agentless", "migrate_codemonkeys"]})
