"""scalar: one number from one run of a circuit (no seeds list), e.g. a Hellinger fidelity.

Decided by |reproduced - claimed| against an absolute or relative tolerance (test
``threshold``), or by a z-test allowing for shot noise on both sides (tolerance
``shot-noise``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from harness.claims.base import ClaimKind, Evidence, result
from harness.claims.seed_checked import with_seed_check
from harness.claims.values import NotRun, circuit_run, circuit_values
from harness.errors import ComparisonError
from harness.intake.manifest import ScalarClaim
from harness.models import ClaimResult, Comparison
from harness.tolerances import ShotNoiseTolerance

if TYPE_CHECKING:
    from harness.stats.metrics import CountsMetric


class Scalar(ClaimKind[ScalarClaim]):
    model = ScalarClaim
    summary = "one number computed from the counts of one circuit run"

    def evaluate(self, claim: ScalarClaim, ev: Evidence) -> ClaimResult:
        from harness.stats import metrics

        assert claim.source.circuit is not None
        ref = claim.source.circuit
        try:
            run = circuit_run(ref, ev)
            assert ev.execution is not None
            # once per run and metric, for every claim that reads it
            which = (run.id, claim.metric, tuple(claim.outcomes or ()))
            metric_of = ev.once(("metric", *which), lambda: metrics.bind_metric(
                claim.metric, run.ideal, claim.outcomes))
            value = ev.once(("value", *which), lambda: metric_of(run.counts))
            comparison = _compare(claim, metric_of, value, run.counts, ev)
            fresh = circuit_values(claim, run, ev.execution.runs(ref, "fresh"))
        except (NotRun, ComparisonError) as exc:
            return result(claim, "error", exc.one_line() if isinstance(exc, ComparisonError)
                          else str(exc))
        return with_seed_check(claim, comparison, [value], fresh)


def _compare(claim: ScalarClaim, metric_of: CountsMetric, value: float,
             counts: dict[str, int], ev: Evidence) -> Comparison:
    from harness.stats import compare

    if isinstance(claim.tolerance, ShotNoiseTolerance):
        assert claim.source.circuit is not None
        shots = ev.manifest.circuit(claim.source.circuit).shots
        return compare.compare_scalar_shot_noise(
            counts, claim.value, metric_of, shots, alpha=claim.tolerance.alpha, seed=ev.seed
        )
    return compare.compare_scalar(value, claim.value, claim.tolerance)
