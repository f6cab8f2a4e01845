"""SIGTERM mid-run: an interrupted report, exit 130, and nothing left running."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.interrupt import interrupt_midrun, processes_mentioning

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize("runner", ["host", "bwrap"])
def test_sigterm_leaves_an_interrupted_report_and_no_process(runner: str, tmp_path: Path
                                                             ) -> None:
    if runner == "bwrap":
        from runners.bwrap import bwrap_problem

        if bwrap_problem() is not None:
            pytest.skip(str(bwrap_problem()))
    code, report, err = interrupt_midrun(tmp_path, ["--runner", runner])
    assert code == 130, err
    assert report["status"] == "interrupted" and report["error"]["kind"] == "interrupted"
    assert not any(report["badges"][k] for k in ("available", "functional"))
    assert processes_mentioning(str(tmp_path)) == [], "a process of the run survived"
