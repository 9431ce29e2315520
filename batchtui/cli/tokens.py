"""Token files, handled as ssh handles keys and Jupyter its tokens.

- A token file someone names (`--token-file`) is used only if no other account can read or
  write it (mode 0600 or stricter) and it belongs to this account (or root): a token others
  can read is no secret, and one they can write lets them choose it.
- Without one, `serve` uses this account's own token: made once, at random, in a file only this
  account can read (`~/.local/state/batchtui/api-token`, in a folder only it can enter), and
  reused by later servers so scripts keep working. Its owner's loopback requests need no token
  at all; other accounts on the machine need it, and cannot read it.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import stat
from pathlib import Path

from ..core.errors import ValidationError
from ..core.settings import state_dir

MIN_TOKEN_CHARS = 16
USER_TOKEN_NAME = "api-token"


def _check_private(path: Path, info: os.stat_result) -> None:
    """ValidationError unless `path` is a regular file only its owner (us, or root) can use."""
    if not stat.S_ISREG(info.st_mode):
        raise ValidationError(f"the token file {path} is not a regular file")
    if info.st_uid not in (os.getuid(), 0):
        raise ValidationError(
            f"the token file {path} belongs to another account (uid {info.st_uid})"
        )
    if info.st_mode & 0o077:
        mode = stat.S_IMODE(info.st_mode)
        raise ValidationError(
            f"the token file {path} can be used by other accounts (mode {mode:04o}): "
            f"chmod 600 {path}"
        )


def read_token(path: str | Path) -> str:
    """The token in `path` (stripped); ValidationError if it cannot be used."""
    where = Path(path).expanduser()
    try:
        # O_NOFOLLOW: the file itself, never what a link planted in its place points at.
        fd = os.open(where, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError as exc:
        raise ValidationError(
            f"cannot read the token file {where}: {exc.strerror or exc}"
        ) from None
    with os.fdopen(fd, "rb") as handle:
        _check_private(where, os.fstat(handle.fileno()))
        raw = handle.read(4096)
    try:
        token = raw.decode("utf-8").strip()
    except UnicodeDecodeError:
        raise ValidationError(f"the token file {where} is not UTF-8 text") from None
    if len(token) < MIN_TOKEN_CHARS or any(ch.isspace() or not ch.isprintable() for ch in token):
        raise ValidationError(
            f"the token in {where} must be one word of at least {MIN_TOKEN_CHARS} printable "
            "characters"
        )
    return token


def user_token_path() -> Path:
    """Where this account's own API token lives."""
    return state_dir() / USER_TOKEN_NAME


def user_token() -> tuple[str, Path]:
    """This account's own token and its file, made the first time (see the module's docstring)."""
    path = user_token_path()
    folder = path.parent
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError as exc:
        raise ValidationError(f"cannot make {folder}: {exc.strerror or exc}") from None
    if path.exists() or path.is_symlink():
        return read_token(path), path
    token = secrets.token_urlsafe(32)
    # Written whole to a private file first, then linked into place: a server starting at the
    # same moment sees no file or the whole token, never half of one.
    draft = folder / f".{USER_TOKEN_NAME}.{os.getpid()}.{secrets.token_hex(4)}"
    try:
        fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        try:
            os.write(fd, f"{token}\n".encode())
            os.fsync(fd)
        finally:
            os.close(fd)
        try:
            os.link(draft, path)
        except FileExistsError:  # the other server won: use its token
            return read_token(path), path
    except OSError as exc:
        raise ValidationError(f"cannot write {path}: {exc.strerror or exc}") from None
    finally:
        with contextlib.suppress(OSError):
            draft.unlink()
    return token, path
