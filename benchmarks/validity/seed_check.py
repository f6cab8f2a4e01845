"""Validity of the fresh-seed check (harness.stats.seed_robustness), pure statistics.

No pipeline, no simulator: per-seed metric values are drawn from models of real experiments
and fed to the same vectorised test that ``seed_check`` runs (npc_pvalues, with the
assignments seed_check uses), and to a two-sided Welch t-test for comparison.

Metrics (one value per seed):

* notebook-style accuracy on 39 test points (step 1/39): per-seed true accuracy
  p ~ N(0.78, sd) clipped to [0, 1], with sd 0.06, 0.09 and 0.13 (training variance), then
  the observed value Binomial(39, p) / 39 (test-set noise);
* a low-variance fidelity-like metric: success fraction of 1000 shots at 0.95, i.e.
  Binomial(1000, 0.95) / 1000 (sd 0.007, step 0.001).

Deposits: cherry-picked (20 seeds run, the best 5 deposited) and honest (5 seeds). Fresh
seeds: K = 10 and K = 20. Measured: the share of deposits flagged (p < alpha) by the
combined test and by Welch alone. Targets: cherry-picked flagged >= 80% at K = 10; honest
flagged <= 5% (the level is alpha = 0.02).

Run: ``python -m benchmarks.validity.seed_check [--trials N] [--seed S]``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import warnings
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from harness.stats.seed_robustness import (  # noqa: E402
    DEFAULT_ALPHA,
    fresh_needed,
    npc_pvalues,
    power,
)

N_DEPOSITED, POOL, FRESH = 5, 20, (10, 20)
N_TEST, ACC_MEAN, ACC_SDS = 39, 0.78, (0.06, 0.09, 0.13)
SHOTS, FID_P = 1000, 0.95
CHUNK = 100

Floats = NDArray[np.float64]
Sampler = Callable[[np.random.Generator, tuple[int, int]], Floats]


def accuracy(sd: float) -> Sampler:
    """Notebook accuracy on N_TEST points: true accuracy ~ N(ACC_MEAN, sd), then binomial."""

    def draw(rng: np.random.Generator, shape: tuple[int, int]) -> Floats:
        p = np.clip(rng.normal(ACC_MEAN, sd, shape), 0.0, 1.0)
        values: Floats = rng.binomial(N_TEST, p).astype(float) / N_TEST
        return values

    return draw


def fidelity(rng: np.random.Generator, shape: tuple[int, int]) -> Floats:
    """Fidelity-like: success fraction of SHOTS shots at FID_P."""
    return rng.binomial(SHOTS, FID_P, shape).astype(float) / SHOTS


METRICS: dict[str, Sampler] = {
    **{f"accuracy sd {sd:g}": accuracy(sd) for sd in ACC_SDS},
    "fidelity-like": fidelity,
}


def welch_p(deposited: Floats, fresh: Floats) -> Floats:
    from scipy import stats  # slow import, only here

    with np.errstate(divide="ignore", invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # nearly identical values
        p = stats.ttest_ind(deposited, fresh, axis=0, equal_var=False).pvalue
    out: Floats = np.nan_to_num(np.asarray(p, dtype=float), nan=1.0)  # all equal: no flag
    return out


def _deposits(rng: np.random.Generator, draw: Sampler, kind: str, trials: int) -> Floats:
    if kind == "honest":
        return draw(rng, (N_DEPOSITED, trials))
    return np.sort(draw(rng, (POOL, trials)), axis=0)[-N_DEPOSITED:]


def _rates(deposited: Floats, fresh: Floats, alpha: float) -> tuple[float, float]:
    def chunk(i: int) -> Floats:
        return npc_pvalues(deposited[:, i : i + CHUNK], fresh[:, i : i + CHUNK])[0]

    # numpy sorts and multiplies without the GIL: threads share the chunks
    with ThreadPoolExecutor(max_workers=min(4, os.cpu_count() or 1)) as pool:
        npc = np.concatenate(list(pool.map(chunk, range(0, deposited.shape[1], CHUNK))))
    return float(np.mean(npc < alpha)), float(np.mean(welch_p(deposited, fresh) < alpha))


def study(trials: int = 1000, seed: int = 2026, alpha: float = DEFAULT_ALPHA) -> dict[str, Any]:
    """Flag rates of cherry-picked (best 5 of 20) and honest (5 seeds) deposits against K
    fresh seeds, for the combined test and for Welch alone, per metric."""
    start = time.perf_counter()
    rng = np.random.default_rng(seed)
    rows: list[dict[str, Any]] = []
    for name, draw in METRICS.items():
        for k in FRESH:
            row: dict[str, Any] = {"metric": name, "fresh": k}
            for kind in ("cherry-picked", "honest"):
                deposited = _deposits(rng, draw, kind, trials)
                fresh = draw(rng, (k, trials))
                npc, welch = _rates(deposited, fresh, alpha)
                row[kind] = {"npc": npc, "welch": welch}
            rows.append(row)
    return {
        "trials": trials,
        "seed": seed,
        "alpha": alpha,
        "deposited": N_DEPOSITED,
        "pool": POOL,
        "rows": rows,
        "reference_power": {k: power(N_DEPOSITED, k, alpha) for k in FRESH},
        "fresh_needed": fresh_needed(N_DEPOSITED, alpha),
        "seconds": round(time.perf_counter() - start, 1),
    }


def _pct(x: float) -> str:
    return f"{100 * x:.1f}%"


def markdown(result: dict[str, Any]) -> str:
    """The measured rates as a Markdown table."""
    lines = [
        "| metric | fresh seeds K | cherry-picked flagged (combined) | cherry-picked flagged "
        "(Welch) | honest flagged (combined) | honest flagged (Welch) |",
        "|---|---|---|---|---|---|",
    ]
    for r in result["rows"]:
        c, h = r["cherry-picked"], r["honest"]
        lines.append(
            f"| {r['metric']} | {r['fresh']} | {_pct(c['npc'])} | {_pct(c['welch'])} | "
            f"{_pct(h['npc'])} | {_pct(h['welch'])} |"
        )
    power_txt = ", ".join(f"K = {k}: {p:.2f}" for k, p in result["reference_power"].items())
    lines += [
        "",
        f"{result['trials']} trials per cell, seed {result['seed']}, alpha "
        f"{result['alpha']:g}; cherry-picked = the best {result['deposited']} of "
        f"{result['pool']} seeds, honest = {result['deposited']} seeds. Reference power "
        f"(normal metric, best {result['deposited']} of {4 * result['deposited']}): "
        f"{power_txt}; fresh seeds for 80%: {result['fresh_needed']}. "
        f"Study time {result['seconds']} s.",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--trials", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--alpha", type=float, default=DEFAULT_ALPHA)
    parser.add_argument("--json", action="store_true", help="print the result as JSON too")
    args = parser.parse_args(argv)
    result = study(args.trials, args.seed, args.alpha)
    print(markdown(result))
    if args.json:
        print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
