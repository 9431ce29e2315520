"""`batchtui` on the command line: every batch operation as a verb, `--json` on every read.

Exit codes: 0 success (a run ended COMPLETE), 1 a run ended PARTIAL or FAILED, 2 usage or
validation error (one line on stderr, nothing changed), 130 interrupted.
"""

from __future__ import annotations

import argparse
import functools
import os
import signal
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import anyio

from .. import __version__
from ..core.errors import ValidationError
from ..core.models import Batch, BatchStatus
from ..core.platforms import PLATFORMS
from ..core.textsafe import inert, one_line
from ..generators import BUILTIN, available
from ..generators.command import PLACEHOLDERS
from ..launch import (
    EXIT_OK,
    EXIT_RUN_FAILED,
    EXIT_USAGE,
    leave,
    open_tui,
    reported,
)
from ..runners.detached import start_detached
from ..service.facade import BatchService
from ..store import Repository
from .output import (
    RunDisplay,
    batch_json,
    batches_table,
    console,
    item_json,
    items_table,
    print_json,
    progress_line,
    show_batch,
)

if TYPE_CHECKING:
    from rich.console import Console

ATTACH_POLL = 0.2  # seconds between looks at the database while attached


class _Parser(argparse.ArgumentParser):
    """argparse, but usage errors are one line and exit 2."""

    def error(self, message: str) -> NoReturn:
        sys.stderr.write(f"batchtui: error: {one_line(message)} (see: {self.prog} --help)\n")
        sys.exit(EXIT_USAGE)


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a whole number") from None
    return value


def _number(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a number") from None


def _config_flags(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("config")
    group.add_argument("--platform", choices=sorted(PLATFORMS), help="preset: size and max length")
    # Built-ins only: listing plugins reads every installed package's metadata (~8 ms on
    # every command, measured); `batchtui generators` lists them all.
    group.add_argument(
        "--generator",
        help=f"how items are made: {', '.join(BUILTIN)} or a plugin (see: batchtui generators)",
    )
    group.add_argument(
        "--command",
        help="argv template for the command generator, e.g. "
        "'python render.py --text {content} --out {output}' (never run through a shell)",
    )
    group.add_argument("--duration", type=_number, help="seconds per video (default 5)")
    group.add_argument("--fps", type=_positive_int, help="frames per second (default 30)")
    group.add_argument("--concurrency", type=_positive_int, help="items at once (default 3)")
    group.add_argument("--max-items", type=_positive_int, help="item limit (default 10)")
    group.add_argument("--timeout", type=_number, help="seconds per item before it fails")
    group.add_argument("--output", dest="output_dir", help="output folder")
    group.add_argument("--workdir", help="folder the command runs in (default: here)")
    group.add_argument("--ext", dest="output_ext", help="output file extension (default mp4)")
    group.add_argument("--background", help="card background colour (name or #rrggbb)")
    group.add_argument("--text-color", help="card text colour")
    group.add_argument(
        "--validate",
        dest="validate_output",
        choices=["auto", "video", "nonempty", "exists"],
        help="how outputs are checked (auto: probe video files, else non-empty)",
    )


_CONFIG_KEYS = (
    "platform",
    "generator",
    "command",
    "duration",
    "fps",
    "concurrency",
    "max_items",
    "timeout",
    "output_dir",
    "workdir",
    "output_ext",
    "background",
    "text_color",
    "validate_output",
)


def build_parser() -> argparse.ArgumentParser:
    """The whole command line."""
    parser = _Parser(
        prog="batchtui",
        description="Generate a series of related media: create a batch, add items, lock, "
        "start, watch, retry what failed. With no command, opens the terminal UI.",
        epilog="ID: a batch id, a unique prefix of it, its name, or a unique start of its name.",
    )
    parser.add_argument("--version", action="version", version=f"batchtui {__version__}")
    parser.add_argument(
        "--db", help="database file (default: $BATCHTUI_DB or the user data folder)"
    )
    verbs = parser.add_subparsers(dest="verb", metavar="COMMAND", parser_class=_Parser)

    def verb(name: str, text: str, *, ref: bool = True, json: bool = False) -> Any:
        sub = verbs.add_parser(name, help=text, description=text)
        if ref:
            sub.add_argument("id", metavar="ID", help="batch id, id prefix or name")
        if json:
            sub.add_argument("--json", action="store_true", help="print JSON")
        return sub

    verb("tui", "open the terminal UI", ref=False)
    sub = verb("create", "create a DRAFT batch", ref=False, json=True)
    sub.add_argument("name", metavar="NAME")
    _config_flags(sub)
    verb("list", "list batches", ref=False, json=True)
    verb("show", "show a batch and its items", json=True)
    sub = verb("delete", "delete a batch (outputs are kept unless --outputs)", json=True)
    sub.add_argument("--outputs", action="store_true", help="also delete its output folder")
    sub = verb("add", "add items (DRAFT): one per argument, or one per line of --file", json=True)
    sub.add_argument("contents", metavar="CONTENT", nargs="*")
    sub.add_argument("--file", "-f", help="read items from a file, one per line ('-' = stdin)")
    sub = verb("edit", "replace one item's content (DRAFT)", json=True)
    sub.add_argument("item", metavar="ITEM", help="item position (1-based) or id prefix")
    sub.add_argument("content", metavar="CONTENT")
    sub = verb("remove", "remove one item (DRAFT)", json=True)
    sub.add_argument("item", metavar="ITEM")
    sub = verb("move", "move one item up or down (DRAFT)", json=True)
    sub.add_argument("item", metavar="ITEM")
    sub.add_argument("offset", metavar="OFFSET", type=int, help="e.g. -1 up one, 2 down two")
    sub = verb("config", "change config (DRAFT); with no flags, show it", json=True)
    _config_flags(sub)
    sub = verb("rename", "rename a batch (DRAFT)", json=True)
    sub.add_argument("name", metavar="NAME")
    verb("lock", "validate and freeze the config (DRAFT → LOCKED)", json=True)
    verb("unlock", "back to DRAFT for editing (LOCKED → DRAFT)", json=True)
    for name, text in (
        ("start", "run a LOCKED batch, here with live progress or --detach'ed"),
        ("retry", "run again only the items that did not succeed"),
        ("resume", "the same as retry: pick up a PARTIAL, FAILED or interrupted batch"),
    ):
        sub = verb(name, text, json=True)
        sub.add_argument(
            "--detach",
            "-d",
            action="store_true",
            help="run in the background, surviving this terminal (watch: attach)",
        )
    verb("attach", "follow a running batch live (ctrl+c detaches; the run goes on)", json=True)
    runner = verbs.add_parser("_runner")  # the background runner; not listed in --help
    runner.add_argument("id")
    runner.set_defaults(json=False)
    verb("cancel", "stop a PROCESSING batch", json=True)
    sub = verb("concurrency", "change how many items run at once (also while running)", json=True)
    sub.add_argument("value", metavar="N", type=_positive_int)
    verb("progress", "counts, percent, elapsed and ETA", json=True)
    verb("failed", "items that did not succeed, with reasons", json=True)
    verb("outputs", "output files of succeeded items", json=True)
    verb("generators", "list generators and command placeholders", ref=False, json=True)
    verb("platforms", "list platform presets", ref=False, json=True)
    return parser


def _config_fields(args: argparse.Namespace) -> dict[str, Any]:
    return {key: getattr(args, key) for key in _CONFIG_KEYS if getattr(args, key, None) is not None}


def _read_lines(source: str) -> list[str]:
    """Items from a file (or stdin for '-'): one per line, blank lines skipped."""
    try:
        text = sys.stdin.read() if source == "-" else Path(source).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ValidationError(f"no such file: {source}") from None
    except IsADirectoryError:
        raise ValidationError(f"{source} is a folder, not a file") from None
    except UnicodeDecodeError:
        raise ValidationError(f"{source} is not UTF-8 text") from None
    except OSError as exc:
        raise ValidationError(f"cannot read {source}: {exc.strerror}") from None
    # Only \n ends an item: splitlines() would also split on form feeds and U+2028.
    return [line.removesuffix("\r") for line in text.split("\n") if line.strip()]


class Cli:
    """One invocation: parsed arguments, the service, and where output goes."""

    def __init__(self, args: argparse.Namespace, service: BatchService) -> None:
        self.args = args
        self.service = service

    @functools.cached_property
    def out(self) -> Console:
        """Rich output for tables and styled text (rich loads only when needed)."""
        return console()

    def emit(self, data: Any, human: Callable[[], None]) -> int:
        if getattr(self.args, "json", False):
            print_json(data)
        else:
            human()
        return EXIT_OK

    def say(self, message: str) -> None:
        """Print a plain message: never markup, never raw control characters."""
        text = inert(message, keep_newlines=True)
        if not sys.stdout.isatty():
            sys.stdout.write(text + "\n")  # what rich would write here, without loading it
            return
        from rich.text import Text

        self.out.print(Text(text))

    def batch_result(self, batch: Batch, message: str) -> int:
        return self.emit(batch_json(batch), lambda: self.say(message))

    # verbs -------------------------------------------------------------

    def do_create(self) -> int:
        batch = self.service.create(self.args.name, **_config_fields(self.args))
        return self.batch_result(
            batch,
            f"created '{batch.name}' ({batch.id}), DRAFT — next: batchtui add {batch.id} "
            f'"a prompt" …',
        )

    def do_list(self) -> int:
        batches = self.service.list_batches()

        def human() -> None:
            if not batches:
                self.out.print('no batches yet — start one: batchtui create "Space Facts"')
            else:
                self.out.print(batches_table(batches))

        return self.emit([batch_json(b) for b in batches], human)

    def do_show(self) -> int:
        batch = self.service.get(self.args.id)
        return self.emit(batch_json(batch), lambda: show_batch(batch, self.out))

    def do_delete(self) -> int:
        batch = self.service.delete(self.args.id, remove_outputs=self.args.outputs)
        kept = "its outputs too" if self.args.outputs else "its output files are kept"
        return self.batch_result(batch, f"deleted '{batch.name}' ({batch.id}); {kept}")

    def do_add(self) -> int:
        contents = list(self.args.contents)
        if self.args.file:
            contents += _read_lines(self.args.file)
        if not contents:
            raise ValidationError("nothing to add: give CONTENT arguments or --file")
        items = self.service.add_items(self.args.id, contents)
        batch = self.service.get(self.args.id)
        return self.emit(
            [item_json(item) for item in items],
            lambda: self.say(
                f"added {len(items)} item{'s' * (len(items) != 1)} to '{batch.name}' "
                f"({len(batch.items)}/{batch.config.max_items})"
            ),
        )

    def do_edit(self) -> int:
        item = self.service.edit_item(self.args.id, self.args.item, self.args.content)
        return self.emit(item_json(item), lambda: self.out.print(f"item {item.position} updated"))

    def do_remove(self) -> int:
        item = self.service.remove_item(self.args.id, self.args.item)
        return self.emit(item_json(item), lambda: self.out.print(f"item {item.position} removed"))

    def do_move(self) -> int:
        item = self.service.move_item(self.args.id, self.args.item, self.args.offset)
        return self.emit(
            item_json(item), lambda: self.out.print(f"item moved to position {item.position}")
        )

    def do_config(self) -> int:
        fields = _config_fields(self.args)
        batch = (
            self.service.update_config(self.args.id, **fields)
            if fields
            else self.service.get(self.args.id)
        )
        return self.emit(
            batch.config.model_dump(mode="json"),
            lambda: [
                self.say(f"{key:<16}{value}") for key, value in batch.config.model_dump().items()
            ],
        )

    def do_rename(self) -> int:
        batch = self.service.rename(self.args.id, self.args.name)
        return self.batch_result(batch, f"renamed to '{batch.name}'")

    def do_lock(self) -> int:
        batch = self.service.lock(self.args.id)
        return self.batch_result(
            batch,
            f"locked '{batch.name}' (config hash {batch.config_hash}) — next: "
            f"batchtui start {batch.id}",
        )

    def do_unlock(self) -> int:
        batch = self.service.unlock(self.args.id)
        return self.batch_result(batch, f"'{batch.name}' is a DRAFT again")

    def do_cancel(self) -> int:
        batch = self.service.cancel(self.args.id)
        return self.batch_result(batch, f"cancel requested for '{batch.name}'")

    def do_concurrency(self) -> int:
        batch = self.service.set_concurrency(self.args.id, self.args.value)
        return self.batch_result(
            batch, f"'{batch.name}' now runs {batch.config.concurrency} at once"
        )

    def do_progress(self) -> int:
        progress = self.service.progress(self.args.id)
        return self.emit(
            progress.model_dump(mode="json"),
            lambda: self.out.print(progress_line(progress).removeprefix("progress  ")),
        )

    def do_failed(self) -> int:
        items = self.service.failed(self.args.id)
        return self.emit(
            [item_json(item) for item in items],
            lambda: self.out.print(items_table(items) if items else "no failed items"),
        )

    def do_outputs(self) -> int:
        items = self.service.outputs(self.args.id)
        data = [
            {
                "position": it.position,
                "item_id": it.id,
                "content": it.content,
                "output_path": it.output_path,
            }
            for it in items
        ]

        def human() -> None:
            if not items:
                self.out.print("no outputs yet")
            for item in items:
                print(item.output_path)

        return self.emit(data, human)

    def do_generators(self) -> int:
        data = {"generators": available(), "placeholders": PLACEHOLDERS}

        def human() -> None:
            self.out.print("generators: " + ", ".join(available()))
            self.out.print("command placeholders:")
            for name, text in PLACEHOLDERS.items():
                self.out.print(f"  {{{name}}}  {text}", markup=False)

        return self.emit(data, human)

    def do_platforms(self) -> int:
        data = {key: vars(p) for key, p in PLATFORMS.items()}

        def human() -> None:
            for p in PLATFORMS.values():
                self.out.print(
                    f"{p.key:<16}{p.width}x{p.height}  up to {p.max_duration:g}s  ({p.label})"
                )

        return self.emit(data, human)

    def do_start(self) -> int:
        return self._run(retry=False)

    def do_retry(self) -> int:
        return self._run(retry=True)

    def do_resume(self) -> int:
        return self._run(retry=True)

    def do_attach(self) -> int:
        """Follow a run from the database (any process's), until it ends or ctrl+c detaches."""
        batch = self.service.get(self.args.id)
        if batch.status in (BatchStatus.DRAFT, BatchStatus.LOCKED):
            raise ValidationError(
                f"batch '{batch.name}' is {batch.status.value}, not running — "
                f"start it: batchtui start {batch.id}"
            )
        repo = self.service.repo
        detached = False

        async def follow() -> Batch:
            nonlocal detached
            current = batch
            display = RunDisplay(current, sys.stderr if self.args.json else None)
            if current.runner is not None:
                from rich.text import Text

                display.console.print(
                    Text(f"attached to {current.runner.describe(self.service.clock())}"),
                    style="dim",
                )
            with display, anyio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
                stop = anyio.Event()

                async def on_signal() -> None:
                    nonlocal detached
                    async for _ in signals:
                        detached = True
                        stop.set()
                        return

                async with anyio.create_task_group() as tg:
                    tg.start_soon(on_signal)
                    seen: tuple[int, int] | None = None
                    display.show_snapshot(current)
                    while current.status is BatchStatus.PROCESSING and not stop.is_set():
                        with anyio.move_on_after(ATTACH_POLL):
                            await stop.wait()
                        signature = repo.signature()
                        if signature != seen:
                            seen = signature
                            current = repo.get(current.id) or current
                            display.show_snapshot(current)
                    tg.cancel_scope.cancel()
            return current

        ended = anyio.run(follow)
        if detached:
            self.say(
                f"detached: '{ended.name}' goes on in the background — stop it: "
                f"batchtui cancel {ended.id}"
            )
            return EXIT_OK
        return self._ended(ended, interrupted_by=None)

    def do__runner(self) -> int:
        """The detached runner itself (started by `start --detach`)."""
        now = self.service.clock().astimezone().isoformat(timespec="seconds")
        print(f"batchtui runner pid {os.getpid()} for batch {self.args.id}, {now}", flush=True)
        return self._execute(self.args.id, handover_wait=15.0)

    def _run(self, *, retry: bool) -> int:
        if getattr(self.args, "detach", False):
            started = start_detached(self.service, self.args.id, retry=retry)
            batch = started.batch
            return self.emit(
                {**batch_json(batch), "runner_pid": started.pid, "log": str(started.log_path)},
                lambda: self.say(
                    f"started '{batch.name}' in the background (pid {started.pid}); it keeps "
                    f"running if you close this terminal.\n"
                    f"  watch: batchtui attach {batch.id}   (or open it in batchtui)\n"
                    f"  stop:  batchtui cancel {batch.id}\n"
                    f"  log:   {started.log_path}"
                ),
            )
        batch = self.service.begin(self.args.id, retry=retry)
        return self._execute(batch.id, begun=batch)

    def _execute(
        self, batch_id: str, handover_wait: float = 0.0, *, begun: Batch | None = None
    ) -> int:
        """Run a begun batch here with live progress; signals stop it cleanly (INTERRUPTED)."""
        caught: signal.Signals | None = None

        async def main() -> Batch:
            nonlocal caught
            batch = begun or self.service.repo.get(batch_id)
            assert batch is not None
            display = RunDisplay(batch, sys.stderr if self.args.json else None)

            async def watch_signals() -> None:
                nonlocal caught
                signals = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
                with anyio.open_signal_receiver(*signals) as received:
                    async for signum in received:
                        caught = signal.Signals(signum)
                        display.console.print(f"{caught.name}: stopping running items …")
                        self.service.interrupt_all_here(f"stopped by {caught.name}")

            with display:
                async with anyio.create_task_group() as tg:
                    tg.start_soon(watch_signals)
                    ended = await self.service.run(
                        batch_id, display.on_event, handover_wait=handover_wait, begun=begun
                    )
                    tg.cancel_scope.cancel()
            return ended

        return self._ended(anyio.run(main), interrupted_by=caught)

    def _ended(self, ended: Batch, interrupted_by: signal.Signals | None) -> int:
        progress = ended.progress()

        def human() -> None:
            self.say(
                f"{ended.status.value}: {progress.succeeded}/{progress.total} succeeded"
                f" in {progress.elapsed or 0:.1f}s"
            )
            if ended.status is not BatchStatus.COMPLETE:
                self.say(
                    f"see why: batchtui failed {ended.id} — run them again: "
                    f"batchtui retry {ended.id}"
                )

        self.emit(batch_json(ended), human)
        if interrupted_by is not None:
            return 128 + int(interrupted_by)
        return EXIT_OK if ended.status is BatchStatus.COMPLETE else EXIT_RUN_FAILED


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `batchtui` command."""
    parser = build_parser()
    args = parser.parse_args(argv)

    def execute() -> int:
        repo = Repository(args.db) if args.db else Repository()
        if args.verb in (None, "tui"):
            return open_tui(repo)
        service = BatchService(repo)
        service.recover_orphans()
        handler = getattr(Cli(args, service), f"do_{args.verb.replace('-', '_')}")
        return handler()

    return reported(execute)


def run(argv: Sequence[str] | None = None) -> NoReturn:
    """The `batchtui` command: `main`, then a quick exit (see `launch.leave`)."""
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse: usage errors and --help
        code = exc.code if isinstance(exc.code, int) else EXIT_OK if exc.code is None else 1
        if not isinstance(exc.code, int | None):
            sys.stderr.write(f"{exc.code}\n")
    leave(code)


if __name__ == "__main__":
    run()
