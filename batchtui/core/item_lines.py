"""Items from text, one a line: the one reader behind `add --file` (and `add ID -`), the
TUI's import dialog and its pastes, and the lines of a `--jsonl` table.

The rule, stated once: text is UTF-8, a byte-order mark at its start is not content; a line
ends at CRLF, CR or LF (files have LF or CRLF, terminals send a paste's line ends as CR) and
at nothing else (a form feed or U+2028 inside an item stays in it); a line that is blank or
only whitespace is no item; every other line is one item, exactly as written.
"""

from __future__ import annotations

import re
import sys

from .errors import ValidationError
from .limits import MAX_INPUT_FILE_BYTES

BOM = "\ufeff"
_LINE_END = re.compile(r"\r\n|\r|\n")


def split_lines(text: str) -> list[str]:
    """`text` cut at every CRLF, CR and LF (only those), with no line ends kept; a final
    line end starts no empty last line."""
    lines = _LINE_END.split(text)
    if lines and lines[-1] == "":
        lines.pop()
    return lines


def item_lines(text: str) -> list[str]:
    """The items `text` holds: its non-blank lines, as written (a leading BOM dropped)."""
    return [line for line in split_lines(text.removeprefix(BOM)) if line.strip()]


def read_text(source: str) -> str:
    """The text of file `source` ('-': standard input), decoded as UTF-8 with its BOM
    dropped; ValidationError in one line if it cannot be read, is too large or is not UTF-8."""
    shown = "standard input" if source == "-" else source
    try:
        if source == "-":
            data = _stdin()
        else:
            # Read no more than the limit whatever the file says of its size: a device or a
            # /proc file says 0 (`--file /dev/zero` read for ever).
            with open(source, "rb") as handle:
                data = handle.read(MAX_INPUT_FILE_BYTES + 1)
            if len(data) > MAX_INPUT_FILE_BYTES:
                raise ValidationError(
                    f"{source} is larger than {MAX_INPUT_FILE_BYTES // 2**20} MiB"
                )
    except FileNotFoundError:
        raise ValidationError(f"no such file: {source}") from None
    except IsADirectoryError:
        raise ValidationError(f"{source} is a folder, not a file") from None
    except OSError as exc:
        raise ValidationError(f"cannot read {shown}: {exc.strerror or exc}") from None
    if isinstance(data, str):  # a text stream with no bytes underneath (a test's, an IDE's)
        return data.removeprefix(BOM)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValidationError(f"{shown} is not UTF-8 text") from None


def read_item_lines(source: str) -> list[str]:
    """The items of file `source` ('-': standard input), one a line (see the module)."""
    return item_lines(read_text(source))


def _stdin() -> bytes | str:
    buffer = getattr(sys.stdin, "buffer", None)
    if buffer is None:
        return sys.stdin.read()
    data: bytes = buffer.read(MAX_INPUT_FILE_BYTES + 1)
    if len(data) > MAX_INPUT_FILE_BYTES:
        raise ValidationError(f"standard input is larger than {MAX_INPUT_FILE_BYTES // 2**20} MiB")
    return data
