"""Sizes of files as people write and read them: `20G`, `500M`, `1.5T`, `4096` (bytes)."""

from __future__ import annotations

import math
import re

from .errors import ValidationError

_UNITS = {"": 1, "K": 1024, "M": 1024**2, "G": 1024**3, "T": 1024**4}
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([KMGT]?)(?:i?B)?\s*$", re.IGNORECASE)

SIZE_RULE = "a number of bytes, or with a unit: 500M, 20G, 1.5T"


def parse_size(text: str) -> int:
    """`text` as a number of bytes (K, M, G, T are powers of 1024); ValidationError else."""
    match = _SIZE.match(text)
    if not match:
        raise ValidationError(f"'{text}' is not a size ({SIZE_RULE})")
    value = float(match.group(1)) * _UNITS[match.group(2).upper()]
    if not math.isfinite(value) or value > 2**62:
        raise ValidationError(f"'{text}' is too large a size")
    return int(value)


def size_text(size: int) -> str:
    """Bytes as a person reads them: `812 B`, `3.4 MB`, `1.2 GB` (powers of 1024)."""
    value = float(size)
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if value < 1024 or unit == "TB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")
