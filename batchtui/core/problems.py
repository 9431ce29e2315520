"""A problem that stops a batch locking or running: one line a person reads, and a code a
program tells apart (the item editor does not repeat "has no items" while items are being
added, whatever the words say)."""

from __future__ import annotations

from enum import StrEnum


class ProblemCode(StrEnum):
    """What kind of problem stops a batch locking or running."""

    NO_ITEMS = "no_items"
    TOO_MANY_ITEMS = "too_many_items"
    TOO_LONG_FOR_PLATFORM = "too_long_for_platform"
    WORKDIR = "workdir"
    GENERATOR = "generator"
    OUTPUT_FOLDER = "output_folder"
    HOST_SETTINGS = "host_settings"
    ITEM_VARS = "item_vars"
    ITEM_KEYS = "item_keys"
    RUN_OPTIONS = "run_options"


class Problem(str):
    """One problem: its text (what a person reads, unchanged wherever text is expected)
    and its `code` (what a program tells apart)."""

    code: ProblemCode

    def __new__(cls, code: ProblemCode, message: str) -> Problem:
        problem = super().__new__(cls, message)
        problem.code = code
        return problem

    def __reduce__(self) -> tuple[type[Problem], tuple[ProblemCode, str]]:
        return Problem, (self.code, self.message)

    @property
    def message(self) -> str:
        """The text alone."""
        return str.__str__(self)
