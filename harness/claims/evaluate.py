"""Every claim of a manifest through its kind; the multiplicity adjustment across claims."""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from typing import TYPE_CHECKING, Any

from harness.claims.base import Evidence
from harness.claims.registry import kind_of
from harness.intake.manifest import Manifest
from harness.models import ClaimResult, Execution

if TYPE_CHECKING:
    from harness.stats.multiple import Method


def evaluate_claims(
    manifest: Manifest,
    execution: Execution | None,
    recorded: Mapping[str, dict[str, int]],
    seed: int = 0,
) -> tuple[ClaimResult, ...]:
    shared: dict[Hashable, Any] = {}  # what claims on the same runs compute once
    return tuple(
        kind_of(c).evaluate(c, Evidence(manifest, execution, recorded, seed + i, shared))
        for i, c in enumerate(manifest.claims)
    )


def needs_ideal(manifest: Manifest, circuit_id: str) -> bool:
    """Does any claim on this circuit need the ideal (noiseless) distribution?"""
    return any(
        kind_of(c).needs_ideal(c) and circuit_id in kind_of(c).circuits(c, manifest)
        for c in manifest.claims
    )


def wants_fresh(manifest: Manifest, circuit_id: str) -> bool:
    """Does --fresh-seeds tell anything about a claim on this circuit?"""
    return any(
        kind_of(c).fresh_seeds_apply(c) and circuit_id in kind_of(c).circuits(c, manifest)
        for c in manifest.claims
    )


#: tests whose null hypothesis is "no discrepancy" (small p = evidence against the claim)
DIFFERENCE_TESTS = ("permutation-tvd", "permutation-infidelity", "chi-square", "shot-noise-z")


def flag_discrepancies(
    claims: tuple[ClaimResult, ...], method: Method = "holm", alpha: float = 0.05
) -> tuple[ClaimResult, ...]:
    """Adjust the difference tests' p-values across all claims (Holm: family-wise error;
    BH: false discovery rate) and flag discrepancies. Badges do not use this (each claim
    must pass on its own); it ranks what to look at first among many claims."""
    from harness.stats.multiple import adjust  # numpy: only when claims are compared

    tested = [
        i
        for i, c in enumerate(claims)
        if c.comparison is not None
        and c.comparison.p_value is not None
        and c.comparison.test in DIFFERENCE_TESTS
    ]
    if not tested:
        return claims
    p = [float(claims[i].comparison.p_value or 0.0) for i in tested]  # type: ignore[union-attr]
    adjusted = adjust(p, method)
    out = list(claims)
    for i, adj in zip(tested, adjusted, strict=True):
        out[i] = claims[i].model_copy(update={"adjusted_p_value": adj, "discrepancy": adj < alpha})
    return tuple(out)
