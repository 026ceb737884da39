"""Pseudo-rewards: per-stage quality metrics computed in SQL over the store (docs/metrics.md)."""
