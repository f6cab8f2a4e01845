"""The normal, Student t and chi-square distribution functions the statistics use (pure).

``import scipy.stats`` costs about a second of CPU (it builds every distribution and parses
their docstrings), while these functions need only ``scipy.special``. Each one computes
what the ``scipy.stats`` method named beside it computes, with the same special function
and the same handling of the edges, so the numbers are the same:

================  =========================  ===============================
function          replaces                   special function
================  =========================  ===============================
norm_cdf(x)       stats.norm.cdf(x)          ndtr(x)
norm_sf(x)        stats.norm.sf(x)           ndtr(-x)
norm_ppf(q)       stats.norm.ppf(q)          ndtri(q)
norm_isf(q)       stats.norm.isf(q)          -ndtri(q)
t_cdf(x, df)      stats.t.cdf(x, df)         stdtr(df, x)
t_sf(x, df)       stats.t.sf(x, df)          stdtr(df, -x)
t_ppf(q, df)      stats.t.ppf(q, df)         stdtrit(df, q)
t_isf(q, df)      stats.t.isf(q, df)         -stdtrit(df, q)
chi2_cdf(x, df)   stats.chi2.cdf(x, df)      chdtr(df, x)
chi2_sf(x, df)    stats.chi2.sf(x, df)       chdtrc(df, x)
chi2_ppf(q, df)   stats.chi2.ppf(q, df)      2 gammaincinv(df / 2, q)
chi2_isf(q, df)   stats.chi2.isf(q, df)      chdtri(df, q)
chi2_pdf(x, df)   stats.chi2.pdf(x, df)      exp(xlogy(df/2 - 1, x) - x/2 - ...)
================  =========================  ===============================

The edges follow ``scipy.stats.rv_continuous``: nan for a df that is not positive (or nan)
and for a nan argument; the cdf is 0 at or below the support's lower end and 1 at or above
its upper end (the sf the other way round); ppf(0) and ppf(1) are the support's ends, isf
the other way round, and a probability outside [0, 1] gives nan. df may be any positive
real (Welch-Satterthwaite) or infinite. Arguments broadcast like numpy's; a float in (all
arguments floats) gives a float out, an array gives an array.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, overload

import numpy as np
import numpy.typing as npt
from scipy import special

FloatArray = npt.NDArray[np.float64]
Array = npt.NDArray[Any]
_Core = Callable[..., Any]
_NO_DF = np.asarray(1.0)  # the normal has no shape parameter: always valid


def _result(out: FloatArray) -> float | FloatArray:
    return float(out[()]) if out.ndim == 0 else out


def _valid_df(df: float | Array | None) -> Array:
    with np.errstate(invalid="ignore"):
        return np.asarray(True) if df is None else np.asarray(df) > 0


def _on_x(
    x: float | Array,
    df: float | Array | None,
    core: _Core,
    support: tuple[float, float],
    one_below: bool,
) -> float | FloatArray:
    """cdf-like (``one_below`` False: 1 at or above the upper end, 0 at or below the lower)
    or sf-like (``one_below`` True: the other way round) function of x, core on the inside."""
    xa = np.asarray(x)
    xa = xa.astype(np.promote_types(xa.dtype, np.float64), copy=False)
    dfa = _NO_DF if df is None else np.asarray(df)
    ok = _valid_df(df)
    low, high = support
    with np.errstate(invalid="ignore"):
        inside = (low < xa) & (xa < high)
        at_one = (xa <= low) if one_below else (xa >= high)
    xb, dfb, ok, inside, at_one = np.broadcast_arrays(xa, dfa, ok, inside, at_one)
    out = np.zeros(xb.shape, dtype=xb.dtype)
    out[~ok | np.isnan(xb)] = np.nan
    out[at_one & ok] = 1.0
    cond = ok & inside
    if np.any(cond):
        out[cond] = core(xb[cond]) if df is None else core(xb[cond], dfb[cond])
    return _result(out)


def _on_q(
    q: float | Array,
    df: float | Array | None,
    core: _Core,
    at_zero: float,
    at_one: float,
) -> float | FloatArray:
    """ppf-like function of a probability q: ``at_zero`` / ``at_one`` at q = 0 / 1, nan
    outside [0, 1], core inside."""
    qa = np.asarray(q)
    dfa = _NO_DF if df is None else np.asarray(df)
    ok = _valid_df(df)
    with np.errstate(invalid="ignore"):
        inside = (0 < qa) & (qa < 1)
    qb, dfb, ok, inside = np.broadcast_arrays(qa, dfa, ok, inside)
    out = np.full(qb.shape, np.nan)
    out[ok & (qb == 0)] = at_zero
    out[ok & (qb == 1)] = at_one
    cond = ok & inside
    if np.any(cond):
        out[cond] = core(qb[cond]) if df is None else core(qb[cond], dfb[cond])
    return _result(out)


# --- the normal -----------------------------------------------------------------------

_REAL_LINE = (-math.inf, math.inf)


@overload
def norm_cdf(x: float) -> float: ...
@overload
def norm_cdf(x: Array) -> FloatArray: ...
def norm_cdf(x: float | Array) -> float | FloatArray:
    """P(Z <= x), Z standard normal (``scipy.stats.norm.cdf``)."""
    return _on_x(x, None, special.ndtr, _REAL_LINE, one_below=False)


@overload
def norm_sf(x: float) -> float: ...
@overload
def norm_sf(x: Array) -> FloatArray: ...
def norm_sf(x: float | Array) -> float | FloatArray:
    """P(Z > x) (``scipy.stats.norm.sf``), accurate far in the upper tail."""
    return _on_x(x, None, lambda v: special.ndtr(-v), _REAL_LINE, one_below=True)


@overload
def norm_ppf(q: float) -> float: ...
@overload
def norm_ppf(q: Array) -> FloatArray: ...
def norm_ppf(q: float | Array) -> float | FloatArray:
    """The x with P(Z <= x) = q (``scipy.stats.norm.ppf``)."""
    return _on_q(q, None, special.ndtri, -math.inf, math.inf)


@overload
def norm_isf(q: float) -> float: ...
@overload
def norm_isf(q: Array) -> FloatArray: ...
def norm_isf(q: float | Array) -> float | FloatArray:
    """The x with P(Z > x) = q (``scipy.stats.norm.isf``)."""
    return _on_q(q, None, lambda v: -special.ndtri(v), math.inf, -math.inf)


# --- Student's t ----------------------------------------------------------------------


@overload
def t_cdf(x: float, df: float) -> float: ...
@overload
def t_cdf(x: Array, df: float | Array) -> FloatArray: ...
@overload
def t_cdf(x: float, df: Array) -> FloatArray: ...
def t_cdf(x: float | Array, df: float | Array) -> float | FloatArray:
    """P(T <= x), T Student t with ``df`` degrees of freedom (``scipy.stats.t.cdf``)."""
    return _on_x(x, df, lambda v, d: special.stdtr(d, v), _REAL_LINE, one_below=False)


@overload
def t_sf(x: float, df: float) -> float: ...
@overload
def t_sf(x: Array, df: float | Array) -> FloatArray: ...
@overload
def t_sf(x: float, df: Array) -> FloatArray: ...
def t_sf(x: float | Array, df: float | Array) -> float | FloatArray:
    """P(T > x) (``scipy.stats.t.sf``)."""
    return _on_x(x, df, lambda v, d: special.stdtr(d, -v), _REAL_LINE, one_below=True)


@overload
def t_ppf(q: float, df: float) -> float: ...
@overload
def t_ppf(q: Array, df: float | Array) -> FloatArray: ...
@overload
def t_ppf(q: float, df: Array) -> FloatArray: ...
def t_ppf(q: float | Array, df: float | Array) -> float | FloatArray:
    """The x with P(T <= x) = q (``scipy.stats.t.ppf``)."""
    return _on_q(q, df, lambda v, d: special.stdtrit(d, v), -math.inf, math.inf)


@overload
def t_isf(q: float, df: float) -> float: ...
@overload
def t_isf(q: Array, df: float | Array) -> FloatArray: ...
@overload
def t_isf(q: float, df: Array) -> FloatArray: ...
def t_isf(q: float | Array, df: float | Array) -> float | FloatArray:
    """The x with P(T > x) = q (``scipy.stats.t.isf``)."""
    return _on_q(q, df, lambda v, d: -special.stdtrit(d, v), math.inf, -math.inf)


# --- chi-square -----------------------------------------------------------------------

_HALF_LINE = (0.0, math.inf)


@overload
def chi2_cdf(x: float, df: float) -> float: ...
@overload
def chi2_cdf(x: Array, df: float | Array) -> FloatArray: ...
@overload
def chi2_cdf(x: float, df: Array) -> FloatArray: ...
def chi2_cdf(x: float | Array, df: float | Array) -> float | FloatArray:
    """P(X <= x), X chi-square with ``df`` degrees of freedom (``scipy.stats.chi2.cdf``)."""
    return _on_x(x, df, lambda v, d: special.chdtr(d, v), _HALF_LINE, one_below=False)


@overload
def chi2_sf(x: float, df: float) -> float: ...
@overload
def chi2_sf(x: Array, df: float | Array) -> FloatArray: ...
@overload
def chi2_sf(x: float, df: Array) -> FloatArray: ...
def chi2_sf(x: float | Array, df: float | Array) -> float | FloatArray:
    """P(X > x) (``scipy.stats.chi2.sf``)."""
    return _on_x(x, df, lambda v, d: special.chdtrc(d, v), _HALF_LINE, one_below=True)


@overload
def chi2_ppf(q: float, df: float) -> float: ...
@overload
def chi2_ppf(q: Array, df: float | Array) -> FloatArray: ...
@overload
def chi2_ppf(q: float, df: Array) -> FloatArray: ...
def chi2_ppf(q: float | Array, df: float | Array) -> float | FloatArray:
    """The x with P(X <= x) = q (``scipy.stats.chi2.ppf``)."""
    return _on_q(q, df, lambda v, d: 2 * special.gammaincinv(d / 2, v), 0.0, math.inf)


@overload
def chi2_isf(q: float, df: float) -> float: ...
@overload
def chi2_isf(q: Array, df: float | Array) -> FloatArray: ...
@overload
def chi2_isf(q: float, df: Array) -> FloatArray: ...
def chi2_isf(q: float | Array, df: float | Array) -> float | FloatArray:
    """The x with P(X > x) = q (``scipy.stats.chi2.isf``)."""
    return _on_q(q, df, lambda v, d: special.chdtri(d, v), math.inf, 0.0)


def _chi2_pdf_core(x: Array, df: Array) -> Array:
    # scipy.stats.chi2._logpdf, term for term (same rounding)
    log = special.xlogy(df / 2.0 - 1, x) - x / 2.0 - special.gammaln(df / 2.0) - (
        np.log(2) * df) / 2.0
    return np.asarray(np.exp(log))


@overload
def chi2_pdf(x: float, df: float) -> float: ...
@overload
def chi2_pdf(x: Array, df: float | Array) -> FloatArray: ...
@overload
def chi2_pdf(x: float, df: Array) -> FloatArray: ...
def chi2_pdf(x: float | Array, df: float | Array) -> float | FloatArray:
    """The chi-square density at x (``scipy.stats.chi2.pdf``): 0 below 0."""
    xa = np.asarray(x)
    xa = xa.astype(np.promote_types(xa.dtype, np.float64), copy=False)
    dfa = np.asarray(df)
    ok = _valid_df(df)
    with np.errstate(invalid="ignore"):
        inside = (0.0 <= xa) & (xa <= math.inf)  # the closed support, as rv_continuous.pdf
    xb, dfb, ok, inside = np.broadcast_arrays(xa, dfa, ok, inside)
    out = np.zeros(xb.shape, dtype=xb.dtype)
    out[~ok | np.isnan(xb)] = np.nan
    cond = ok & inside
    if np.any(cond):
        out[cond] = _chi2_pdf_core(xb[cond], dfb[cond])
    return _result(out)
