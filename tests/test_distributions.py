"""harness.stats.distributions computes what scipy.stats computes: every function against
its scipy.stats counterpart on a grid with the edges (infinite, non-integer, invalid df;
probabilities 0, 1 and outside; infinite, huge, tiny, signed-zero and nan arguments),
for floats one at a time and for broadcast arrays."""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from scipy import stats

from harness.stats import distributions as d

XS = [-math.inf, -1e300, -1e10, -1e3, -40.0, -38.5, -10.0, -3.0, -1.96, -1.0, -0.5, -1e-300,
      -0.0, 0.0, 5e-324, 1e-300, 1e-12, 0.5, 1.0, 1.5, 1.96, 2.0, 3.0, 8.3, 10.0, 37.5, 40.0,
      100.0, 1e3, 1e5, 1e10, 1e300, math.inf, math.nan]
QS = [-math.inf, -0.1, -0.0, 0.0, 5e-324, 1e-300, 1e-16, 1e-10, 1e-3, 0.005, 0.025, 0.05, 0.1,
      0.3, 0.5, 0.7, 0.9, 0.95, 0.975, 0.99, 0.995, 1 - 1e-10, 1 - 2**-53, 1.0, 1.1, math.inf,
      math.nan]
# integers, non-integer (Welch-Satterthwaite) df, huge, infinite and invalid ones
DFS = [-1.0, 0.0, 1e-3, 0.5, 1.0, 1.5, 2.0, 2.7, 3.0, 4.0, 5.5, 10.0, 29.9, 100.0, 1e4,
       1e7, 1e15, math.inf, math.nan]

Fn = Callable[..., Any]
UNARY: list[tuple[Fn, Fn, list[float]]] = [
    (d.norm_cdf, stats.norm.cdf, XS),
    (d.norm_sf, stats.norm.sf, XS),
    (d.norm_ppf, stats.norm.ppf, QS),
    (d.norm_isf, stats.norm.isf, QS),
]
BINARY: list[tuple[Fn, Fn, list[float]]] = [
    (d.t_cdf, stats.t.cdf, XS),
    (d.t_sf, stats.t.sf, XS),
    (d.t_ppf, stats.t.ppf, QS),
    (d.t_isf, stats.t.isf, QS),
    (d.chi2_cdf, stats.chi2.cdf, XS),
    (d.chi2_sf, stats.chi2.sf, XS),
    (d.chi2_ppf, stats.chi2.ppf, QS),
    (d.chi2_isf, stats.chi2.isf, QS),
    (d.chi2_pdf, stats.chi2.pdf, XS),
]


def _name(case: tuple[Fn, Fn, list[float]]) -> str:
    return case[0].__name__


def same(ours: Any, theirs: Any) -> bool:
    """Elementwise: both nan, or equal, or within 1e-12 relative."""
    a, b = np.asarray(ours, dtype=float), np.asarray(theirs, dtype=float)
    if a.shape != b.shape:
        return False
    both_nan = np.isnan(a) & np.isnan(b)
    with np.errstate(invalid="ignore"):
        close = (a == b) | (np.abs(a - b) <= 1e-12 * np.abs(b))
    return bool(np.all(both_nan | close))


def mismatches(ours: Any, theirs: Any, *args: Any) -> str:
    a, b = np.atleast_1d(ours), np.atleast_1d(theirs)
    bad = [i for i in range(a.size) if not same(a.flat[i], b.flat[i])]
    return f"{len(bad)} differ, e.g. {[(a.flat[i], b.flat[i]) for i in bad[:5]]} for {args}"


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("case", UNARY, ids=_name)
def test_unary_on_floats(case: tuple[Fn, Fn, list[float]]) -> None:
    ours, theirs, grid = case
    for v in grid:
        got, want = ours(v), theirs(v)
        assert isinstance(got, float), (v, type(got))
        assert same(got, want), (v, got, want)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("case", BINARY, ids=_name)
def test_binary_on_floats(case: tuple[Fn, Fn, list[float]]) -> None:
    ours, theirs, grid = case
    for v, df in itertools.product(grid, DFS):
        got, want = ours(v, df), theirs(v, df)
        assert isinstance(got, float), (v, df, type(got))
        assert same(got, want), (v, df, got, want)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("case", UNARY, ids=_name)
def test_unary_on_arrays(case: tuple[Fn, Fn, list[float]]) -> None:
    ours, theirs, grid = case
    for values in (np.array(grid), np.array(grid).reshape(-1, 1), np.array(grid[:1])):
        got, want = ours(values), theirs(values)
        assert isinstance(got, np.ndarray) and got.dtype == np.float64
        assert same(got, want), mismatches(got, want, values.shape)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("case", BINARY, ids=_name)
def test_binary_broadcasts_like_scipy(case: tuple[Fn, Fn, list[float]]) -> None:
    ours, theirs, grid = case
    v = np.array(grid)
    df = np.array(DFS)
    shapes = [
        (v[:, None], df[None, :]),  # the whole grid, 2-d
        (v, 2.7),  # an array of arguments, one (non-integer) df
        (v, math.inf),
        (0.3 if ours.__name__.endswith(("ppf", "isf")) else 1.5, df),  # one argument, many df
        (v[:, None, None], df[None, :, None] * np.ones((1, 1, 2))),  # 3-d
        (np.array(0.5), np.array(4.0)),  # 0-d arrays: scipy gives a scalar too
    ]
    for a, b in shapes:
        got, want = ours(a, b), theirs(a, b)
        assert np.shape(got) == np.shape(want), (np.shape(got), np.shape(want))
        assert same(got, want), mismatches(got, want, np.shape(a), np.shape(b))


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_integers_in() -> None:
    """ints and int arrays (counts, df = n - 1) as scipy takes them."""
    ints = np.arange(-3, 12)
    for ours, theirs, _ in BINARY:
        assert same(ours(ints, 3), theirs(ints, 3)), ours.__name__
        assert same(ours(2, ints), theirs(2, ints)), ours.__name__
        assert same(ours(1, 7), theirs(1, 7)), ours.__name__
    for ours, theirs, _ in UNARY:
        assert same(ours(ints), theirs(ints)), ours.__name__
        assert same(ours(1), theirs(1)), ours.__name__


def test_exact_where_the_statistics_use_them() -> None:
    """The calls the harness makes give scipy.stats's numbers bit for bit."""
    for alpha in (0.001, 0.01, 0.05, 0.1, 0.2):
        assert d.norm_ppf(1 - alpha / 2) == stats.norm.ppf(1 - alpha / 2)
        for df in (1, 2, 3, 9, 19, 99, 2.7, 17.31, 1e6):
            assert d.t_ppf(1 - alpha, df) == stats.t.ppf(1 - alpha, df)
            assert d.chi2_isf(alpha, df) == stats.chi2.isf(alpha, df)
    for z in (0.0, 0.5, 1.96, 5.0, 12.0, 40.0):
        assert d.norm_sf(z) == stats.norm.sf(z)
        assert d.norm_cdf(z) == stats.norm.cdf(z)
        for df in (1, 4, 9.5, 63):
            assert d.t_sf(z, df) == stats.t.sf(z, df)
            assert d.t_cdf(-z, df) == stats.t.cdf(-z, df)
            assert d.chi2_sf(z * z, df) == stats.chi2.sf(z * z, df)
            assert d.chi2_pdf(z * z, df) == stats.chi2.pdf(z * z, df)


def test_the_edges_are_the_supports_ends() -> None:
    assert d.norm_ppf(0.0) == -math.inf and d.norm_ppf(1.0) == math.inf
    assert d.norm_isf(0.0) == math.inf and d.norm_isf(1.0) == -math.inf
    assert d.t_ppf(0.0, 3) == -math.inf and d.t_isf(0.0, 3) == math.inf
    assert d.chi2_ppf(0.0, 3) == 0.0 and d.chi2_isf(1.0, 3) == 0.0
    assert d.chi2_isf(0.0, 3) == math.inf
    assert d.chi2_sf(-1.0, 3) == 1.0 and d.chi2_cdf(-1.0, 3) == 0.0 and d.chi2_pdf(-1.0, 3) == 0
    for bad in (0.0, -2.0, math.nan):
        assert math.isnan(d.t_sf(1.0, bad)) and math.isnan(d.chi2_isf(0.5, bad))
    for q in (-0.5, 1.5, math.nan):
        assert math.isnan(d.norm_ppf(q)) and math.isnan(d.t_ppf(q, 5))


# --- the registered metrics over many resamples at once (compare._resample) -------------

IDEAL3 = {"000": 0.45, "111": 0.45, "010": 0.06, "101": 0.04}


def _row_by_row(metric: Fn, keys: list[str], table: np.ndarray) -> np.ndarray:
    return np.array([metric({keys[j]: int(row[j]) for j in np.flatnonzero(row)})
                     for row in table])


@pytest.mark.parametrize("name", ["hellinger_fidelity", "tvd_ideal",
                                  "heavy_output_probability", "success_probability"])
@pytest.mark.parametrize("keys, ideal, num_bits", [
    (["000", "001", "111", "110", "011"], IDEAL3, None),
    (["0x0", "0x1", "0x7", "0x6"], IDEAL3, None),  # the ideal's binary keys fix the width
    (["0x0", "0x1", "0x7"], {"0x0": 0.5, "0x7": 0.5}, None),  # the ideal's widest hex key
    (["0x0", "0x1", "0x7"], {"0x0": 0.5, "0x1": 0.5}, 3),
    (["00 0", "11 1", "10 0"], IDEAL3, None),  # register spaces
    (["00", "11"], {"00": 0.3, "10": 0.2, "11": 0.5}, None),  # ideal outcomes never seen
    (["1"], {"1": 1.0}, None),
])
def test_metric_rows_equal_row_by_row(
        name: str, keys: list[str], ideal: dict[str, float], num_bits: int | None) -> None:
    from harness.stats.metrics import bind_metric, metric_rows

    metric = bind_metric(name, ideal, ["000", "0x7"] if len(keys[0]) > 2 else [keys[0]],
                         num_bits)
    rng = np.random.default_rng(7)
    table = rng.multinomial(200, rng.dirichlet(np.ones(len(keys))), size=300)
    at_once = metric_rows(metric, keys, table)
    assert at_once is not None
    one_by_one = _row_by_row(metric, keys, table)
    np.testing.assert_allclose(at_once, one_by_one, rtol=1e-12, atol=1e-15)
    if name.endswith("probability"):  # integer shares: the very same quotients
        assert np.array_equal(at_once, one_by_one)


def test_metric_rows_leave_what_they_cannot_take_to_the_row_by_row_path() -> None:
    from harness.stats.metrics import bind_metric, metric_rows

    hop = bind_metric("heavy_output_probability", {"0x0": 0.6, "0x1": 0.4})
    table = np.array([[3, 1, 0], [2, 0, 2]])
    # hex keys alone: a row without 0x7 resolves to fewer bits, with another median
    assert metric_rows(hop, ["0x0", "0x1", "0x7"], table) is None
    fid = bind_metric("hellinger_fidelity", IDEAL3)
    assert metric_rows(fid, ["000", "00 0", "111"], table) is None  # one outcome twice
    assert metric_rows(fid, ["000", "001", "111"], np.array([[0, 0, 0]])) is None  # no shots
    assert metric_rows(fid, ["000", "01", "111"], table) is None  # widths clash
    assert metric_rows(lambda counts: 0.0, ["000"], np.array([[1]])) is None  # not registered


def test_shot_noise_comparison_is_the_same_at_once_and_row_by_row() -> None:
    """compare_scalar_shot_noise with a registered metric (all resamples at once) and with
    the same metric behind a plain function (one call per resample): same draws, same
    numbers to rounding."""
    from harness.stats.compare import compare_scalar_shot_noise, shot_noise_sd
    from harness.stats.metrics import bind_metric

    observed = {"000": 470, "111": 455, "001": 30, "110": 25, "011": 20}
    for name in ("hellinger_fidelity", "tvd_ideal", "heavy_output_probability"):
        metric = bind_metric(name, IDEAL3)

        def plain(counts: Any, metric: Fn = metric) -> float:
            return float(metric(counts))

        fast = compare_scalar_shot_noise(observed, 0.9, metric, 4000, seed=5, n_boot=400)
        slow = compare_scalar_shot_noise(observed, 0.9, plain, 4000, seed=5, n_boot=400)
        assert fast.verdict == slow.verdict
        for field in ("statistic_value", "threshold", "p_value"):
            assert getattr(fast, field) == pytest.approx(getattr(slow, field), rel=1e-12,
                                                         abs=1e-15), field
        for key in ("se_observed", "se_claimed", "bias_shift"):
            # bias_shift is a difference of two means near 1: absolute, not relative
            assert fast.details[key] == pytest.approx(slow.details[key], rel=1e-12,
                                                      abs=1e-14), key
        assert shot_noise_sd(observed, metric, seed=2) == pytest.approx(
            shot_noise_sd(observed, plain, seed=2), rel=1e-12)
