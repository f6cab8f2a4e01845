"""A claim's result with the fresh-seed check attached (when --fresh-seeds ran)."""

from __future__ import annotations

from harness.claims.base import decided
from harness.intake.manifest import (
    AggregateClaim,
    ComparativeClaim,
    OneSidedClaim,
    ScalarClaim,
    TrialsClaim,
)
from harness.models import ClaimResult, Comparison
from harness.tolerances import AbsoluteTolerance

#: the kinds whose result a fresh-seed check can accompany
SeedChecked = ScalarClaim | TrialsClaim | OneSidedClaim
#: the kinds with a margin (absolute or relative) around a claimed value
WithMargin = TrialsClaim | AggregateClaim | OneSidedClaim


def with_seed_check(
    claim: SeedChecked,
    comparison: Comparison,
    deposited: list[float] | None = None,
    fresh: list[float] | None = None,
    correlated: bool = False,
) -> ClaimResult:
    """The claim's result, with its seed check when fresh-seed values exist."""
    out = decided(claim, comparison)
    if not fresh or not deposited:
        return out
    from harness.claims.seed_sensitivity import seed_check  # scipy: only when it checks

    check = seed_check(claim.value, deposited, fresh, correlated=correlated,
                       higher_is_better=higher_is_better(claim))
    return out.model_copy(update={"seed_check": check})


#: circuit metrics where less is better (cherry-picking goes the other way)
LOWER_IS_BETTER = frozenset({"tvd_ideal"})


def higher_is_better(claim: SeedChecked | ComparativeClaim) -> bool:
    """The direction a cherry-picked deposit is flattering in: the claim's ``better`` when
    it states one, else the metric's own (tvd_ideal: lower; the others: higher)."""
    if "better" in claim.model_fields_set:
        return claim.better == "higher"
    return claim.metric not in LOWER_IS_BETTER


def margin(claim: WithMargin) -> float:
    """An absolute or relative tolerance as an absolute margin around the claimed value."""
    tol = claim.tolerance
    if tol is None:
        return 0.0
    return tol.value if isinstance(tol, AbsoluteTolerance) else tol.value * abs(claim.value)
