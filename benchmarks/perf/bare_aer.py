"""The anchor of `make bench`: what an author's own script does, and nothing else.

    python benchmarks/perf/bare_aer.py DEPOSIT

Reads the deposit's qdata.yaml, and for each circuit: loads the QASM, builds its noise
model, transpiles with the recorded transpiler seed and level, runs it on Aer with the
recorded seed, method, precision and shots (one circuit per job, as recorded), and compares
the counts with the recorded ones (total variation distance). No validation, sandbox,
statistics or reports: the least any harness could spend. Standard library, PyYAML, qiskit
and qiskit-aer only (plus the noise builder that the deposit's noise format needs).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import yaml
from qiskit import qasm2, qasm3, transpile
from qiskit_aer import AerSimulator

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "runners" / "agent"))
from aer_noise import build_noise_model


def load(path: Path, fmt: str):  # type: ignore[no-untyped-def]
    if fmt == "qasm3":
        return qasm3.load(str(path))
    return qasm2.load(str(path), custom_instructions=qasm2.LEGACY_CUSTOM_INSTRUCTIONS)


def main(deposit: Path) -> int:
    manifest = yaml.safe_load((deposit / "qdata.yaml").read_text(encoding="utf-8"))
    noise = {m["id"]: build_noise_model(json.loads((deposit / m["file"]).read_text()))
             for m in manifest.get("noise_models") or []}
    worst = 0.0
    targets: dict[str | None, object] = {}
    for c in manifest.get("circuits") or []:
        options = {"method": c.get("method", "automatic"), "precision": c.get("precision",
                                                                              "double")}
        if c.get("noise_model"):
            options["noise_model"] = noise[c["noise_model"]]
        sim = AerSimulator(**options)
        # against the Target read once, as the agent does: AerSimulator.target is rebuilt on
        # every read, and transpile(circuit, sim) reads it ~136 times (0.15 s a circuit)
        compiled = transpile(load(deposit / c["file"], c.get("format", "qasm2")),
                             target=targets.setdefault(c.get("noise_model"), sim.target),
                             seed_transpiler=c.get("seed_transpiler"),
                             optimization_level=c.get("optimization_level", 0))
        counts = sim.run(compiled, shots=c["shots"],
                         seed_simulator=c.get("seed_simulator")).result().get_counts()
        if c.get("counts"):
            recorded = json.loads((deposit / c["counts"]).read_text())
            keys = set(counts) | set(recorded)
            n, m = sum(counts.values()), sum(recorded.values())
            tvd = 0.5 * sum(abs(counts.get(k, 0) / n - recorded.get(k, 0) / m) for k in keys)
            worst = max(worst, tvd)
    print(f"{len(manifest.get('circuits') or [])} circuits, largest TVD to the recorded "
          f"counts {worst:.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1])))
