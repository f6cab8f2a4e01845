"""Leaving the process: what a command wrote is flushed and what runs at exit runs, but the
interpreter's teardown is skipped.

Python's teardown frees every loaded module and object one by one. After an evaluation,
which loads numpy, scipy, matplotlib and pydantic, that took 0.3 s of a 5 s run on 2 cores,
for work the operating system does at once when the process ends. :func:`exit_now` runs
the ``atexit`` handlers (temporary files, logging, multiprocessing's children), flushes
stdout and stderr, and ends the process with ``os._exit``. It does so only when the main
thread is the last one: another thread may still have work to finish, and then the ordinary
exit (which joins it) is taken.

There is no public way to do this: ``atexit._run_exitfuncs`` (CPython's, undocumented, the
function the interpreter's own exit calls) is the only way to run the handlers without the
teardown, and ``os._exit`` the only exit that skips it. Where ``_run_exitfuncs`` is missing
(another implementation, a future CPython), the ordinary exit is taken: slower, never wrong.
tests/console/test_exiting.py holds the behaviour: handlers run (one that raises does not stop
the others), output is flushed, a flush that fails gives status 120 as the interpreter does.
"""

from __future__ import annotations

import atexit
import os
import sys
import threading
from typing import NoReturn


def exit_status(code: object) -> int:
    """The process status ``sys.exit(code)`` gives: None is 0, an int itself, else 1 (with
    the object printed on stderr, as the interpreter does)."""
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    print(code, file=sys.stderr)
    return 1


def exit_now(code: object) -> NoReturn:
    """End the process with ``code`` (as :class:`SystemExit` takes it), skipping teardown
    when no other thread runs."""
    run_exitfuncs = getattr(atexit, "_run_exitfuncs", None)
    if threading.active_count() > 1 or run_exitfuncs is None:
        raise SystemExit(code)
    status = exit_status(code)
    run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe: what the interpreter would report
            status = status or 120
    os._exit(status)
