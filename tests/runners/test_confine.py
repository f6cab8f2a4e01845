"""runners.confine: limits, the watchdog, and a process tree that is gone afterwards."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from runners.confine import ProcessLimits, dir_bytes, run_confined

ESCAPER = """
import os, subprocess, sys, time
marker = sys.argv[1]
child = f"import time; time.sleep(2); open({marker!r}, 'w').write('alive')"
subprocess.Popen([sys.executable, "-c", child], start_new_session=True)   # setsid
if os.fork() == 0:                                                        # double fork
    if os.fork() == 0:
        time.sleep(2); open(marker + ".2", "w").write("alive"); os._exit(0)
    os._exit(0)
print("parent done")
"""


def _run(tmp_path: Path, code: str, limits: ProcessLimits, *args: str) -> object:
    with (tmp_path / "log").open("wb") as log:
        return run_confined([sys.executable, "-c", code, *args], cwd=tmp_path,
                            env={"PATH": "/usr/bin:/bin"}, log=log, limits=limits,
                            watch_dir=tmp_path)


def test_setsid_and_double_forked_children_are_killed(tmp_path: Path) -> None:
    marker = tmp_path / "marker"
    outcome = _run(tmp_path, ESCAPER, ProcessLimits(wall_s=30), str(marker))
    assert outcome.status == 0  # type: ignore[attr-defined]
    assert outcome.leftovers_killed >= 2  # type: ignore[attr-defined]
    time.sleep(3)
    assert not marker.exists() and not Path(f"{marker}.2").exists()


def test_wall_clock_limit_kills_the_group(tmp_path: Path) -> None:
    start = time.monotonic()
    outcome = _run(tmp_path, "import time; time.sleep(60)", ProcessLimits(wall_s=1))
    assert outcome.timed_out and time.monotonic() - start < 10  # type: ignore[attr-defined]


def test_disk_watchdog_stops_a_filler(tmp_path: Path) -> None:
    filler = ("import os\nwith open('big', 'wb') as fh:\n    while True:\n"
              "        fh.write(os.urandom(1 << 20)); fh.flush()\n")
    outcome = _run(tmp_path, filler, ProcessLimits(wall_s=60, disk=20 << 20))
    assert outcome.disk_exceeded  # type: ignore[attr-defined]
    assert dir_bytes(tmp_path) < 400 << 20


def test_file_size_limit_applies(tmp_path: Path) -> None:
    code = "open('f', 'wb').write(b'x' * (4 << 20))"
    outcome = _run(tmp_path, code, ProcessLimits(wall_s=30, file_size=1 << 20))
    assert outcome.status != 0  # type: ignore[attr-defined]
    assert (tmp_path / "f").stat().st_size <= 1 << 20


def test_address_space_limit_applies(tmp_path: Path) -> None:
    code = "x = bytearray(3 << 30)"
    outcome = _run(tmp_path, code, ProcessLimits(wall_s=30, address_space=1 << 30))
    assert outcome.status != 0  # type: ignore[attr-defined]
    assert "MemoryError" in (tmp_path / "log").read_text()


def test_limits_describe_what_held() -> None:
    facts = ProcessLimits(wall_s=5).describe()
    assert facts["wall_clock_s"] == 5 and facts["cpu_time_s"] >= 5
    if os.geteuid() == 0:
        assert facts["processes"] is None and facts["notes"]


def test_on_start_is_told_once_while_the_process_runs(tmp_path: Path) -> None:
    """The harness begins its own imports when told the agent runs: told once, with the
    process alive (it waits for the file the callback writes, then exits 0)."""
    flag = tmp_path / "told"
    told: list[bool] = []

    def on_start() -> None:
        told.append(True)
        flag.write_text("go")

    code = ("import pathlib, sys, time\nflag = pathlib.Path(sys.argv[1])\n"
            "for _ in range(600):\n    if flag.exists(): sys.exit(0)\n    time.sleep(0.05)\n"
            "sys.exit(9)")
    with (tmp_path / "log").open("wb") as log:
        outcome = run_confined([sys.executable, "-c", code, str(flag)], cwd=tmp_path,
                               env={"PATH": "/usr/bin:/bin"}, log=log,
                               limits=ProcessLimits(wall_s=60), on_start=on_start)
    assert outcome.status == 0 and told == [True]
