"""Metrics computed from measured counts and ideal distributions (pure, numpy only, no I/O).

Inputs are plain mappings: ``counts`` maps a bitstring to a shot count, ``ideal`` (and any
other distribution) maps a bitstring to a probability. Definitions, with p and q
distributions over the same outcomes x (a missing outcome has probability 0):

* Bhattacharyya coefficient  BC(p, q) = sum_x sqrt(p_x q_x)
* Hellinger fidelity         F(p, q)  = BC(p, q)^2            (1 identical, 0 disjoint)
* Hellinger distance         H(p, q)  = sqrt(1 - BC(p, q))     (0 identical, 1 disjoint)
* Total variation distance   TVD(p, q) = 1/2 sum_x |p_x - q_x|
* Heavy-output probability   HOP = (shots on heavy outcomes) / shots, where x is heavy
  iff ideal_x > median of ideal over ALL 2^n outcomes (n = bitstring length, outcomes
  missing from ``ideal`` count as probability 0); the inequality is strict.
* Success probability        (shots on the listed outcomes) / shots

``hellinger_fidelity`` is computed here, not taken from qiskit: old qiskit releases
returned 1 - H instead of BC^2. The primitive functions (``hellinger_fidelity``, ``tvd``,
``hellinger_distance``) renormalise their inputs to sum 1 but compare keys verbatim, so
pass keys in one form; the registered metrics (``compute_metric``) normalise keys first.

Key normalisation (``normalise_counts``): Aer may report ``"0x5"`` hex keys and keys with
spaces between classical registers (``"01 10"``). Both become plain binary strings of one
width: spaces are removed (register order kept), hex keys are zero-padded to the width.
The width is ``num_bits`` if given, else the length of the binary keys (which must all
agree), else the widest hex key.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from functools import cache
from typing import Any, TypeVar

import numpy as np
import numpy.typing as npt

from harness.errors import ComparisonError, not_found

Counts = Mapping[str, int]
Distribution = Mapping[str, float]
CountsMetric = Callable[[Counts], float]
CountTable = npt.NDArray[np.integer[Any]]  # rows of counts over one list of keys
FloatArray = npt.NDArray[np.float64]
#: values of a metric for every row of a table of counts over distinct binary keys
RowsMetric = Callable[[list[str], CountTable], FloatArray]
#: binds a metric's fixed inputs (ideal, outcomes, num_bits) and returns counts -> value
MetricBinder = Callable[[Distribution | None, Sequence[str] | None, int | None], CountsMetric]

_V = TypeVar("_V", int, float)
_WidthInfo = tuple[frozenset[int], int]  # (exact widths of binary keys, widest hex key)

# --- bitstring keys -------------------------------------------------------------------


def _key_width(key: str) -> tuple[int, bool]:
    """(bits, exact): a binary key fixes its width, a hex key only bounds it from below."""
    bits = key.replace(" ", "")
    if bits[:2].lower() == "0x":
        try:
            return max(int(bits, 16).bit_length(), 1), False
        except ValueError:
            raise ComparisonError(f"outcome '{key}' is not a hex or binary bitstring") from None
    if bits == "" or bits.strip("01"):
        raise ComparisonError(f"outcome '{key}' is not a hex or binary bitstring")
    return len(bits), True


def _plain_widths(keys: Collection[str]) -> set[int] | None:
    """The lengths of ``keys`` when every one is a plain binary string (no spaces, no hex):
    checked at C speed, since a counts file may hold a million outcomes; else None."""
    joined = "".join(keys)
    if not keys or not joined.isascii() or joined.encode().translate(None, b"01"):
        return None
    widths = set(map(len, keys))
    return None if 0 in widths else widths


def _width_info(keys: Iterable[str]) -> _WidthInfo:
    keys = keys if isinstance(keys, Collection) else list(keys)
    plain = _plain_widths(keys)
    if plain is not None:
        return frozenset(plain), max(plain)
    exact: set[int] = set()
    lower = 1
    for key in keys:
        bits, is_exact = _key_width(key)
        if is_exact:
            exact.add(bits)
        lower = max(lower, bits)
    return frozenset(exact), lower


def _resolve_width(infos: Iterable[_WidthInfo], num_bits: int | None = None) -> int:
    """One width for all keys, or a ComparisonError saying why there is none."""
    exact: set[int] = {num_bits} if num_bits is not None else set()
    lower = 1
    for info_exact, info_lower in infos:
        exact |= info_exact
        lower = max(lower, info_lower)
    if len(exact) > 1:
        widths = ", ".join(str(w) for w in sorted(exact))
        raise ComparisonError(f"bitstrings of different lengths ({widths} bits)")
    width = exact.pop() if exact else lower
    if width < lower:
        raise ComparisonError(f"an outcome needs {lower} bits, more than the {width} expected")
    return width


def _to_binary(key: str, width: int) -> str:
    bits = key.replace(" ", "")
    if bits[:2].lower() == "0x":
        return format(int(bits, 16), f"0{width}b")
    return bits


def _normalise(mapping: Mapping[str, _V], width: int) -> dict[str, _V]:
    if _plain_widths(mapping.keys()) == {width}:  # already as they should be
        return dict(mapping)
    out: dict[str, _V] = {}
    for key, value in mapping.items():
        binary = _to_binary(key, width)
        out[binary] = out[binary] + value if binary in out else value
    return out


def common_width(*mappings: Mapping[str, object], num_bits: int | None = None) -> int:
    """The one bit width the keys of all ``mappings`` share (see the module docstring)."""
    return _resolve_width([_width_info(m) for m in mappings], num_bits)


def normalise_counts(counts: Counts, num_bits: int | None = None) -> dict[str, int]:
    """Counts with plain binary keys of one width (hex and spaced keys converted, merged)."""
    for key, value in counts.items():
        if value < 0:
            raise ComparisonError(f"outcome '{key}' has a negative count ({value})")
    return _normalise(counts, _resolve_width([_width_info(counts)], num_bits))


def normalise_distribution(dist: Distribution, num_bits: int | None = None) -> dict[str, float]:
    """A distribution with plain binary keys of one width (see ``normalise_counts``)."""
    return _normalise(dist, _resolve_width([_width_info(dist)], num_bits))


# --- distributions --------------------------------------------------------------------


def probabilities(counts: Counts) -> dict[str, float]:
    """counts / total shots, keys unchanged; ComparisonError when there are no shots."""
    total = sum(counts.values())
    if total <= 0:
        raise ComparisonError("the counts hold no shots")
    return {key: value / total for key, value in counts.items()}


def _aligned(p: Distribution, q: Distribution) -> tuple[np.ndarray, np.ndarray]:
    """p and q as arrays over the union of their keys, each renormalised to sum 1."""
    keys = list(p.keys() | q.keys())
    a = np.array([p.get(k, 0.0) for k in keys], dtype=float)
    b = np.array([q.get(k, 0.0) for k in keys], dtype=float)
    if a.sum() <= 0 or b.sum() <= 0:
        raise ComparisonError("a distribution has no probability mass")
    return a / a.sum(), b / b.sum()


def _bhattacharyya(p: Distribution, q: Distribution) -> float:
    a, b = _aligned(p, q)
    return float(np.sqrt(a * b).sum())


def hellinger_fidelity(p: Distribution, q: Distribution) -> float:
    """F = (sum_x sqrt(p_x q_x))^2: 1 for identical, 0 for disjoint distributions."""
    return min(_bhattacharyya(p, q) ** 2, 1.0)


def hellinger_distance(p: Distribution, q: Distribution) -> float:
    """H = sqrt(1 - sum_x sqrt(p_x q_x)), in [0, 1]."""
    return float(np.sqrt(max(0.0, 1.0 - _bhattacharyya(p, q))))


def tvd(p: Distribution, q: Distribution) -> float:
    """Total variation distance 1/2 sum_x |p_x - q_x|, in [0, 1]."""
    a, b = _aligned(p, q)
    return float(0.5 * np.abs(a - b).sum())


# --- circuit metrics ------------------------------------------------------------------


def _median_over_all(values: Sequence[float], num_bits: int) -> float:
    """Median of ``values`` padded with zeros to 2^num_bits entries (never materialised)."""
    v = np.sort(np.asarray(values, dtype=float))
    total = 1 << num_bits
    zeros = total - len(v)
    if zeros < 0:
        raise ComparisonError(f"the ideal distribution has more than 2^{num_bits} outcomes")

    def nth(k: int) -> float:
        return 0.0 if k < zeros else float(v[k - zeros])

    if total % 2:
        return nth(total // 2)
    return 0.5 * (nth(total // 2 - 1) + nth(total // 2))


def heavy_outputs(ideal: Distribution, num_bits: int | None = None) -> frozenset[str]:
    """Binary outcomes whose ideal probability is strictly above the median over 2^n."""
    width = _resolve_width([_width_info(ideal)], num_bits)
    dist = _normalise(ideal, width)
    median = _median_over_all(list(dist.values()), width)
    return frozenset(k for k, p in dist.items() if p > median)


def _fraction_on(counts: Mapping[str, int], outcomes: frozenset[str]) -> float:
    total = sum(counts.values())
    if total <= 0:
        raise ComparisonError("the counts hold no shots")
    return sum(n for k, n in counts.items() if k in outcomes) / total


def heavy_output_probability(
    counts: Counts, ideal: Distribution, num_bits: int | None = None
) -> float:
    """Fraction of shots on heavy outcomes (ideal probability > median over all 2^n)."""
    return _bind_hop(ideal, None, num_bits)(counts)


def success_probability(
    counts: Counts, outcomes: Iterable[str], num_bits: int | None = None
) -> float:
    """Fraction of shots on ``outcomes``."""
    return _bind_success(None, list(outcomes), num_bits)(counts)


# --- the registry ---------------------------------------------------------------------


def _need_ideal(name: str, ideal: Distribution | None) -> Distribution:
    if not ideal:
        raise ComparisonError(f"metric '{name}' needs the ideal distribution")
    return ideal


_ROW_CELLS = 4_000_000  # rows of a table are taken in blocks of at most this many cells


class BoundMetric:
    """A registered metric bound to its fixed inputs (ideal, outcomes, num_bits).

    ``metric(counts)`` is its value for one set of counts (the common width resolved per
    call, ``make(width)`` cached). ``metric.rows(keys, table)`` gives its values for every
    row of a table of counts over ``keys`` at once with numpy (a bootstrap's resamples), the
    same numbers as row by row up to the order of floating-point sums.
    """

    def __init__(
        self,
        fixed_keys: Iterable[str],
        num_bits: int | None,
        make: Callable[[int], CountsMetric],
        make_rows: Callable[[int], RowsMetric] | None = None,
    ) -> None:
        self._fixed = _width_info(fixed_keys)
        self._num_bits = num_bits
        self._one = cache(make)
        self._many = cache(make_rows) if make_rows is not None else None

    def __call__(self, counts: Counts) -> float:
        width = _resolve_width([self._fixed, _width_info(counts)], self._num_bits)
        return self._one(width)(counts)

    def rows(self, keys: Sequence[str], table: CountTable) -> FloatArray | None:
        """The metric of each row of ``table`` (shape (rows, len(keys))), or None where
        only the row-by-row path is sure to give what calling it on each row gives: rows
        that would resolve to different widths (hex keys with no binary key, ideal key or
        num_bits to fix the width), an unresolvable width (a row may not meet the clash),
        two keys naming one outcome (merged per row), a row without shots or a negative
        count (errors the call raises); and always for a metric with no such form."""
        keys = list(keys)
        if self._many is None or table.ndim != 2 or table.shape[1] != len(keys) or not keys:
            return None
        try:
            width = _resolve_width([self._fixed, _width_info(keys)], self._num_bits)
        except ComparisonError:
            return None
        # every row resolves to this width when something besides its own keys fixes it,
        # or when each of its keys does (binary keys); hex keys alone only bound it
        if not (self._num_bits is not None or self._fixed[0] or self._fixed[1] >= width
                or all(_key_width(k)[1] for k in keys)):
            return None
        binary = [_to_binary(k, width) for k in keys]
        if len(set(binary)) != len(binary) or np.any(table < 0) or not np.all(table.sum(axis=1)):
            return None
        values = self._many(width)
        step = max(1, _ROW_CELLS // len(keys))
        if len(table) <= step:
            return values(binary, table)
        return np.concatenate(
            [values(binary, table[i : i + step]) for i in range(0, len(table), step)])


def _bound(
    fixed_keys: Iterable[str],
    num_bits: int | None,
    make: Callable[[int], CountsMetric],
    make_rows: Callable[[int], RowsMetric] | None,
) -> CountsMetric:
    """counts -> value, resolving the common width per call and caching ``make(width)``;
    with ``make_rows``, also for many rows of counts at once (:class:`BoundMetric`)."""
    return BoundMetric(fixed_keys, num_bits, make, make_rows)


def metric_rows(metric: CountsMetric, keys: Sequence[str], table: CountTable) -> FloatArray | None:
    """``metric`` of every row of ``table`` (counts over ``keys``) at once: for the metrics
    of ``bind_metric``; None for any other function, or keys it cannot take at once (see
    :meth:`BoundMetric.rows`): call ``metric`` row by row then."""
    return metric.rows(keys, table) if isinstance(metric, BoundMetric) else None


def _shares(table: CountTable) -> FloatArray:
    """Each row as ``probabilities`` then ``_aligned`` make it: counts / shots, renormalised."""
    p = table / table.sum(axis=1, keepdims=True)
    return np.asarray(p / p.sum(axis=1, keepdims=True), dtype=float)


def _fidelity_rows(p: FloatArray, q: FloatArray, q_elsewhere: float) -> FloatArray:
    """``hellinger_fidelity`` per row: outcomes only the ideal has add nothing."""
    return np.asarray(np.minimum(np.sqrt(p * q).sum(axis=1) ** 2, 1.0), dtype=float)


def _tvd_rows(p: FloatArray, q: FloatArray, q_elsewhere: float) -> FloatArray:
    """``tvd`` per row: outcomes only the ideal has add their probability."""
    return np.asarray(0.5 * (np.abs(p - q).sum(axis=1) + q_elsewhere), dtype=float)


_ROWS_OF: dict[Callable[[Distribution, Distribution], float],
               Callable[[FloatArray, FloatArray, float], FloatArray]] = {
    hellinger_fidelity: _fidelity_rows,
    tvd: _tvd_rows,
}


def _fraction_rows(table: CountTable, keys: list[str], outcomes: frozenset[str]) -> FloatArray:
    """``_fraction_on`` per row: integer sums, so the very same quotient."""
    on = np.array([k in outcomes for k in keys], dtype=bool)
    return np.asarray(table[:, on].sum(axis=1) / table.sum(axis=1), dtype=float)


def _counts_at(counts: Counts, width: int) -> dict[str, int]:
    """Counts already checked by ``_width_info`` in binary keys of ``width``."""
    if any(n < 0 for n in counts.values()):
        raise ComparisonError("the counts hold a negative count")
    return _normalise(counts, width)


def _to_ideal(name: str, fn: Callable[[Distribution, Distribution], float]) -> MetricBinder:
    """A binder for ``fn(empirical distribution, ideal)``."""

    def bind(
        ideal: Distribution | None, outcomes: Sequence[str] | None, num_bits: int | None
    ) -> CountsMetric:
        dist = _need_ideal(name, ideal)

        def make(width: int) -> CountsMetric:
            target = _normalise(dist, width)
            return lambda counts: fn(probabilities(_counts_at(counts, width)), target)

        per_row = _ROWS_OF.get(fn)

        def make_rows(width: int) -> RowsMetric:
            assert per_row is not None
            target = _normalise(dist, width)
            total = float(np.array(list(target.values()), dtype=float).sum())

            def values(keys: list[str], table: CountTable) -> FloatArray:
                if total <= 0:
                    raise ComparisonError("a distribution has no probability mass")
                q = np.array([target.get(k, 0.0) for k in keys], dtype=float) / total
                seen = set(keys)
                elsewhere = sum(v for k, v in target.items() if k not in seen) / total
                return per_row(_shares(table), q, elsewhere)

            return values

        return _bound(dist, num_bits, make, make_rows if per_row is not None else None)

    return bind


def _bind_hop(
    ideal: Distribution | None, outcomes: Sequence[str] | None, num_bits: int | None
) -> CountsMetric:
    dist = _need_ideal("heavy_output_probability", ideal)

    def make(width: int) -> CountsMetric:
        heavy = heavy_outputs(dist, width)
        return lambda counts: _fraction_on(_counts_at(counts, width), heavy)

    def make_rows(width: int) -> RowsMetric:
        heavy = heavy_outputs(dist, width)
        return lambda keys, table: _fraction_rows(table, keys, heavy)

    return _bound(dist, num_bits, make, make_rows)


def _bind_success(
    ideal: Distribution | None, outcomes: Sequence[str] | None, num_bits: int | None
) -> CountsMetric:
    if not outcomes:
        raise ComparisonError("metric 'success_probability' needs the outcomes it counts")
    wanted = list(outcomes)

    def make(width: int) -> CountsMetric:
        target = frozenset(_to_binary(k, width) for k in wanted)
        return lambda counts: _fraction_on(_counts_at(counts, width), target)

    def make_rows(width: int) -> RowsMetric:
        target = frozenset(_to_binary(k, width) for k in wanted)
        return lambda keys, table: _fraction_rows(table, keys, target)

    return _bound(wanted, num_bits, make, make_rows)


METRICS: dict[str, MetricBinder] = {
    "hellinger_fidelity": _to_ideal("hellinger_fidelity", hellinger_fidelity),
    "tvd_ideal": _to_ideal("tvd_ideal", tvd),
    "heavy_output_probability": _bind_hop,
    "success_probability": _bind_success,
}


def bind_metric(
    name: str,
    ideal: Distribution | None = None,
    outcomes: Sequence[str] | None = None,
    num_bits: int | None = None,
) -> CountsMetric:
    """The registered metric ``name`` as a function of counts alone (for bootstraps)."""
    binder = METRICS.get(name)
    if binder is None:
        raise ComparisonError(not_found("metric", name, list(METRICS)).message)
    return binder(ideal, outcomes, num_bits)


def compute_metric(
    name: str,
    counts: Counts,
    ideal: Distribution | None = None,
    outcomes: Sequence[str] | None = None,
    num_bits: int | None = None,
) -> float:
    """Value of the registered metric ``name``; ComparisonError for unknown or missing input."""
    return bind_metric(name, ideal, outcomes, num_bits)(counts)
