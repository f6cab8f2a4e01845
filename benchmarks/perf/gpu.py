"""GPU against CPU on one wide statevector circuit: the ratio, and whether counts agree.

    python -m benchmarks.perf.gpu [--qubits 26] [--runs 3]

On a machine with an NVIDIA GPU, in an environment where Aer reports one: replace
qiskit-aer by the CUDA build of the same version, e.g.

    .venv/bin/uv pip install --python .venv/bin/python qiskit-aer-gpu==<qiskit-aer's version>

(its CUDA 12 libraries, cuBLAS, cuSOLVER, cuSPARSE and cuQuantum, come as wheels with it),
then run this. It generates the `wide-N` workload (benchmarks/perf/workloads.py: GHZ-N then
a layer of rotations, 1000 shots), evaluates it with `qrepro evaluate --runner host` on
`--device GPU` and on `--device CPU`, interleaved (benchmarks/perf/timing.py), and compares
the two runs' counts with the permutation test of docs/statistics.md (CPU and GPU results are
not promised bit for bit, only in distribution). Writes benchmarks/perf/results/gpu.json.
Exit status 2 when Aer reports no GPU here (nothing is measured then). `--device CPU`
measures CPU against CPU: a dry run of this script on any machine (ratio about 1, counts
identical).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from benchmarks.perf.run import QREPRO, RESULTS, WORK  # noqa: E402
from benchmarks.perf.timing import Command, paired  # noqa: E402
from benchmarks.perf.workloads import deposit  # noqa: E402


def aer_devices() -> list[str]:
    from qiskit_aer import AerSimulator

    return [str(d) for d in AerSimulator().available_devices()]


def evaluate(dep: Path, device: str, role: str) -> Command:
    out = WORK / "runs" / f"gpu-{role}"
    return Command((QREPRO, "evaluate", str(dep), "--out", str(out), "--runner", "host",
                    "--device", device, "--memory", "64g"),
                   ok=(0, 1))  # the host runner installs no pins: Reusable is denied


def counts(device: str, role: str) -> dict[str, int]:
    report = json.loads((WORK / "runs" / f"gpu-{role}" / "report.json").read_text())
    run = report["circuits"][0]
    if run.get("device") != device:
        raise SystemExit(f"the {device} run ran on {run.get('device')}")
    return dict(run["counts"])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--qubits", type=int, default=26, choices=range(20, 31))
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--device", default="GPU", choices=("GPU", "CPU"),
                        help="The device measured against the CPU (CPU: a dry run).")
    args = parser.parse_args()
    devices = aer_devices()
    if args.device not in devices:
        print(f"no GPU: Aer reports devices {', '.join(devices)} (install qiskit-aer-gpu on a "
              "machine with an NVIDIA GPU; see this file's docstring)", file=sys.stderr)
        return 2
    from harness.stats.compare import compare_counts
    from harness.tolerances import ShotNoiseTolerance

    dep = deposit(f"wide-{args.qubits}")
    log = WORK / "logs" / "gpu.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    timing = paired(evaluate(dep, args.device, "measured"), evaluate(dep, "CPU", "anchor"),
                    args.runs, ROOT, log)
    agreement = compare_counts(counts(args.device, "measured"), counts("CPU", "anchor"),
                               ShotNoiseTolerance(kind="shot-noise", alpha=0.01))
    result: dict[str, Any] = {
        "qubits": args.qubits, "device": args.device, "over_cpu": timing,
        "counts_agree": agreement.verdict, "evidence": agreement.evidence}
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "gpu.json").write_text(json.dumps(result, indent=1) + "\n")
    ratio: dict[str, float] = timing["ratio"]  # type: ignore[assignment]
    print(f"{args.qubits} qubits: {args.device} / CPU wall {ratio['median']:.3f} "
          f"(min {ratio['min']:.3f}, max {ratio['max']:.3f}); "
          f"counts {agreement.verdict}: {agreement.evidence}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
