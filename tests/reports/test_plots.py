"""reports.plots lays its figures out itself (no constrained layout): every text the figure
draws lies inside it and clear of every other text, for ordinary plots and for long ids,
long metric names, wrapped legends and numbers drawn with an offset ("1e-7")."""

from __future__ import annotations

import io
import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pytest

from harness.models import ClaimResult, Comparison, SeedCheck
from reports import plots

if TYPE_CHECKING:
    from matplotlib.figure import Figure
    from matplotlib.transforms import Bbox

LONG = "a-claim-identifier-much-longer-than-a-row-label-WWWWWWWWWWWW"


def _claim(id: str = "fidelity", verdict: str = "pass", observed: float = 0.91,
           claimed: float = 0.9, tolerance: float = 0.05, **details: Any) -> ClaimResult:
    comparison = Comparison(verdict=verdict, test="tost", observed=observed, claimed=claimed,
                            difference=observed - claimed, evidence="-", details=details)
    return ClaimResult(id=id, kind="scalar", source="circuit:c", metric="fidelity",
                       verdict=verdict, comparison=comparison,
                       tolerance={"kind": "absolute", "value": tolerance})


def _seed_check(claim: ClaimResult, **fields: Any) -> ClaimResult:
    check = SeedCheck(**{"fresh_n": 3, "fresh_mean": 0.85, "fresh_sd": 0.05, "claimed": 0.91,
                         "percentile": 1.0, "deposited_n": 5, "deposited_mean": 0.91,
                         "alpha": 0.02, "flagged": False, "evidence": "-",
                         "outcome": "inconclusive", **fields})
    return claim.model_copy(update={"seed_check": check})


SEEDS = plots.SeedValues([0.91, 0.92, 0.9], [0.91, 0.92, 0.9], [0.8, 0.85, 0.9],
                         metric="test_accuracy (notebook metric)")
TINY = plots.SeedValues([1e-7, 1.1e-7], [1.05e-7], [0.9e-7], metric="tiny")

PLOTS: dict[str, Callable[[], str | None]] = {
    "forest": lambda: plots.forest_plot([_claim(), _claim("other", "fail", 0.8)], "p"),
    "forest, long ids, every verdict": lambda: plots.forest_plot(
        [_claim(f"{LONG}{v}", v) for v in ("pass", "fail", "inconclusive", "error")], "p"),
    "forest, offset numbers": lambda: plots.forest_plot(
        [_claim(observed=1e-7, claimed=2e-7, tolerance=3e-7, ci_low=0.5e-7, ci_high=1.5e-7)],
        "p"),
    "strip": lambda: plots.strip_plot(_claim(), SEEDS, "p"),
    "strip, long id and metric": lambda: plots.strip_plot(
        _claim(LONG), plots.SeedValues([0.9, 0.91], [0.92], metric="metric " + "W" * 120),
        "p"),
    "strip, offset numbers": lambda: plots.strip_plot(
        _claim(observed=1e-7, claimed=1e-7, tolerance=1e-8), TINY, "p"),
    "seed check": lambda: plots.seed_check_plot(_seed_check(_claim()), "accuracy", "p"),
    "seed check, long id": lambda: plots.seed_check_plot(
        _seed_check(_claim(LONG), fresh_n=1000, deposited_n=1000), "accuracy", "p"),
}


@dataclass
class Drawn:
    """A figure as a plot function serialized it, with the boxes of the texts it drew."""

    fig: Figure
    texts: list[tuple[str, Bbox]]
    axes: Bbox


@pytest.fixture
def drawn(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[Drawn]]:
    """The figures the plot functions serialize, measured as they are (under plots.STYLE)."""
    found: list[Drawn] = []
    to_svg = plots.to_svg

    def keep(fig: Figure, uid: str, title: str) -> str:
        dpi = fig.dpi
        fig.set_dpi(72)  # as to_svg draws it: a point is a pixel
        found.append(Drawn(fig, *_drawn_texts(fig)))
        fig.set_dpi(dpi)
        return to_svg(fig, uid, title)

    monkeypatch.setattr(plots, "to_svg", keep)
    yield found


def _drawn_texts(fig: Figure) -> tuple[list[tuple[str, Bbox]], Bbox]:
    """The boxes of the texts the figure draws (a legend as one box) and the axes' box, in
    points (drawn as to_svg does: at 72 dpi)."""
    from matplotlib.backends.backend_svg import RendererSVG
    from matplotlib.text import Text

    width, height = fig.get_size_inches() * 72
    renderer = RendererSVG(width, height, io.StringIO())
    fig.draw(renderer)
    (ax,) = fig.axes
    undrawn = set()
    for axis in (ax.xaxis, ax.yaxis):
        low, high = sorted(axis.get_view_interval())
        locs = len(axis.get_majorticklocs())
        for i, tick in enumerate(axis.get_major_ticks()):
            if i >= locs or not low - 1e-9 <= tick.get_loc() <= high + 1e-9:
                undrawn.add(id(tick.label1))
    in_legend = {id(t) for legend in fig.legends for t in legend.get_texts()}
    boxes = [(repr(t.get_text()), t.get_window_extent(renderer))
             for t in fig.findobj(Text)
             if t.get_visible() and t.get_text() and id(t) not in undrawn | in_legend]
    boxes += [("legend", legend.get_window_extent(renderer)) for legend in fig.legends]
    return boxes, ax.get_window_extent(renderer)


def _overlap(a: Bbox, b: Bbox, slack: float = 0.25) -> bool:
    return (min(a.x1, b.x1) - max(a.x0, b.x0) > slack
            and min(a.y1, b.y1) - max(a.y0, b.y0) > slack)


@pytest.mark.parametrize("kind", list(PLOTS))
def test_nothing_is_clipped_and_no_text_overlaps(kind: str, drawn: list[Drawn]) -> None:
    assert PLOTS[kind]() is not None
    (plot,) = drawn
    width, height = plot.fig.get_size_inches() * 72
    outside = [name for name, b in plot.texts
               if b.x0 < -0.25 or b.y0 < -0.25 or b.x1 > width + 0.25 or b.y1 > height + 0.25]
    overlaps = [(m, n) for (m, a), (n, b) in itertools.combinations(plot.texts, 2)
                if _overlap(a, b)]
    assert (outside, overlaps) == ([], [])
    legend = [b for name, b in plot.texts if name == "legend"]
    assert len(legend) == 1 and legend[0].y1 < plot.axes.y0


def test_plots_are_deterministic() -> None:
    assert len({PLOTS["strip"]() for _ in range(2)}) == 1
    assert len({PLOTS["forest, long ids, every verdict"]() for _ in range(2)}) == 1
