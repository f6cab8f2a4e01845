"""Bytes, files and numbers as every layer needs them: sizes written as people and Docker
write them, the sha256 of a file, the precision a deposit wrote a number with. A leaf of the
core layer (standard library only), so that intake, statistics, the runners, the reports and
the batch share one definition of each."""

from __future__ import annotations

import decimal
import hashlib
import math
import re
from pathlib import Path
from typing import Final

GiB: Final = 1024**3
#: how much of a file :func:`file_sha256` (and an archive's extraction) reads at a time
CHUNK_SIZE: Final = 1 << 20

_SIZE_UNITS: Final = {"": 1, "b": 1, "k": 1024, "m": 1024**2, "g": 1024**3, "t": 1024**4}
_HUMAN_UNITS: Final = ("B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB")


def parse_size(text: str) -> int:
    """Docker's size notation (``512m``, ``2g``, ``1073741824``) in bytes."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([bkmgt]?)i?b?\s*", text.lower())
    if match is None:
        raise ValueError(f"not a size: {text!r} (use e.g. 512m, 2g)")
    return int(float(match.group(1)) * _SIZE_UNITS[match.group(2)])


def human_size(n: int) -> str:
    """Bytes as people read them: 256 GiB, 1.5 MiB, 16 TiB (binary units)."""
    value, unit = float(n), 0
    while value >= 1024 and unit < len(_HUMAN_UNITS) - 1:
        value, unit = value / 1024, unit + 1
    if value >= 1024:  # past exbibytes: a number, not a unit
        return f"{float(n):.3g} B"
    text = f"{value:.0f}" if value >= 100 or value == int(value) else f"{value:.3g}"
    return f"{text} {_HUMAN_UNITS[unit]}"


def file_sha256(path: Path) -> str:
    """Hex sha256 of a file's bytes, read in :data:`CHUNK_SIZE` chunks."""
    return file_size_sha256(path)[1]


def file_size_sha256(path: Path) -> tuple[int, str]:
    """(size in bytes, hex sha256) of a file, both of the same bytes read once."""
    digest = hashlib.sha256()
    size = 0
    with Path(path).open("rb") as stream:
        while chunk := stream.read(CHUNK_SIZE):
            digest.update(chunk)
            size += len(chunk)
    return size, digest.hexdigest()


def deposited_precision(value: float) -> float:
    """Half a unit in the last decimal place the deposit wrote (0.966667 -> 5e-7): a value
    reproduced to the precision it was deposited with counts as identical."""
    exponent = decimal.Decimal(repr(float(value))).as_tuple().exponent
    return 0.5 * 10.0 ** int(exponent) if isinstance(exponent, int) else 0.0


def width_of(volume: float) -> int | None:
    """m for a quantum volume 2^m (None when ``volume`` is not a power of two >= 2)."""
    m = round(math.log2(volume)) if volume >= 2 else 0
    return m if m >= 1 and 2**m == volume else None
