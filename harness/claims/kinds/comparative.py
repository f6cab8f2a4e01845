"""comparative: "A beats B" or a rank order "A > B > C", best first in ``order``.

Each entry of ``order`` is a notebook or a circuit (with seeds, or one run); all are read
with the same ``metric`` (and ``name`` for notebooks). ``better: lower`` for metrics where
less is better; a tolerance (absolute) is the margin each must win by. Decided by
harness.stats.comparative."""

from __future__ import annotations

from harness.claims.base import ClaimKind, Evidence, result
from harness.claims.values import NotRun, sample
from harness.errors import ComparisonError
from harness.intake.manifest import ComparativeClaim
from harness.models import ClaimResult
from harness.notebook_runs import MissingMetric


class Comparative(ClaimKind[ComparativeClaim]):
    model = ComparativeClaim
    summary = "an order of two or more methods on one metric, best first"

    def fresh_seeds_apply(self, claim: ComparativeClaim) -> bool:
        return False

    def evaluate(self, claim: ComparativeClaim, ev: Evidence) -> ClaimResult:
        from harness.stats.comparative import Arm, compare_order

        try:
            arms = []
            for s in claim.order:
                got = sample(claim, s, ev, shot_se=True)
                arms.append(Arm(s.label(), got.values, got.seeds, got.shot_se))
        except NotRun as exc:
            return result(claim, "error", str(exc))
        except MissingMetric as exc:
            return result(claim, "fail", str(exc))
        except ComparisonError as exc:
            return result(claim, "error", exc.one_line())
        by = claim.tolerance.value if claim.tolerance is not None else 0.0
        comparison = compare_order(arms, claim.better == "higher", by, claim.confidence)
        return result(claim, comparison.verdict, comparison.evidence, comparison)
