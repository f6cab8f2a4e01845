"""one-sided: "test accuracy at least 0.90" (or at most), with a non-inferiority margin.

The source is a notebook, a circuit with seeds, or one circuit run (then the interval
comes from the metric's shot noise). Decided by harness.stats.one_sided."""

from __future__ import annotations

from typing import ClassVar

from harness.claims.base import ClaimKind, Evidence, Shape, result
from harness.claims.seed_checked import margin, with_seed_check
from harness.claims.values import NotRun, sample
from harness.errors import ComparisonError
from harness.intake.manifest import Claim
from harness.models import ClaimResult
from harness.notebook_runs import MissingMetric


class OneSided(ClaimKind):
    name = "one-sided"
    summary = "the reproduced value is at least (or at most) the claimed value"
    fields = frozenset({"direction", "confidence", "better"})
    tolerances: ClassVar[tuple[str, ...]] = ("absolute", "relative")
    tolerance_required = False

    def check_more(self, shape: Shape) -> None:
        if shape.claim.direction is None:
            shape.fail("a one-sided claim needs a direction: at_least or at_most", "direction")
        if shape.claim.metric == "counts":
            shape.fail("a one-sided claim is about a number, not counts", "metric")

    def evaluate(self, claim: Claim, ev: Evidence) -> ClaimResult:
        from harness.stats.one_sided import one_sided

        assert claim.source is not None and claim.value is not None
        assert claim.direction is not None
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
