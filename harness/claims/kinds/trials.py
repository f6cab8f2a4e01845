"""trials: a value over seeds, e.g. "test accuracy 0.95 +/- 0.02 over 5 seeds".

The source is a notebook (one run per seed) or a circuit with ``seeds``. Decided by an
equivalence test of the true mean against claimed +/- tolerance: paired per seed when
per-seed values are deposited, one-sample TOST otherwise, Welch's two-sample TOST
(``tost-welch``) or a bootstrap CI (``bootstrap-ci``) on request. Pass, fail or
inconclusive (harness.stats.outcome)."""

from __future__ import annotations

import math

from harness.claims.base import ClaimKind, Evidence, result
from harness.claims.seed_checked import margin, with_seed_check
from harness.claims.values import NotRun, Sample, sample
from harness.errors import ComparisonError
from harness.intake.manifest import TrialsClaim
from harness.models import ClaimResult, Comparison
from harness.notebook_runs import MissingMetric
from harness.wording import plural


class Trials(ClaimKind[TrialsClaim]):
    model = TrialsClaim
    summary = "a mean over the seeds of a notebook or of a circuit with seeds"

    def evaluate(self, claim: TrialsClaim, ev: Evidence) -> ClaimResult:
        from harness.stats.trials import compare_trials

        try:
            got = sample(claim, claim.source, ev)
            comparison = compare_trials(got.values, claim.value, margin(claim), claim.per_seed,
                                        claim.step, test=claim.test)
            if got.correlated and comparison.test != "exact":
                comparison = _shared_shots(claim, got, comparison)
        except NotRun as exc:
            return result(claim, "error", str(exc))
        except MissingMetric as exc:
            return result(claim, "fail", str(exc))
        except ComparisonError as exc:
            return result(claim, "error", exc.one_line())
        return with_seed_check(claim, comparison, got.values, got.fresh, got.correlated)


def _shared_shots(claim: TrialsClaim, got: Sample, tested: Comparison) -> Comparison:
    """Seeds that share shots (harness.intake.correlated_seeds) are one trial, not n: their
    spread is no seed-to-seed variance. A circuit's seed-to-seed variance is its shot noise:
    the fresh seeds' sd measures it directly; without fresh seeds, the shot-noise sd of one
    run (multinomial resampling) stands in."""
    import numpy as np

    from harness.stats.trials import one_effective_trial

    why = ("the deposited seeds share shots (correlated-seeds): their values count as one "
           "trial, not " + str(got.n))
    if len(got.fresh) >= 2:
        sd, df, source = (float(np.std(got.fresh, ddof=1)), float(len(got.fresh) - 1),
                          f"the sd of {plural(len(got.fresh), 'fresh seed')}")
    elif got.shot_se is not None:
        sd, df, source = got.shot_se, math.inf, "the shot-noise sd of one run"
    else:  # pragma: no cover - circuits always get a shot-noise sd when correlated
        return tested
    return one_effective_trial(got.values, sd, df, claim.value, margin(claim),
                               f"{why}; with {source} as its se")
