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

from harness.models import CircuitJob, CircuitRun, JobSpec
from runners.base import JOB_FILE, RESULT_FILE, AgentCall, Runner

Handler = Callable[[CircuitJob], CircuitRun]


class FakeRunner(Runner):
    name: ClassVar[str] = "fake"

    def __init__(self, handler: Handler, fatal: str | None = None) -> None:
        self.handler = handler
        self.fatal = fatal
        self.jobs: list[CircuitJob] = []

    def invoke_agent(self, deposit_root: Path, workdir: Path) -> AgentCall:
        raw = json.loads((workdir / JOB_FILE).read_text(encoding="utf-8"))
        spec = JobSpec.model_validate({k: raw[k] for k in ("device", "circuits")})
        self.jobs.extend(spec.circuits)
        runs = [self.handler(job).model_dump(mode="json") for job in spec.circuits]
        result = {
            "environment": {"python": "fake", "packages": {}, "device": "CPU"},
            "circuits": runs,
            "fatal": self.fatal,
        }
        (workdir / RESULT_FILE).write_text(json.dumps(result), encoding="utf-8")
        return AgentCall(status=3 if self.fatal else 0, log_tail="")
