"""The numbers a claim is decided on, gathered from the runs of its sources."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from harness.claims.base import Evidence
from harness.intake.correlated_seeds import correlated_pairs
from harness.intake.manifest import (
    AggregateClaim,
    ComparativeClaim,
    OneSidedClaim,
    ScalarClaim,
    Source,
    TrialsClaim,
)
from harness.models import CircuitRun
from harness.notebook_runs import MissingMetric, metric_values, seed_runs

#: the kinds whose values are sampled from one source at a time
Sampled = TrialsClaim | AggregateClaim | OneSidedClaim | ComparativeClaim


class NotRun(Exception):
    """A source the claim needs did not run (the claim's verdict is error)."""


@dataclass(frozen=True)
class Sample:
    """One source's values: one per seed the deposit ran (trials), or the single run."""

    values: list[float]
    seeds: list[int]
    fresh: list[float] = field(default_factory=list)
    #: the deposited seeds share shots (harness.intake.correlated_seeds)
    correlated: bool = False
    #: for a single run: the shot-noise sd of the metric (multinomial resampling)
    shot_se: float | None = None

    @property
    def n(self) -> int:
        return len(self.values)

    def mean_and_se(self) -> tuple[float, float, float]:
        """(mean, standard error, degrees of freedom). Over independent seeds: sd / sqrt(n),
        n - 1. One run, or seeds that share shots (one run in effect): the shot-noise sd of a
        run, df inf (a fixed circuit varies from seed to seed by shot noise alone). One
        notebook seed: nothing to estimate it from, se inf (nothing can be shown)."""
        import numpy as np

        x = np.asarray(self.values, dtype=float)
        if x.size >= 2 and not self.correlated:
            return float(x.mean()), float(x.std(ddof=1) / math.sqrt(x.size)), float(x.size - 1)
        se = self.shot_se if self.shot_se is not None else math.inf
        return float(x.mean()), float(se), math.inf


def circuit_run(ref: str, ev: Evidence) -> CircuitRun:
    run = ev.execution.run(ref) if ev.execution is not None else None
    if run is None or not run.ok:
        raise NotRun(
            f"circuit '{ref}' did not run: {run.error}" if run is not None and run.error
            else f"circuit '{ref}' was not run (nothing was executed: see the error above)"
        )
    return run


def circuit_values(
    claim: Sampled | ScalarClaim, recorded: CircuitRun, runs: list[CircuitRun]
) -> list[float]:
    """The claim's metric for each run (the ideal distribution is the recorded run's)."""
    from harness.stats import metrics

    metric_of = metrics.bind_metric(claim.metric, recorded.ideal, claim.outcomes)
    failed = [r for r in runs if not r.ok]
    if failed:
        raise NotRun(f"run {failed[0].id} failed: {failed[0].error}")
    return [metric_of(r.counts) for r in runs]


def sample(claim: Sampled, source: Source, ev: Evidence, shot_se: bool = False) -> Sample:
    """The values of ``claim.metric`` from one circuit or notebook. Raises NotRun, or
    MissingMetric when a notebook run lacks the metric."""
    from harness.stats import metrics
    from harness.stats.compare import shot_noise_sd

    kind, ref = source.kind_and_id()
    if kind == "notebook":
        return _notebook_sample(claim, ref, ev)
    assert ev.execution is not None  # circuit_run raised otherwise
    run = circuit_run(ref, ev)
    trials = ev.execution.runs(ref, "trial")
    fresh = circuit_values(claim, run, ev.execution.runs(ref, "fresh"))
    circuit = ev.manifest.circuit(ref)
    metric_of = metrics.bind_metric(claim.metric, run.ideal, claim.outcomes)
    if trials:
        correlated = bool(correlated_pairs(circuit))
        se = (shot_noise_sd(trials[0].counts, metric_of, seed=ev.seed)
              if correlated or shot_se else None)
        return Sample(circuit_values(claim, run, trials), [t.seed_simulator or 0 for t in trials],
                      fresh, correlated, se)
    se = shot_noise_sd(run.counts, metric_of, seed=ev.seed) if shot_se else None
    return Sample([metric_of(run.counts)], [run.seed_simulator or 0], fresh, shot_se=se)


def _notebook_sample(claim: Sampled, ref: str, ev: Evidence) -> Sample:
    runs = seed_runs(ev.execution.notebooks, ref) if ev.execution is not None else []
    failed = [r for r in runs if not r.ok]
    if not runs or failed:
        raise NotRun(
            f"notebook '{ref}' did not run: seed {failed[0].seed}: {failed[0].error}" if failed
            else f"notebook '{ref}' was not run (nothing was executed: see the error above)"
        )
    assert ev.execution is not None and claim.name is not None
    values = metric_values(ev.execution.notebooks, ref, claim.name)
    try:
        fresh = metric_values(ev.execution.notebooks, ref, claim.name, fresh=True)
    except MissingMetric:
        fresh = []
    return Sample(values, [r.seed for r in runs], fresh)
