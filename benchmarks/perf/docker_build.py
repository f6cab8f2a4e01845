"""Benchmark the Docker runner's build phase (make bench; needs a Docker engine).

Side by side in one run, for the ghz-noisy environment on the local base image:
- cold build with uv vs cold build with pip: same requirements, `rebuild` (no layer cache);
- warm evaluation: the build phase when the image already exists (reused, nothing built).
Only ratios within one run count (these machines are noisy). Results: out/bench/docker.json.
"""

from __future__ import annotations

import json
import os
import statistics
import time
from pathlib import Path
from typing import Any

from harness.intake.manifest import load_manifest
from runners.docker import HOST_CA, DockerRunner, connect

ROOT = Path(__file__).resolve().parents[2]
DEPOSIT = ROOT / "benchmarks" / "deposits" / "ghz-noisy"
BASE = os.environ.get("QREPRO_BASE_IMAGE", "qrepro-base:bookworm")


def prepare_time(runner: DockerRunner, work: Path) -> float:
    env = load_manifest(DEPOSIT / "qdata.yaml").environment
    start = time.perf_counter()
    runner.prepare(env, DEPOSIT, work)
    return time.perf_counter() - start


def main(repeat: int = 2) -> dict[str, Any]:
    client = connect()
    ca = HOST_CA if HOST_CA.is_file() else None
    work = ROOT / "out" / "bench" / "work"
    work.mkdir(parents=True, exist_ok=True)

    def runner(**kw: Any) -> DockerRunner:
        return DockerRunner(base_image=BASE, forward_ca=ca, client=client, **kw)

    cold: dict[str, list[float]] = {"uv": [], "pip": []}
    for _ in range(repeat):  # interleaved so drift hits both alike
        for installer in ("uv", "pip"):
            cold[installer].append(prepare_time(runner(installer=installer, rebuild=True), work))
    warm = [prepare_time(runner(), work) for _ in range(5)]
    uv, pip, hot = (statistics.median(cold["uv"]), statistics.median(cold["pip"]),
                    statistics.median(warm))
    result = {"cold_uv_s": uv, "cold_pip_s": pip, "ratio_pip_over_uv": pip / uv,
              "warm_build_phase_s": hot, "ratio_cold_uv_over_warm": uv / hot,
              "raw_cold": cold, "raw_warm": warm}
    print(f"docker build of {DEPOSIT.name}'s environment, median of {repeat} cold / 5 warm:")
    print(f"  cold build, uv   {uv:8.2f} s   1.00x")
    print(f"  cold build, pip  {pip:8.2f} s   {pip / uv:.2f}x")
    print(f"  warm (image reused) build phase {hot:.3f} s ({uv / hot:.0f}x less than cold uv)")
    (ROOT / "out" / "bench" / "docker.json").write_text(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    main()
