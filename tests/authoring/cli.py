"""Run ``qrepro init`` / ``qrepro check`` as an author does: through the console script once
harness.cli registers them, else (until then) through click on the command objects."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

ROOT = Path(__file__).resolve().parents[2]


def qrepro(*args: str, cwd: Path = ROOT) -> tuple[int, str]:
    """(exit code, stdout and stderr together)."""
    from harness.cli import _fail, cli, runner_options

    if args[0] in cli.commands:
        proc = subprocess.run([sys.executable, "-m", "harness", *args], capture_output=True,
                              text=True, stdin=subprocess.DEVNULL, cwd=cwd, check=False)
        return proc.returncode, proc.stdout + proc.stderr
    from harness.authoring.commands import check_command, init_command

    command = {"init": init_command(_fail), "check": check_command(runner_options, _fail)}
    result = CliRunner().invoke(command[args[0]], list(args[1:]))
    return result.exit_code, result.output
