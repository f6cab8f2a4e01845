"""Validity of the fresh-seed check (harness.stats.seed_robustness), pure statistics.

No pipeline, no simulator: per-seed metric values are drawn from models of real experiments
and fed to the same vectorised decision that ``seed_check`` makes (``flags``: the one-sided
lowest-seed test, normal-theory p < alpha and permutation p < 2.5 alpha, with the assignments
seed_check uses), and to a two-sided Welch t-test for comparison.

Metrics (one value per seed; higher is better):

* notebook-style accuracy on 39 test points (step 1/39): per-seed true accuracy
  p ~ N(0.78, sd) clipped to [0, 1], with sd 0.06, 0.09 and 0.13 (training variance), then
  the observed value Binomial(39, p) / 39 (test-set noise);
* a low-variance fidelity-like metric: success fraction of 1000 shots at 0.95, i.e.
  Binomial(1000, 0.95) / 1000 (sd 0.007, step 0.001).

Deposits: cherry-picked (20 seeds run, the best 5 deposited), honest (5 seeds) and
worst-picked (the worst 5 of 20: not flattering, never to be flagged). Fresh seeds: K = 10 and
K = 20. Measured: the share of deposits flagged. Targets: cherry-picked flagged >= 80% at
K = 10; honest flagged <= 5% (the level is alpha = 0.02).

``compare`` (``--candidates``) measures the candidate tests the check was chosen from, on the
same draws, plus honest deposits of harder metrics (accuracy on 10 test points; 25% of seeds
failing at accuracy 0.5; heavy tails, t with 3 df; a long lower tail, -lognormal).

Run: ``python -m benchmarks.validity.seed_check [--trials N] [--seed S] [--candidates]``.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from harness.stats import seed_robustness as sr  # noqa: E402
from harness.stats.seed_robustness import DEFAULT_ALPHA, flags, fresh_needed, power  # noqa: E402

N_DEPOSITED, POOL, FRESH = 5, 20, (10, 20)
N_TEST, ACC_MEAN, ACC_SDS = 39, 0.78, (0.06, 0.09, 0.13)
SHOTS, FID_P = 1000, 0.95
KINDS = ("cherry-picked", "honest", "worst-picked")
CHUNK = 100

Floats = NDArray[np.float64]
Sampler = Callable[[np.random.Generator, tuple[int, int]], Floats]
Test = Callable[[Floats, Floats, float], NDArray[np.bool_]]


def accuracy(sd: float, n_test: int = N_TEST, fail: float = 0.0) -> Sampler:
    """Notebook accuracy on n_test points: true accuracy ~ N(ACC_MEAN, sd) (a share ``fail``
    of seeds fails at 0.5 instead), then binomial."""

    def draw(rng: np.random.Generator, shape: tuple[int, int]) -> Floats:
        p = np.clip(rng.normal(ACC_MEAN, sd, shape), 0.0, 1.0)
        if fail:
            p = np.where(rng.random(shape) < fail, 0.5, p)
        values: Floats = rng.binomial(n_test, p).astype(float) / n_test
        return values

    return draw


def fidelity(rng: np.random.Generator, shape: tuple[int, int]) -> Floats:
    """Fidelity-like: success fraction of SHOTS shots at FID_P."""
    return rng.binomial(SHOTS, FID_P, shape).astype(float) / SHOTS


METRICS: dict[str, Sampler] = {
    **{f"accuracy sd {sd:g}": accuracy(sd) for sd in ACC_SDS},
    "fidelity-like": fidelity,
}


def _t3(rng: np.random.Generator, shape: tuple[int, int]) -> Floats:
    return rng.standard_t(3, shape)


def _long_lower_tail(rng: np.random.Generator, shape: tuple[int, int]) -> Floats:
    return -rng.lognormal(0.0, 1.0, shape)


HARD: dict[str, Sampler] = {
    "accuracy on 10 points, sd 0.06": accuracy(0.06, n_test=10),
    "accuracy, 25% of seeds fail": accuracy(0.06, fail=0.25),
    "t, 3 df": _t3,
    "-lognormal (long lower tail)": _long_lower_tail,
}


def welch_p(deposited: Floats, fresh: Floats) -> Floats:
    """Two-sided Welch p down each column (all values equal: 1)."""
    from scipy import stats  # slow import, only here

    with np.errstate(divide="ignore", invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # nearly identical values
        p = stats.ttest_ind(deposited, fresh, axis=0, equal_var=False).pvalue
    out: Floats = np.nan_to_num(np.asarray(p, dtype=float), nan=1.0)
    return out


def _deposits(rng: np.random.Generator, draw: Sampler, kind: str, trials: int) -> Floats:
    if kind == "honest":
        return draw(rng, (N_DEPOSITED, trials))
    ranked = np.sort(draw(rng, (POOL, trials)), axis=0)
    return ranked[-N_DEPOSITED:] if kind == "cherry-picked" else ranked[:N_DEPOSITED]


def study(trials: int = 1000, seed: int = 2026, alpha: float = DEFAULT_ALPHA) -> dict[str, Any]:
    """Flag rates of cherry-picked (best 5 of 20), honest (5 seeds) and worst-picked (worst 5
    of 20) deposits against K fresh seeds, for the seed check and for a two-sided Welch test,
    per metric."""
    start = time.perf_counter()
    rng = np.random.default_rng(seed)
    rows: list[dict[str, Any]] = []
    for name, draw in METRICS.items():
        for k in FRESH:
            row: dict[str, Any] = {"metric": name, "fresh": k}
            for kind in KINDS:
                deposited = _deposits(rng, draw, kind, trials)
                fresh = draw(rng, (k, trials))
                row[kind] = {
                    "check": float(np.mean(flags(deposited, fresh, alpha))),
                    "welch": float(np.mean(welch_p(deposited, fresh) < alpha)),
                }
            rows.append(row)
    return {
        "trials": trials,
        "seed": seed,
        "alpha": alpha,
        "test": sr.TEST_NAME,
        "deposited": N_DEPOSITED,
        "pool": POOL,
        "rows": rows,
        "reference_power": {k: power(N_DEPOSITED, k, alpha) for k in FRESH},
        "fresh_needed": fresh_needed(N_DEPOSITED, alpha),
        "seconds": round(time.perf_counter() - start, 1),
    }


def _pct(x: float) -> str:
    return f"{100 * x:.1f}%"


def _mc_sd(rate: float, trials: int) -> str:
    return f"{100 * math.sqrt(rate * (1 - rate) / trials):.1f}"


def markdown(result: dict[str, Any]) -> str:
    """The measured rates as a Markdown table (the check / two-sided Welch)."""
    lines = [
        "| metric | fresh seeds K | cherry-picked flagged | honest flagged | worst-picked "
        "flagged |",
        "|---|---|---|---|---|",
    ]
    for r in result["rows"]:
        cells = [f"{_pct(r[kind]['check'])} / {_pct(r[kind]['welch'])}" for kind in KINDS]
        lines.append(f"| {r['metric']} | {r['fresh']} | {' | '.join(cells)} |")
    n = result["trials"]
    power_txt = ", ".join(f"K = {k}: {p:.2f}" for k, p in result["reference_power"].items())
    lines += [
        "",
        f"Each cell: the seed check ({result['test']}) / two-sided Welch, both at alpha "
        f"{result['alpha']:g}. {n} trials per cell, seed {result['seed']}; cherry-picked = the "
        f"best {result['deposited']} of {result['pool']} seeds, honest = {result['deposited']} "
        f"seeds, worst-picked = the worst {result['deposited']} of {result['pool']}. Monte "
        f"Carlo sd of a rate: {_mc_sd(0.02, n)} points at 2%, {_mc_sd(0.85, n)} at 85%. "
        f"Reference power (normal metric, best {result['deposited']} of "
        f"{4 * result['deposited']}): {power_txt}; fresh seeds for 80%: "
        f"{result['fresh_needed']}. Study time {result['seconds']} s.",
    ]
    return "\n".join(lines)


# --- the candidates the check was chosen from ----------------------------------------------


def _moments(d: Floats, f: Floats) -> tuple[int, int, Floats, Floats, Floats, Floats]:
    return d.shape[0], f.shape[0], d.mean(0), f.mean(0), d.var(0, ddof=1), f.var(0, ddof=1)


def welch_one_sided_p(d: Floats, f: Floats) -> Floats:
    """One-sided Welch p (deposited mean higher)."""
    from scipy import special

    n_d, k, md, mf, vd, vf = _moments(d, f)
    a, b = vd / n_d, vf / k
    with np.errstate(divide="ignore", invalid="ignore"):
        t = (md - mf) / np.sqrt(a + b)
        df = (a + b) ** 2 / (a * a / (n_d - 1) + b * b / (k - 1))
        p = special.stdtr(df, -t)
    out: Floats = np.where(np.isnan(p), 1.0, p)
    return out


def pooled_one_sided_p(d: Floats, f: Floats) -> Floats:
    """One-sided pooled-variance t p (deposited mean higher)."""
    from scipy import special

    n_d, k, md, mf, vd, vf = _moments(d, f)
    sp2 = ((n_d - 1) * vd + (k - 1) * vf) / (n_d + k - 2)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = special.stdtr(n_d + k - 2, -(md - mf) / np.sqrt(sp2 * (1 / n_d + 1 / k)))
    out: Floats = np.where(np.isnan(p), 1.0, p)
    return out


def f_one_sided_p(d: Floats, f: Floats) -> Floats:
    """One-sided F-test p (deposited variance smaller)."""
    from scipy import special

    n_d, k, _, _, vd, vf = _moments(d, f)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = special.fdtr(n_d - 1, k - 1, vd / vf)
    out: Floats = np.where(np.isnan(p), 1.0, p)
    return out


def fisher2(p1: Floats, p2: Floats) -> Floats:
    """Fisher's combination of two independent p-values: P(chi2_4 >= -2 ln(p1 p2))."""
    q = np.maximum(p1 * p2, 1e-300)
    out: Floats = q * (1 - np.log(q))
    return out


def _upper_counts(x: Floats) -> NDArray[np.int64]:
    """For every entry, how many entries of its row (last axis) are >= it."""
    m = x.shape[-1]
    order = np.argsort(x, axis=-1)
    xs = np.take_along_axis(x, order, axis=-1)
    new = np.ones(xs.shape, dtype=bool)
    new[..., 1:] = xs[..., 1:] != xs[..., :-1]
    below = np.maximum.accumulate(np.where(new, np.arange(m), 0), axis=-1)
    out = np.empty(x.shape, dtype=np.int64)
    np.put_along_axis(out, order, m - below, axis=-1)
    return out


def npc_one_sided_p(d: Floats, f: Floats) -> Floats:
    """Pesarin's NPC (Fisher) of the one-sided location (Welch t), rank (rank sum) and spread
    (small deposited variance) permutation p-values, over seed_check's assignments."""
    n_d, k = d.shape[0], f.shape[0]
    n = n_d + k
    idx = sr._default_assignments(n, n_d)
    out = []
    for i in range(0, d.shape[1], CHUNK):
        z = sr._standardised(d[:, i : i + CHUNK], f[:, i : i + CHUNK])
        s = z.shape[1]
        sums = sr._group_sums(np.concatenate([z.T, (z * z).T, sr._doubled_ranks(z).T]), idx)
        s_d, q_d, r_d = sums[:s], sums[s : 2 * s], sums[2 * s :]
        q_t = (z * z).sum(axis=0)[:, None]
        ss_d = np.maximum(q_d - s_d * s_d / n_d, 0.0)
        ss_f = np.maximum(q_t - q_d - s_d * s_d / k, 0.0)
        with np.errstate(divide="ignore", invalid="ignore"):
            se = np.sqrt(ss_d / (n_d * (n_d - 1)) + ss_f / (k * (k - 1)))
            location = np.nan_to_num(s_d * (1 / n_d + 1 / k) / se, nan=0.0)
            spread = np.nan_to_num(-ss_d / (ss_d + ss_f), nan=-0.5)
        counts = [_upper_counts(np.round(x, 9)) for x in (location, np.rint(r_d), spread)]
        product = counts[0] * counts[1].astype(float) * counts[2]
        out.append((product <= product[:, :1]).mean(axis=1))
    return np.concatenate(out)


def _t_normal_only(d: Floats, f: Floats, alpha: float) -> NDArray[np.bool_]:
    return sr.lowest_t(d, f) > sr.critical(d.shape[0], f.shape[0], alpha)


def _t_permutation_only(d: Floats, f: Floats, alpha: float) -> NDArray[np.bool_]:
    p = np.concatenate(
        [sr.permutation_p(d[:, i : i + CHUNK], f[:, i : i + CHUNK]) for i in
         range(0, d.shape[1], CHUNK)]
    )
    return p < alpha


CANDIDATES: dict[str, Test] = {
    "Welch two-sided": lambda d, f, a: welch_p(d, f) < a,
    "(a) Welch one-sided": lambda d, f, a: welch_one_sided_p(d, f) < a,
    "(b) NPC one-sided (location, rank, spread)": lambda d, f, a: npc_one_sided_p(d, f) < a,
    "(c) Fisher(Welch one-sided, F)": lambda d, f, a: fisher2(
        welch_one_sided_p(d, f), f_one_sided_p(d, f)
    ) < a,
    "(c') Fisher(pooled t one-sided, F)": lambda d, f, a: fisher2(
        pooled_one_sided_p(d, f), f_one_sided_p(d, f)
    ) < a,
    "(d) lowest-seed T, normal p": _t_normal_only,
    "(d) lowest-seed T, permutation p": _t_permutation_only,
    "(d) chosen: normal p + permutation guard": flags,
}


def compare(trials: int = 1000, seed: int = 2026, alpha: float = DEFAULT_ALPHA) -> dict[str, Any]:
    """Flag rates of every candidate on the same draws: the study's metrics (all three kinds
    of deposit) and honest deposits of the HARD metrics."""
    start = time.perf_counter()
    rng = np.random.default_rng(seed)
    rows: list[dict[str, Any]] = []
    cells = [(name, draw, KINDS) for name, draw in METRICS.items()]
    cells += [(name, draw, ("honest",)) for name, draw in HARD.items()]
    for name, draw, kinds in cells:
        for k in FRESH:
            row: dict[str, Any] = {"metric": name, "fresh": k}
            for kind in kinds:
                deposited = _deposits(rng, draw, kind, trials)
                fresh = draw(rng, (k, trials))
                row[kind] = {
                    c: float(np.mean(test(deposited, fresh, alpha)))
                    for c, test in CANDIDATES.items()
                }
            rows.append(row)
    return {"trials": trials, "seed": seed, "alpha": alpha, "rows": rows,
            "seconds": round(time.perf_counter() - start, 1)}


def compare_markdown(result: dict[str, Any]) -> str:
    """One table per kind of deposit: candidates as rows, (metric, K) as columns."""
    out = []
    for kind in KINDS:
        rows = [r for r in result["rows"] if kind in r]
        head = " | ".join(f"{r['metric']}, K = {r['fresh']}" for r in rows)
        out += [f"{kind} flagged:", "", f"| test | {head} |", "|---" * (len(rows) + 1) + "|"]
        for c in CANDIDATES:
            out.append(f"| {c} | " + " | ".join(_pct(r[kind][c]) for r in rows) + " |")
        out.append("")
    out.append(
        f"{result['trials']} trials per cell, seed {result['seed']}, alpha {result['alpha']:g}; "
        f"{result['seconds']} s."
    )
    return "\n".join(out)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--trials", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--alpha", type=float, default=DEFAULT_ALPHA)
    parser.add_argument("--candidates", action="store_true", help="compare the candidate tests")
    parser.add_argument("--json", action="store_true", help="print the result as JSON too")
    args = parser.parse_args(argv)
    if args.candidates:
        result = compare(args.trials, args.seed, args.alpha)
        print(compare_markdown(result))
    else:
        result = study(args.trials, args.seed, args.alpha)
        print(markdown(result))
    if args.json:
        print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
