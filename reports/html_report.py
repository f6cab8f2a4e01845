"""report.html: the report as one self-contained page (no scripts, no external fonts, styles
or images: the plots and badges are inline SVG), rendered with the Jinja2 templates in
``reports/templates`` from the same Report as report.json and report.md.

This module turns the Report into what the templates show (rows, plots, links); the
plots are drawn by :mod:`reports.plots` (matplotlib) and :mod:`reports.counts_chart`.
"""

from __future__ import annotations

import functools
import os
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any, Generic, TypeVar

import jinja2

from harness.escaping import identifier_href, local_href, safe_href
from harness.models import CircuitRun, ClaimResult, Finding, Report, RunEnvironment
from harness.wording import plural, test_name
from reports import Context
from reports.counts_chart import counts_svg, has_counts
from reports.markdown_report import COMPUTED_BY, verdict_label
from reports.plots import (
    forest_plot,
    forest_rows,
    metric_label,
    readable,
    readable_difference,
    seed_check_plot,
    seed_values,
    strip_plot,
)
from reports.svg_badges import badge_file, badge_state, badge_svg, policy_of
from reports.templating import environment
from reports.text_metrics import matplotlib_in_qrepro_cache

SEVERITIES = ("error", "warning", "info")
#: counts plots drawn (a quantum-volume deposit has a hundred circuits; report.json has all)
MAX_COUNTS_PLOTS = 12
#: what one page shows at most (10 000 claims are 15 MB of HTML): rows of the claims table,
#: of the runs tables and of the findings, rows of a forest plot, claims with seed plots;
#: the page says how many more report.json has
MAX_CLAIM_ROWS = 500
MAX_RUN_ROWS = 500
MAX_FINDINGS = 500
MAX_FOREST_ROWS = 40
MAX_SEED_SECTIONS = 12
#: the evaluation's work directory in the output folder (harness.pipeline.WORK_DIR)
WORK_DIR = "work"
#: the agent's log in the work directory (runners.base.LOG_FILE) and a notebook run's log
AGENT_LOG = "agent.log"
NOTEBOOK_LOG = "worker.log"

def render(report: Report, context: Context) -> dict[str, str]:
    return {"report.html": render_html(report, context)}


def render_html(report: Report, context: Context) -> str:
    matplotlib_in_qrepro_cache()
    return _templates().get_template("report.html.j2").render(page=page(report, context))


@functools.cache
def _templates() -> jinja2.Environment:
    return environment({"num": readable})


def page(report: Report, context: Context) -> dict[str, Any]:
    """Everything the template shows, each number already as a person reads it; beyond what
    a page can hold (MAX_*), the claims that did not pass first and a count of the rest."""
    drawer = Drawer()
    forests = _forests(report.claims, drawer)
    seeds, seeds_left_out = _seed_sections(report, drawer)
    claims = bounded(report.claims, MAX_CLAIM_ROWS)
    findings = bounded(report.findings, MAX_FINDINGS, first=lambda f: f.severity == "error")
    drawer.draw()
    counted = _counted(report)
    files = evidence(report, context)
    policy = policy_of(report)
    return {
        "report": report,
        "title": report.deposit.title or report.deposit.source,
        "policy": policy,
        "policy_url": safe_href(policy.url),
        "identifier_url": identifier_href(report.deposit.identifier),
        "badges": _badges(report),
        "verdicts": _verdict_counts(report.claims),
        "claims": [claim_row(c, metric_label(c, report.notebooks)) for c in claims.items],
        "claims_left_out": claims.left_out,
        "forests": _drawn(drawer, forests),
        "seeds": [SeedSection(c, tuple(plots)) for c, asked in seeds
                  if (plots := _drawn(drawer, asked))],
        "seeds_left_out": seeds_left_out,
        "counts": _counts_plots(counted),
        "counts_ideal": any(run.ideal for run in counted),
        "counts_total": sum(r.role == "recorded" for r in report.circuits),
        "findings": _findings(findings.items),
        "findings_total": findings.total,
        "findings_left_out": findings.left_out,
        "circuit_runs": bounded(report.circuits, MAX_RUN_ROWS, first=lambda r: not r.ok),
        "notebook_runs": bounded(report.notebooks, MAX_RUN_ROWS, first=lambda r: not r.ok),
        "environment": _environment(report.environment),
        "sandbox": _sandbox(report.environment),
        "timings": _timings(report.timings),
        "evidence": files,
        "executed": _executed_links(report, files),
    }


# --- what a page can hold --------------------------------------------------------------------


T = TypeVar("T")


@dataclass(frozen=True)
class Bounded(Generic[T]):
    """At most a page's worth of ``items`` (in their order) out of ``total``."""

    items: list[T]
    total: int

    @property
    def left_out(self) -> int:
        return self.total - len(self.items)


def _not_passed(item: object) -> bool:
    return getattr(item, "verdict", "pass") != "pass"


def bounded(items: Sequence[T], limit: int, first: Callable[[T], bool] = _not_passed
            ) -> Bounded[T]:
    """``items`` when there are at most ``limit``; else ``limit`` of them, those ``first``
    picks (by default claims that did not pass) before the others, kept in their order."""
    if len(items) <= limit:
        return Bounded(list(items), len(items))
    picked = [i for i, item in enumerate(items) if first(item)][:limit]
    rest = limit - len(picked)
    if rest:
        chosen = set(picked)
        picked += [i for i in range(len(items)) if i not in chosen][:rest]
    return Bounded([items[i] for i in sorted(picked)], len(items))


# --- badges and claims -----------------------------------------------------------------------


@dataclass(frozen=True)
class BadgeView:
    svg: str
    name: str
    state: str
    reasons: tuple[str, ...]


def _badges(report: Report) -> list[BadgeView]:
    return [BadgeView(badge_svg(b, id_suffix=f"-html-{b.id}"), b.name, badge_state(b), b.reasons)
            for b in policy_of(report).badges]


def _verdict_counts(claims: Iterable[ClaimResult]) -> str:
    counts: dict[str, int] = {}
    for c in claims:
        counts[c.verdict] = counts.get(c.verdict, 0) + 1
    return ", ".join(f"{n} {v}" for v, n in counts.items())


@dataclass(frozen=True)
class ClaimRow:
    id: str
    kind: str
    source: str
    metric: str
    verdict: str
    label: str
    claimed: str
    reproduced: str
    difference: str
    tolerance: str
    test: str
    statistic: str
    message: str
    across_claims: str
    computed_by: str


def claim_row(c: ClaimResult, metric: str) -> ClaimRow:
    cmp = c.comparison
    return ClaimRow(
        id=c.id, kind=c.kind or "-", source=c.source, metric=metric, verdict=c.verdict,
        label=verdict_label(c),
        claimed=readable(cmp.claimed if cmp else None),
        reproduced=readable(cmp.observed if cmp else None),
        difference=readable_difference(cmp.difference, cmp.observed, cmp.claimed)
        if cmp else "-",
        tolerance=tolerance_text(c),
        test=test_name(cmp.test) if cmp else "-",
        statistic=_statistic(c),
        message=c.message,
        across_claims=_across_claims(c),
        computed_by=COMPUTED_BY[c.computed_by],
    )


def tolerance_text(c: ClaimResult) -> str:
    """The claim's tolerance (or a one-sided claim's direction and margin) in words."""
    details = c.comparison.details if c.comparison else {}
    direction = details.get("direction")
    if direction in ("at_least", "at_most"):
        margin = details.get("margin")
        return str(direction).replace("_", " ") + (f", margin {readable(margin)}"
                                                   if margin else "")
    tol = c.tolerance or {}
    kind, value = tol.get("kind"), tol.get("value")
    if kind == "absolute":
        return f"\u00b1{readable(value)}"
    if kind == "relative" and isinstance(value, int | float):
        return f"\u00b1{readable(100 * value)}% of the claim"
    if kind == "distance":
        return f"{tol.get('statistic')} \u2264 {readable(value)}"
    if kind == "shot-noise":
        return f"shot noise (alpha {readable(tol.get('alpha'))})"
    return str(kind or "-")


def _statistic(c: ClaimResult) -> str:
    cmp = c.comparison
    if cmp is None:
        return ""
    parts = []
    if cmp.statistic and cmp.statistic_value is not None:
        parts.append(f"{cmp.statistic} = {readable(cmp.statistic_value)}")
    if cmp.threshold is not None and cmp.test != "quantum-volume":
        parts.append(f"threshold {readable(cmp.threshold)}")
    if cmp.p_value is not None:
        parts.append(f"p = {readable(cmp.p_value, 3)}")
    if cmp.power is not None:
        parts.append(f"power {readable(cmp.power, 2)}")
    return ", ".join(parts)


def _across_claims(c: ClaimResult) -> str:
    if c.adjusted_p_value is None:
        return ""
    return (("discrepancy" if c.discrepancy else "no discrepancy")
            + f" across claims (adjusted p = {readable(c.adjusted_p_value, 3)})")


# --- plots ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Plot:
    caption: str
    svg: str


class Drawer:
    """The page's plots, asked for in page order and drawn together: in worker processes
    when there are several and cores to share (each plot is independent, 40-100 ms of
    matplotlib), else here. Each request's ``uid`` keeps its SVG ids apart on the page."""

    #: fewer plots than this are drawn here (a worker costs a fork and a pickle)
    PARALLEL_FROM = 4

    def __init__(self) -> None:
        self._requests: list[tuple[Callable[..., str | None], tuple[Any, ...]]] = []
        self._svgs: list[str | None] = []

    def ask(self, draw: Callable[..., str | None], *args: Any) -> int:
        self._requests.append((draw, (*args, f"plot{len(self._requests) + 1}")))
        return len(self._requests) - 1

    def draw(self) -> None:
        workers = _plot_workers(len(self._requests), self.PARALLEL_FROM)
        if workers < 2:
            self._svgs = [_draw_one(request) for request in self._requests]
            return
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork")) as pool:
            self._svgs = list(pool.map(_draw_one, self._requests))

    def plot(self, caption: str, index: int) -> Plot | None:
        svg = self._svgs[index]
        return Plot(caption, svg) if svg is not None else None


def _draw_one(request: tuple[Callable[..., str | None], tuple[Any, ...]]) -> str | None:
    draw, args = request
    return draw(*args)


def _plot_workers(plots: int, parallel_from: int) -> int:
    """Processes to draw ``plots`` plots: one per core (at most 4), or 1. Forked only while
    this process runs no other thread (a thread holding a lock at the fork, e.g. a progress
    display writing to the terminal, could leave that lock held forever in the child)."""
    if plots < parallel_from or threading.active_count() > 1:
        return 1
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cores = os.cpu_count() or 1
    return max(1, min(cores, 4, plots))


def _forests(claims: Iterable[ClaimResult], drawer: Drawer) -> list[tuple[str, int]]:
    """One forest plot per claim kind, in the order the kinds first appear, of at most
    MAX_FOREST_ROWS of its claims with rows (those that did not pass first)."""
    kinds: dict[str, list[ClaimResult]] = {}
    for c in claims:
        if forest_rows(c):  # else no row: a kind without any is not worth a worker's time
            kinds.setdefault(c.kind, []).append(c)
    shown = [(kind, bounded(group, MAX_FOREST_ROWS)) for kind, group in kinds.items()]
    return [(_forest_caption(kind, rows), drawer.ask(forest_plot, rows.items))
            for kind, rows in shown]


def _forest_caption(kind: str | None, shown: Bounded[ClaimResult]) -> str:
    what = f"{kind or 'other'} claims ({plural(shown.total, 'claim')}"
    if shown.left_out:
        return (f"{what}; {len(shown.items)} drawn, those that did not pass first, "
                f"{shown.left_out} more in report.json)")
    return what + ")"


@dataclass(frozen=True)
class SeedSection:
    claim: ClaimResult
    plots: tuple[Plot, ...]


def _seed_sections(report: Report, drawer: Drawer
                   ) -> tuple[list[tuple[ClaimResult, list[tuple[str, int]]]], int]:
    """Per claim with per-seed values or a fresh-seed check: its strip and seed-check plots
    (for the first MAX_SEED_SECTIONS such claims, those that did not pass first)."""
    with_plots = [c for c in report.claims
                  if c.seed_check is not None or seed_values(c, report.notebooks) is not None]
    sections = []
    shown = bounded(with_plots, MAX_SEED_SECTIONS)
    for c in shown.items:
        asked: list[tuple[str, int]] = []
        values = seed_values(c, report.notebooks)
        if values is not None:
            asked.append(("per-seed values", drawer.ask(strip_plot, c, values)))
        if c.seed_check is not None:
            asked.append(("seed robustness (--fresh-seeds)",
                          drawer.ask(seed_check_plot, c, metric_label(c, report.notebooks))))
        sections.append((c, asked))
    return sections, shown.left_out


def _counted(report: Report) -> list[CircuitRun]:
    """The runs whose counts are drawn: the first MAX_COUNTS_PLOTS at a recorded seed."""
    runs = [run for run in report.circuits if run.role == "recorded" and has_counts(run)]
    return runs[:MAX_COUNTS_PLOTS]


def _counts_plots(runs: Iterable[CircuitRun]) -> list[Plot]:
    """Each run's counts plot (drawn here: 1-2 ms each)."""
    return [Plot(run.id, svg) for i, run in enumerate(runs)
            if (svg := counts_svg(run, f"counts{i + 1}", recorded=run.recorded)) is not None]


def _drawn(drawer: Drawer, asked: Iterable[tuple[str, int]]) -> list[Plot]:
    return [p for caption, index in asked if (p := drawer.plot(caption, index)) is not None]


# --- findings, environment, timings, evidence ----------------------------------------------


def _findings(findings: Iterable[Finding]) -> list[tuple[str, list[Finding]]]:
    found = list(findings)
    return [(s, group) for s in SEVERITIES if (group := [f for f in found if f.severity == s])]


def _environment(e: RunEnvironment | None) -> dict[str, Any] | None:
    if e is None:
        return None
    image = e.details.get("image")
    image = image if isinstance(image, dict) else {}
    rows = [
        ("runner", e.runner),
        ("image", _joined(image.get("tag"), image.get("id"))),
        ("base image", _joined(image.get("base"), image.get("base_id"))),
        ("base image chosen because", image.get("base_reason")),
        ("python", e.python),
        ("platform", e.platform),
        ("device", _joined(e.device, "available: " + (", ".join(e.devices_available) or "-"))),
    ]
    pinned = set(e.pinned)
    return {
        "rows": [(k, str(v)) for k, v in rows if v],
        "packages": [(name, version, name in pinned)
                     for name, version in sorted(e.packages.items())],
        "pinned": bool(pinned),
        "stack": [(d.name, d.version, d.files, d.record_sha256, d.wheel or "",
                   d.index_sha256 or "") for d in e.stack],
        "notes": e.notes,
        "image": {k: v for k, v in image.items() if k not in ("tag", "id", "base", "base_id",
                                                                "base_reason")},
    }


def _joined(first: object, second: object) -> str:
    return f"{first} ({second})" if first and second else str(first or "")


def _sandbox(e: RunEnvironment | None) -> dict[str, Any]:
    """The runner's sandbox settings (environment.details, the image aside)."""
    return {k: v for k, v in (e.details if e else {}).items() if k != "image"}


def _timings(timings: dict[str, float]) -> list[tuple[str, str, float]]:
    """(phase, seconds, share of the longest phase in percent) in the order recorded."""
    longest = max([v for v in timings.values() if v > 0], default=1.0)
    return [(phase, f"{seconds:.3g} s" if seconds >= 0.01 else f"{seconds:.2g} s",
             round(100 * max(seconds, 0.0) / longest, 1)) for phase, seconds in timings.items()]


def evidence(report: Report, context: Context) -> list[tuple[str, str, str]]:
    """(relative link, file name, what it is) for each evidence file in the output folder."""
    candidates = [
        ("report.json", "the report, machine-readable"),
        ("report.md", "the report in Markdown"),
        *((badge_file(b), f"badge: {b.name}") for b in policy_of(report).badges),
        (f"{WORK_DIR}/job.json", "the jobs the agent was asked to run"),
        (f"{WORK_DIR}/result.json", "what the agent answered"),
        (f"{WORK_DIR}/{AGENT_LOG}", "the agent's log"),
    ]
    for n in report.notebooks:
        if n.executed:
            folder = PurePosixPath(n.executed).parent
            candidates += [(f"{WORK_DIR}/{n.executed}", f"executed notebook: {n.run}"),
                           (f"{WORK_DIR}/{folder / NOTEBOOK_LOG}", f"notebook log: {n.run}")]
    return [(local_href(name), name, what) for name, what in dict(candidates).items()
            if _present(name, context)]


def _executed_links(report: Report, files: list[tuple[str, str, str]]) -> dict[str, str]:
    """Notebook run -> link to its executed notebook, where the file is there."""
    links = {name: href for href, name, _ in files}
    return {n.run: links[f"{WORK_DIR}/{n.executed}"] for n in report.notebooks
            if n.executed and f"{WORK_DIR}/{n.executed}" in links}


def _present(name: str, context: Context) -> bool:
    """Written before this page, or a file inside the output folder (a path leaving it is
    never linked)."""
    if name in context.written:
        return True
    root = context.out_dir.resolve()
    path = (root / name).resolve()
    return path.is_relative_to(root) and path.is_file()
