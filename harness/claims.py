"""Turn each claim into a comparison: pick the metric, the data and the test.

The statistics themselves live in :mod:`harness.compare` (pure); this module only maps
a manifest claim plus the reproduced runs onto the right function.
"""

from __future__ import annotations

from collections.abc import Mapping

from harness import compare, metrics
from harness.errors import ComparisonError
from harness.models import CircuitRun, ClaimResult, Comparison, Execution
from harness.qdata import Claim, Manifest, ShotNoiseTolerance

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


def evaluate_claim(
    claim: Claim,
    manifest: Manifest,
    execution: Execution | None,
    recorded: Mapping[str, dict[str, int]],
    seed: int,
) -> ClaimResult:
    kind, ref = claim.source.kind_and_id()
    if kind == "notebook":
        return _result(
            claim,
            "error",
            f"notebook '{ref}' was not executed: this version of qrepro replays circuits only",
        )
    run = execution.run(ref) if execution is not None else None
    if run is None or not run.ok:
        why = run.error if run is not None and run.error else "it was not run"
        return _result(claim, "error", f"circuit '{ref}' did not run: {why}")
    try:
        if claim.metric == "counts":
            if ref not in recorded:
                return _result(claim, "error", f"recorded counts of circuit '{ref}' unreadable")
            comparison = _counts_comparison(claim, run, recorded[ref], seed)
        else:
            comparison = _scalar_comparison(claim, run, manifest.circuit(ref).shots, seed)
    except ComparisonError as exc:
        return _result(claim, "error", exc.one_line())
    return _result(claim, comparison.verdict, comparison.evidence, comparison)


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
