"""How a qrepro command ends: an error's one line on stderr and its exit code, or an
interrupt. The one place that turns errors into exit codes (docs/cli.md#exit-codes):

    0  evaluate: all four badges awarded; validate: no error findings
    1  evaluate: the evaluation completed but at least one badge is denied;
       validate: at least one error finding
    2  usage error (unknown option, missing argument)
    3  the deposit cannot be read (missing, unsafe archive, invalid manifest)
    4  the runner or its environment failed (unavailable, build error, agent crash)
    5  any other qrepro error
  130  interrupted (Ctrl-C, SIGTERM, SIGHUP); report.json says status: interrupted

3, 4, 5 and 130 are the error classes' own (``QreproError.exit_code``, harness/errors.py).
An error's line quotes the deposit (a file name, a field, a value): it is printed through
harness.escaping.terminal, so no control character or escape sequence reaches the terminal.
A leaf of harness.cli: it imports click, harness.errors and harness.escaping only, and no
command module.
"""

from __future__ import annotations

import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, NoReturn

import click

from harness.errors import Interrupted, QreproError, error_class
from harness.escaping import terminal

EXIT_OK, EXIT_DENIED, EXIT_USAGE = 0, 1, 2
EXIT_INTERRUPTED = Interrupted.exit_code


def exit_code_of(error: QreproError | str | None) -> int:
    """The exit code of an error, or of a report's ``error.kind`` (None: no error)."""
    if error is None:
        return EXIT_OK
    return (error if isinstance(error, QreproError) else error_class(error)).exit_code


def say_error(line: str) -> None:
    """``qrepro: error: LINE`` on stderr, LINE escaped for the terminal."""
    click.echo(f"qrepro: error: {terminal(line)}", err=True)


def fail(exc: QreproError, code: int | None = None) -> NoReturn:
    """Print the error's one line on stderr and exit with its code, or with ``code``: a
    command's own for it (qrepro verify: 2, an input it cannot read)."""
    say_error(exc.one_line())
    sys.exit(exit_code_of(exc) if code is None else code)


@contextmanager
def terminate_as_interrupt() -> Iterator[None]:
    """SIGTERM (and SIGHUP) end the evaluation like Ctrl-C: cleaned up, report interrupted."""

    def handler(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt(f"signal {signum}")

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGTERM, signal.SIGHUP)}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)
