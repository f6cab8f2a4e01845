"""aggregate: a statistic over a group (mean, median or fraction above a value).

The group is a set of circuits (``source.circuits``: ids or patterns such as ``qv4_*``; a
circuit with seeds contributes the mean over its seeds) or the seeds of one notebook
(``source.notebook``). Decided by harness.stats.aggregate."""

from __future__ import annotations

import math

from harness.claims.base import ClaimKind, Evidence, result
from harness.claims.seed_checked import margin
from harness.claims.values import NotRun, Sample, sample
from harness.errors import ComparisonError
from harness.intake.manifest import AggregateClaim, Source, expand
from harness.models import ClaimResult
from harness.notebook_runs import MissingMetric

#: metrics whose shot noise is binomial: var = p (1 - p) / shots
BINOMIAL = ("heavy_output_probability", "success_probability")


class Aggregate(ClaimKind[AggregateClaim]):
    model = AggregateClaim
    summary = "a mean, median or fraction above a value over circuits or notebook seeds"

    def fresh_seeds_apply(self, claim: AggregateClaim) -> bool:
        return False

    def evaluate(self, claim: AggregateClaim, ev: Evidence) -> ClaimResult:
        from harness.stats.aggregate import aggregate

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


def group_values(
    claim: AggregateClaim, source: Source, ev: Evidence
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
