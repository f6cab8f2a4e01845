"""The plots of report.html as inline SVG, drawn with matplotlib (imported when a plot is
drawn; a standalone Figure, so no pyplot state and no GUI backend).

One function per plot kind, each returning SVG text ready to inline (no XML prolog, ids
prefixed with the plot's ``uid`` so several plots share one page) or None when the report
holds no data for it: nothing here computes a number the report does not state. Colours
are the Okabe-Ito palette, and every series also differs in marker shape, fill or hatch,
so the plots read the same for colour-blind readers and on a grey printout.
"""

from __future__ import annotations

import dataclasses
import html
import io
import math
import re
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from harness.models import ClaimResult, Comparison, NotebookRun
from harness.notebook_runs import fresh_runs, seed_runs
from reports.text_metrics import font_metrics

if TYPE_CHECKING:
    from matplotlib.artist import Artist
    from matplotlib.axes import Axes
    from matplotlib.axis import Axis
    from matplotlib.figure import Figure
    from matplotlib.font_manager import FontProperties
    from matplotlib.lines import Line2D
    from matplotlib.text import Text
    from matplotlib.typing import RcKeyType

#: Okabe & Ito (2008), "Color Universal Design"
OKABE_ITO = {
    "black": "#000000", "orange": "#E69F00", "sky": "#56B4E9", "green": "#009E73",
    "yellow": "#F0E442", "blue": "#0072B2", "vermillion": "#D55E00", "purple": "#CC79A7",
}
GREY = "#6e6e6e"
BAND = "#dcdcdc"  # what a claim allows (tolerance band, acceptance region): light grey


@dataclass(frozen=True)
class Mark:
    """How one series is drawn: colour plus a shape and fill that survive grey print."""

    label: str
    color: str
    marker: str
    filled: bool = True
    hatch: str = ""


VERDICT_MARKS: dict[str, Mark] = {
    "pass": Mark("pass", OKABE_ITO["green"], "o"),
    "fail": Mark("fail", OKABE_ITO["vermillion"], "X"),
    "inconclusive": Mark("inconclusive", OKABE_ITO["orange"], "s"),
    "error": Mark("error", GREY, "x"),
}
DEPOSITED = Mark("deposited", OKABE_ITO["orange"], "D")
RERUN = Mark("rerun", OKABE_ITO["blue"], "o", filled=False)
FRESH = Mark("fresh seeds", OKABE_ITO["purple"], "^")
#: the counts plots' series (drawn by reports/counts_chart.py)
IDEAL = Mark("ideal (noise-free)", OKABE_ITO["black"], "_")
REPRODUCED = Mark("reproduced", OKABE_ITO["blue"], "s")
RECORDED = Mark("recorded", OKABE_ITO["orange"], "s", hatch="////")

#: matplotlib settings of every plot: text stays text (no font files, nothing fetched),
#: no mathtext (a claim id with "$" is drawn as written), deterministic output
STYLE: dict[RcKeyType, Any] = {
    "svg.fonttype": "none",
    "text.parse_math": False,
    "font.family": "sans-serif",
    "font.size": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "hatch.linewidth": 0.6,
    "hatch.color": "#404040",
}
WIDTH_IN = 7.5
#: longest row label drawn (the table beside the plot has the whole text)
LABEL_CHARS = 42

#: tests whose interval (details ci_low, ci_high) is of the difference, not of the value
DIFFERENCE_INTERVALS = frozenset({"tost-paired", "tost-welch"})


# --- numbers ------------------------------------------------------------------------------


def readable(value: float | None, digits: int = 4) -> str:
    """A number as a person reads it: ``digits`` significant digits, ``-`` when missing,
    0 for rounding noise around zero (-1.11e-16 is 0)."""
    if value is None:
        return "-"
    if isinstance(value, float) and not math.isfinite(value):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
    if abs(value) < 1e-12:
        return "0"
    if isinstance(value, int):
        return str(value)
    return f"{value:.{digits}g}"


def readable_difference(difference: float | None, *compared: float | None) -> str:
    """A difference of two values: 0 when it is below their float resolution."""
    if difference is None:
        return "-"
    scale = max([1.0, *(abs(v) for v in compared if v is not None and math.isfinite(v))])
    return readable(0.0 if abs(difference) <= 1e-12 * scale else difference)


def finite(value: object) -> float | None:
    """``value`` as a float when it is a finite number (not a bool), else None."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def number(details: Mapping[str, Any], key: str) -> float | None:
    """``details[key]`` when it is a finite number, else None."""
    return finite(details.get(key))


def numbers(details: Mapping[str, Any], key: str) -> list[float]:
    """``details[key]`` as a list of finite numbers (empty when absent or not a list)."""
    values = details.get(key)
    found = [finite(v) for v in values] if isinstance(values, list) else []
    return [v for v in found if v is not None]


# --- forest plot: claimed vs reproduced, one row per claim ---------------------------------


@dataclass(frozen=True)
class ForestRow:
    """One row, on the difference scale (reproduced - claimed; a comparison's rows: the
    difference between its arms). ``band``: the region the claim allows, an open end None."""

    label: str
    verdict: str
    point: float
    interval: tuple[float, float] | None = None
    band: tuple[float | None, float | None] | None = None


def forest_rows(claim: ClaimResult) -> list[ForestRow]:
    """The rows a claim has numbers for (none for counts claims or unevaluated ones)."""
    cmp = claim.comparison
    if cmp is None:
        return []
    if _compares_methods(claim):
        return _pair_rows(claim, cmp)
    if cmp.observed is None or cmp.claimed is None:
        return []
    if cmp.test == "quantum-volume":
        return _quantum_volume_rows(claim, cmp)
    point = cmp.difference if cmp.difference is not None else cmp.observed - cmp.claimed
    if not math.isfinite(point):
        return []
    return [ForestRow(claim.id, claim.verdict, point, _interval(cmp), tolerance_band(claim))]


def _compares_methods(claim: ClaimResult) -> bool:
    """A comparative or rank-order claim: its numbers are differences between methods."""
    return claim.comparison is not None and isinstance(claim.comparison.details.get("pairs"),
                                                       list)


def _interval(cmp: Comparison) -> tuple[float, float] | None:
    low, high = number(cmp.details, "ci_low"), number(cmp.details, "ci_high")
    if low is None or high is None or cmp.claimed is None:
        return None
    shift = 0.0 if cmp.test in DIFFERENCE_INTERVALS else cmp.claimed
    return low - shift, high - shift


def tolerance_band(claim: ClaimResult) -> tuple[float | None, float | None] | None:
    """The values the claim allows, as differences from the claimed value: the test's own
    region when it states one (a one-sided bound, a shot-noise allowance, a margin), else
    the claim's absolute or relative tolerance."""
    cmp = claim.comparison
    if cmp is None or cmp.claimed is None:
        return None
    d = cmp.details
    bound = number(d, "bound")
    if cmp.test.startswith("one-sided") and bound is not None:
        edge = bound - cmp.claimed
        return (edge, None) if d.get("direction") == "at_least" else (None, edge)
    if cmp.test == "shot-noise-z" and cmp.threshold is not None:
        shift = number(d, "bias_shift") or 0.0
        return shift - cmp.threshold, shift + cmp.threshold
    half = number(d, "margin")
    if half is None and cmp.test == "threshold":
        half = cmp.threshold
    if half is None:
        half = _tolerance_margin(claim.tolerance, cmp.claimed)
    return None if half is None else (-half, half)


def _tolerance_margin(tolerance: Mapping[str, Any] | None, claimed: float) -> float | None:
    if not tolerance:
        return None
    value = number(tolerance, "value")
    if value is None:
        return None
    kind = tolerance.get("kind")
    return value if kind == "absolute" else value * abs(claimed) if kind == "relative" else None


def _pair_rows(claim: ClaimResult, cmp: Comparison) -> list[ForestRow]:
    rows = []
    margin = cmp.claimed or 0.0
    for pair in cmp.details["pairs"]:
        if not isinstance(pair, dict) or (point := number(pair, "difference")) is None:
            continue
        low, high = number(pair, "ci_low"), number(pair, "ci_high")
        rows.append(ForestRow(
            f"{claim.id}: {pair.get('better')} vs {pair.get('worse')}",
            str(pair.get("outcome", claim.verdict)), point,
            (low, high) if low is not None and high is not None else None, (margin, None)))
    return rows


def _quantum_volume_rows(claim: ClaimResult, cmp: Comparison) -> list[ForestRow]:
    """The mean heavy-output probability with its two-sigma lower bound, against 2/3."""
    mean, bound = number(cmp.details, "mean_hop"), number(cmp.details, "bound")
    assert cmp.claimed is not None
    if mean is None or bound is None:
        return []
    return [ForestRow(claim.id, claim.verdict, mean - cmp.claimed,
                      (bound - cmp.claimed, mean - cmp.claimed), (0.0, None))]


def forest_plot(claims: Sequence[ClaimResult], uid: str) -> str | None:
    """Claimed vs reproduced for claims of one kind: per row the difference, its interval
    (confidence interval, or the two-sigma bound of a quantum volume) and the band the claim
    allows."""
    rows = [row for c in claims for row in forest_rows(c)]
    if not rows:
        return None
    kind = claims[0].kind or "other"
    xlabel = ("difference between the methods (better - worse)"
              if any(_compares_methods(c) for c in claims)
              else "reproduced - claimed (0: the claimed value)")
    with _axes(WIDTH_IN, 0.28 + 0.34 * len(rows)) as (fig, ax):
        low, high = _x_range(rows)
        notes = [_forest_row(ax, y, row, (low, high))
                 for y, row in zip(range(len(rows) - 1, -1, -1), rows, strict=True)]
        ax.axvline(0.0, color=OKABE_ITO["black"], linestyle="--", linewidth=0.8)
        ax.set_xlim(low, high)
        ax.set_ylim(-0.6, len(rows) - 0.4)
        ax.set_yticks(range(len(rows) - 1, -1, -1), [short_label(r.label) for r in rows])
        ax.set_xlabel(xlabel)
        title = _title(ax, f"{kind} claims: claimed vs reproduced")
        _layout(fig, ax, title, _forest_handles(rows), beside=notes)
        return to_svg(fig, uid, f"{kind} claims: reproduced minus claimed, one row per claim")


def _x_range(rows: Sequence[ForestRow]) -> tuple[float, float]:
    xs = [0.0]
    for r in rows:
        xs.append(r.point)
        xs += list(r.interval or ())
        xs += [x for x in (r.band or ()) if x is not None]
    low, high = min(xs), max(xs)
    pad = 0.08 * (high - low) if high > low else max(abs(high), 1e-3)
    return low - pad, high + pad


def _forest_row(ax: Axes, y: float, row: ForestRow, xlim: tuple[float, float]) -> Text:
    """Draws the row; returns its verdict, written beside the axes."""
    if row.band is not None:
        left = xlim[0] if row.band[0] is None else row.band[0]
        right = xlim[1] if row.band[1] is None else row.band[1]
        ax.barh(y, right - left, left=left, height=0.62, color=BAND, edgecolor="none")
    if row.interval is not None:
        ax.errorbar([row.point], [y], xerr=[[row.point - row.interval[0]],
                                            [row.interval[1] - row.point]],
                    fmt="none", ecolor=OKABE_ITO["black"], elinewidth=1.4, capsize=3)
    _point(ax, [row.point], [y], VERDICT_MARKS.get(row.verdict, VERDICT_MARKS["error"]), 8)
    return ax.annotate(row.verdict, (BESIDE_X, y), xycoords=("axes fraction", "data"),
                       va="center", fontsize=8)


def _forest_handles(rows: Sequence[ForestRow]) -> list[Artist]:
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    verdicts = list(dict.fromkeys(r.verdict for r in rows))
    handles: list[Artist] = [_handle(VERDICT_MARKS.get(v, VERDICT_MARKS["error"]))
                             for v in verdicts]
    if any(r.band is not None for r in rows):
        handles.append(Patch(facecolor=BAND, label="allowed by the claim"))
    if any(r.interval is not None for r in rows):
        handles.append(Line2D([], [], color=OKABE_ITO["black"], marker="|", markersize=6,
                              linewidth=1.4, label="interval (CI or 2-sigma bound)"))
    return handles


# --- per-seed values: strip plot ------------------------------------------------------------


@dataclass(frozen=True)
class SeedValues:
    """A claim's per-seed values as the report states them."""

    deposited: list[float] = field(default_factory=list)
    rerun: list[float] = field(default_factory=list)
    fresh: list[float] = field(default_factory=list)
    #: what a rerun value is one of (an aggregate's values are per circuit or per seed)
    rerun_label: str = "rerun at the deposited seeds"
    #: the axis label: the metric's name
    metric: str = ""

    def series(self) -> list[tuple[Mark, list[float]]]:
        marks = [_relabel(DEPOSITED, "deposited values"), _relabel(RERUN, self.rerun_label),
                 _relabel(FRESH, "rerun with fresh seeds")]
        return [(m, values) for m, values in zip(marks, (self.deposited, self.rerun, self.fresh),
                                                 strict=True) if values]


def seed_values(claim: ClaimResult, notebooks: Sequence[NotebookRun]) -> SeedValues | None:
    """Deposited per-seed values and their reruns (comparison.details), and, for a notebook
    claim, the same metric from its fresh-seed runs; None with fewer than two values."""
    if claim.comparison is None:
        return None
    d = claim.comparison.details
    rerun = numbers(d, "reproduced")
    label = "rerun at the deposited seeds"
    if not rerun and (rerun := numbers(d, "values")):
        label = f"reproduced ({len(rerun)} values aggregated)"
    values = SeedValues(numbers(d, "claimed_per_seed"), rerun,
                        _fresh_metric(claim, notebooks), label, metric_label(claim, notebooks))
    return values if sum(len(v) for _, v in values.series()) >= 2 else None


def notebook_metric(claim: ClaimResult, notebooks: Sequence[NotebookRun]) -> str | None:
    """The name of a notebook claim's metric. The report names it only through its values:
    the metric whose per-seed values are exactly the claim's reruns."""
    notebook = _notebook_of(claim)
    rerun = numbers(claim.comparison.details, "reproduced") if claim.comparison else []
    runs = seed_runs(notebooks, notebook) if notebook is not None and rerun else []
    return next((name for name in (runs[0].metrics if runs else ())
                 if [r.metrics.get(name) for r in runs] == rerun), None)


def _fresh_metric(claim: ClaimResult, notebooks: Sequence[NotebookRun]) -> list[float]:
    """The claim's metric in its notebook's fresh-seed runs (--fresh-seeds)."""
    name, notebook = notebook_metric(claim, notebooks), _notebook_of(claim)
    if name is None or notebook is None:
        return []
    values = [finite(r.metrics.get(name)) for r in fresh_runs(notebooks, notebook)]
    return [v for v in values if v is not None]


def _notebook_of(claim: ClaimResult) -> str | None:
    kind, _, notebook = claim.source.partition(":")
    return notebook if kind == "notebook" else None


def metric_label(claim: ClaimResult, notebooks: Sequence[NotebookRun]) -> str:
    """The claim's metric as an axis names it (a notebook metric by its name)."""
    if claim.metric != "notebook_metric":
        return claim.metric
    name = notebook_metric(claim, notebooks)
    return f"{name} (notebook metric)" if name else "notebook metric"


def strip_plot(claim: ClaimResult, values: SeedValues, uid: str) -> str | None:
    """One strip per series (deposited, rerun, fresh seeds) against the claim and the band it
    allows."""
    series = values.series()
    if not series or claim.comparison is None:
        return None
    claimed = claim.comparison.claimed
    with _axes(WIDTH_IN, 0.42 * len(series)) as (fig, ax):
        for y, (mark, xs) in zip(range(len(series) - 1, -1, -1), series, strict=True):
            _point(ax, xs, [y + dy for dy in _jitter(xs)], mark, 7)
        _claim_line(ax, claim, claimed)
        ax.set_yticks(range(len(series) - 1, -1, -1), [m.label for m, _ in series])
        ax.set_ylim(-0.6, len(series) - 0.4)
        ax.set_xlabel(values.metric)
        title = _title(ax, f"{short_label(claim.id)}: per-seed values")
        _layout(fig, ax, title, ax.get_legend_handles_labels()[0])
        return to_svg(fig, uid, f"{claim.id}: per-seed values (deposited, rerun, fresh seeds)")


def _jitter(xs: Sequence[float]) -> list[float]:
    """Vertical offsets spreading equal values apart (deterministic: no random jitter)."""
    seen: dict[float, int] = {}
    ranks = []
    for x in xs:
        key = round(x, 12)
        ranks.append(seen.get(key, 0))
        seen[key] = ranks[-1] + 1
    return [0.14 * ((r + 1) // 2) * (1 if r % 2 else -1) for r in ranks]


def _claim_line(ax: Axes, claim: ClaimResult, claimed: float | None) -> None:
    """The claimed value as a dashed line with the band the claim allows behind it."""
    if claimed is None:
        return
    band = tolerance_band(claim)
    if band is not None:
        left = claimed + band[0] if band[0] is not None else None
        right = claimed + band[1] if band[1] is not None else None
        lo, hi = ax.get_xlim()
        ax.axvspan(lo if left is None else left, hi if right is None else right,
                   color=BAND, zorder=0, label="allowed by the claim")
    ax.axvline(claimed, color=OKABE_ITO["black"], linestyle="--", linewidth=0.9,
               label=f"claimed {readable(claimed)}")


# --- seed robustness: the claim among fresh seeds --------------------------------------------


def seed_check_plot(claim: ClaimResult, metric: str, uid: str) -> str | None:
    """The fresh-seed distribution (mean, one and two sd) against the deposited mean and the
    claim (ClaimResult.seed_check)."""
    k = claim.seed_check
    if k is None or not (math.isfinite(k.fresh_mean) and math.isfinite(k.fresh_sd)):
        return None
    with _axes(WIDTH_IN, 0.78) as (fig, ax):
        ax.errorbar([k.fresh_mean], [1], xerr=[[2 * k.fresh_sd], [2 * k.fresh_sd]], fmt="none",
                    ecolor=FRESH.color, elinewidth=1.0, capsize=4)
        ax.errorbar([k.fresh_mean], [1], xerr=[[k.fresh_sd], [k.fresh_sd]], fmt="none",
                    ecolor=FRESH.color, elinewidth=4.0)
        _point(ax, [k.fresh_mean], [1], _relabel(FRESH, "fresh-seed mean"), 8)
        if k.deposited_mean is not None:
            _point(ax, [k.deposited_mean], [0], _relabel(DEPOSITED, "deposited mean"), 8)
        ax.axvline(k.claimed, color=OKABE_ITO["black"], linestyle="--", linewidth=0.9,
                   label=f"claimed {readable(k.claimed)}")
        ax.set_yticks([1, 0], [f"fresh seeds (n {k.fresh_n}):\nmean, 1 and 2 sd",
                               f"deposited seeds (n {k.deposited_n}):\nmean"])
        ax.set_ylim(-0.6, 1.6)
        ax.set_xlabel(metric)
        title = _title(ax, f"{short_label(claim.id)}: the claim at the {k.percentile:.0%} point of "
                       f"fresh seeds ({k.outcome or ('flagged' if k.flagged else 'not flagged')})")
        _layout(fig, ax, title, ax.get_legend_handles_labels()[0])
        return to_svg(fig, uid, f"{claim.id}: seed robustness, deposited vs fresh seeds")


# --- shared drawing and SVG output ----------------------------------------------------------


@contextmanager
def _axes(width: float, axes_height: float) -> Iterator[tuple[Figure, Axes]]:
    """A figure ``width`` inches wide with one axes ``axes_height`` inches high, under STYLE,
    at most six ticks on the x axis. No layout engine: _layout sets the margins and the
    figure's height once the plot is drawn (constrained layout took most of a plot's time).
    The axes has its final height from the start: the y axis's tick count depends on it."""
    import matplotlib
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    with matplotlib.rc_context(STYLE):
        height = axes_height + 2.0
        fig = Figure(figsize=(width, height))
        ax = fig.add_axes((0.2, 1.0 / height, 0.6, axes_height / height))
        ax.xaxis.set_major_locator(MaxNLocator(nbins=6))
        yield fig, ax


def _title(ax: Axes, text: str, **kwargs: Any) -> Text:
    """The title, left-aligned above the axes. Its height is given (y): matplotlib then
    does not look for tick labels above the axes on each draw (there are none)."""
    return ax.set_title(text, loc="left", y=1.0, **kwargs)


def _point(ax: Axes, xs: Sequence[float], ys: Sequence[float], mark: Mark, size: float) -> None:
    ax.plot(xs, ys, linestyle="none", marker=mark.marker, markersize=size,
            markerfacecolor=mark.color if mark.filled else "white",
            markeredgecolor=OKABE_ITO["black"] if mark.filled else mark.color,
            markeredgewidth=0.8 if mark.filled else 1.8, color=mark.color, label=mark.label,
            zorder=3)


def _handle(mark: Mark) -> Line2D:
    from matplotlib.lines import Line2D

    return Line2D([], [], linestyle="none", marker=mark.marker, markersize=7,
                  markerfacecolor=mark.color if mark.filled else "white",
                  markeredgecolor=OKABE_ITO["black"] if mark.filled else mark.color,
                  label=mark.label)


def _relabel(mark: Mark, label: str) -> Mark:
    return dataclasses.replace(mark, label=label)


def short_label(text: str, limit: int = LABEL_CHARS) -> str:
    """``text`` cut to ``limit`` characters, an ellipsis marking the cut."""
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"


# --- fixed layout: margins from what the plot holds ----------------------------------------
#
# Every length here is in points (1/72 inch; the SVG is drawn at 72 dpi). Text is measured
# as the sum of its glyphs' advances in the font matplotlib draws it with (no kerning: never
# narrower than matplotlib's own layout); a browser draws the SVG's text in that font, the
# first the SVG names, when it has it, as with any matplotlib layout.

#: free space at the figure's edges, and between the x-axis label and the legend
EDGE = 4.0
LEGEND_GAP = 6.0
LEGEND_FONT = 8
#: where a row's note (a forest row's verdict) starts, in axes fraction
BESIDE_X = 1.01


def _layout(fig: Figure, ax: Axes, title: Text | None, handles: Sequence[Artist] = (),
            columns: int = 5, beside: Sequence[Text] = ()) -> None:
    """Margins around the axes from the longest tick labels, the axis labels, the title,
    the notes ``beside`` the axes (at BESIDE_X) and the legend rows below it; the figure
    grows to hold them, the axes keeps its height and the width they leave. The axis
    labels are placed here too (else each draw measures the tick labels to place them)."""
    import matplotlib

    rc = matplotlib.rcParams
    width = fig.get_figwidth() * 72
    axes_height = ax.get_position().height * fig.get_figheight() * 72
    (xticks, xoffset), (yticks, yoffset) = _tick_labels(ax.xaxis), _tick_labels(ax.yaxis)
    # from the spine to the far side of the tick labels
    xband = rc["xtick.major.size"] + rc["xtick.major.pad"] + max(
        (h for _, _, h in xticks), default=0.0)
    yband = rc["ytick.major.size"] + rc["ytick.major.pad"] + max(
        (w for _, w, _ in yticks), default=0.0)
    ylabel = _size(ax.yaxis.label)
    left = EDGE + yband + (ylabel[0] + ax.yaxis.labelpad if ylabel[0] else 0.0)
    note = max((_size(t)[0] for t in beside), default=0.0)
    # a note starts at BESIDE_X of the axes width: right = EDGE + note + (BESIDE_X - 1) * axes
    right = (EDGE + note + (BESIDE_X - 1) * (width - left)) / BESIDE_X if beside else EDGE
    left, right = _fit_ends(ax, xticks, width, left, right)

    middle = left + (width - left - right) / 2
    _wrap(ax.xaxis.label, 2 * (min(middle, width - middle) - EDGE))
    xlabel = _size(ax.xaxis.label)
    legend, legend_height = _legend_shape(handles, columns, width)
    bottom = (EDGE + xband + max(xlabel[1] + ax.xaxis.labelpad if xlabel[0] else 0.0,
                                 xoffset + 3.0 if xoffset else 0.0)
              + (LEGEND_GAP + legend_height if handles else 0.0))
    top = EDGE + max((h / 2 for _, _, h in yticks), default=0.0)
    if title is not None and title.get_text():
        _wrap(title, width - left - EDGE, head=": ")
        # the title's last baseline is titlepad above the axes
        _, above, below = _extent(title.get_text(), title.get_fontproperties())
        top = EDGE + above - below + rc["axes.titlepad"]
    if yoffset:  # above the axes' top left, where the title starts: lift the title over it
        top += yoffset + 3.0
        if title is not None:
            title.set_y(1.0 + (yoffset + 3.0) / axes_height)

    height = top + axes_height + bottom
    axes_width = width - left - right
    fig.set_size_inches(width / 72, height / 72)
    ax.set_position((left / width, bottom / height, axes_width / width, axes_height / height))
    ax.xaxis.set_label_coords(0.5, -(xband + ax.xaxis.labelpad) / axes_height)
    ax.yaxis.set_label_coords(-(yband + ax.yaxis.labelpad) / axes_width, 0.5)
    if handles:
        fig.legend(handles=handles, loc="lower center", bbox_to_anchor=(0.5, EDGE / height),
                   ncols=legend, frameon=False, fontsize=LEGEND_FONT, borderaxespad=0.0)


def _tick_labels(axis: Axis) -> tuple[list[tuple[float, float, float]], float]:
    """Position, width and height of each tick label the axis will draw (as rotated), and
    the height of its offset text (0 when none: "1e-7", "+0.9" beside the tick labels)."""
    locs = axis.get_majorticklocs()
    formatter = axis.get_major_formatter()
    texts = formatter.format_ticks(locs.tolist())
    low, high = sorted(axis.get_view_interval())
    slack = 1e-9 * (high - low)
    found = []
    for loc, text, tick in zip(locs, texts, axis.get_major_ticks(len(locs)), strict=True):
        if text and tick.label1.get_visible() and low - slack <= loc <= high + slack:
            w, h, _ = _extent(text, tick.label1.get_fontproperties())
            turn = math.radians(tick.label1.get_rotation())
            along, across = abs(math.cos(turn)), abs(math.sin(turn))
            found.append((float(loc), w * along + h * across, w * across + h * along))
    offset = formatter.get_offset()
    return found, _extent(offset, axis.get_offset_text().get_fontproperties())[1] if offset \
        else 0.0


def _fit_ends(ax: Axes, xticks: Sequence[tuple[float, float, float]], width: float,
              left: float, right: float) -> tuple[float, float]:
    """Left and right margins widened where an x tick label near an end of the axis would
    stick out past the figure's edge (a label is centred on its tick)."""
    low, high = ax.get_xlim()
    for _ in range(2):  # a wider margin narrows the axes, moving the ticks a little
        span = width - left - right
        for loc, w, _ in xticks:
            at = (loc - low) / (high - low) * span if high != low else span / 2
            left = max(left, EDGE + w / 2 - at)
            right = max(right, EDGE + w / 2 - (span - at))
    return left, right


def _wrap(text: Text, room: float, head: str = "") -> None:
    """Break a text wider than ``room`` into lines at spaces (first after ``head`` when it
    holds one: a title's "id: "), shortening with "…" a word wider than a line."""
    value, prop = text.get_text(), text.get_fontproperties()

    def fits(line: str) -> bool:
        return _extent(line, prop)[0] <= room

    if fits(value):
        return
    first, sep, rest = value.partition(head) if head else (value, "", "")
    lines: list[str] = []
    for paragraph in ([first + sep.rstrip(), rest] if sep else [value]):
        line = ""
        for word in paragraph.split(" "):
            if line and fits(f"{line} {word}"):
                line = f"{line} {word}"
                continue
            if line:
                lines.append(line)
            line = word
            while len(line) > 1 and not fits(line):
                line = line[:-2] + "…"
        lines.append(line)
    text.set_text("\n".join(lines))


def _legend_shape(handles: Sequence[Artist], columns: int, width: float
                  ) -> tuple[int, float]:
    """The most legend columns (up to ``columns``) whose rows fit the figure's width, and
    the legend's height."""
    import matplotlib
    from matplotlib.font_manager import FontProperties

    if not handles:
        return 1, 0.0
    rc, size = matplotlib.rcParams, float(LEGEND_FONT)
    prop = FontProperties(size=size)
    entries = [(rc["legend.handlelength"] + rc["legend.handletextpad"]) * size
               + _extent(str(h.get_label()), prop)[0] for h in handles]
    ncols = min(len(entries), columns)
    while True:
        rows, large = divmod(len(entries), ncols)  # as matplotlib.legend fills columns
        spans = [rows + 1] * large + [rows] * (ncols - large)
        starts = [sum(spans[:i]) for i in range(ncols)]
        total = (sum(max(entries[a:a + n]) for a, n in zip(starts, spans, strict=True))
                 + (ncols - 1) * rc["legend.columnspacing"] * size
                 + 2 * rc["legend.borderpad"] * size)
        if ncols == 1 or total <= width - 2 * EDGE:
            break
        ncols -= 1
    rows = spans[0]
    row = max(_extent("lp", prop)[1], rc["legend.handleheight"] * size)
    return ncols, (rows * row + (rows - 1) * rc["legend.labelspacing"] * size
                   + 2 * rc["legend.borderpad"] * size)


def _size(text: Text) -> tuple[float, float]:
    """A text's width and height as drawn (rotation 90: the label of a y axis); (0, 0)
    for an empty or hidden one."""
    if not text.get_visible() or not text.get_text():
        return 0.0, 0.0
    w, h, _ = _extent(text.get_text(), text.get_fontproperties())
    return (h, w) if round(text.get_rotation()) % 180 == 90 else (w, h)


def _extent(text: str, prop: FontProperties) -> tuple[float, float, float]:
    """Width, height and descent below the last line's baseline of unrotated ``text``, laid
    out as matplotlib.text.Text does."""
    from matplotlib.font_manager import fontManager

    font = font_metrics(fontManager.findfont(prop))
    size = prop.get_size_in_points()
    lines = text.split("\n")
    gap = font.gap / 2 if len(lines) > 1 else 0.0
    width = height = descent = 0.0
    for line in lines:
        glyphs = [font.glyph(c) for c in line]
        width = max(width, sum(g[0] for g in glyphs))
        descent = max([font.descent, *(g[2] for g in glyphs)]) + gap
        height += max([font.ascent, *(g[1] for g in glyphs)]) + gap + descent
    return width * size, height * size, descent * size


_ID = re.compile(r'\bid="([^"]+)"')
_REF = re.compile(r'(\bid="|href="#|url\(#)([^")]+)')


def to_svg(fig: Figure, uid: str, title: str) -> str:
    """The figure as SVG to inline in HTML: no prolog, DOCTYPE or metadata; every id (and
    reference to one) prefixed with ``uid``; a title for screen readers."""
    import matplotlib

    buffer = io.StringIO()
    with matplotlib.rc_context({"svg.hashsalt": uid}):
        fig.savefig(buffer, format="svg", metadata={"Date": None})
    svg = buffer.getvalue()
    svg = svg[svg.index("<svg"):]
    svg = re.sub(r"\s*<metadata>.*?</metadata>", "", svg, count=1, flags=re.S)
    ids = set(_ID.findall(svg))
    svg = _REF.sub(lambda m: m[1] + (f"{uid}-{m[2]}" if m[2] in ids else m[2]), svg)
    label = html.escape(title, quote=True)
    return svg.replace("<svg ", f'<svg class="plot" role="img" aria-label="{label}" ', 1
                       ).replace(">", f"><title>{label}</title>", 1).strip()
