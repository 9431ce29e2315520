"""`batchtui` on the command line: every batch operation as a verb, `--json` on every read."""

from .main import main, run

__all__ = ["main", "run"]
