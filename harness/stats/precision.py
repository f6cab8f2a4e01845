"""The precision a deposit wrote a number with (pure, no I/O, no numpy: ``qrepro validate``
reads it through harness.intake.claim_checks without loading the statistics)."""

from __future__ import annotations

import decimal


def deposited_precision(value: float) -> float:
    """Half a unit in the last decimal place the deposit wrote (0.966667 -> 5e-7): a value
    reproduced to the precision it was deposited with counts as identical."""
    exponent = decimal.Decimal(repr(float(value))).as_tuple().exponent
    return 0.5 * 10.0 ** int(exponent) if isinstance(exponent, int) else 0.0
