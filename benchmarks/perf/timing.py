"""Whole-process timings, paired: the measuring instrument of `make bench`.

A figure runs a command A and its anchor B in turn (A B A B ..., after a warm-up of each),
so that drift of a shared, noisy machine hits both alike, and states every number as
min / median / max over the runs: A's and B's wall time, their ratio pair by pair, their
difference pair by pair, and A's CPU time and peak memory. Times come from the operating
system: wall by the monotonic clock around the process, CPU and peak resident memory from
wait4's accounting of the process and the descendants it waited for (a container's
processes are the engine's children, not ours: their CPU is not counted).
"""

from __future__ import annotations

import os
import statistics
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Sample:
    wall_s: float
    cpu_s: float
    peak_rss_bytes: int
    status: int


def run_once(argv: Sequence[str], cwd: Path | None = None, env: dict[str, str] | None = None,
             log: Path | None = None) -> Sample:
    """Run ``argv`` to completion, its output into ``log`` (else discarded)."""
    sink = log.open("ab") if log else subprocess.DEVNULL
    try:
        start = time.perf_counter()
        proc = subprocess.Popen(list(argv), cwd=cwd, env=env, stdout=sink, stderr=sink)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)  # reaped: stop Popen waiting
    finally:
        if log:
            sink.close()  # type: ignore[union-attr]
    return Sample(wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss * 1024,
                  proc.returncode)


def spread(values: Sequence[float]) -> dict[str, float]:
    return {"min": min(values), "median": statistics.median(values), "max": max(values)}


@dataclass(frozen=True)
class Command:
    argv: tuple[str, ...]
    env: dict[str, str] | None = None
    #: run before each timed run, untimed (e.g. empty a cache for a cold build)
    before: tuple[str, ...] | None = None
    #: exit statuses of a run that did its work (qrepro evaluate: 1 = a badge denied)
    ok: tuple[int, ...] = (0,)
    #: called after each run, untimed (e.g. read what the run wrote before the next)
    after: Callable[[], None] | None = None


def _timed(cmd: Command, cwd: Path, log: Path) -> Sample:
    if cmd.before:
        subprocess.run(cmd.before, cwd=cwd, check=True, stdout=subprocess.DEVNULL)
    sample = run_once(cmd.argv, cwd, cmd.env, log)
    if sample.status not in cmd.ok:
        raise RuntimeError(f"{' '.join(cmd.argv)} exited with status {sample.status}; "
                           f"its output: {log}")
    if cmd.after is not None:
        cmd.after()
    return sample


def paired(a: Command, b: Command | None, runs: int, cwd: Path, log: Path,
           warmup: int = 1) -> dict[str, object]:
    """A against B, interleaved; B None: A alone."""
    samples: dict[str, list[Sample]] = {"a": [], "b": []}
    for i in range(warmup + runs):
        for key, cmd in (("a", a), ("b", b)):
            if cmd is None:
                continue
            sample = _timed(cmd, cwd, log)
            if i >= warmup:
                samples[key].append(sample)
    out: dict[str, object] = {
        "runs": runs,
        "wall_s": spread([s.wall_s for s in samples["a"]]),
        "cpu_s": spread([s.cpu_s for s in samples["a"]]),
        "peak_rss_bytes": max(s.peak_rss_bytes for s in samples["a"]),
    }
    if b is not None:
        pairs = list(zip(samples["a"], samples["b"], strict=True))
        out.update(
            anchor_wall_s=spread([s.wall_s for s in samples["b"]]),
            anchor_cpu_s=spread([s.cpu_s for s in samples["b"]]),
            ratio=spread([x.wall_s / y.wall_s for x, y in pairs]),
            cpu_ratio=spread([x.cpu_s / y.cpu_s for x, y in pairs]),
            difference_s=spread([x.wall_s - y.wall_s for x, y in pairs]),
        )
    return out
