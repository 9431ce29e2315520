"""The generator protocol: how one item becomes one output file.

A generator gets a `Job` (what to make, where to write it) and a `Context` (report progress,
run a child process with logging and clean cancellation). It writes `job.output`; the engine
then checks the file, moves it into place and records the item. Generators never touch the
database and never import Textual.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import ClassVar, Protocol

from ..core.item_vars import VarValue, as_text
from ..core.models import BatchConfig
from ..core.review import take_seed
from ..core.variants import SEED_RANGE, derived_seed


class GeneratorError(Exception):
    """A generation failed for a reason a person can read on one line."""


@dataclass(frozen=True)
class Job:
    """Everything a generator needs to make one item's output."""

    batch_id: str
    batch_name: str
    item_id: str
    index: int
    total: int
    content: str
    attempt: int
    config: BatchConfig
    output: Path
    """Where to write (a temporary name beside the final one, same extension)."""
    final_output: Path
    scratch: Path
    """A private folder for intermediate files (not created until a generator needs it: call
    `make_scratch()`); kept across the attempts of an item (a pipeline can resume from its own
    checkpoint), removed once the item succeeds."""
    log_path: Path
    retries_used: int = 0
    """Automatic retries this item has had in this run (this attempt may be one of them)."""
    not_before: datetime | None = None
    """When a waiting retry may start (None: at once)."""
    rerender: bool = False
    """Asked for again on purpose: render anew, never take over an earlier finished output."""
    vars: Mapping[str, VarValue] = field(default_factory=dict)
    """The item's own variables (the config's `var_defaults` fill the rest)."""
    key: str | None = None
    """The item's key (`core.item_keys`), if it has one."""
    variant: int | None = None
    """Which render of its item this is (1..`config.variants`; None: the batch has none)."""
    take: int = 1
    """Which take of the item this is: 1, then 2, 3… each time a rejected output is made
    again (`core.review`); a later take has a seed of its own."""
    stage: str | None = None
    """The pipeline stage this job makes (`config.stages`), or None: a batch with no stages is
    one stage, its job the whole item."""
    inputs: Mapping[str, Path] = field(default_factory=dict)
    """The verified outputs of the earlier stages, by stage name, in stage order (`{stage.NAME}`
    in a command); empty for the first stage and for a batch with no stages."""
    input: Path | None = None
    """The previous stage's output (`{in}`), or None for the first stage."""
    cache_key: str | None = None
    """The hash of what makes this stage's output (`engine/stage_keys.py`): where it is kept in
    the stage cache (None: a batch with no stages)."""

    @property
    def label(self) -> str:
        """How a person names the item: `3`, or `3.v2` for a variant."""
        return str(self.index) if self.variant is None else f"{self.index}.v{self.variant}"

    @property
    def seed(self) -> str:
        """`{seed}`: the item's own `seed` variable, else the config's `seed` default, else a
        number derived from its key (or number and content) and its variant
        (`core.variants.derived_seed`): each item and variant differs, and a re-made series gets
        the same ones. A later take (`take` > 1) has another (`core.review.take_seed`)."""
        own = self.vars.get("seed", (self.config.var_defaults or {}).get("seed"))
        if own is not None:
            text = as_text(own)
            if self.take <= 1:
                return text
            # A later take of a rejected output: another seed, a number's next one.
            if isinstance(own, int) or text.isdigit():
                return str(take_seed(int(text), self.take, SEED_RANGE))
            return f"{text}-take{self.take}"
        derived = derived_seed(self.key, self.index, self.content, self.variant or 1)
        return str(take_seed(derived, self.take, SEED_RANGE))

    @property
    def poster(self) -> Path:
        """Where a generator may write the output's poster (its thumbnail, a PNG): beside
        `output`; it is moved into place, and recorded in the manifest, with the output."""
        return sidecar(self.output, POSTER)

    def make_scratch(self) -> Path:
        """Create the item's scratch folder and return it."""
        self.scratch.mkdir(parents=True, exist_ok=True)
        return self.scratch


POSTER = ".poster.png"
SIDECARS = (POSTER,)
"""Files a generator may write beside its output, named after it: `01-x.mp4` has
`01-x.poster.png`."""


def sidecar(output: Path, suffix: str) -> Path:
    """The file named after `output` with `suffix`: `.01-x.part1.mp4` → `.01-x.part1.poster.png`."""
    return output.with_name(output.stem + suffix)


LineHandler = Callable[[str, str], None]
"""Called with (stream name, line) for each line a child process prints."""


class Context(Protocol):
    """What the engine offers a running generator."""

    @property
    def slot(self) -> int:
        """The slot the item runs in (0..N-1): a host slot's number, else its worker's."""
        ...

    def progress(self, fraction: float) -> None:
        """Report how far along the item is, 0.0 to 1.0."""

    def log(self, text: str) -> None:
        """Append a line to the item's log file."""

    def cost(self, amount: float) -> None:
        """Report money this attempt spent (added up; as a `COST` line a command prints)."""

    async def run(
        self,
        argv: list[str],
        *,
        cwd: Path | None = None,
        on_line: LineHandler | None = None,
        log_stdout: bool = True,
    ) -> None:
        """Run a child process (no shell), logging its output; raise GeneratorError if it fails.

        `log_stdout=False` keeps machine-readable stdout (progress) out of the log.

        The child gets its own session; if the item is cancelled or times out, its whole process
        group is terminated, then killed after a grace period.
        """


class Generator(ABC):
    """Base class of generators; register third-party ones in entry-point group
    `batchtui.generators`."""

    name: ClassVar[str]
    description: ClassVar[str] = ""
    version: ClassVar[str] = "1"
    """Changed when what the generator makes from the same settings changes: a pipeline's
    cached outputs of its older version are then not taken (`engine/stage_keys.py`)."""

    def check(self, config: BatchConfig) -> list[str]:
        """Problems that must block locking a batch with this config (empty when fine)."""
        return []

    def output_ext(self, config: BatchConfig) -> str:
        """The file extension outputs get."""
        return config.output_ext

    @abstractmethod
    async def generate(self, job: Job, ctx: Context) -> None:
        """Write `job.output`, reporting progress through `ctx`; raise GeneratorError to fail."""
