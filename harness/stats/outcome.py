"""Three outcomes from one confidence interval: pass, fail or inconclusive (pure, no I/O).

A claim over seeds (or over circuits) is a statement about a true mean, not about the
mean that a handful of seeds happens to give. With a two-sided equivalence margin m around
the claim c, the reproduced (1 - 2 alpha) confidence interval [low, high] decides:

* **pass** — the interval lies inside [c - m, c + m]: equivalence is shown (this is TOST at
  alpha, in its confidence-interval form);
* **fail** — the interval lies entirely outside [c - m, c + m]: the claim is contradicted;
* **inconclusive** — the interval straddles an edge of [c - m, c + m]: the seeds (or
  shots, or circuits) are too few to tell; more of them would decide.

One-sided claims ("at least b") use a one-sided interval the same way: pass when its lower
bound is at least b, fail when its upper bound is below b, inconclusive otherwise.
"""

from __future__ import annotations

import math
from typing import Literal

from harness.stats.distributions import t_ppf

Outcome = Literal["pass", "fail", "inconclusive"]

#: the most trials ``trials_to_decide`` will name; beyond it the answer is "more than"
MAX_TRIALS = 100_000
_EPS = 1e-12


def _slack(*values: float) -> float:
    return _EPS * max(1.0, *(abs(v) for v in values))


def equivalence(low: float, high: float, claimed: float, margin: float) -> Outcome:
    """Where [low, high] lies relative to [claimed - margin, claimed + margin]."""
    lo, hi = claimed - margin, claimed + margin
    eps = _slack(low, high, claimed, margin)
    if low >= lo - eps and high <= hi + eps:
        return "pass"
    if high < lo - eps or low > hi + eps:
        return "fail"
    return "inconclusive"


def at_least(low: float, high: float, bound: float) -> Outcome:
    """A one-sided "at least ``bound``" claim from a one-sided interval's two ends."""
    eps = _slack(low, high, bound)
    if low >= bound - eps:
        return "pass"
    if high < bound - eps:
        return "fail"
    return "inconclusive"


def at_most(low: float, high: float, bound: float) -> Outcome:
    """A one-sided "at most ``bound``" claim."""
    flipped = at_least(-high, -low, -bound)
    return flipped


def trials_to_decide(
    estimate: float, se: float, n: int, edges: tuple[float, ...], alpha: float
) -> int | None:
    """How many trials (with the same mean and spread) would move every end of the
    (1 - 2 alpha) interval off the nearest edge, so that the outcome is pass or fail.

    ``se`` is the standard error at ``n`` trials; it shrinks as 1 / sqrt(n). None when the
    estimate sits on an edge or more than MAX_TRIALS would be needed.
    """
    distance = min(abs(estimate - e) for e in edges)
    if se <= 0 or n < 1 or distance <= _slack(estimate, *edges):
        return None
    sd = se * math.sqrt(n)
    for k in _ladder(max(n + 1, 2)):
        if t_ppf(1 - alpha, k - 1) * sd / math.sqrt(k) < distance:
            return _refine(k, sd, distance, alpha)
    return None


def _ladder(start: int) -> list[int]:
    out, k = [], start
    while k <= MAX_TRIALS:
        out.append(k)
        k = max(k + 1, int(k * 1.25))
    return out


def _refine(k: int, sd: float, distance: float, alpha: float) -> int:
    """The smallest n <= k with t * sd / sqrt(n) < distance (k satisfies it)."""
    lo, hi = max(2, int(k / 1.25)), k
    while lo < hi:
        mid = (lo + hi) // 2
        if t_ppf(1 - alpha, mid - 1) * sd / math.sqrt(mid) < distance:
            hi = mid
        else:
            lo = mid + 1
    return hi


def more_trials(needed: int | None, what: str = "seeds") -> str:
    """The clause that says how many trials would decide."""
    if needed is None:
        return f"no number of {what} decides this from the current mean (it sits on the edge)"
    return f"about {needed} {what} with the same mean and spread would decide"
