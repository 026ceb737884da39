"""swepipe: modular, store-backed pipelines for AI issue resolution research."""

__version__ = "0.1.0"
