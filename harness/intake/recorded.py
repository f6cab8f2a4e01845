"""Recorded counts files: a JSON object mapping bitstrings to shot counts.

    {"000": 1933, "111": 1890, "001": 61, ...}

Keys are binary strings of one width (spaces between registers are removed); values are
non-negative integers summing to the circuit's ``shots``.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from harness.errors import DepositError

_BITS = re.compile(r"^[01]+$")


def parse_counts(data: object, display: str, shots: int | None = None) -> dict[str, int]:
    if not isinstance(data, dict) or not data:
        raise DepositError("counts must be a non-empty JSON object of bitstring: count",
                           file=display, field="(root)")
    counts: dict[str, int] = {}
    for raw_key, value in data.items():
        key = str(raw_key).replace(" ", "")
        if not _BITS.match(key):
            raise DepositError("not a bitstring", file=display, field=str(raw_key))
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise DepositError("count must be a non-negative integer", file=display,
                               field=str(raw_key))
        counts[key] = counts.get(key, 0) + value
    if len({len(k) for k in counts}) != 1:
        raise DepositError("bitstrings have different widths", file=display, field="(root)")
    total = sum(counts.values())
    if shots is not None and total != shots:
        raise DepositError(f"counts sum to {total} but the circuit records {shots} shots",
                           file=display, field="(root)")
    return counts


#: a counts file of 64 MiB holds millions of outcomes: beyond that it is not counts
MAX_BYTES = 64 * 1024 * 1024


def load_counts(path: Path, display: str, shots: int | None = None) -> dict[str, int]:
    try:
        if path.stat().st_size > MAX_BYTES:
            raise DepositError(f"the counts file is larger than {MAX_BYTES} bytes",
                               file=display, field="(root)")
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise DepositError("counts file is missing", file=display) from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise DepositError(f"cannot read counts: {exc}", file=display) from exc
    except json.JSONDecodeError as exc:
        raise DepositError(f"invalid JSON: {exc.msg}", file=display,
                           field=f"line {exc.lineno}") from exc
    except RecursionError:
        raise DepositError("invalid JSON: nested too deeply", file=display,
                           field="(root)") from None
    return parse_counts(data, display, shots)
