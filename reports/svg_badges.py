"""One SVG badge per badge decision of the venue's policy (``badge-<id>.svg``), drawn with
pybadges: the badge's name on the left, awarded / denied / not decided on the right in the
policy's colour (awarded) or grey. The HTML and Markdown reports show these files."""

from __future__ import annotations

from pybadges import badge

from harness.models import PolicyResult, Report, VenueBadge
from reports import Context

#: right-hand colours for what is not awarded (grey: readable in print and by everyone)
DENIED_COLOR = "#6e6e6e"
UNDECIDED_COLOR = "#9e9e9e"


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
    return str(badge(left_text=b.name, right_text=state, right_color=color,
                     whole_title=f"{b.name}: {state}" + (f" ({why})" if why else ""),
                     id_suffix=id_suffix or b.id))


def policy_of(report: Report) -> PolicyResult:
    """The venue's badges, or ACM v1.1's for a report written before policies existed."""
    if report.policy is not None:
        return report.policy
    from harness.policies import load_policy
    return load_policy().apply(report.badges)


def render(report: Report, context: Context) -> dict[str, str]:
    return {badge_file(b): badge_svg(b) for b in policy_of(report).badges}
