"""one-sided: "test accuracy at least 0.90" (or at most), with a non-inferiority margin.

The source is a notebook, a circuit with seeds, or one circuit run (then the interval
comes from the metric's shot noise). Decided by harness.stats.one_sided."""

from __future__ import annotations

from harness.claims.base import ClaimKind, Evidence, result
from harness.claims.seed_checked import margin, with_seed_check
from harness.claims.values import NotRun, sample
from harness.errors import ComparisonError
from harness.intake.manifest import OneSidedClaim
from harness.models import ClaimResult
from harness.notebook_runs import MissingMetric


class OneSided(ClaimKind[OneSidedClaim]):
    model = OneSidedClaim
    summary = "the reproduced value is at least (or at most) the claimed value"

    def evaluate(self, claim: OneSidedClaim, ev: Evidence) -> ClaimResult:
        from harness.stats.one_sided import one_sided

        try:
            got = sample(claim, claim.source, ev, shot_se=True)
            mean, se, df = got.mean_and_se()
        except NotRun as exc:
            return result(claim, "error", str(exc))
        except MissingMetric as exc:
            return result(claim, "fail", str(exc))
        except ComparisonError as exc:
            return result(claim, "error", exc.one_line())
        comparison = one_sided(mean, se, df, got.n, claim.value, margin(claim), claim.direction,
                               claim.confidence)
        return with_seed_check(claim, comparison, got.values, got.fresh, got.correlated)
