"""Turn each claim into a comparison: pick the metric, the data and the test.

The statistics themselves live in :mod:`harness.stats.compare` (pure); this module only maps
a manifest claim plus the reproduced runs onto the right function.
"""

from __future__ import annotations

from collections.abc import Mapping

from harness.errors import ComparisonError
from harness.intake.manifest import (
    AbsoluteTolerance,
    Claim,
    Manifest,
    RelativeTolerance,
    ShotNoiseTolerance,
)
from harness.models import CircuitRun, ClaimResult, Comparison, Execution
from harness.notebook_runs import MissingMetric, metric_values, seed_runs
from harness.stats import compare, metrics
from harness.stats.chisquare import chi_square_counts
from harness.stats.correlated_seeds import correlated_pairs
from harness.stats.multiple import Method, adjust
from harness.stats.seed_robustness import seed_check
from harness.stats.trials import compare_trials

SCALAR_FROM_COUNTS = (
    "hellinger_fidelity",
    "tvd_ideal",
    "heavy_output_probability",
    "success_probability",
)


def _result(
    claim: Claim, verdict: str, message: str, comparison: Comparison | None = None
) -> ClaimResult:
    kind, ref = claim.source.kind_and_id()
    return ClaimResult.model_validate(
        {
            "id": claim.id,
            "source": f"{kind}:{ref}",
            "metric": claim.metric,
            "verdict": verdict,
            "tolerance": claim.tolerance.model_dump(mode="json"),
            "comparison": comparison,
            "message": message,
        }
    )


def _counts_comparison(
    claim: Claim, run: CircuitRun, recorded: dict[str, int], seed: int
) -> Comparison:
    if claim.test == "chi-square":
        alpha = claim.tolerance.alpha if isinstance(claim.tolerance, ShotNoiseTolerance) else 0.01
        return chi_square_counts(run.counts, recorded, alpha=alpha)
    test = None if claim.test == "auto" else claim.test
    return compare.compare_counts(run.counts, recorded, claim.tolerance, seed=seed, test=test)


def _scalar_comparison(claim: Claim, run: CircuitRun, shots: int, seed: int) -> Comparison:
    assert claim.value is not None  # checked when the manifest was parsed
    metric_of = metrics.bind_metric(claim.metric, run.ideal, claim.outcomes)
    if isinstance(claim.tolerance, ShotNoiseTolerance):
        return compare.compare_scalar_shot_noise(
            run.counts, claim.value, metric_of, shots, alpha=claim.tolerance.alpha, seed=seed
        )
    return compare.compare_scalar(metric_of(run.counts), claim.value, claim.tolerance)


def _circuit_values(claim: Claim, recorded: CircuitRun, runs: list[CircuitRun]) -> list[float]:
    """The claim's metric for each run (the ideal distribution is the recorded run's)."""
    metric_of = metrics.bind_metric(claim.metric, recorded.ideal, claim.outcomes)
    failed = [r for r in runs if not r.ok]
    if failed:
        raise ComparisonError(f"run {failed[0].id} failed: {failed[0].error}")
    return [metric_of(r.counts) for r in runs]


def _margin(claim: Claim) -> float:
    tol = claim.tolerance
    assert isinstance(tol, AbsoluteTolerance | RelativeTolerance)  # checked at parse time
    assert claim.value is not None
    return tol.value if isinstance(tol, AbsoluteTolerance) else tol.value * abs(claim.value)


def _notebook_claim(claim: Claim, ref: str, execution: Execution | None) -> ClaimResult:
    runs = seed_runs(execution.notebooks, ref) if execution is not None else []
    failed = [r for r in runs if not r.ok]
    if not runs or failed:
        if failed:
            why = f"notebook '{ref}' did not run: seed {failed[0].seed}: {failed[0].error}"
        else:
            why = f"notebook '{ref}' was not run (nothing was executed: see the error above)"
        return _result(claim, "error", why)
    assert execution is not None and claim.name is not None and claim.value is not None
    try:
        values = metric_values(execution.notebooks, ref, claim.name)
    except MissingMetric as exc:
        return _result(claim, "fail", str(exc))
    comparison = compare_trials(
        values, claim.value, _margin(claim), claim.per_seed, claim.step, test=claim.test
    )
    try:
        fresh = metric_values(execution.notebooks, ref, claim.name, fresh=True)
    except MissingMetric:
        fresh = []
    return _with(claim, comparison, values, fresh)


def evaluate_claim(
    claim: Claim,
    manifest: Manifest,
    execution: Execution | None,
    recorded: Mapping[str, dict[str, int]],
    seed: int,
) -> ClaimResult:
    kind, ref = claim.source.kind_and_id()
    if kind == "notebook":
        return _notebook_claim(claim, ref, execution)
    run = execution.run(ref) if execution is not None else None
    if run is None or not run.ok:
        why = (f"circuit '{ref}' did not run: {run.error}" if run is not None and run.error
               else f"circuit '{ref}' was not run (nothing was executed: see the error above)")
        return _result(claim, "error", why)
    assert execution is not None
    try:
        if claim.metric == "counts":
            if ref not in recorded:
                return _result(claim, "error", f"recorded counts of circuit '{ref}' unreadable")
            return _with(claim, _counts_comparison(claim, run, recorded[ref], seed))
        trials = execution.runs(ref, "trial")
        if trials:  # a claim over the circuit's seeds
            values = _circuit_values(claim, run, trials)
            assert claim.value is not None
            comparison = compare_trials(
                values, claim.value, _margin(claim), claim.per_seed, claim.step, test=claim.test
            )
        else:
            values = [metrics.bind_metric(claim.metric, run.ideal, claim.outcomes)(run.counts)]
            comparison = _scalar_comparison(claim, run, manifest.circuit(ref).shots, seed)
        fresh = _circuit_values(claim, run, execution.runs(ref, "fresh"))
    except ComparisonError as exc:
        return _result(claim, "error", exc.one_line())
    correlated = bool(correlated_pairs(manifest.circuit(ref)))
    return _with(claim, comparison, values, fresh, correlated)


def _with(
    claim: Claim,
    comparison: Comparison,
    deposited: list[float] | None = None,
    fresh: list[float] | None = None,
    correlated: bool = False,
) -> ClaimResult:
    """The claim's result, with its seed check when fresh-seed values exist."""
    result = _result(claim, comparison.verdict, comparison.evidence, comparison)
    if not fresh or not deposited or claim.value is None:
        return result
    check = seed_check(claim.value, deposited, fresh, correlated=correlated)
    return result.model_copy(update={"seed_check": check})


def evaluate_claims(
    manifest: Manifest,
    execution: Execution | None,
    recorded: Mapping[str, dict[str, int]],
    seed: int = 0,
) -> tuple[ClaimResult, ...]:
    return tuple(
        evaluate_claim(c, manifest, execution, recorded, seed + i)
        for i, c in enumerate(manifest.claims)
    )


def needs_ideal(manifest: Manifest, circuit_id: str) -> bool:
    """Does any claim on this circuit need the ideal (noiseless) distribution?"""
    return any(
        c.source.circuit == circuit_id
        and c.metric in SCALAR_FROM_COUNTS
        and c.metric != "success_probability"
        for c in manifest.claims
    )


#: tests whose null hypothesis is "no discrepancy" (small p = evidence against the claim)
DIFFERENCE_TESTS = ("permutation-tvd", "permutation-infidelity", "chi-square", "shot-noise-z")


def flag_discrepancies(
    claims: tuple[ClaimResult, ...], method: Method = "holm", alpha: float = 0.05
) -> tuple[ClaimResult, ...]:
    """Adjust the difference tests' p-values across all claims (Holm: family-wise error;
    BH: false discovery rate) and flag discrepancies. Badges do not use this (each claim
    must pass on its own); it ranks what to look at first among many claims."""
    tested = [
        i
        for i, c in enumerate(claims)
        if c.comparison is not None
        and c.comparison.p_value is not None
        and c.comparison.test in DIFFERENCE_TESTS
    ]
    if not tested:
        return claims
    p = [float(claims[i].comparison.p_value or 0.0) for i in tested]  # type: ignore[union-attr]
    adjusted = adjust(p, method)
    out = list(claims)
    for i, adj in zip(tested, adjusted, strict=True):
        out[i] = claims[i].model_copy(update={"adjusted_p_value": adj, "discrepancy": adj < alpha})
    return tuple(out)
