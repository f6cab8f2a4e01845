"""Screenshot of report.html in headless Chromium, for docs/images/report-html-ghz-noisy.png.

    python benchmarks/screenshot_report.py [--report OUT_DIR] [--runner local]
        [--png docs/images/report-html-ghz-noisy.png] [--height 1000 | --full-page]

Without --report it evaluates benchmarks/deposits/ghz-noisy first (into a temporary folder,
runner ``local`` unless told otherwise); with it, it renders report.html from OUT_DIR's
report.json. Needs playwright (``pip install -e .[dev]``) and a Chromium: Debian's
(``apt-get install chromium``, /usr/bin/chromium) or one set with QREPRO_CHROMIUM.

The browser helpers here are the ones tests/reports/test_html.py drives the page with.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from playwright.sync_api import ConsoleMessage, Error, Page, Request, Route

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

DEPOSIT = ROOT / "benchmarks" / "deposits" / "ghz-noisy"
PNG = ROOT / "docs" / "images" / "report-html-ghz-noisy.png"
WIDTH = 1200
HEIGHT = 1000
#: headless, and nothing the browser would fetch on its own (updates, sync, QUIC probes)
CHROMIUM_ARGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
)


def chromium_path() -> str | None:
    """Debian's Chromium, or the one QREPRO_CHROMIUM names; None when there is none."""
    path = os.environ.get("QREPRO_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
    return path if Path(path).is_file() else None


@dataclass
class PageLog:
    """What went wrong while the page loaded: console errors, page errors, failed requests,
    and every request that left file:// (a self-contained page makes none)."""

    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    failed_requests: list[str] = field(default_factory=list)
    outside_requests: list[str] = field(default_factory=list)

    def console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            self.console_errors.append(message.text)

    def page_error(self, error: Error) -> None:
        self.page_errors.append(str(error))

    def request_failed(self, request: Request) -> None:
        self.failed_requests.append(f"{request.url}: {request.failure}")

    def problems(self) -> list[str]:
        return [*self.console_errors, *self.page_errors, *self.failed_requests,
                *(f"request outside the file: {u}" for u in self.outside_requests)]


@contextmanager
def open_page(html: Path, width: int = WIDTH, height: int = HEIGHT
              ) -> Iterator[tuple[Page, PageLog]]:
    """The page loaded in headless Chromium (fresh profile), with its log. Requests to
    anything but the file itself (and data: URLs) are recorded and aborted."""
    from playwright.sync_api import sync_playwright

    executable = chromium_path()
    if executable is None:
        raise FileNotFoundError("no Chromium: apt-get install chromium, or set QREPRO_CHROMIUM")
    log = PageLog()
    with tempfile.TemporaryDirectory(prefix="qrepro-chromium-") as profile, \
            sync_playwright() as p:
        context = p.chromium.launch_persistent_context(
            profile, executable_path=executable, args=list(CHROMIUM_ARGS), headless=True,
            viewport={"width": width, "height": height}, offline=True)
        try:
            page = context.new_page()
            page.on("console", log.console)
            page.on("pageerror", log.page_error)
            page.on("requestfailed", log.request_failed)
            page.route("**/*", lambda route: _only_the_file(route, html, log))
            page.goto(html.resolve().as_uri(), wait_until="load")
            yield page, log
        finally:
            context.close()


def _only_the_file(route: Route, html: Path, log: PageLog) -> None:
    url = route.request.url
    if url == html.resolve().as_uri() or url.startswith("data:"):
        route.continue_()
    else:
        log.outside_requests.append(url)
        route.abort()


def screenshot(html: Path, png: Path, full_page: bool = False, height: int = HEIGHT
               ) -> PageLog:
    """``png``: the page WIDTH pixels wide (the first ``height`` pixels, or the whole page)."""
    png.parent.mkdir(parents=True, exist_ok=True)
    with open_page(html, height=height) as (page, log):
        page.screenshot(path=str(png), full_page=full_page)
    return log


def evaluate_ghz(out: Path, runner: str) -> None:
    from harness.pipeline import Options, evaluate
    from runners.registry import get_runner

    deposit = Path(os.path.relpath(DEPOSIT)) if DEPOSIT.is_relative_to(Path.cwd()) else DEPOSIT
    evaluate(deposit, out, get_runner(runner), Options(formats=("json", "md", "badges")))


def render_html(out: Path) -> Path:
    from harness.models import Report
    from reports import write_reports

    report = Report.model_validate_json((out / "report.json").read_text(encoding="utf-8"))
    return write_reports(report, out, ["html"])[0]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--report", type=Path, help="an evaluation's output folder")
    parser.add_argument("--runner", default="local", help="runner of the evaluation")
    parser.add_argument("--png", type=Path, default=PNG)
    parser.add_argument("--height", type=int, default=HEIGHT, help="of the first screen")
    parser.add_argument("--full-page", action="store_true")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="qrepro-screenshot-") as tmp:
        out = args.report or Path(tmp) / "out"
        if args.report is None:
            evaluate_ghz(out, args.runner)
        log = screenshot(render_html(out), args.png, args.full_page, args.height)
    for problem in log.problems():
        print(f"page: {problem}", file=sys.stderr)
    print(args.png)
    return 1 if log.problems() else 0


if __name__ == "__main__":
    sys.exit(main())
