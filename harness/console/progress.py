"""Progress on stderr, never in a report: rich on a terminal, plain lines for CI logs
(--progress plain), or nothing. A batch shows done/total with per-state counts and an ETA;
one evaluation shows its phases (load, validate, prepare, build, execute, compare).
A submission's name and a phase's description can quote the deposit: both are escaped
for the terminal (harness.escaping), and rich shows them as text, never as markup."""

from __future__ import annotations

import re
import sys
import time
from types import TracebackType
from typing import TYPE_CHECKING, Any

from harness.escaping import terminal

if TYPE_CHECKING:  # a type only: the batch imports this module, not the other way
    from harness.batch.worker import Result

#: a running count in a phase's description ("circuits 3/20")
_COUNT = re.compile(r"(\d+)/(\d+)$")
#: seconds between plain lines of the same phase's count (CI logs stay short)
PLAIN_EVERY_S = 5.0


def resolve(mode: str) -> str:
    """auto: rich when stderr is a terminal, else nothing."""
    if mode == "auto":
        return "rich" if sys.stderr.isatty() else "none"
    return mode


class PhaseReporter:
    """One evaluation's phases, as a PhaseListener (harness.pipeline.Options.on_phase)."""

    def __init__(self, mode: str) -> None:
        self.mode = resolve(mode)
        self._start = time.monotonic()
        self._status: Any = None
        self._last_plain = (0.0, "")

    def _quiet(self, phase: str, what: str) -> bool:
        """Plain lines for a phase's n/N count: at most one per PLAIN_EVERY_S, and the last."""
        m = _COUNT.search(what)
        now, (last_t, last_phase) = time.monotonic(), self._last_plain
        if m is None or m.group(1) == m.group(2) or phase != last_phase:
            self._last_plain = (now, phase)
            return False
        if now - last_t < PLAIN_EVERY_S:
            return True
        self._last_plain = (now, phase)
        return False

    def __call__(self, phase: str, what: str) -> None:
        line = terminal(f"{phase}" + (f": {what}" if what else ""))
        if self.mode == "plain" and self._quiet(phase, what):
            return
        if self.mode == "plain":
            print(f"[{time.monotonic() - self._start:6.1f} s] {line}", file=sys.stderr,
                  flush=True)
        elif self.mode == "rich":
            from rich.text import Text

            if self._status is None:
                from rich.console import Console

                self._status = Console(stderr=True).status(Text(line))
                self._status.start()
            else:
                self._status.update(Text(line))

    def close(self) -> None:
        if self._status is not None:
            self._status.stop()
            self._status = None


class Reporter:
    def __init__(self, mode: str, total: int) -> None:
        mode = resolve(mode)
        self.mode, self.total, self.count = mode, total, 0
        self.states: dict[str, int] = {}
        self._start = time.monotonic()
        self._progress: Any = None
        self._task: Any = None

    def __enter__(self) -> Reporter:
        if self.mode == "rich":
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeRemainingColumn,
            )

            self._progress = Progress(TextColumn("batch"), BarColumn(), MofNCompleteColumn(),
                                      TextColumn("{task.description}"), TimeRemainingColumn(),
                                      console=Console(stderr=True))
            self._progress.__enter__()
            self._task = self._progress.add_task("", total=self.total)
        return self

    def done(self, result: Result) -> None:
        self.count += 1
        self.states[result.state] = self.states.get(result.state, 0) + 1
        summary = ", ".join(f"{n} {s}" for s, n in sorted(self.states.items()))
        if self.mode == "rich":
            self._progress.update(self._task, advance=1, description=summary)
        elif self.mode == "plain":
            print(f"[{self.count}] {terminal(result.submission)}: {result.state} "
                  f"({result.wall_s:.0f} s; {summary}; "
                  f"{time.monotonic() - self._start:.0f} s elapsed)", file=sys.stderr,
                  flush=True)

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if self._progress is not None:
            self._progress.__exit__(kind, exc, tb)
