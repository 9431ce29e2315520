"""Host settings: what applies to every batch and runner on this machine, not to one batch.

Read from the environment first, then `settings.toml` in the user config folder
(`$BATCHTUI_CONFIG_DIR`, else `~/.config/batchtui/`):

```toml
slots = 1                                  # at most this many items run at once on this host
slots_dir = "/var/lib/batchtui/slots"      # where the slot locks live (share it between users)
```

or, to give each slot its own environment (a GPU each) and name pools for later use:

```toml
[slots]
default = 2                                # the host limit, as `slots = 2` above
gpu = 2                                    # named pools (for pipelines' stages)
[slots.env]
CUDA_VISIBLE_DEVICES = ["0", "1"]          # slot 0 sees "0", slot 1 sees "1"
```

and, for host-wide rate limits that batches name (`--rate-key tts`):

```toml
[rates]
tts = "30/min"                             # every batch naming tts together: 30 starts a minute
```

`BATCHTUI_SLOTS` and `BATCHTUI_SLOTS_DIR` override the file. Read afresh at every run start:
a long-lived process never keeps a stale copy. The slot folder is made absolute where it is
read (see `_slots_dir`), so every runner counts against the same slots.
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from .errors import ValidationError
from .rates import RATE_KEY_PATTERN, RATE_KEY_RULE, Rate, parse_rate

SETTINGS_NAME = "settings.toml"
MAX_SLOTS = 1024
SLOTS_HELP = (
    "host limit: $BATCHTUI_SLOTS (or slots = N in settings.toml) items at once across every "
    "batch and runner on this host; the slot lock files live in $BATCHTUI_SLOTS_DIR (or "
    "slots_dir), a relative path taken from the folder this command runs in (slots_dir: from "
    "the settings file's folder)"
)
"""How the host's slot limit is set, for a command's help."""


@dataclass(frozen=True)
class HostSettings:
    """The settings in force for this host."""

    slots: int | None
    """At most this many items run at once across every batch and runner here (None: no limit
    beyond each batch's concurrency)."""
    slots_dir: Path
    slot_env: dict[str, tuple[str, ...]] = field(default_factory=dict)
    """Per-slot environment: slot `i` gets value `i` of each list (wrapping around when the
    list is shorter than the slots)."""
    pools: dict[str, int] = field(default_factory=dict)
    """Named pools and their sizes (the default pool is `slots`)."""

    rates: dict[str, Rate] = field(default_factory=dict)
    """Host-wide rate limits by name (`[rates]`), one token bucket each, shared by every
    runner on the host whose batch names it."""

    def rate_for(self, key: str) -> Rate:
        """The host-wide rate named `key`; ValidationError, one line, when there is none."""
        rate = self.rates.get(key)
        if rate is None:
            raise ValidationError(f"no rate '{key}' in {SETTINGS_NAME}")
        return rate

    def env_for(self, slot: int) -> dict[str, str]:
        """The environment slot `slot` adds to its items' own."""
        return {name: values[slot % len(values)] for name, values in self.slot_env.items()}


def config_dir() -> Path:
    """The user config folder (`BATCHTUI_CONFIG_DIR` overrides)."""
    env = os.environ.get("BATCHTUI_CONFIG_DIR")
    if env:
        return Path(env).expanduser()
    import platformdirs

    return Path(platformdirs.user_config_dir("batchtui", appauthor=False))


def settings_path() -> Path:
    return config_dir() / SETTINGS_NAME


def state_dir() -> Path:
    """The user state folder (`~/.local/state/batchtui/`): slot locks, the API's token."""
    import platformdirs

    return Path(platformdirs.user_state_dir("batchtui", appauthor=False))


def _default_slots_dir() -> Path:
    return state_dir() / "slots"


def _slots(value: object, where: str) -> int | None:
    if value is None or value == "":
        return None
    try:
        slots = int(str(value).strip()) if not isinstance(value, bool) else None
    except ValueError:
        slots = None
    if slots is None or not 1 <= slots <= MAX_SLOTS:
        raise ValidationError(
            f"{where}: slots must be a whole number from 1 to {MAX_SLOTS}, not {value!r}"
        )
    return slots


def _read_file(path: Path) -> dict[str, object]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        return {}
    except tomllib.TOMLDecodeError as exc:
        raise ValidationError(f"settings file {path} is not valid TOML: {exc}") from None
    except OSError as exc:
        raise ValidationError(f"settings file {path} cannot be read: {exc.strerror}") from None


def load_host_settings() -> HostSettings:
    """The host settings now (environment over file); ValidationError, in one line, for a
    value that cannot be used."""
    path = settings_path()
    data = _read_file(path)
    table = data.get("slots")
    pools: dict[str, int] = {}
    slot_env: dict[str, tuple[str, ...]] = {}
    if isinstance(table, dict):
        in_file = table.get("default")
        slot_env = _slot_env(table.get("env", {}), path)
        for name, size in table.items():
            if name in ("default", "env"):
                continue
            if not _POOL_NAME.fullmatch(name):
                raise ValidationError(
                    f"{path}: [slots] {name!r} is not a pool name (a-z, 0-9, _ and -)"
                )
            count = _slots(size, f"{path}: [slots] {name}")
            if count is not None:
                pools[name] = count
    else:
        in_file = table
    env_slots = os.environ.get("BATCHTUI_SLOTS")
    if env_slots is not None and env_slots.strip():
        slots = _slots(env_slots, "BATCHTUI_SLOTS")
    else:
        slots = _slots(in_file, str(path))
    return HostSettings(
        slots=slots,
        slots_dir=_slots_dir(data.get("slots_dir"), path),
        slot_env=slot_env,
        pools=pools,
        rates=_rates(data.get("rates", {}), path),
    )


def _rates(table: object, path: Path) -> dict[str, Rate]:
    """`[rates]`: NAME = "30/min"."""
    if not isinstance(table, dict):
        raise ValidationError(f'{path}: [rates] must be a table of NAME = "N/min"')
    rates: dict[str, Rate] = {}
    for name, text in table.items():
        if not re.fullmatch(RATE_KEY_PATTERN, name):
            raise ValidationError(f"{path}: [rates] {name!r} is not a rate name ({RATE_KEY_RULE})")
        try:
            rates[name] = parse_rate(text if isinstance(text, str) else repr(text))
        except ValueError as exc:
            raise ValidationError(f"{path}: [rates] {name}: {exc}") from None
    return rates


_POOL_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,31}")
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _slot_env(table: object, path: Path) -> dict[str, tuple[str, ...]]:
    """`[slots.env]`: NAME = ["value for slot 0", "value for slot 1", …]."""
    if not isinstance(table, dict):
        raise ValidationError(f"{path}: [slots.env] must be a table of NAME = [values]")
    env: dict[str, tuple[str, ...]] = {}
    for name, values in table.items():
        if not _ENV_NAME.fullmatch(name):
            raise ValidationError(f"{path}: [slots.env] {name!r} is not an environment name")
        if isinstance(values, (str, int)) and not isinstance(values, bool):
            values = [values]
        if (
            not isinstance(values, list)
            or not values
            or not all(isinstance(v, (str, int)) and not isinstance(v, bool) for v in values)
            or any("\0" in str(v) for v in values)
        ):
            raise ValidationError(
                f"{path}: [slots.env] {name} must be a list of values, one per slot "
                '(e.g. ["0", "1"])'
            )
        env[name] = tuple(str(v) for v in values)
    return env


def _slots_dir(in_file: object, path: Path) -> Path:
    """The slot folder, absolute: one folder for every process of this host that reads the
    same settings, whatever folder each runs in (a runner runs in its batch's working folder).
    `BATCHTUI_SLOTS_DIR` relative: from the folder of the process that reads it first, which
    writes it back absolute, so the runners it starts inherit that folder; `slots_dir`
    relative: from the settings file's folder."""
    env = os.environ.get("BATCHTUI_SLOTS_DIR")
    if env:
        folder = Path(os.path.abspath(Path(env).expanduser()))
        if str(folder) != env:
            os.environ["BATCHTUI_SLOTS_DIR"] = str(folder)
        return folder
    if in_file is None or in_file == "":
        return _default_slots_dir()
    if not isinstance(in_file, str):
        raise ValidationError(f"{path}: slots_dir must be a folder path (a string)")
    return Path(os.path.abspath(path.parent / Path(in_file).expanduser()))
