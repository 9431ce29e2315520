"""Every verb of `batchtui`: a module each (`start`, `retry` and `resume` share one), which
owns the verb's arguments and its handler. `VERBS` registers them, in the order `--help`
lists them, with their one line of help: `batchtui --help` reads no verb's module, and a
command line loads only its own verb's."""

from __future__ import annotations

import argparse
import importlib
from typing import NamedTuple

from .base import BaseCommand


class Verb(NamedTuple):
    """A verb: its name, its one line of help (None: not listed), where its command is."""

    name: str
    help: str | None
    command_at: str
    """`module:Class` in this package."""

    def command(self) -> BaseCommand:
        """The verb's command (its module is imported now, once)."""
        module, _, name = self.command_at.partition(":")
        command: type[BaseCommand] = getattr(importlib.import_module(f"{__name__}.{module}"), name)
        return command()

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        """Add the verb's arguments to its parser (its command says which)."""
        self.command().add_arguments(parser)


VERBS: tuple[Verb, ...] = (
    Verb("tui", "open the terminal UI", "tui:Tui"),
    Verb("create", "create a DRAFT batch", "create:Create"),
    Verb("list", "list batches: the newest ones (--all: every one)", "list:List"),
    Verb("show", "show a batch and its items", "show:Show"),
    Verb("stages", "a pipeline's stages and where each item is in them", "stages:Stages"),
    Verb("delete", "delete a batch (outputs are kept unless --outputs)", "delete:Delete"),
    Verb("add", "add items (DRAFT): one per argument, or one per line of --file", "add:Add"),
    Verb("edit", "replace one item's content (DRAFT)", "edit:Edit"),
    Verb("remove", "remove one item (DRAFT)", "remove:Remove"),
    Verb("move", "move one item up or down (DRAFT)", "move:Move"),
    Verb("config", "change config (DRAFT); with no flags, show it", "config:Config"),
    Verb(
        "duplicate",
        "a new DRAFT batch from this one: its config and items, none of its runs",
        "duplicate:Duplicate",
    ),
    Verb(
        "import",
        "a new DRAFT batch re-made from a batch's manifest: its config and items",
        "import_:Import",
    ),
    Verb("rename", "rename a batch (DRAFT)", "rename:Rename"),
    Verb("lock", "validate and freeze the config (DRAFT → LOCKED)", "lock:Lock"),
    Verb("unlock", "back to DRAFT for editing (LOCKED or FAILED → DRAFT)", "unlock:Unlock"),
    Verb("start", "run a LOCKED batch, here with live progress or --detach'ed", "start:Start"),
    Verb("retry", "run again only the items that did not succeed", "start:Retry"),
    Verb(
        "resume",
        "go on with a paused batch (pause); for a PARTIAL, FAILED or interrupted batch, the "
        "same as retry; --all: lift the host's pause",
        "start:Resume",
    ),
    Verb(
        "template",
        "reusable batch structures, kept as TOML files (list, show, save, delete)",
        "template:Template",
    ),
    Verb(
        "attach",
        "follow a running batch live (ctrl+c detaches; the run goes on)",
        "attach:Attach",
    ),
    Verb("_runner", None, "runner:Runner"),  # the detached runner: not listed in --help
    Verb("_waiter", None, "waiter:Waiter"),  # starts a queued start: not listed either
    Verb("_courier", None, "courier:Courier"),  # delivers the outbox: not listed either
    Verb("cancel", "stop a PROCESSING batch, or take back a queued start", "cancel:Cancel"),
    Verb(
        "confirm",
        "yes to the forecast a run waits on after its canary (--confirm-forecast)",
        "confirm:Confirm",
    ),
    Verb(
        "pause",
        "hold a PROCESSING batch: no new item starts (--now: running ones freeze too); "
        "--all: every batch on this host",
        "pause:Pause",
    ),
    Verb(
        "concurrency",
        "change how many items run at once (also while running)",
        "concurrency:Concurrency",
    ),
    Verb(
        "priority",
        "set a batch's priority on this host: higher is served first when items wait for a "
        "slot (also while running)",
        "priority:Priority",
    ),
    Verb(
        "queue",
        "this host's box: what runs in which slot (and its GPU), who waits and in what order",
        "queue:Queue",
    ),
    Verb(
        "cache",
        "the pipelines' stage caches: their size, and --prune --older 30d / --max-size 20G",
        "cache:Cache",
    ),
    Verb(
        "notify",
        "where runs announce their news: test each target, list deliveries not yet made, "
        "resend given-up ones, make a webhook secret",
        "notify:Notify",
    ),
    Verb("progress", "counts, percent, elapsed and ETA", "progress:Progress"),
    Verb("failed", "items that did not succeed, with reasons", "failed:Failed"),
    Verb("log", "print an item's log (--attempt N: one attempt's; --follow it)", "log:Log"),
    Verb(
        "outputs",
        "output files of succeeded items (--approved: the approved ones)",
        "outputs:Outputs",
    ),
    Verb(
        "review",
        "approve or reject succeeded items' outputs (--note why); retry --rejected makes the "
        "rejected ones again",
        "review:Review",
    ),
    Verb(
        "qa",
        "measure a batch's outputs with ffmpeg's filters: black, frozen, silent, clipped, "
        "loudness, a blank first frame; and the series' spread",
        "qa:Qa",
    ),
    Verb(
        "export",
        "hand the approved outputs to a folder: hard links, posters and their manifest lines",
        "export:Export",
    ),
    Verb("generators", "list generators and command placeholders", "generators:Generators"),
    Verb("platforms", "list platform presets", "platforms:Platforms"),
    Verb("styles", "list the titlecard's style presets", "styles:Styles"),
    Verb(
        "serve",
        "serve the HTTP API (/v1/batch, docs at /docs) on this database; runs it starts "
        "belong to runner processes, so stopping the server never stops them",
        "serve:Serve",
    ),
    Verb(
        "web",
        "serve the terminal UI in a browser on this database, a batchtui per tab; runs "
        "belong to runner processes, so closing a tab or stopping the server never stops them",
        "web:Web",
    ),
)

BY_NAME: dict[str, Verb] = {verb.name: verb for verb in VERBS}
"""Each verb by its name."""

__all__ = ["BY_NAME", "VERBS", "BaseCommand", "Verb"]
