"""counts: the reproduced counts of a circuit against its recorded counts.

Decided by the exact match (bit for bit), a distance bound (tvd, hellinger, infidelity), a
permutation test of the TVD or infidelity, or a chi-square test (docs/statistics.md)."""

from __future__ import annotations

from harness.claims.base import ClaimKind, Evidence, decided, result
from harness.claims.values import NotRun, circuit_run
from harness.errors import ComparisonError
from harness.intake.manifest import CountsClaim
from harness.models import CircuitRun, ClaimResult, Comparison
from harness.tolerances import ShotNoiseTolerance


class Counts(ClaimKind[CountsClaim]):
    model = CountsClaim
    summary = "the reproduced counts of a circuit match its recorded counts"

    def needs_ideal(self, claim: CountsClaim) -> bool:
        return False

    def evaluate(self, claim: CountsClaim, ev: Evidence) -> ClaimResult:
        assert claim.source.circuit is not None
        ref = claim.source.circuit
        try:
            run = circuit_run(ref, ev)
        except NotRun as exc:
            return result(claim, "error", str(exc))
        if ref not in ev.recorded:
            return result(claim, "error", f"recorded counts of circuit '{ref}' unreadable")
        try:
            return decided(claim, _compare(claim, run, ev.recorded[ref], ev))
        except ComparisonError as exc:
            return result(claim, "error", exc.one_line())


def _compare(claim: CountsClaim, run: CircuitRun, recorded: dict[str, int], ev: Evidence
             ) -> Comparison:
    from harness.stats import compare
    from harness.stats.chisquare import chi_square_counts

    try:  # once per run, for every counts claim on it
        keys, x, y = ev.once(("aligned counts", run.id),
                             lambda: compare.align_counts(run.counts, recorded))
    except ComparisonError as exc:
        return compare.error_comparison("chi-square" if claim.test == "chi-square" else "exact",
                                        exc.message)
    if claim.test == "chi-square":
        alpha = claim.tolerance.alpha if isinstance(claim.tolerance, ShotNoiseTolerance) else 0.01
        return chi_square_counts(x, y, alpha=alpha)
    test = None if claim.test == "auto" else claim.test
    return compare.compare_aligned((keys, x, y), claim.tolerance, seed=ev.seed, test=test)
