"""The SVG badges: well-formed, escaped, each half as wide as its text, ids kept apart."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from harness.models import VenueBadge
from reports.svg_badges import FONT_PX, PAD_PX, badge_svg
from reports.text_metrics import text_width

SVG = "{http://www.w3.org/2000/svg}"


def badge(name: str = "Results Reproduced", awarded: bool = True, decided: bool = True,
          reasons: tuple[str, ...] = ()) -> VenueBadge:
    return VenueBadge(id="reproduced", name=name, color="#009E73", requires=("reproduced",),
                      decided=decided, awarded=awarded, reasons=reasons)


def parts(svg: str) -> tuple[ET.Element, list[ET.Element], list[ET.Element]]:
    root = ET.fromstring(svg)
    rects = root.findall(f"{SVG}g/{SVG}rect")
    texts = root.findall(f"{SVG}g/{SVG}text")
    return root, rects, texts


def test_a_badge_is_its_name_and_state_each_as_wide_as_its_text() -> None:
    root, rects, texts = parts(badge_svg(badge()))
    left, right, shade = rects
    name_px = round(text_width("Results Reproduced", FONT_PX))
    state_px = round(text_width("awarded", FONT_PX))
    assert int(left.get("width", "")) == name_px + 2 * PAD_PX
    assert int(right.get("x", "")) == int(left.get("width", ""))
    assert int(right.get("width", "")) == state_px + 2 * PAD_PX
    assert int(root.get("width", "")) == int(shade.get("width", "")) == (
        name_px + state_px + 4 * PAD_PX)
    assert right.get("fill") == "#009E73"
    # each text twice (shadow, then text), held to its measured width
    assert [t.text for t in texts] == ["Results Reproduced"] * 2 + ["awarded"] * 2
    assert [int(t.get("textLength", "")) for t in texts] == [name_px * 10] * 2 + [state_px * 10] * 2


@pytest.mark.parametrize(("awarded", "decided", "state", "fill"),
                         [(False, True, "denied", "#6e6e6e"),
                          (False, False, "not decided", "#9e9e9e")])
def test_what_is_not_awarded_is_grey(awarded: bool, decided: bool, state: str, fill: str) -> None:
    _, rects, texts = parts(badge_svg(badge(awarded=awarded, decided=decided)))
    assert rects[1].get("fill") == fill and texts[-1].text == state


def test_text_is_escaped_and_the_title_says_why() -> None:
    svg = badge_svg(badge(name='R&D <"Reproduced">', awarded=False,
                          reasons=("claim a < b fails",)))
    root, _, texts = parts(svg)  # parses: every & < " escaped
    assert texts[0].text == 'R&D <"Reproduced">'
    title = root.find(f"{SVG}title")
    assert title is not None and title.text == (
        'R&D <"Reproduced">: denied (claim a < b fails)')


def test_a_longer_name_makes_a_wider_badge() -> None:
    short = ET.fromstring(badge_svg(badge(name="Available")))
    long = ET.fromstring(badge_svg(badge(name="Artifacts Evaluated - Reusable")))
    assert int(long.get("width", "")) > int(short.get("width", ""))


def test_ids_take_the_suffix_so_badges_inline_together() -> None:
    svg = badge_svg(badge(), id_suffix="-html-reproduced")
    assert 'id="smooth-html-reproduced"' in svg and 'url(#smooth-html-reproduced)' in svg
    assert 'id="round-html-reproduced"' in svg and 'url(#round-html-reproduced)' in svg


@pytest.mark.parametrize(("text", "width"), [
    ("Artifacts Available", 100.0), ("Artifacts Evaluated - Functional", 172.8),
    ("Artifacts Evaluated - Reusable", 166.3), ("Results Reproduced", 110.1),
    ("awarded", 47.7)])
def test_text_width_is_what_pybadges_measured(text: str, width: float) -> None:
    """The widths pybadges 3.0.1 (precalculated DejaVu Sans) gave the ACM badges' texts,
    before qrepro measured them itself: the badges keep their size."""
    assert text_width(text, FONT_PX) == pytest.approx(width, abs=1.0)
