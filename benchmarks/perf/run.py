"""Performance benchmark: what the harness adds to the simulator's own time.

    make bench          (python -m benchmarks.perf.run [--repeat N] [--deposit DIR])

In one run, side by side (these machines are noisy, so only ratios within a run count):
- bare:      the deposit's circuits replayed in-process with Aer, nothing else (the floor);
- simulator: Aer's own time inside the evaluation (sum of the agent's per-circuit wall time);
- evaluate:  the whole `qrepro evaluate` pipeline with the local runner.
Each is repeated; medians are reported with the ratios evaluate/bare and evaluate/simulator,
and the phase breakdown of the evaluation. Results also go to out/bench/perf.json.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "runners" / "agent"))

from harness.intake.manifest import load_manifest  # noqa: E402
from harness.noise.load import load_noise  # noqa: E402
from harness.pipeline import Options, evaluate  # noqa: E402
from runners.agent.replay import run_circuit  # noqa: E402
from runners.local import LocalRunner  # noqa: E402


def bare(deposit: Path, work: Path) -> float:
    """Replay every circuit in-process: the least any harness could spend."""
    manifest = load_manifest(deposit / "qdata.yaml")
    for ref in manifest.noise_models:
        spec = load_noise(deposit / ref.file, ref.format, ref.file)
        (work / f"{ref.id}.json").write_text(json.dumps(spec))
    start = time.perf_counter()
    for c in manifest.circuits:
        job = {"id": c.id, "file": c.file, "format": c.format or "qasm2", "shots": c.shots,
               "seed_simulator": c.seed_simulator, "seed_transpiler": c.seed_transpiler,
               "optimization_level": c.optimization_level, "method": c.method,
               "precision": c.precision, "ideal": False,
               "noise_model": f"{c.noise_model}.json" if c.noise_model else None}
        run_circuit(job, str(deposit), str(work), "CPU")
    return time.perf_counter() - start


def full(deposit: Path, out: Path) -> dict[str, float]:
    start = time.perf_counter()
    report = evaluate(deposit, out, LocalRunner(), Options())
    wall = time.perf_counter() - start
    assert report.status == "complete", report.error
    return {"wall": wall, **report.timings}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--deposit", type=Path, default=ROOT / "benchmarks/deposits/ghz-noisy")
    parser.add_argument("--no-docker", action="store_true", help="Skip the Docker benchmark.")
    args = parser.parse_args()
    bares: list[float] = []
    runs: list[dict[str, float]] = []
    with tempfile.TemporaryDirectory() as tmp:
        bare(args.deposit, Path(tmp))  # warm-up: imports, Aer initialisation
        for i in range(args.repeat):  # interleaved, so drift hits both alike
            bares.append(bare(args.deposit, Path(tmp)))
            runs.append(full(args.deposit, Path(tmp) / f"out{i}"))
    med = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
    b = statistics.median(bares)
    result: dict[str, Any] = {
        "deposit": str(args.deposit), "repeat": args.repeat, "bare_s": b,
        "evaluate_s": med["wall"], "simulator_s": med["simulator"],
        "ratio_evaluate_over_bare": med["wall"] / b,
        "ratio_evaluate_over_simulator": med["wall"] / med["simulator"],
        "harness_overhead_s": med["wall"] - med["simulator"],
        "phases_s": {k: v for k, v in med.items() if k not in ("wall",)},
    }
    print(f"deposit {args.deposit.name}, median of {args.repeat}:")
    print(f"  bare Aer replay (in-process)  {b:8.3f} s   1.00x")
    print(f"  Aer time inside evaluation    {med['simulator']:8.3f} s   "
          f"{med['simulator'] / b:.2f}x")
    print(f"  qrepro evaluate (local)       {med['wall']:8.3f} s   {med['wall'] / b:.2f}x")
    print("  phases: " + ", ".join(f"{k} {v:.3f}" for k, v in result["phases_s"].items()))
    out = ROOT / "out" / "bench"
    out.mkdir(parents=True, exist_ok=True)
    (out / "perf.json").write_text(json.dumps(result, indent=2))
    print(f"results: {out / 'perf.json'}")
    if not args.no_docker:
        docker_benchmark()


def docker_benchmark() -> None:
    from harness.errors import RunnerUnavailable

    try:
        from benchmarks.perf.docker_build import main as docker_main

        docker_main()
    except RunnerUnavailable as exc:
        print(f"docker build benchmark skipped: {exc.message}")


if __name__ == "__main__":
    main()
