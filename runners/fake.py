"""A runner for tests: answers each circuit job with a handler, no agent, no simulator.

Like httpx's MockTransport: ``FakeRunner(lambda job: CircuitRun(id=job.id, ok=True, ...))``.
It goes through the same job.json / result.json exchange as real runners, so the
pipeline's file contract is exercised too.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import ClassVar

from harness.models import CircuitJob, CircuitRun, JobSpec, NotebookJob, NotebookRun
from runners.base import JOB_FILE, RESULT_FILE, AgentCall, Runner

Handler = Callable[[CircuitJob], CircuitRun]
NotebookHandler = Callable[[NotebookJob], NotebookRun]


def no_notebooks(job: NotebookJob) -> NotebookRun:
    return NotebookRun(id=job.id, run=job.run, seed=job.seed, ok=False, error_type="setup",
                       error="this FakeRunner has no notebook handler")


class FakeRunner(Runner):
    name: ClassVar[str] = "fake"
    sandboxed: ClassVar[bool] = True  # runs none of the deposit's code

    def __init__(self, handler: Handler, fatal: str | None = None,
                 notebook_handler: NotebookHandler = no_notebooks) -> None:
        self.handler = handler
        self.notebook_handler = notebook_handler
        self.fatal = fatal
        self.jobs: list[CircuitJob] = []
        self.notebook_jobs: list[NotebookJob] = []

    def invoke_agent(self, deposit_root: Path, workdir: Path) -> AgentCall:
        self.started()
        raw = json.loads((workdir / JOB_FILE).read_text(encoding="utf-8"))
        spec = JobSpec.model_validate({k: raw[k] for k in ("device", "circuits", "notebooks")})
        self.jobs.extend(spec.circuits)
        self.notebook_jobs.extend(spec.notebooks)
        runs = [self.handler(job).model_dump(mode="json") for job in spec.circuits]
        notebooks = [self.notebook_handler(j).model_dump(mode="json") for j in spec.notebooks]
        result = {
            "environment": {"python": "fake", "packages": {}, "device": "CPU"},
            "circuits": runs,
            "notebooks": notebooks,
            "fatal": self.fatal,
        }
        (workdir / RESULT_FILE).write_text(json.dumps(result), encoding="utf-8")
        return AgentCall(status=3 if self.fatal else 0, log_tail="")
