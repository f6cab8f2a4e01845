"""comparative: "A beats B" or a rank order "A > B > C", best first in ``order``.

Each entry of ``order`` is a notebook or a circuit (with seeds, or one run); all are read
with the same ``metric`` (and ``name`` for notebooks). ``better: lower`` for metrics where
less is better; a tolerance (absolute) is the margin each must win by. Decided by
harness.stats.comparative."""

from __future__ import annotations

from typing import ClassVar

from harness.claims.base import ClaimKind, Evidence, Shape, result, single_source
from harness.claims.values import NotRun, sample
from harness.errors import ComparisonError
from harness.intake.manifest import Claim, Source
from harness.models import ClaimResult
from harness.notebook_runs import MissingMetric
from harness.tolerances import AbsoluteTolerance


class Comparative(ClaimKind):
    name = "comparative"
    summary = "an order of two or more methods on one metric, best first"
    fields = frozenset({"order", "better", "confidence"})
    tolerances: ClassVar[tuple[str, ...]] = ("absolute",)
    tolerance_required = False
    needs_value = False

    def check_sources(self, shape: Shape) -> None:
        c = shape.claim
        if c.source is not None:
            shape.fail("a comparative claim names its sources in `order`, not `source`",
                       "source")
        if not c.order:
            shape.fail("a comparative claim needs `order`: two or more sources, best first",
                       "order")
        for i, s in enumerate(c.order):
            if s.circuits is not None:
                shape.fail("each entry of order is one circuit or notebook", f"order[{i}]")
            single_source(shape, s, f"order[{i}]")
        labels = [s.label() for s in c.order]
        if len(set(labels)) != len(labels):
            shape.fail("order names a source twice", "order")

    def check_more(self, shape: Shape) -> None:
        if shape.claim.metric == "counts":
            shape.fail("a comparative claim is about a number, not counts", "metric")

    def sources(self, claim: Claim) -> list[Source]:
        return list(claim.order or [])

    def fresh_seeds_apply(self, claim: Claim) -> bool:
        return False

    def evaluate(self, claim: Claim, ev: Evidence) -> ClaimResult:
        from harness.stats.comparative import Arm, compare_order

        assert claim.order is not None
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
        tol = claim.tolerance
        by = tol.value if isinstance(tol, AbsoluteTolerance) else 0.0
        comparison = compare_order(arms, claim.better == "higher", by, claim.confidence)
        return result(claim, comparison.verdict, comparison.evidence, comparison)
