"""One SVG badge per badge decision of the venue's policy (``badge-<id>.svg``): the badge's
name on the left, awarded / denied / not decided on the right in the policy's colour (awarded)
or grey. The HTML and Markdown reports show these files.

Drawn from templates/badge.svg.j2 in the shields.io flat style, each half as wide as its text
in DejaVu Sans 11 px (measured with reports/text_metrics.py) plus 5 px either side. pybadges
drew them before: it imports ``pkg_resources`` and ``requests`` (0.2 s of every evaluation's
start) and ``imghdr``, which Python 3.13 removed."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import TYPE_CHECKING

from harness.models import PolicyResult, Report, VenueBadge
from reports import Context

if TYPE_CHECKING:  # the Markdown, JUnit and RO-Crate writers import this module, not Jinja2
    import jinja2

#: right-hand colours for what is not awarded (grey: readable in print and by everyone)
DENIED_COLOR = "#6e6e6e"
UNDECIDED_COLOR = "#9e9e9e"
NAME_COLOR = "#555"
#: the badge's text: DejaVu Sans (or the viewer's Verdana) at 11 px, 5 px of padding a side
FONT_PX = 11.0
PAD_PX = 5


def badge_state(b: VenueBadge) -> str:
    return "awarded" if b.awarded else ("not decided" if not b.decided else "denied")


def badge_file(b: VenueBadge) -> str:
    return f"badge-{b.id}.svg"


def badge_svg(b: VenueBadge, id_suffix: str = "") -> str:
    """The badge as standalone SVG; ``id_suffix`` keeps ids unique when several are inlined
    in one HTML page."""
    state = badge_state(b)
    color = b.color if b.awarded else (UNDECIDED_COLOR if not b.decided else DENIED_COLOR)
    why = "; ".join(b.reasons)
    left = _Half.of(b.name, NAME_COLOR, 0, nudge=1)
    right = _Half.of(state, color, left.width, nudge=-1)
    return _template().render(
        width=left.width + right.width, left=left, right=right, suffix=id_suffix or b.id,
        title=f"{b.name}: {state}" + (f" ({why})" if why else "")).strip() + "\n"


@dataclass(frozen=True)
class _Half:
    """One half of a badge, in pixels; its text centred (nudged 1 px away from the rounded
    end, as shields.io does), at 10x (the template scales by .1)."""

    text: str
    color: str
    width: int
    centre: float
    text_length: int

    @classmethod
    def of(cls, text: str, color: str, x: int, nudge: int) -> _Half:
        from reports.text_metrics import text_width

        measured = round(text_width(text, FONT_PX))
        width = measured + 2 * PAD_PX
        return cls(text, color, width, (x + width / 2 + nudge) * 10, measured * 10)


@functools.cache
def _template() -> jinja2.Template:
    from reports.templating import environment

    return environment().get_template("badge.svg.j2")


def policy_of(report: Report) -> PolicyResult:
    """The venue's badges, or ACM v1.1's for a report written before policies existed."""
    if report.policy is not None:
        return report.policy
    from harness.policies import load_policy
    return load_policy().apply(report.badges)


def render(report: Report, context: Context) -> dict[str, str]:
    return {badge_file(b): badge_svg(b) for b in policy_of(report).badges}
