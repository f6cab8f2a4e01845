"""What `validate` can tell about a claim without running anything.

A claim over seeds states a value, often a spread and the per-seed values; they must agree
with each other, or the claim says two things at once:

* ``claimed-mean-mismatch``: the claimed value is not the mean of its own ``per_seed`` values
  (it is then tested as the mean of the reproduced values anyway);
* ``spread-mismatch``: the stated sd / se, or its ``n``, does not match ``per_seed``;
* ``tolerance-below-step``: an absolute tolerance smaller than the metric's ``step`` (an
  accuracy on 39 test points moves in steps of 1/39): a margin below one step is met only
  by an exact match, whatever the seeds.

Warnings, naming the claim's field; none denies a badge by itself.
"""

from __future__ import annotations

import math
import statistics

from harness.intake.manifest import MANIFEST_NAME, AbsoluteTolerance, Claim, Manifest
from harness.models import Finding, finding

#: relative disagreement tolerated between a stated number and the one computed from
#: per_seed values rounded to the deposit's precision
REL = 0.02
ABS = 5e-4


def _differs(stated: float, computed: float) -> bool:
    return abs(stated - computed) > ABS + REL * abs(computed)


def _claim_findings(c: Claim, where: str) -> list[Finding]:
    out: list[Finding] = []
    values = c.per_seed or []
    if c.value is not None and len(values) >= 1:
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
    tol = c.tolerance
    if c.step is not None and isinstance(tol, AbsoluteTolerance) and 0 < tol.value < c.step:
        out.append(finding(
            "tolerance-below-step", "warning",
            f"claim {c.id}: tolerance {tol.value:g} is below the metric's step {c.step:g}; "
            "only an exact match can pass (state a tolerance of at least one step)",
            file=MANIFEST_NAME, field=f"{where}.tolerance.value"))
    return out


def claim_findings(m: Manifest) -> list[Finding]:
    return [f for i, c in enumerate(m.claims) for f in _claim_findings(c, f"claims[{i}]")]
