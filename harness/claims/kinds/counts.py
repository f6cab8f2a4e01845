"""counts: the reproduced counts of a circuit against its recorded counts.

Decided by the exact match (bit for bit), a distance bound (tvd, hellinger, infidelity), a
permutation test of the TVD or infidelity, or a chi-square test (docs/statistics.md)."""

from __future__ import annotations

from typing import ClassVar

from harness.claims.base import ClaimKind, Evidence, Shape, decided, result
from harness.claims.values import NotRun, circuit_run
from harness.errors import ComparisonError
from harness.intake.manifest import Claim
from harness.models import CircuitRun, ClaimResult, Comparison
from harness.tolerances import ShotNoiseTolerance


class Counts(ClaimKind):
    name = "counts"
    summary = "the reproduced counts of a circuit match its recorded counts"
    tolerances: ClassVar[tuple[str, ...]] = ("distance", "shot-noise", "exact")
    tests: ClassVar[tuple[str, ...]] = (
        "auto", "exact", "permutation-tvd", "permutation-infidelity", "bootstrap-tvd",
        "bootstrap-infidelity", "chi-square")
    needs_value = False

    def check_more(self, shape: Shape) -> None:
        c, m = shape.claim, shape.manifest
        assert c.source is not None
        if c.metric != "counts":
            shape.fail("a counts claim has metric counts", "metric")
        if c.source.circuit is None or m.circuit(c.source.circuit).counts is None:
            shape.fail("a counts claim needs a circuit with recorded counts", "metric")

    def needs_ideal(self, claim: Claim) -> bool:
        return False

    def evaluate(self, claim: Claim, ev: Evidence) -> ClaimResult:
        assert claim.source is not None and claim.source.circuit is not None
        ref = claim.source.circuit
        try:
            run = circuit_run(ref, ev)
        except NotRun as exc:
            return result(claim, "error", str(exc))
        if ref not in ev.recorded:
            return result(claim, "error", f"recorded counts of circuit '{ref}' unreadable")
        try:
            return decided(claim, _compare(claim, run, ev.recorded[ref], ev.seed))
        except ComparisonError as exc:
            return result(claim, "error", exc.one_line())


def _compare(claim: Claim, run: CircuitRun, recorded: dict[str, int], seed: int) -> Comparison:
    from harness.stats import compare
    from harness.stats.chisquare import chi_square_counts

    assert claim.tolerance is not None
    if claim.test == "chi-square":
        alpha = claim.tolerance.alpha if isinstance(claim.tolerance, ShotNoiseTolerance) else 0.01
        return chi_square_counts(run.counts, recorded, alpha=alpha)
    test = None if claim.test == "auto" else claim.test
    return compare.compare_counts(run.counts, recorded, claim.tolerance, seed=seed, test=test)
