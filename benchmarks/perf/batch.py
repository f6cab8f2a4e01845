"""Batch benchmark (make bench): a generated call of 20 small deposits.

    python -m benchmarks.perf.batch [--deposits N]

Side by side in one run (these machines are noisy: only ratios within a run count):
- ledger: one evaluation's bookkeeping (queue, building, running, done: four committed
  transactions on SQLite), median over 200;
- --jobs 1 vs --jobs 2 (with --cpus 1 so that two sandboxes fit on two cores);
- --cluster local:2 (a Dask LocalCluster of two workers) vs --jobs 2.
Every batch uses --runner host, so the figures are the batch's own cost plus the
evaluations, not image builds. Results go to out/bench/batch.json.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "runners" / "agent"))

from benchmarks.deposits.generate_ghz import NOISE, ghz_qasm, inventory, manifest, write_json  # noqa: E402
from harness.batch.ledger import Ledger  # noqa: E402


def make_call(root: Path, n: int) -> Path:
    """n deposits of one noisy GHZ-3 circuit (200 shots) with a shot-noise fidelity claim."""
    import yaml

    from runners.agent.replay import run_circuit

    call = root / "call"
    for i in range(n):
        dest = call / f"sub{i:02d}"
        (dest / "circuits").mkdir(parents=True)
        (dest / "circuits" / "ghz.qasm").write_text(ghz_qasm(3), encoding="utf-8")
        write_json(dest / "noise" / "depol.json", NOISE)
        circuit = {"id": "ghz", "file": "circuits/ghz.qasm", "format": "qasm2", "shots": 200,
                   "seed_simulator": 1000 + i, "seed_transpiler": 7, "optimization_level": 0,
                   "method": "statevector", "precision": "double", "noise_model": "depol",
                   "counts": "results/ghz.json"}
        run = run_circuit({**circuit, "noise_model": "noise/depol.json", "ideal": False},
                          str(dest), str(dest), "CPU")
        write_json(dest / "results" / "ghz.json", run["counts"])
        claim = {"id": "counts", "source": {"circuit": "ghz"}, "metric": "counts",
                 "tolerance": {"kind": "shot-noise", "alpha": 0.01}}
        data = manifest([circuit], [claim], inventory(dest))
        data["noise_models"] = [{"id": "depol", "file": "noise/depol.json",
                                 "format": "qrepro-noise-v1"}]
        (dest / "qdata.yaml").write_text(yaml.safe_dump(data, sort_keys=False))
    return call


def ledger_overhead(root: Path, n: int = 200) -> float:
    """Median seconds of one evaluation's ledger bookkeeping."""
    with Ledger.for_dir(root / "ledger-bench") as ledger:
        times = []
        for i in range(n):
            start = time.perf_counter()
            eval_id = ledger.queue(f"s{i}", "x", "o", "v", ["available"])
            ledger.mark(eval_id, "building")
            ledger.mark(eval_id, "running")
            ledger.finish(eval_id, "done", badges_awarded={"available": True})
            times.append(time.perf_counter() - start)
    return statistics.median(times)


def batch(call: Path, out: Path, *args: str) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "harness", "batch", str(call), "--out", str(out),
                    "--runner", "host", "--progress", "none", *args], check=False,
                   stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - start
    done = json.loads((out / "summary.json").read_text())["submissions"]
    assert all(s["status"] == "done" for s in done), done
    return wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--deposits", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="qrepro-bench-batch-") as tmp:
        root = Path(tmp)
        call = make_call(root, args.deposits)
        result: dict[str, Any] = {"deposits": args.deposits,
                                  "ledger_ms": round(ledger_overhead(root) * 1000, 2)}
        result["jobs1_s"] = round(batch(call, root / "j1"), 1)
        result["jobs2_s"] = round(batch(call, root / "j2", "--jobs", "2", "--cpus", "1"), 1)
        result["cluster2_s"] = round(batch(call, root / "c2", "--cluster", "local:2"), 1)
        result["rerun_s"] = round(batch(call, root / "j2", "--jobs", "2", "--cpus", "1"), 1)
    result["jobs2_speedup"] = round(result["jobs1_s"] / result["jobs2_s"], 2)
    result["cluster_vs_jobs2"] = round(result["cluster2_s"] / result["jobs2_s"], 2)
    result["per_evaluation_s"] = round(result["jobs1_s"] / args.deposits, 2)
    print(json.dumps(result, indent=2))
    out = ROOT / "out" / "bench"
    out.mkdir(parents=True, exist_ok=True)
    (out / "batch.json").write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
