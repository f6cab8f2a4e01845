"""The claims ``qrepro record`` writes, and how their tolerances are chosen.

* One ``trials`` claim per numeric metric of the notebook's metrics file: the mean over the
  recorded seeds, their ``per_seed`` values and sd (``spread``), and an absolute tolerance
  m = k sd / sqrt(n) rounded up to two significant digits, with k the multiplier that gives
  an honest claim 80% power in the one-sample TOST at n seeds (docs/statistics.md, "Choosing
  a tolerance": 4.61 at n = 3, 3.58 at n = 5, 3.18 at n = 10). The power of the rounded
  tolerance is reported with it. Replayed at the deposited seeds, identical per-seed values
  pass outright; the tolerance is what another machine's (or version's) values are held to.
* One ``counts`` claim per recorded circuit, with a shot-noise tolerance: identical counts
  (same seed, same versions) always pass, and on another version the permutation test
  runs at alpha 0.01 / N (at least 0.001) for a notebook's N circuits, so that all of them
  pass together at least 99% of the time when N <= 10 (and at least 1 - N / 1000 beyond).
"""

from __future__ import annotations

import math
import re
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from scipy import optimize

from harness.stats.tost import tost_power

TARGET_POWER = 0.8
COUNTS_ALPHA = 0.01
MIN_COUNTS_ALPHA = 0.001
#: the tolerance when the seeds give no spread (one seed, or identical values), per unit
FLOOR = 1e-6
_LOWER_IS_BETTER = re.compile(r"loss|error|err$|cost|tvd|infidelity|distance|mse|mae|regret",
                              re.IGNORECASE)


@dataclass(frozen=True)
class ToleranceChoice:
    """An absolute tolerance and why: the k multiplier, the power, or a warning."""

    value: float
    k: float | None
    power: float | None
    warning: str | None = None

    def describe(self, sd: float, n: int) -> str:
        if self.k is None or self.power is None:
            return f"tolerance {self.value:g} (a floor: {self.warning})"
        return (f"tolerance {self.value:g} = {self.k:.2f} sd/sqrt(n) (sd {sd:.4g}, n {n}) "
                f"rounded up: power {self.power:.2f} for an honest claim on fresh seeds "
                "(one-sample TOST); identical per-seed values pass outright")


def k_for_power(n: int, power: float = TARGET_POWER) -> float:
    """k with tost_power(sd, n, k sd / sqrt(n)) = power (independent of sd), n >= 2."""
    def gap(k: float) -> float:
        return tost_power(1.0, n, k / math.sqrt(n)) - power

    return float(optimize.brentq(gap, 0.5, 200.0, xtol=1e-6))


def round_up(value: float, digits: int = 2) -> float:
    """``value`` rounded up to ``digits`` significant digits (0.05124 -> 0.052)."""
    if value <= 0:
        return 0.0
    exponent = math.floor(math.log10(value)) - digits + 1
    quantum = 10.0 ** exponent
    return round(math.ceil(value / quantum - 1e-9) * quantum, max(0, -exponent))


def choose_tolerance(values: Sequence[float]) -> ToleranceChoice:
    """The absolute tolerance docs/statistics.md recommends for these per-seed values."""
    n = len(values)
    floor = round_up(FLOOR * max(1.0, abs(statistics.fmean(values))))
    if n < 2:
        return ToleranceChoice(floor, None, None, "one seed gives no spread; record with 5 "
                               "seeds or more, or state the tolerance you mean")
    sd = statistics.stdev(values)
    if sd == 0:
        return ToleranceChoice(floor, None, None, f"all {n} seeds gave the same value, so "
                               "the seeds say nothing of the spread; state the tolerance you "
                               "mean (e.g. one step of the metric)")
    k = k_for_power(n)
    value = max(round_up(k * sd / math.sqrt(n)), floor)
    return ToleranceChoice(value, k, tost_power(sd, n, value))


def claim_id(prefix: str, name: str) -> str:
    """A valid claim id from a notebook id and a metric name."""
    text = re.sub(r"[^A-Za-z0-9_.-]+", "-", f"{prefix}-{name}").strip("-._")
    return text if text and text[0].isalnum() else f"m{text}"


def lower_is_better(name: str) -> bool:
    return bool(_LOWER_IS_BETTER.search(name))


def metric_claim(notebook_id: str, name: str, values: list[float],
                 choice: ToleranceChoice) -> dict[str, Any]:
    claim: dict[str, Any] = {
        "id": claim_id(notebook_id, name),
        "source": {"notebook": notebook_id},
        "metric": "notebook_metric",
        "name": name,
        "value": float(f"{statistics.fmean(values):.10g}"),  # no 0.97439999999
    }
    if len(values) >= 2:
        claim["spread"] = {"kind": "sd", "value": float(f"{statistics.stdev(values):.10g}"),
                           "n": len(values)}
    claim["per_seed"] = list(values)
    claim["tolerance"] = {"kind": "absolute", "value": choice.value}
    if lower_is_better(name):
        claim["better"] = "lower"
    return claim


def counts_alpha(n_circuits: int) -> float:
    return max(MIN_COUNTS_ALPHA, COUNTS_ALPHA / max(1, n_circuits))


def counts_claim(circuit_id: str, alpha: float) -> dict[str, Any]:
    return {"id": f"{circuit_id}-counts", "source": {"circuit": circuit_id}, "metric": "counts",
            "tolerance": {"kind": "shot-noise", "alpha": alpha}}


def numeric_metrics(per_seed: Sequence[dict[str, Any]]) -> tuple[dict[str, list[float]],
                                                                  list[str]]:
    """Metrics that are a finite number in every seed's file; and why others are left out."""
    names = list(dict.fromkeys(k for metrics in per_seed for k in metrics))
    found: dict[str, list[float]] = {}
    skipped: list[str] = []
    for name in names:
        values = [m.get(name) for m in per_seed]
        if not all(_number(v) for v in values):
            skipped.append(f"metric {name!r} is not a finite number in every seed's file: "
                           "no claim written")
            continue
        found[name] = [float(v) for v in values]  # type: ignore[arg-type]
    return found, skipped


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) \
        and math.isfinite(value)
