"""report.html's counts plots: per circuit, its most frequent outcomes as shares of its shots,
the recorded and the reproduced counts as paired bars and the ideal distribution as ticks.

Drawn from templates/counts.svg.j2, not matplotlib: a bar chart is rectangles, lines and
text, and matplotlib took 40-55 ms for each (most of it in its SVG output). A deposit of
many circuits has twelve of these plots, which made them most of the time the harness
spends after the simulator. The layout is computed here, in points (the SVG's units, 72 per
inch), with text measured in the fonts a browser draws it with (reports/text_metrics.py):
the figure grows to hold its tick labels, title and legend, and the axes keeps its size.

The look is reports.plots': the same width, fonts, Okabe-Ito colours and marks (recorded
hatched, reproduced solid, ideal as black ticks). Every bar and tick says its numbers in a
tooltip; nothing here computes a number the report does not state.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from harness.models import CircuitRun
from reports.plots import IDEAL, RECORDED, REPRODUCED, WIDTH_IN, Mark, readable
from reports.text_metrics import browser_line, bundled_font, text_width

if TYPE_CHECKING:
    import jinja2

#: outcomes shown per circuit (the most frequent)
TOP_OUTCOMES = 8
#: the longest circuit id in the title (report.json and the page's table have all of it)
ID_CHARS = 28
WIDTH = WIDTH_IN / 2 * 72
AXES_HEIGHT = 2.1 * 72
#: the fonts' sizes (as reports.plots.STYLE: 9 pt text, outcomes in 7 pt monospace)
FONT, OUTCOME_FONT, LEGEND_FONT = 9.0, 7.0, 8.0
SANS = "DejaVu Sans, Bitstream Vera Sans, Verdana, Arial, Helvetica, sans-serif"
MONO = "DejaVu Sans Mono, Bitstream Vera Sans Mono, Courier New, monospace"
#: free space at the edges; tick length and the gap to its label; y label and title gaps
EDGE, TICK, PAD, LABEL_PAD, TITLE_PAD = 4.0, 3.5, 3.5, 4.0, 6.0
#: the legend: gap below the outcomes, handle size, gap to its text, between columns, rows
LEGEND_GAP, HANDLE_W, HANDLE_H, HANDLE_TEXT, COLUMN_GAP, ROW_GAP = (
    6.0, 16.0, 5.6, 6.4, 16.0, 4.0)
#: a bar group's share of its outcome's slot; the ideal tick's length
GROUP, IDEAL_W = 0.8, 16.0
#: the y axis: at most this many intervals, and this much room above the highest bar
Y_INTERVALS, Y_HEADROOM = 5, 1.05
EDGE_COLOR, HATCH_COLOR = "#000000", "#404040"


@dataclass(frozen=True)
class Font:
    """A font at a size: the width and height of a line of text, as a browser draws it."""

    file: str
    size: float

    @property
    def ascent(self) -> float:
        return browser_line(bundled_font(self.file))[0] * self.size

    @property
    def descent(self) -> float:
        return browser_line(bundled_font(self.file))[1] * self.size

    @property
    def height(self) -> float:
        return self.ascent + self.descent

    def width(self, text: str) -> float:
        return text_width(text, self.size, bundled_font(self.file))


TEXT = Font("DejaVuSans.ttf", FONT)
OUTCOMES = Font("DejaVuSansMono.ttf", OUTCOME_FONT)
LEGEND = Font("DejaVuSans.ttf", LEGEND_FONT)


@dataclass(frozen=True)
class Box:
    """A text's extent, left-top-right-bottom in points from the figure's top left."""

    text: str
    x0: float
    y0: float
    x1: float
    y1: float


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    fill: str
    hatched: bool
    tip: str


@dataclass(frozen=True)
class Tick:
    """An axis tick from (x, y), and its label's baseline position."""

    x: float
    y: float
    label: str
    label_x: float
    label_y: float


@dataclass(frozen=True)
class LegendEntry:
    mark: Mark
    label: str
    x: float
    y: float  # the row's middle
    text_x: float
    baseline: float


@dataclass(frozen=True)
class Series:
    mark: Mark
    counts: Mapping[str, int]

    @property
    def shots(self) -> int:
        return sum(self.counts.values())

    def share(self, outcome: str) -> float:
        return self.counts.get(outcome, 0) / self.shots


@dataclass(frozen=True)
class Chart:
    """Everything the template draws, placed; ``boxes`` are the texts' extents."""

    uid: str
    label: str
    width: float
    height: float
    left: float
    top: float
    right: float
    bottom: float
    title: tuple[tuple[str, float], ...]  # lines and their baselines
    bars: tuple[Bar, ...]
    ideal: tuple[Bar, ...]
    y_ticks: tuple[Tick, ...]
    x_ticks: tuple[Tick, ...]
    rotated: bool
    y_label: tuple[float, float]
    legend: tuple[LegendEntry, ...]
    boxes: tuple[Box, ...]
    sans: str = SANS
    mono: str = MONO
    font: float = FONT
    outcome_font: float = OUTCOME_FONT
    legend_font: float = LEGEND_FONT
    handle: tuple[float, float] = (HANDLE_W, HANDLE_H)
    hatch: str = HATCH_COLOR
    edge: str = EDGE_COLOR
    recorded: str = RECORDED.color


def has_counts(run: CircuitRun) -> bool:
    """Whether :func:`counts_svg` draws this run (it ran, and has shots)."""
    return run.ok and sum(run.counts.values()) > 0


def counts_svg(run: CircuitRun, uid: str, recorded: Mapping[str, int] | None = None
               ) -> str | None:
    """The chart as SVG to inline in HTML (ids prefixed with ``uid``), or None when the run
    has no counts."""
    chart = counts_chart(run, uid, recorded)
    return None if chart is None else _template().render(c=chart).strip()


def counts_chart(run: CircuitRun, uid: str, recorded: Mapping[str, int] | None = None
                 ) -> Chart | None:
    """The chart of ``run``'s counts (and the ``recorded`` counts beside them), laid out."""
    if not has_counts(run):
        return None
    series = [Series(REPRODUCED, run.counts)]
    if recorded and sum(recorded.values()) > 0:
        series.insert(0, Series(RECORDED, recorded))
    ideal = dict(run.ideal or {})
    top = top_outcomes([{k: s.share(k) for k in s.counts} for s in series] + [ideal])
    high = max([s.share(k) for s in series for k in top] + [ideal.get(k, 0.0) for k in top])
    step, digits = y_step(high * Y_HEADROOM)
    y_labels = [(v * step, f"{v * step:.{digits}f}")
                for v in range(int(high * Y_HEADROOM / step + 1e-9) + 1)]
    y_max = max(high * Y_HEADROOM, y_labels[-1][0])

    # horizontal: the y label, the widest tick label, the ticks, then the axes
    left = (EDGE + TEXT.height + LABEL_PAD + TICK + PAD
            + max(TEXT.width(text) for _, text in y_labels))
    right = WIDTH - EDGE
    slot = (right - left) / len(top)
    widest = max(OUTCOMES.width(k) for k in top)
    rotated = widest > slot - 2.0
    outcome_band = widest if rotated else OUTCOMES.height

    marks = [s.mark for s in series] + ([IDEAL] if ideal else [])
    labels = [f"{s.mark.label} ({s.shots} shots)" for s in series] + (
        [IDEAL.label] if ideal else [])
    columns, column_widths = _legend_columns(labels)
    rows = math.ceil(len(labels) / columns)
    legend_height = rows * LEGEND.height + (rows - 1) * ROW_GAP

    outcomes = len(set(run.counts) | set(recorded or {}))
    title_text = f"{_short(run.id)}: top {len(top)} of {outcomes} outcomes"
    title_lines = _wrap(title_text, WIDTH - left - EDGE)
    line = TEXT.height * 1.2
    top_edge = EDGE + len(title_lines) * line + TITLE_PAD - (line - TEXT.height)
    axes_bottom = top_edge + AXES_HEIGHT
    height = axes_bottom + TICK + PAD + outcome_band + LEGEND_GAP + legend_height + EDGE

    def y_of(value: float) -> float:
        return axes_bottom - value / y_max * AXES_HEIGHT

    boxes: list[Box] = []
    title = tuple((text, EDGE + TEXT.ascent + i * line) for i, text in enumerate(title_lines))
    boxes += [Box(text, left, base - TEXT.ascent, left + TEXT.width(text), base + TEXT.descent)
              for text, base in title]

    y_ticks = []
    label_x = left - TICK - PAD
    for value, text in y_labels:
        y = y_of(value)
        base = y + (TEXT.ascent - TEXT.descent) / 2
        y_ticks.append(Tick(left, y, text, label_x, base))
        boxes.append(Box(text, label_x - TEXT.width(text), base - TEXT.ascent, label_x,
                         base + TEXT.descent))
    y_label = (EDGE + TEXT.ascent, top_edge + AXES_HEIGHT / 2)
    half = TEXT.width("share of shots") / 2
    boxes.append(Box("share of shots", EDGE, y_label[1] - half, EDGE + TEXT.height,
                     y_label[1] + half))

    bars, ideal_ticks, x_ticks = [], [], []
    bar_width = slot * GROUP / len(series)
    for j, outcome in enumerate(top):
        centre = left + slot * (j + 0.5)
        for i, s in enumerate(series):
            share = s.share(outcome)
            x = centre - slot * GROUP / 2 + bar_width * i
            bars.append(Bar(x, y_of(share), bar_width, axes_bottom - y_of(share), s.mark.color,
                            bool(s.mark.hatch), f"{outcome}, {s.mark.label}: {readable(share)} "
                            f"({s.counts.get(outcome, 0)} of {s.shots} shots)"))
        if ideal:
            tick = min(IDEAL_W, slot * 0.9)
            p = ideal.get(outcome, 0.0)
            ideal_ticks.append(Bar(centre - tick / 2, y_of(p), tick, 0.0, IDEAL.color, False,
                                   f"{outcome}, ideal (noise-free): {readable(p)}"))
        below = axes_bottom + TICK + PAD
        w = OUTCOMES.width(outcome)
        if rotated:  # read bottom to top, ending under the tick, centred on it
            base = centre + (OUTCOMES.ascent - OUTCOMES.descent) / 2
            x_ticks.append(Tick(centre, axes_bottom, outcome, base, below))
            boxes.append(Box(outcome, base - OUTCOMES.ascent, below, base + OUTCOMES.descent,
                             below + w))
        else:
            x_ticks.append(Tick(centre, axes_bottom, outcome, centre, below + OUTCOMES.ascent))
            boxes.append(Box(outcome, centre - w / 2, below, centre + w / 2,
                             below + OUTCOMES.height))

    legend = []
    legend_top = axes_bottom + TICK + PAD + outcome_band + LEGEND_GAP
    total = sum(column_widths) + COLUMN_GAP * (columns - 1)
    for n, (mark, text) in enumerate(zip(marks, labels, strict=True)):
        row, column = divmod(n, columns)
        x = (WIDTH - total) / 2 + sum(column_widths[:column]) + COLUMN_GAP * column
        middle = legend_top + row * (LEGEND.height + ROW_GAP) + LEGEND.height / 2
        text_x = x + HANDLE_W + HANDLE_TEXT
        base = middle + (LEGEND.ascent - LEGEND.descent) / 2
        legend.append(LegendEntry(mark, text, x, middle, text_x, base))
        boxes.append(Box(text, x, middle - LEGEND.height / 2, text_x + LEGEND.width(text),
                         middle + LEGEND.height / 2))

    return Chart(uid=uid, label=f"{run.id}: counts of the most frequent outcomes",
                 width=WIDTH, height=height, left=left, top=top_edge, right=right,
                 bottom=axes_bottom, title=title, bars=tuple(bars), ideal=tuple(ideal_ticks),
                 y_ticks=tuple(y_ticks), x_ticks=tuple(x_ticks), rotated=rotated,
                 y_label=y_label, legend=tuple(legend), boxes=tuple(boxes))


def top_outcomes(distributions: Sequence[Mapping[str, float]]) -> list[str]:
    """The TOP_OUTCOMES outcomes with the highest share in any of the distributions."""
    share: dict[str, float] = {}
    for dist in distributions:
        for key, p in dist.items():
            share[key] = max(share.get(key, 0.0), p)
    return sorted(share, key=lambda k: (-share[k], k))[:TOP_OUTCOMES]


def y_step(high: float) -> tuple[float, int]:
    """The y axis's tick step for values up to ``high`` (1, 2, 2.5 or 5 times a power of
    ten, at most Y_INTERVALS steps) and the decimals its labels need."""
    raw = high / Y_INTERVALS
    power = math.floor(math.log10(raw))
    for mantissa in (1.0, 2.0, 2.5, 5.0, 10.0):
        if mantissa * 10.0**power >= raw * (1 - 1e-9):
            break
    if mantissa == 10.0:
        mantissa, power = 1.0, power + 1
    digits = max(0, -power) + (1 if mantissa == 2.5 else 0)
    return mantissa * 10.0**power, digits


def _legend_columns(labels: Sequence[str]) -> tuple[int, list[float]]:
    """Two columns when they fit across the figure, else one; each column's width."""
    entry = [HANDLE_W + HANDLE_TEXT + LEGEND.width(t) for t in labels]
    for columns in (2, 1):
        widths = [max(entry[c::columns]) for c in range(min(columns, len(entry)))]
        if sum(widths) + COLUMN_GAP * (len(widths) - 1) <= WIDTH - 2 * EDGE or columns == 1:
            return len(widths), widths
    raise AssertionError("unreachable")


def _short(text: str) -> str:
    return text if len(text) <= ID_CHARS else text[: ID_CHARS - 1] + "\u2026"


def _wrap(text: str, room: float) -> list[str]:
    """``text`` in lines of at most ``room`` points, broken at spaces, and inside a word
    wider than the room."""
    lines: list[str] = []
    for word in text.split(" "):
        if lines and TEXT.width(f"{lines[-1]} {word}") <= room:
            lines[-1] = f"{lines[-1]} {word}"
            continue
        lines.append("")
        for char in word:
            if lines[-1] and TEXT.width(lines[-1] + char) > room:
                lines.append("")
            lines[-1] += char
    return lines


@functools.cache
def _template() -> jinja2.Template:
    from reports.templating import environment

    return environment({"pt": lambda v: f"{v:.2f}".rstrip("0").rstrip(".")}).get_template(
        "counts.svg.j2")
