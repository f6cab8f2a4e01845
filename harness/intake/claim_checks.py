"""What `validate` can tell about a claim without running anything.

A claim over seeds states a value, often a spread and the per-seed values; they must agree
with each other, or the claim says two things at once:

* ``claimed-mean-mismatch``: the claimed value is not the mean of its own ``per_seed`` values
  (it is then tested as the mean of the reproduced values anyway);
* ``spread-mismatch``: the stated sd / se, or its ``n``, does not match ``per_seed``;
* ``tolerance-below-step``: an absolute tolerance smaller than the metric's ``step`` (an
  accuracy on 39 test points moves in steps of 1/39): a margin below one step is met only
  by an exact match, whatever the seeds;
* ``step-mismatch``: a per-seed value that is not a whole number of steps (to the precision
  deposited): the step does not match the test set (0.85 is no accuracy on 39 points).

Warnings, naming the claim's field; none denies a badge by itself.
"""

from __future__ import annotations

import math
import statistics

from harness.intake.manifest import MANIFEST_NAME, Manifest, TrialsClaim
from harness.models import Finding, finding
from harness.tolerances import AbsoluteTolerance
from harness.units import deposited_precision

#: relative disagreement tolerated between a stated number and the one computed from
#: per_seed values rounded to the deposit's precision
REL = 0.02
ABS = 5e-4


def _differs(stated: float, computed: float) -> bool:
    return abs(stated - computed) > ABS + REL * abs(computed)


def _on_grid(value: float, step: float) -> bool:
    """Is ``value`` k * step for a whole k, to the precision the deposit wrote it with?"""
    k = round(value / step)
    return abs(value - k * step) <= deposited_precision(value) + 1e-9 * max(1.0, abs(value))


def _claim_findings(c: TrialsClaim, where: str) -> list[Finding]:
    out: list[Finding] = []
    values = c.per_seed or []
    if len(values) >= 1:
        mean = statistics.fmean(values)
        if _differs(c.value, mean):
            out.append(finding(
                "claimed-mean-mismatch", "warning",
                f"claim {c.id}: value {c.value:g} is not the mean {mean:.6g} of its own "
                f"{len(values)} per-seed values",
                file=MANIFEST_NAME, field=f"{where}.value"))
    if c.spread is not None and len(values) >= 2:
        if c.spread.n != len(values):
            out.append(finding(
                "spread-mismatch", "warning",
                f"claim {c.id}: spread.n is {c.spread.n} but {len(values)} per-seed values "
                "are given", file=MANIFEST_NAME, field=f"{where}.spread.n"))
        sd = statistics.stdev(values)
        expected = {"sd": sd, "se": sd / math.sqrt(len(values))}.get(c.spread.kind)
        if expected is not None and _differs(c.spread.value, expected):
            out.append(finding(
                "spread-mismatch", "warning",
                f"claim {c.id}: spread {c.spread.kind} {c.spread.value:g} does not match the "
                f"{c.spread.kind} {expected:.4g} of its per-seed values (sd with n - 1)",
                file=MANIFEST_NAME, field=f"{where}.spread.value"))
    off = [v for v in values if c.step is not None and not _on_grid(v, c.step)]
    if off:
        assert c.step is not None
        out.append(finding(
            "step-mismatch", "warning",
            f"claim {c.id}: per-seed value {off[0]:g} is not a whole number of steps "
            f"{c.step:g} (1/{1 / c.step:.4g}); the step does not match the test set size",
            file=MANIFEST_NAME, field=f"{where}.step"))
    tol = c.tolerance
    if c.step is not None and isinstance(tol, AbsoluteTolerance) and 0 < tol.value < c.step:
        out.append(finding(
            "tolerance-below-step", "warning",
            f"claim {c.id}: tolerance {tol.value:g} is below the metric's step {c.step:g}; "
            "only an exact match can pass (state a tolerance of at least one step)",
            file=MANIFEST_NAME, field=f"{where}.tolerance.value"))
    return out


def claim_findings(m: Manifest) -> list[Finding]:
    return [f for i, c in enumerate(m.claims) if isinstance(c, TrialsClaim)
            for f in _claim_findings(c, f"claims[{i}]")]
