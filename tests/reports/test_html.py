"""report.html: one self-contained page rendered from real evaluations.

Reports come from evaluations run once per module: benchmarks/deposits/ghz-noisy replayed on
Aer by the host runner (scalar and counts claims, six circuits), a notebook deposit with
fresh seeds whose executions a FakeRunner answers (trials claims, per-seed values, the
seed check, executed notebooks), and a path that is not a deposit (an error report).
The browser test opens the page in headless Chromium: without one it skips, in CI it fails.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import re
from collections import Counter
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest

from benchmarks.screenshot_report import open_page
from harness.models import CircuitJob, CircuitRun, NotebookJob, NotebookRun, Report
from harness.pipeline import Options, evaluate
from reports import write_reports
from reports.plots import readable, readable_difference
from runners.fake import FakeRunner
from runners.registry import get_runner
from tests.conftest import BASE_FILES, COUNTS, DEPOSITS, base_manifest, build_deposit

OPTIONS = Options(today=dt.date(2026, 11, 22), formats=("json", "md", "badges"))
HOSTILE = '<script>alert("x")</script>'
SEEDS = {1: 0.88, 2: 0.9, 3: 0.92}


def _html(report: Report, out: Path) -> str:
    return write_reports(report, out, ["html"])[0].read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def ghz(tmp_path_factory: pytest.TempPathFactory) -> tuple[Report, Path, str]:
    """ghz-noisy replayed on Aer (runner host: nothing to install), its page written."""
    out = tmp_path_factory.mktemp("ghz") / "out"
    report = evaluate(DEPOSITS / "ghz-noisy", out, get_runner("host"), OPTIONS)
    assert report.status == "complete", report.error
    return report, out, _html(report, out)


def _notebook_run(job: NotebookJob) -> NotebookRun:
    """Deposited seeds give the deposited values; fresh seeds spread below them."""
    value = SEEDS.get(job.seed, 0.7 + (job.seed % 13) / 100)
    executed = ("../../outside.ipynb" if job.seed == 2 and "repeat" not in job.run
                else f"notebooks/{job.run}/executed.ipynb")
    return NotebookRun(id=job.id, run=job.run, seed=job.seed, ok=True, executed=executed,
                       metrics={"accuracy": value, "note": HOSTILE})


def _circuit_run(job: CircuitJob) -> CircuitRun:
    return CircuitRun(id=job.id, circuit=job.circuit, role=job.role, ok=True,
                      counts=dict(COUNTS), ideal={"000": 0.5, "111": 0.5},
                      seed_simulator=job.seed_simulator, method="statevector", device="CPU",
                      shots=job.shots)


@pytest.fixture(scope="module")
def notebooks(tmp_path_factory: pytest.TempPathFactory) -> tuple[Report, Path, str]:
    """A notebook claim over three seeds, with five fresh seeds; the executed notebooks
    exist in the output folder except one whose path leaves it."""
    tmp = tmp_path_factory.mktemp("nb")
    m = base_manifest()
    m["notebooks"] = [{"id": "nb", "path": "nb.ipynb", "seeds": sorted(SEEDS), "shots": 100}]
    m["claims"] = [{"id": "acc", "source": {"notebook": "nb"}, "metric": "notebook_metric",
                    "name": "accuracy", "value": 0.9, "per_seed": list(SEEDS.values()),
                    "tolerance": {"kind": "absolute", "value": 0.05}}]
    deposit = build_deposit(tmp / "deposit", m, {**BASE_FILES, "nb.ipynb": "{}"})
    out = tmp / "out"
    runner = FakeRunner(_circuit_run, notebook_handler=_notebook_run)
    options = Options(today=OPTIONS.today, formats=OPTIONS.formats, fresh_seeds=5)
    report = evaluate(deposit, out, runner, options)
    for n in report.notebooks:
        executed = (out / "work" / str(n.executed)).resolve()
        executed.parent.mkdir(parents=True, exist_ok=True)
        executed.write_text("{}")
    return report, out, _html(report, out)


@pytest.fixture(scope="module")
def error(tmp_path_factory: pytest.TempPathFactory) -> tuple[Report, Path, str]:
    tmp = tmp_path_factory.mktemp("err")
    report = evaluate(tmp / "not-a-deposit", tmp / "out", get_runner("host"), OPTIONS)
    assert report.status == "error"
    return report, tmp / "out", _html(report, tmp / "out")


# --- what the page holds --------------------------------------------------------------------


class Page(HTMLParser):
    """Every start tag with its attributes, and the page's text."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str]]] = []
        self.text: list[str] = []
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, {k: v or "" for k, v in attrs}))

    def handle_data(self, data: str) -> None:
        self.text.append(data)

    def attrs(self, name: str) -> list[tuple[str, str]]:
        return [(tag, a[name]) for tag, a in self.tags if name in a]

    def labels(self) -> list[str]:
        return [a["aria-label"] for tag, a in self.tags if tag == "svg" and "aria-label" in a]


def assert_self_contained(html: str) -> None:
    page = Page(html)
    tags = {tag for tag, _ in page.tags}
    assert not tags & {"script", "link", "img", "iframe", "object", "embed", "base"}, tags
    assert page.attrs("src") == [], "nothing is loaded"
    ids = Counter(value for _, value in page.attrs("id"))
    assert not [i for i, n in ids.items() if n > 1], "ids must be unique in one page"
    for tag, href in page.attrs("href") + page.attrs("xlink:href"):
        if tag != "a":
            assert href[1:] in ids, f"<{tag} href={href}> points outside the page"
        elif not href.startswith(("#", "https://")):  # a DOI, a policy: links to read
            assert ":" not in href and not href.startswith(("/", "..")), href
    assert not any(k.startswith("on") for _, a in page.tags for k in a), "event handler"
    assert "@import" not in html
    assert set(re.findall(r"url\(#([^)]+)\)", html)) <= set(ids)
    assert not re.search(r"url\((?!#)", html)


def test_ghz_page_is_self_contained_with_every_claim_and_plot(ghz: tuple[Report, Path, str]
                                                              ) -> None:
    report, _, html = ghz
    assert_self_contained(html)
    assert html.startswith("<!DOCTYPE html>") and "<?xml" not in html
    for claim in report.claims:
        assert f"<code>{claim.id}</code>" in html
    labels = Page(html).labels()
    assert "scalar claims: reproduced minus claimed, one row per claim" in labels
    assert not any(label.startswith("counts claims") for label in labels), "no numbers, no plot"
    assert [f"{c.id}: counts of the most frequent outcomes" for c in report.circuits] == [
        label for label in labels if "counts of" in label]
    assert html.count('class="badge badge-awarded"') == 4
    assert "ghz_8-fidelity" in html and "qiskit-aer" in html and "total" in html


def test_ghz_page_links_the_evidence_that_exists(ghz: tuple[Report, Path, str]) -> None:
    _, out, html = ghz
    links = [href for tag, href in Page(html).attrs("href") if tag == "a" and "://" not in href
             and not href.startswith("#")]
    assert {"report.json", "report.md", "badge-reproduced.svg", "work/agent.log"} <= set(links)
    assert all((out / link).is_file() for link in links)


def test_notebook_page_has_per_seed_values_seed_check_and_notebook_links(
        notebooks: tuple[Report, Path, str]) -> None:
    report, out, html = notebooks
    assert_self_contained(html)
    claim = report.claims[0]
    assert claim.seed_check is not None and claim.seed_check.fresh_n == 5
    labels = Page(html).labels()
    assert "acc: per-seed values (deposited, rerun, fresh seeds)" in labels
    assert "acc: seed robustness, deposited vs fresh seeds" in labels
    assert "accuracy (notebook metric)" in html
    assert '<a href="work/notebooks/nb-seed-1/executed.ipynb">' in html
    assert "outside.ipynb" in html and 'href="work/../../outside.ipynb"' not in html
    assert (out / "work" / "../../outside.ipynb").resolve().is_file(), "there, not linked"


def test_hostile_strings_come_out_escaped(ghz: tuple[Report, Path, str],
                                          notebooks: tuple[Report, Path, str],
                                          tmp_path: Path) -> None:
    report, _, _ = ghz
    first = report.claims[0].model_copy(update={"id": f"$x$ {HOSTILE}", "message": HOSTILE})
    assert report.policy is not None
    policy = report.policy.model_copy(update={"url": "javascript:alert(1)"})
    deposit = report.deposit.model_copy(update={"identifier": f"doi:10.1/{HOSTILE}"})
    hostile = report.model_copy(update={"claims": (first, *report.claims[1:]),
                                        "policy": policy, "deposit": deposit})
    html = _html(hostile, tmp_path)
    assert_self_contained(html)
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "javascript:" not in html
    assert 'href="https://doi.org/10.1/%3Cscript%3Ealert%28%22x%22%29%3C/script%3E"' in html
    assert "<script>" not in notebooks[2] and "&lt;script&gt;alert" in notebooks[2]


def test_error_and_interrupted_reports_render(error: tuple[Report, Path, str],
                                              tmp_path: Path) -> None:
    report, _, html = error
    assert_self_contained(html)
    assert 'role="alert"' in html and "no such file or directory" in html
    assert "Evaluation failed (deposit)" in html and 'id="claims"' not in html
    stopped = report.model_copy(update={"status": "interrupted"})
    assert "Evaluation interrupted" in _html(stopped, tmp_path)


def test_numbers_read_as_a_person_reads_them() -> None:
    assert readable_difference(-1.11e-16, 0.5, 0.5) == "0"
    assert readable_difference(-1.427e-05, 0.9194, 0.9194) == "-1.427e-05"
    assert [readable(0.919385725), readable(4000), readable(None), readable(1e-20)] == [
        "0.9194", "4000", "-", "0"]
    assert readable(0.004894, 3) == "0.00489"


# --- in a browser ---------------------------------------------------------------------------


def test_page_renders_in_headless_chromium(chromium: None, ghz: tuple[Report, Path, str]
                                           ) -> None:
    from matplotlib.image import imread

    _, out, html = ghz
    plots = len(Page(html).labels())
    with open_page(out / "report.html") as (page, log):
        shown = page.locator("svg.plot").evaluate_all(
            "svgs => svgs.filter(s => s.getBoundingClientRect().width > 100).length")
        png = page.screenshot(full_page=True)
        scripts = page.evaluate("document.scripts.length")
    assert log.problems() == []
    assert (shown, scripts) == (plots, 0)
    pixels = imread(io.BytesIO(png), format="png")[..., :3]
    rgb = (pixels * 255).round().astype(np.uint32)
    colours = np.unique(rgb[..., 0] << 16 | rgb[..., 1] << 8 | rgb[..., 2])
    assert len(colours) > 50, "a blank or one-colour screenshot"
    assert (pixels < 0.9).any(axis=-1).mean() > 0.02, "almost nothing drawn"


def test_the_page_is_a_rendering_of_report_json(ghz: tuple[Report, Path, str]) -> None:
    """Rendered again from report.json, the page is the same, byte for byte."""
    report, out, html = ghz
    again = Report.model_validate(json.loads((out / "report.json").read_text()))
    assert again == report and _html(again, out) == html


def test_plots_drawn_in_workers_are_the_plots_drawn_here(
    notebooks: tuple[Report, Path, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The page is the same whether its plots (forest, per-seed values, seed robustness) are
    drawn in forked workers or one by one."""
    import reports.html_report as html_report

    report, out, html = notebooks
    workers: list[int] = []
    real = html_report._plot_workers
    monkeypatch.setattr(html_report, "_plot_workers",
                        lambda n, first: workers.append(real(n, first)) or workers[-1])
    monkeypatch.setattr(html_report.Drawer, "PARALLEL_FROM", 2)
    # pytest-xdist's worker runs an I/O thread: let the fork happen anyway (the workers only
    # draw, and never touch what that thread holds)
    monkeypatch.setattr(html_report.threading, "active_count", lambda: 1)
    in_workers = _html(report, out)
    monkeypatch.setattr(html_report.Drawer, "PARALLEL_FROM", 10**6)
    assert workers[0] >= 2 or len(os.sched_getaffinity(0)) < 2
    assert _html(report, out) == in_workers == html


@pytest.mark.parametrize("fixture", ["ghz", "notebooks"])
def test_every_plot_asked_for_is_drawn(fixture: str, request: pytest.FixtureRequest,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """Plots a report has no numbers for are not asked for: no worker is forked to draw
    nothing (a deposit of counts claims only has no forest plot, and no seed-check plot
    without --fresh-seeds)."""
    import reports.html_report as html_report

    report, out, html = request.getfixturevalue(fixture)
    drawn: list[str | None] = []
    real = html_report._draw_one
    monkeypatch.setattr(html_report, "_draw_one",
                        lambda asked: drawn.append(real(asked)) or drawn[-1])
    monkeypatch.setattr(html_report.Drawer, "PARALLEL_FROM", 10**6)  # drawn here, counted
    assert _html(report, out) == html
    assert drawn and None not in drawn


def test_the_counts_lead_mentions_ideal_ticks_only_when_a_plot_has_them(
        ghz: tuple[Report, Path, str]) -> None:
    report, out, html = ghz
    assert "black ticks" in html
    bare = report.model_copy(update={"circuits": tuple(
        run.model_copy(update={"ideal": None}) for run in report.circuits)})
    page = _html(bare, out)
    assert "Counts per circuit" in page and "black ticks" not in page


@pytest.mark.parametrize("plots", [True, False])
def test_warming_the_report_modules_writes_nothing_into_home(tmp_path: Path, plots: bool
                                                             ) -> None:
    """matplotlib, imported first by whichever report module warms first (the badges' font
    metrics, the counts charts, the plots), keeps its cache under qrepro's cache: the
    warm-up's order once let it write ~/.cache/matplotlib and ~/.config/matplotlib."""
    import subprocess
    import sys

    from tests.conftest import ROOT

    home, cache = tmp_path / "home", tmp_path / "cache"
    home.mkdir()
    env = {k: v for k, v in os.environ.items()
           if k != "MPLCONFIGDIR" and not k.startswith("XDG_")}
    env.update(HOME=str(home), QREPRO_CACHE=str(cache))
    code = ("import importlib, reports\n"
            f"for m in reports.modules(reports.DEFAULT_FORMATS, plots={plots}):\n"
            "    importlib.import_module(m)\n"
            "import matplotlib.font_manager as fm; fm.get_font(fm.findfont('DejaVu Sans'))\n")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    assert sorted(p.relative_to(home).as_posix() for p in home.rglob("*")) == []
    assert (cache / "matplotlib").is_dir()
