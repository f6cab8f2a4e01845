"""aggregate: a statistic over a group (mean, median or fraction above a value).

The group is a set of circuits (``source.circuits``: ids or patterns such as ``qv4_*``; a
circuit with seeds contributes the mean over its seeds) or the seeds of one notebook
(``source.notebook``). Decided by harness.stats.aggregate."""

from __future__ import annotations

import math

from harness.claims.base import ClaimKind, Evidence, Shape, expand, result, single_source
from harness.claims.seed_checked import margin
from harness.claims.values import NotRun, Sample, sample
from harness.errors import ComparisonError
from harness.intake.manifest import Claim, Source
from harness.models import ClaimResult
from harness.notebook_runs import MissingMetric

#: metrics whose shot noise is binomial: var = p (1 - p) / shots
BINOMIAL = ("heavy_output_probability", "success_probability")


class Aggregate(ClaimKind):
    name = "aggregate"
    summary = "a mean, median or fraction above a value over circuits or notebook seeds"
    fields = frozenset({"statistic", "above", "confidence"})

    def check_sources(self, shape: Shape) -> None:
        check_group(shape, notebook_allowed=True)

    def check_more(self, shape: Shape) -> None:
        c = shape.claim
        if c.statistic is None:
            shape.fail("an aggregate claim needs a statistic: mean, median or fraction_above",
                       "statistic")
        if (c.statistic == "fraction_above") != (c.above is not None):
            shape.fail("`above` goes with statistic fraction_above (and only with it)", "above")
        if c.metric == "counts":
            shape.fail("an aggregate claim is about a number, not counts", "metric")

    def fresh_seeds_apply(self, claim: Claim) -> bool:
        return False

    def evaluate(self, claim: Claim, ev: Evidence) -> ClaimResult:
        from harness.stats.aggregate import aggregate

        assert claim.source is not None and claim.value is not None
        assert claim.statistic is not None
        try:
            values, shot_se, what = group_values(claim, claim.source, ev)
        except NotRun as exc:
            return result(claim, "error", str(exc))
        except MissingMetric as exc:
            return result(claim, "fail", str(exc))
        except ComparisonError as exc:
            return result(claim, "error", exc.one_line())
        comparison = aggregate(values, claim.statistic, claim.value, margin(claim),
                               alpha=1 - claim.confidence, above=claim.above, shot_se=shot_se,
                               what=what, seed=ev.seed)
        return result(claim, comparison.verdict, comparison.evidence, comparison)


def check_group(shape: Shape, notebook_allowed: bool) -> None:
    """``source.circuits`` names circuits that exist (or a notebook, when allowed)."""
    c = shape.claim
    if c.source is None:
        shape.fail(f"a {c.kind} claim needs a source", "source")
    if c.source.circuits is None:
        if not notebook_allowed:
            shape.fail(f"a {c.kind} claim needs a group of circuits (source.circuits)",
                       "source.circuits")
        if c.source.notebook is None:
            shape.fail(f"a {c.kind} claim needs source.circuits (a group of circuits) or "
                       "source.notebook (its seeds)", "source")
        single_source(shape, c.source, "source")
        return
    if c.source.circuit is not None or c.source.notebook is not None:
        shape.fail("source.circuits goes alone", "source")
    for i, pattern in enumerate(c.source.circuits):
        if not expand([pattern], shape.manifest):
            shape.fail(f"no circuit matches '{pattern}'", f"source.circuits[{i}]")


def group_values(
    claim: Claim, source: Source, ev: Evidence
) -> tuple[list[float], float | None, str]:
    """(one value per member, the shot-noise se of their mean when known, what a member is)."""
    import numpy as np

    if source.circuits is None:
        return sample(claim, source, ev).values, None, "seeds"
    refs = expand(source.circuits, ev.manifest)
    members: list[Sample] = [sample(claim, Source(circuit=ref), ev) for ref in refs]
    values = [float(np.mean(s.values)) for s in members]
    shot_se = None
    if claim.metric in BINOMIAL:
        var = sum(v * (1 - v) / ev.manifest.circuit(ref).shots / len(s.values)
                  for v, s, ref in zip(values, members, refs, strict=True))
        shot_se = math.sqrt(var) / len(values)
    return values, shot_se, "circuits"
