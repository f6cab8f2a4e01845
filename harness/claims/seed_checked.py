"""A claim's result with the fresh-seed check attached (when --fresh-seeds ran)."""

from __future__ import annotations

from harness.claims.base import decided
from harness.intake.manifest import AbsoluteTolerance, Claim, RelativeTolerance
from harness.models import ClaimResult, Comparison
from harness.stats.seed_robustness import seed_check


def with_seed_check(
    claim: Claim,
    comparison: Comparison,
    deposited: list[float] | None = None,
    fresh: list[float] | None = None,
    correlated: bool = False,
) -> ClaimResult:
    """The claim's result, with its seed check when fresh-seed values exist."""
    out = decided(claim, comparison)
    if not fresh or not deposited or claim.value is None:
        return out
    check = seed_check(claim.value, deposited, fresh, correlated=correlated)
    return out.model_copy(update={"seed_check": check})


def margin(claim: Claim) -> float:
    """An absolute or relative tolerance as an absolute margin around the claimed value."""
    tol = claim.tolerance
    if tol is None:
        return 0.0
    assert isinstance(tol, AbsoluteTolerance | RelativeTolerance)  # checked at parse time
    assert claim.value is not None
    return tol.value if isinstance(tol, AbsoluteTolerance) else tol.value * abs(claim.value)
