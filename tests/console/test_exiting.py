"""The command line leaves without the interpreter's teardown, but with everything written:
stdout flushed, atexit handlers run, the status kept; with another thread alive it exits
the ordinary way (which waits for that thread)."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from harness.console.exiting import exit_status


def _run(body: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", textwrap.dedent(body)], capture_output=True,
                          text=True, timeout=60)


def test_exit_now_flushes_output_and_runs_atexit_handlers() -> None:
    done = _run("""
        import atexit, sys
        from harness.console.exiting import exit_now
        atexit.register(lambda: print("atexit ran"))
        sys.stdout.write("written, not yet flushed; ")
        exit_now(3)
        print("never")
    """)
    assert done.returncode == 3
    assert done.stdout == "written, not yet flushed; atexit ran\n"


def test_a_raising_atexit_handler_does_not_stop_the_others() -> None:
    done = _run("""
        import atexit
        from harness.console.exiting import exit_now
        atexit.register(lambda: print("first registered, last run", flush=True))
        atexit.register(lambda: 1 / 0)
        exit_now(0)
    """)
    assert done.returncode == 0
    assert done.stdout == "first registered, last run\n"
    assert "ZeroDivisionError" in done.stderr


def test_a_failed_flush_gives_the_interpreters_status_120() -> None:
    done = _run("""
        import io, sys
        from harness.console.exiting import exit_now
        class Broken(io.StringIO):
            def flush(self):
                raise BrokenPipeError(32, "Broken pipe")
        sys.stdout = Broken()
        exit_now(0)
    """)
    assert done.returncode == 120


def test_without_run_exitfuncs_the_ordinary_exit_is_taken() -> None:
    done = _run("""
        import atexit, sys
        from harness.console.exiting import exit_now
        del atexit._run_exitfuncs
        atexit.register(lambda: print("atexit ran"))
        try:
            exit_now(5)
        except SystemExit as exc:
            print("SystemExit", exc.code)
            raise
    """)
    assert done.returncode == 5
    assert done.stdout == "SystemExit 5\natexit ran\n"


def test_exit_now_waits_for_a_live_thread_by_exiting_the_ordinary_way() -> None:
    done = _run("""
        import threading, time
        from harness.console.exiting import exit_now
        def late():
            time.sleep(0.3)
            print("thread finished", flush=True)
        threading.Thread(target=late).start()
        exit_now(4)
    """)
    assert done.returncode == 4
    assert done.stdout == "thread finished\n"


@pytest.mark.parametrize(("code", "status", "stderr"),
                         [(None, 0, ""), (0, 0, ""), (2, 2, ""), ("bad input", 1, "bad input\n")])
def test_exit_status_is_what_sys_exit_gives(code: object, status: int, stderr: str,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    assert exit_status(code) == status
    assert capsys.readouterr().err == stderr


def test_the_command_line_keeps_its_exit_codes() -> None:
    usage = subprocess.run([sys.executable, "-m", "harness", "no-such-command"],
                           capture_output=True, text=True, timeout=60)
    assert usage.returncode == 2 and "No such command" in usage.stderr
    helped = subprocess.run([sys.executable, "-m", "harness", "--help"], capture_output=True,
                            text=True, timeout=60)
    assert helped.returncode == 0 and helped.stdout.startswith("Usage: qrepro")
