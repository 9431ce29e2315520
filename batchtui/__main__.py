"""`python -m batchtui`."""

from .cli import run

run()
