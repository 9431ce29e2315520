"""Why an attempt failed, and the words a config's `retry_on` (`--retry-on`) accepts.

The words are derived from the kinds: each kind names the word that retries it, so a new kind
is one line here and `retry_on`, its validation and the CLI's help follow.
"""

from __future__ import annotations

from enum import StrEnum


class FailureKind(StrEnum):
    """Why an attempt failed, for reports and for choosing what to retry."""

    ERROR = "error"
    """The generator said no (a non-zero exit, a missing executable, a bad template)."""
    CRASH = "crash"
    """An unexpected exception in the generator itself."""
    INVALID_OUTPUT = "invalid_output"
    TIMEOUT = "timeout"
    HOST_LOST = "host_lost"
    SIGNAL = "signal"
    """Killed by a signal (a crash, the OOM killer)."""
    QA = "qa"
    """The output is valid but failed a QA check of the config's `qa` (black, frozen,
    silent, clipped, loudness, first frame)."""
    RATE_LIMITED = "rate_limited"
    """The item said "later" (exit 75, EX_TEMPFAIL, or a `RETRY-AFTER N` line): it waits and
    runs again without using one of its retries."""

    @property
    def retry_name(self) -> str:
        """Its word in a config's `retry_on`."""
        return RETRY_NAMES[self]


RETRY_NAMES: dict[FailureKind, str] = {
    FailureKind.TIMEOUT: "timeout",
    FailureKind.CRASH: "crash",
    FailureKind.SIGNAL: "crash",
    FailureKind.ERROR: "exit",
    FailureKind.INVALID_OUTPUT: "invalid_output",
    FailureKind.QA: "qa",
    FailureKind.HOST_LOST: "host_lost",
    FailureKind.RATE_LIMITED: "rate_limited",
}
"""The `retry_on` word of each failure kind (a signal and a crash are both 'crash')."""

RETRY_ON: tuple[str, ...] = tuple(dict.fromkeys(RETRY_NAMES.values()))
"""Every word `retry_on` accepts, in the order configs list them."""

RETRY_WORD_HELP: dict[str, str] = {
    "crash": "a signal or an exception",
    "exit": "non-zero",
    "rate_limited": "exit 75 or RETRY-AFTER: waits, using no retry",
    "qa": "a QA check of the config's qa failed",
}
"""What a word covers, where its name alone does not say."""


def describe_retry_words() -> str:
    """The accepted words as help text: 'timeout, crash (a signal or an exception), …'."""
    return ", ".join(
        f"{word} ({RETRY_WORD_HELP[word]})" if word in RETRY_WORD_HELP else word
        for word in RETRY_ON
    )


EX_TEMPFAIL = 75
"""The exit status that says "try again later" (sysexits.h): a rate-limited attempt."""


class RateLimited(Exception):
    """An attempt was told "later": it ends rate-limited, to run again after `retry_after`
    seconds (None: when the rate limit gives the next token, or after a backoff)."""

    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.retry_after = retry_after
