"""`python -m batchtui`."""

from .launch import run

run()
