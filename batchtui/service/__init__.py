"""The use-cases behind one facade, `BatchService`: the only door the CLI and the TUI use."""

from .facade import BatchService, open_service

__all__ = ["BatchService", "open_service"]
