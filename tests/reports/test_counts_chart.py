"""reports.counts_chart: report.html's counts plots, drawn from a template.

The bars say the counts (their heights read against the y axis's own tick labels give each
outcome's share of the shots); every text lies inside the figure and clear of the others, as
laid out and as Chromium draws it; hostile ids come out escaped; ids stay apart on one page.
"""

from __future__ import annotations

import itertools
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable, Mapping
from pathlib import Path

import pytest

from benchmarks.screenshot_report import open_page
from harness.models import CircuitRun
from reports import counts_chart
from reports.counts_chart import AXES_HEIGHT, Box, Chart, y_step

SVG = "{http://www.w3.org/2000/svg}"
LONG = "a-circuit-identifier-much-longer-than-a-title-WWWWWWWWWWWW"
BIT20 = [format(i, "020b") for i in range(12)]


def _run(id: str, outcomes: list[str], ideal: bool = True) -> tuple[CircuitRun, dict[str, int]]:
    counts = {k: 100 + 7 * i for i, k in enumerate(outcomes)}
    run = CircuitRun(id=id, ok=True, counts=counts,
                     ideal={k: 1 / len(outcomes) for k in outcomes} if ideal else None)
    return run, {k: v + 3 for k, v in counts.items()}


CHARTS: dict[str, Callable[[], tuple[CircuitRun, Mapping[str, int] | None]]] = {
    "ghz with ideal": lambda: _run("ghz_3", ["000", "111", "010"]),
    "rotated outcomes": lambda: _run("ghz_8", BIT20[:8]),
    "long id, no ideal": lambda: _run("W" * 40, BIT20, ideal=False),
    "long id with words": lambda: _run(f"{LONG} and more words", ["0", "1"]),
    "one outcome, nothing recorded": lambda: (
        CircuitRun(id="one", ok=True, counts={"0": 1000}, ideal={"0": 1.0}), None),
    "tiny shares": lambda: (CircuitRun(id="flat", ok=True, counts={
        format(i, "012b"): 1 for i in range(4096)} | {"0" * 12: 3}), None),
}


def _chart(kind: str, uid: str = "p") -> Chart:
    run, recorded = CHARTS[kind]()
    chart = counts_chart.counts_chart(run, uid, recorded)
    assert chart is not None
    return chart


def _svg(kind: str, uid: str = "p") -> str:
    run, recorded = CHARTS[kind]()
    svg = counts_chart.counts_svg(run, uid, recorded)
    assert svg is not None
    return svg


def _overlap(a: Box, b: Box, slack: float = 0.25) -> bool:
    return (min(a.x1, b.x1) - max(a.x0, b.x0) > slack
            and min(a.y1, b.y1) - max(a.y0, b.y0) > slack)


def _clear(boxes: list[Box], width: float, height: float
           ) -> tuple[list[str], list[tuple[str, str]]]:
    outside = [b.text for b in boxes
               if b.x0 < -0.25 or b.y0 < -0.25 or b.x1 > width + 0.25 or b.y1 > height + 0.25]
    overlaps = [(a.text, b.text) for a, b in itertools.combinations(boxes, 2) if _overlap(a, b)]
    return outside, overlaps


@pytest.mark.parametrize("kind", list(CHARTS))
def test_nothing_is_clipped_and_no_text_overlaps(kind: str) -> None:
    chart = _chart(kind)
    assert _clear(list(chart.boxes), chart.width, chart.height) == ([], [])
    legend = [b for b in chart.boxes if "shots)" in b.text or b.text.startswith("ideal")]
    assert legend and min(b.y0 for b in legend) > chart.frame.bottom
    assert chart.title and all(b.y1 < chart.frame.top for b in chart.boxes
                               if any(b.text == line for line, _ in chart.title))


@pytest.mark.parametrize("kind", list(CHARTS))
def test_bars_read_against_the_axis_are_the_shares_of_the_shots(kind: str) -> None:
    run, recorded = CHARTS[kind]()
    root = ET.fromstring(_svg(kind))
    # the axis: each y tick label's value at its tick (the path of tick marks, "M x yh-3.5")
    labels = [float(t.text or "") for t in root.iter(f"{SVG}text")
              if t.get("text-anchor") == "end" and re.fullmatch(r"[0-9.]+", t.text or "")]
    marks = ET.tostring(root, "unicode")
    ticks = [float(y) for y in re.findall(r"M[0-9.]+ ([0-9.]+)h-3\.5", marks)]
    assert len(labels) == len(ticks) >= 2 and labels[0] == 0
    per_point = (labels[-1] - labels[0]) / (ticks[0] - ticks[-1])
    bars = [r for r in root.iter(f"{SVG}rect") if r.find(f"{SVG}title") is not None]
    expected = {"reproduced": run.counts, "recorded": recorded or {}}
    seen = set()
    for bar in bars:
        tip = bar.findtext(f"{SVG}title") or ""
        found = re.fullmatch(r"(\w+), (\w+): \S+ \((\d+) of (\d+) shots\)", tip)
        assert found is not None, tip
        outcome, series, count, shots = found.groups()
        counts = expected[series]
        assert (int(count), int(shots)) == (counts.get(outcome, 0), sum(counts.values()))
        share = (ticks[0] - float(bar.get("y") or "")) * per_point
        assert share == pytest.approx(int(count) / int(shots), abs=1e-3)
        assert float(bar.get("height") or "") == pytest.approx(ticks[0] - float(bar.get("y") or ""),
                                                               abs=0.011)
        seen.add((outcome, series))
    shown_outcomes = {o for o, _ in seen}
    assert len(shown_outcomes) == min(counts_chart.TOP_OUTCOMES, len(run.counts | (recorded or {})))
    assert len(seen) == len(shown_outcomes) * (2 if recorded else 1)


def test_the_most_frequent_outcomes_are_drawn_most_frequent_first() -> None:
    assert counts_chart.top_outcomes([{"a": 0.1, "b": 0.5}, {"c": 0.6, "a": 0.2}]) == [
        "c", "b", "a"]
    assert len(counts_chart.top_outcomes([{str(i): 1.0 for i in range(20)}])) == 8


def test_outcomes_are_ordered_by_the_rerun_and_what_it_never_gave_is_still_shown() -> None:
    """Ties in the highest share (every outcome of a QFT's ideal at 1/8) do not decide the
    order: the rerun's counts do. An outcome the deposit recorded but the rerun never gave
    (a replay gone wrong) is drawn, after those the rerun gave."""
    run = CircuitRun(id="qft3", ok=True, ideal={format(i, "03b"): 0.125 for i in range(8)},
                     counts={"000": 530, "001": 540, "100": 488, "110": 491, "010": 480,
                             "011": 500, "101": 505, "111": 466})
    chart = counts_chart.counts_chart(run, "p")
    assert chart is not None
    assert [t.label for t in chart.x_ticks] == [
        "001", "000", "101", "011", "110", "100", "010", "111"]
    wrong = CircuitRun(id="bv4", ok=True, counts={"0000": 1000})
    chart = counts_chart.counts_chart(wrong, "p", recorded={"1011": 950, "0011": 50})
    assert chart is not None
    assert [t.label for t in chart.x_ticks] == ["0000", "1011", "0011"]


@pytest.mark.parametrize(("high", "step", "digits"), [
    (0.0997, 0.02, 2), (0.196, 0.05, 2), (1.05, 0.25, 2), (0.525, 0.2, 1), (0.5, 0.1, 1),
    (1.05e-4, 2.5e-5, 6), (3.0, 1.0, 0)])
def test_y_ticks_step_in_round_numbers(high: float, step: float, digits: int) -> None:
    got_step, got_digits = y_step(high)
    assert (got_step, got_digits) == (pytest.approx(step), digits)
    assert high / got_step <= counts_chart.Y_INTERVALS + 1e-9


def test_the_figure_grows_rather_than_squeezing_the_axes() -> None:
    """Rotated outcome labels and a wrapped title make the figure taller, not the axes
    shorter."""
    plain, rotated, long = (_chart(k) for k in ("ghz with ideal", "rotated outcomes",
                                                "long id, no ideal"))
    assert not plain.rotated and rotated.rotated
    assert all(c.frame.bottom - c.frame.top == pytest.approx(AXES_HEIGHT)
               for c in (plain, rotated, long))
    assert rotated.height > plain.height and len(long.title) > len(plain.title)


def test_charts_are_deterministic_and_keep_their_ids_apart() -> None:
    assert _svg("rotated outcomes", "a") == _svg("rotated outcomes", "a")
    one, two = _svg("ghz with ideal", "plot1"), _svg("ghz with ideal", "plot2")
    assert re.findall(r'id="([^"]+)"', one) == ["plot1-hatch"]
    assert set(re.findall(r"url\(#([^)]+)\)", two)) == {"plot2-hatch"}


def test_hostile_ids_come_out_escaped() -> None:
    run = CircuitRun(id='<script>alert("x")</script>', ok=True, counts={"0": 1, "1": 1})
    svg = counts_chart.counts_svg(run, "p")
    assert svg is not None and "<script" not in svg
    root = ET.fromstring(svg)  # well-formed
    assert root.findtext(f"{SVG}title") == f"{run.id}: counts of the most frequent outcomes"


def test_a_run_without_counts_has_no_chart() -> None:
    assert counts_chart.counts_svg(CircuitRun(id="c", ok=False, counts={}), "p") is None
    assert counts_chart.counts_svg(CircuitRun(id="c", ok=True, counts={"0": 0}), "p") is None


# --- in a browser ---------------------------------------------------------------------------

#: each text's box as the browser draws it, in the SVG's units (points), with the figure's size
BOXES_JS = """svgs => svgs.map(svg => {
  const frame = svg.getBoundingClientRect();
  const scale = svg.viewBox.baseVal.width / frame.width;
  return {width: svg.viewBox.baseVal.width, height: svg.viewBox.baseVal.height,
          texts: [...svg.querySelectorAll('text')].map(t => {
            const r = t.getBoundingClientRect();
            return [t.textContent, (r.left - frame.left) * scale, (r.top - frame.top) * scale,
                    (r.right - frame.left) * scale, (r.bottom - frame.top) * scale];
          })};
})"""


def test_in_chromium_every_text_is_inside_and_clear_and_no_wider_than_laid_out(
        chromium: None, tmp_path: Path) -> None:
    kinds = list(CHARTS)
    charts = [_chart(k, f"c{i}") for i, k in enumerate(kinds)]
    page = tmp_path / "counts.html"
    page.write_text("<!DOCTYPE html><html><body style='margin:0'>" + "".join(
        _svg(k, f"c{i}") for i, k in enumerate(kinds)) + "</body></html>", encoding="utf-8")
    with open_page(page, width=400) as (browser, log):
        drawn = browser.locator("svg.plot").evaluate_all(BOXES_JS)
    assert log.problems() == []
    assert len(drawn) == len(charts)
    for kind, chart, seen in zip(kinds, charts, drawn, strict=True):
        boxes = [Box(*t) for t in seen["texts"]]
        assert _clear(boxes, seen["width"], seen["height"]) == ([], []), kind
        laid_out: dict[str, Box] = {}
        for box in chart.boxes:
            laid_out.setdefault(box.text, box)
        for box in boxes:
            mine = laid_out[box.text]
            wider = (box.x1 - box.x0 - (mine.x1 - mine.x0), box.y1 - box.y0 - (mine.y1 - mine.y0))
            assert max(wider) < 1.0, (kind, box, mine)
