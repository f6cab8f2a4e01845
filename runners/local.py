"""Run the agent as a subprocess of a local Python interpreter.

By default that is the harness's own interpreter: fast, and the only option on a machine
without Docker, but the deposit's pins are not installed (the report says so and lists
the versions that did run). Pass another interpreter (``python=``) to use a prepared venv.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import ClassVar

from harness.errors import AgentError, RunnerUnavailable
from runners.base import AGENT_DIR, AGENT_ENTRY, JOB_FILE, LOG_FILE, RESULT_FILE, AgentCall, Runner
from runners.untrusted import read_text

TAIL_LINES = 20


def tail(text: str, lines: int = TAIL_LINES) -> str:
    return " | ".join(line for line in text.strip().splitlines()[-lines:] if line.strip())


class LocalRunner(Runner):
    name: ClassVar[str] = "host"

    def __init__(
        self, python: str | None = None, timeout_s: float = 3600.0, remarks: tuple[str, ...] = ()
    ) -> None:
        self.python = python or sys.executable
        self.timeout_s = timeout_s
        self.remarks = remarks

    def notes(self) -> tuple[str, ...]:
        if self.python == sys.executable:
            return (
                "local runner: ran in the harness's own Python environment; the deposit's "
                "pinned requirements were not installed",
            )
        return (f"local runner: ran with {self.python}",)

    def invoke_agent(self, deposit_root: Path, workdir: Path) -> AgentCall:
        command = [
            self.python,
            str(AGENT_DIR / AGENT_ENTRY),
            str(workdir / JOB_FILE),
            str(workdir / RESULT_FILE),
        ]
        env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
        env["PYTHONHASHSEED"] = "0"
        log = workdir / LOG_FILE
        try:
            log.unlink(missing_ok=True)
            with log.open("x", encoding="utf-8") as fh:
                proc = subprocess.run(
                    command,
                    cwd=workdir,
                    env=env,
                    stdout=fh,
                    stderr=subprocess.STDOUT,
                    timeout=self.timeout_s,
                    check=False,
                )
        except FileNotFoundError as exc:
            raise RunnerUnavailable(f"python interpreter not found: {self.python}") from exc
        except OSError as exc:  # not executable, a directory, ...
            raise RunnerUnavailable(
                f"cannot start python interpreter {self.python}: {exc.strerror or exc}"
            ) from exc
        except subprocess.TimeoutExpired as exc:
            raise AgentError(
                f"the agent ran past the {self.timeout_s:g} s timeout and was killed", file=str(log)
            ) from exc
        text = read_text(log)
        return AgentCall(status=proc.returncode, log_tail=tail(text))
