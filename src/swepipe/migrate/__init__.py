"""Legacy cache migration: Agentless and CodeMonkeys output folders into the store.

After migration the old results are rows like any live run's (same tables, legacy configs), so
resuming, SQL analysis and pseudo-rewards work on them unchanged. See docs/legacy-migration.md.
"""

from __future__ import annotations

from swepipe.migrate.api import migrate_agentless, migrate_codemonkeys

__all__ = ["migrate_agentless", "migrate_codemonkeys"]
