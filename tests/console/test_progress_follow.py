"""The agent's progress ("circuits 3/20") reaches the phase listener while it runs, from the
agent's log; plain progress lines are thinned for CI logs."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from harness.console import progress
from harness.models import CircuitJob, CircuitRun, JobSpec
from runners.base import LOG_FILE, AgentCall, last_progress
from runners.fake import FakeRunner


def test_last_progress_reads_the_latest_marked_line() -> None:
    log = "noise\nqrepro-progress: circuits 1/3\nwarning: x\nqrepro-progress: circuits 2/3\n"
    assert last_progress(log) == "circuits 2/3"
    assert last_progress("nothing here\n") is None


class SlowAgent(FakeRunner):
    """Writes a progress line per circuit into its log, as runners/agent/replay.py does."""

    def invoke_agent(self, deposit_root: Path, workdir: Path) -> AgentCall:
        with (workdir / LOG_FILE).open("w") as log:
            for i in range(1, 4):
                time.sleep(0.7)
                log.write(f"qrepro-progress: circuits {i}/3\n")
                log.flush()
        time.sleep(0.7)
        return super().invoke_agent(deposit_root, workdir)


def test_the_listener_hears_each_count_while_the_agent_runs(tmp_path: Path) -> None:
    runner = SlowAgent(lambda job: CircuitRun(id=job.id, ok=True, counts={"0": 1}))
    heard: list[str] = []
    runner.on_progress = heard.append
    job = CircuitJob(id="c", file="c.qasm", format="qasm2", shots=1, seed_simulator=1,
                     seed_transpiler=1, optimization_level=0, method="automatic",
                     precision="double")
    execution = runner.execute(JobSpec(circuits=(job,)), tmp_path, tmp_path / "work")
    assert execution.circuits[0].ok
    assert heard == ["circuits 1/3", "circuits 2/3", "circuits 3/3"]


def test_plain_progress_keeps_phases_and_final_counts_but_thins_the_rest(
        capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    now = [0.0]
    monkeypatch.setattr(progress.time, "monotonic", lambda: now[0])
    reporter = progress.PhaseReporter("plain")
    for t, what in ((0.0, ""), (0.1, "circuits 1/4"), (0.2, "circuits 2/4"),
                    (6.0, "circuits 3/4"), (6.1, "circuits 4/4")):
        now[0] = t
        reporter("execute", what)
    reporter("compare", "")
    lines = [line.split("] ", 1)[1] for line in capsys.readouterr().err.splitlines()]
    assert lines == ["execute", "execute: circuits 3/4", "execute: circuits 4/4", "compare"]
