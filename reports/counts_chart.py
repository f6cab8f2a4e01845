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
import heapq
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from harness.models import CircuitRun
from reports.plots import IDEAL, RECORDED, REPRODUCED, WIDTH_IN, Mark, readable, short_label
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
#: the y axis's label; the title's line spacing (in lines)
Y_LABEL, TITLE_SPACING = "share of shots", 1.2
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

    @functools.cached_property
    def shots(self) -> int:  # once: a chart asks for each outcome's share
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
    frame: Frame
    title: tuple[tuple[str, float], ...]  # lines and their baselines
    bars: tuple[Bar, ...]
    ideal: tuple[Bar, ...]
    y_ticks: tuple[Tick, ...]
    x_ticks: tuple[Tick, ...]
    rotated: bool
    y_label: tuple[float, float]  # where its middle is
    legend: tuple[LegendEntry, ...]
    boxes: tuple[Box, ...]
    sans: str = SANS
    mono: str = MONO
    font: float = FONT
    outcome_font: float = OUTCOME_FONT
    legend_font: float = LEGEND_FONT
    handle: tuple[float, float] = (HANDLE_W, HANDLE_H)
    y_label_text: str = Y_LABEL
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
    top = top_outcomes([{k: s.share(k) for k in s.counts} for s in series] + [ideal],
                       order={k: run.counts[k] / series[-1].shots for k in run.counts})
    high = max([s.share(k) for s in series for k in top] + [ideal.get(k, 0.0) for k in top])
    y_labels, y_max = y_axis(high * Y_HEADROOM)

    # across: the y label, the widest tick label, the ticks, the axes; the outcomes' slots
    left = (EDGE + TEXT.height + LABEL_PAD + TICK + PAD
            + max(TEXT.width(text) for _, text in y_labels))
    slot = (WIDTH - EDGE - left) / len(top)
    widest = max(OUTCOMES.width(k) for k in top)
    rotated = widest > slot - 2.0
    # down: the title, the axes, the outcomes, the legend
    outcomes = len(set(run.counts) | set(recorded or {}))
    title_lines = _wrap(f"{short_label(run.id, ID_CHARS)}: top {len(top)} of {outcomes} outcomes",
                        WIDTH - left - EDGE)
    items = [(s.mark, f"{s.mark.label} ({s.shots} shots)") for s in series] + (
        [(IDEAL, IDEAL.label)] if ideal else [])
    line = TEXT.height * TITLE_SPACING
    axes_top = EDGE + (len(title_lines) - 1) * line + TEXT.height + TITLE_PAD
    frame = Frame(left, axes_top, WIDTH - EDGE, axes_top + AXES_HEIGHT, y_max, slot)
    legend_top = frame.bottom + TICK + PAD + (widest if rotated else OUTCOMES.height) + LEGEND_GAP
    legend, legend_boxes = _legend(items, legend_top)

    title = tuple((text, EDGE + TEXT.ascent + i * line)
                  for i, text in enumerate(title_lines))
    y_ticks, y_boxes = _y_ticks(frame, y_labels)
    x_ticks, x_boxes = _outcome_ticks(frame, top, rotated)
    y_label = (EDGE + TEXT.ascent, frame.top + AXES_HEIGHT / 2)
    half = TEXT.width(Y_LABEL) / 2
    boxes = (*(Box(text, left, base - TEXT.ascent, left + TEXT.width(text), base + TEXT.descent)
               for text, base in title),
             Box(Y_LABEL, EDGE, y_label[1] - half, EDGE + TEXT.height, y_label[1] + half),
             *y_boxes, *x_boxes, *legend_boxes)
    return Chart(uid=uid, label=f"{run.id}: counts of the most frequent outcomes",
                 width=WIDTH, height=max(b.y1 for b in legend_boxes) + EDGE, frame=frame,
                 title=title, bars=_bars(frame, series, top), ideal=_ideal(frame, ideal, top),
                 y_ticks=y_ticks, x_ticks=x_ticks, rotated=rotated, y_label=y_label,
                 legend=legend, boxes=boxes)


@dataclass(frozen=True)
class Frame:
    """The axes: its edges, the share at its top, and the width of each outcome's slot."""

    left: float
    top: float
    right: float
    bottom: float
    y_max: float
    slot: float

    def y_of(self, share: float) -> float:
        return self.bottom - share / self.y_max * (self.bottom - self.top)

    def centre(self, j: int) -> float:
        return self.left + self.slot * (j + 0.5)


def _y_ticks(frame: Frame, labels: Sequence[tuple[float, str]]
             ) -> tuple[tuple[Tick, ...], list[Box]]:
    ticks, boxes = [], []
    x = frame.left - TICK - PAD
    for value, text in labels:
        y = frame.y_of(value)
        base = y + (TEXT.ascent - TEXT.descent) / 2  # the text's middle on the tick
        ticks.append(Tick(frame.left, y, text, x, base))
        boxes.append(Box(text, x - TEXT.width(text), base - TEXT.ascent, x, base + TEXT.descent))
    return tuple(ticks), boxes


def _outcome_ticks(frame: Frame, top: Sequence[str], rotated: bool
                   ) -> tuple[tuple[Tick, ...], list[Box]]:
    ticks, boxes = [], []
    below = frame.bottom + TICK + PAD
    for j, outcome in enumerate(top):
        centre, w = frame.centre(j), OUTCOMES.width(outcome)
        if rotated:  # read bottom to top, ending under the tick, centred on it
            base = centre + (OUTCOMES.ascent - OUTCOMES.descent) / 2
            ticks.append(Tick(centre, frame.bottom, outcome, base, below))
            boxes.append(Box(outcome, base - OUTCOMES.ascent, below, base + OUTCOMES.descent,
                             below + w))
        else:
            ticks.append(Tick(centre, frame.bottom, outcome, centre, below + OUTCOMES.ascent))
            boxes.append(Box(outcome, centre - w / 2, below, centre + w / 2,
                             below + OUTCOMES.height))
    return tuple(ticks), boxes


def _bars(frame: Frame, series: Sequence[Series], top: Sequence[str]) -> tuple[Bar, ...]:
    """Per outcome, one bar per series side by side, centred on its slot."""
    width = frame.slot * GROUP / len(series)
    bars = []
    for j, outcome in enumerate(top):
        for i, s in enumerate(series):
            share, y = s.share(outcome), frame.y_of(s.share(outcome))
            bars.append(Bar(frame.centre(j) - frame.slot * GROUP / 2 + width * i, y, width,
                            frame.bottom - y, s.mark.color, bool(s.mark.hatch),
                            f"{outcome}, {s.mark.label}: {readable(share)} "
                            f"({s.counts.get(outcome, 0)} of {s.shots} shots)"))
    return tuple(bars)


def _ideal(frame: Frame, ideal: Mapping[str, float], top: Sequence[str]) -> tuple[Bar, ...]:
    """The ideal share of each outcome, as a tick across its slot (none without one)."""
    if not ideal:
        return ()
    width = min(IDEAL_W, frame.slot * 0.9)
    shares = [ideal.get(outcome, 0.0) for outcome in top]
    return tuple(Bar(frame.centre(j) - width / 2, frame.y_of(p), width, 0.0, IDEAL.color, False,
                     f"{outcome}, ideal (noise-free): {readable(p)}")
                 for j, (outcome, p) in enumerate(zip(top, shares, strict=True)))


def _legend(items: Sequence[tuple[Mark, str]], top: float
            ) -> tuple[tuple[LegendEntry, ...], list[Box]]:
    """The legend's entries in rows from ``top``, centred across the figure."""
    columns, widths = _legend_columns([text for _, text in items])
    total = sum(widths) + COLUMN_GAP * (columns - 1)
    entries, boxes = [], []
    for n, (mark, text) in enumerate(items):
        row, column = divmod(n, columns)
        x = (WIDTH - total) / 2 + sum(widths[:column]) + COLUMN_GAP * column
        middle = top + row * (LEGEND.height + ROW_GAP) + LEGEND.height / 2
        text_x = x + HANDLE_W + HANDLE_TEXT
        entries.append(LegendEntry(mark, text, x, middle, text_x,
                                   middle + (LEGEND.ascent - LEGEND.descent) / 2))
        boxes.append(Box(text, x, middle - LEGEND.height / 2, text_x + LEGEND.width(text),
                         middle + LEGEND.height / 2))
    return tuple(entries), boxes


def top_outcomes(distributions: Sequence[Mapping[str, float]],
                 order: Mapping[str, float] | None = None) -> list[str]:
    """The TOP_OUTCOMES outcomes with the highest share in any of the distributions (an
    outcome the deposit recorded or the ideal expects is shown even when the rerun never
    gave it), most frequent first in ``order`` (the reproduced shares), then by that
    highest share."""
    share: dict[str, float] = {}
    for dist in distributions:
        for key, p in dist.items():
            share[key] = max(share.get(key, 0.0), p)
    top = heapq.nsmallest(TOP_OUTCOMES, share, key=lambda k: (-share[k], k))
    first = order or {}
    return sorted(top, key=lambda k: (-first.get(k, 0.0), -share[k], k))


def y_axis(high: float) -> tuple[list[tuple[float, str]], float]:
    """The y axis's tick values with their labels, and its top: ``high`` or the last tick."""
    step, digits = y_step(high)
    labels = [(v * step, f"{v * step:.{digits}f}") for v in range(int(high / step + 1e-9) + 1)]
    return labels, max(high, labels[-1][0])


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
