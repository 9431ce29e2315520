"""Who hears of an event: the batch's own targets, or the host's where the batch names none
(`[notify]` in settings.toml). One rule, for the runner, recovery and `notify test`."""

from __future__ import annotations

from dataclasses import dataclass

from ...core.models import BatchConfig
from ...core.notify_settings import NotifySettings
from .outbox import Kind


@dataclass(frozen=True)
class Target:
    """One place an event goes."""

    kind: Kind
    target: str
    secret: str | None = None
    timeout: float | None = None


def events_of(config: BatchConfig, host: NotifySettings) -> tuple[str, ...]:
    """The events the batch announces."""
    return tuple(config.events) if config.events is not None else host.events


def hook_of(config: BatchConfig, host: NotifySettings) -> str | None:
    """The `on_end` command in force (None: no hook; the batch's '' says none)."""
    hook = config.on_end if config.on_end is not None else host.on_end
    return hook or None


def targets_for(
    config: BatchConfig, host: NotifySettings, event: str, *, test: bool = False
) -> list[Target]:
    """Where `event` goes for a batch of `config` (`test`: every target, whatever its
    events, but not the hook)."""
    targets: list[Target] = []
    if test or event in events_of(config, host):
        secret = config.webhook_secret or host.webhook_secret
        webhooks = config.webhooks if config.webhooks is not None else host.webhooks
        targets += [Target("webhook", url, secret=secret) for url in webhooks]
        people = config.notify if config.notify is not None else host.notify
        targets += [Target("notify", url) for url in people]
    hook = hook_of(config, host)
    if event == "ended" and hook and not test:  # the hook is `on_end`: it runs at every end
        timeout = config.hook_timeout if config.hook_timeout is not None else host.hook_timeout
        targets.append(Target("hook", hook, timeout=timeout))
    return targets
