"""Generate the GHZ reference deposits: ghz-noisy, ghz-noisy-tampered, ghz-noisy-overclaimed.

    python benchmarks/deposits/generate_ghz.py [OUTPUT_DIR]     (make deposits)

GHZ circuits of 3 to 8 qubits run under a depolarizing + readout noise model with the
same procedure the qrepro agent replays (runners/agent/replay.py: one circuit per Aer
job, recorded seeds, statevector method, double precision), so that with the pinned
versions the replay reproduces the recorded counts exactly. Deterministic: running it
twice gives byte-identical deposits.
"""

from __future__ import annotations

import datetime as dt
import importlib.metadata
import json
import shutil
import sys
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "runners" / "agent"))

from harness.stats.metrics import hellinger_fidelity, probabilities  # noqa: E402
from harness.units import file_sha256  # noqa: E402
from runners.agent.replay import run_circuit  # noqa: E402

SIZES = range(3, 9)
SHOTS = 4000
SEED_TRANSPILER = 7
NOISE_ID = "depol-readout"
NOISE = {
    "format": "qrepro-noise-v1",
    "num_qubits": 8,
    "gate_errors": [
        {"gates": ["h"], "qubits": None, "arity": 1,
         "channels": [{"type": "depolarizing", "p": 0.004}]},
        {"gates": ["cx"], "qubits": None, "arity": 2,
         "channels": [{"type": "depolarizing", "p": 0.02}]},
    ],
    "readout_errors": [{"qubits": None, "matrix": [[0.985, 0.015], [0.025, 0.975]]}],
}
PINNED = ("qiskit", "qiskit-aer", "qiskit-qasm3-import", "numpy")


def ghz_qasm(n: int) -> str:
    lines = ["OPENQASM 2.0;", 'include "qelib1.inc";', f"qreg q[{n}];", f"creg c[{n}];", "h q[0];"]
    lines += [f"cx q[{i}],q[{i + 1}];" for i in range(n - 1)]
    lines += [f"measure q[{i}] -> c[{i}];" for i in range(n)]
    return "\n".join(lines) + "\n"


def write_json(path: Path, data: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n", encoding="utf-8")


def record(dest: Path) -> tuple[list[dict[str, Any]], dict[str, float]]:
    """Write circuits, noise and recorded counts; return circuit entries and fidelities."""
    write_json(dest / "noise" / f"{NOISE_ID}.json", NOISE)
    circuits, fidelities = [], {}
    for n in SIZES:
        cid = f"ghz_{n}"
        (dest / "circuits").mkdir(parents=True, exist_ok=True)
        (dest / "circuits" / f"{cid}.qasm").write_text(ghz_qasm(n), encoding="utf-8")
        entry = {"id": cid, "file": f"circuits/{cid}.qasm", "format": "qasm2", "shots": SHOTS,
                 "seed_simulator": 1000 + n, "seed_transpiler": SEED_TRANSPILER,
                 "optimization_level": 0, "method": "statevector", "precision": "double",
                 "noise_model": NOISE_ID, "counts": f"results/counts/{cid}.json"}
        job = {**entry, "noise_model": f"noise/{NOISE_ID}.json", "ideal": True}
        run = run_circuit(job, str(dest), str(dest), "CPU")
        write_json(dest / entry["counts"], dict(sorted(run["counts"].items())))
        fidelities[cid] = hellinger_fidelity(probabilities(run["counts"]), run["ideal"])
        circuits.append(entry)
    return circuits, fidelities


def claims(fidelities: dict[str, float]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for cid, fid in fidelities.items():
        out.append({"id": f"{cid}-fidelity", "source": {"circuit": cid},
                    "metric": "hellinger_fidelity", "value": round(fid, 4),
                    "tolerance": {"kind": "absolute", "value": 0.02}})
        out.append({"id": f"{cid}-counts", "source": {"circuit": cid}, "metric": "counts",
                    "tolerance": {"kind": "shot-noise", "alpha": 0.01}})
    out.append({"id": "ghz_5-fidelity-shot-noise", "source": {"circuit": "ghz_5"},
                "metric": "hellinger_fidelity", "value": round(fidelities["ghz_5"], 4),
                "tolerance": {"kind": "shot-noise", "alpha": 0.01}})
    return out


def inventory(dest: Path) -> list[dict[str, Any]]:
    files = sorted(p for p in dest.rglob("*") if p.is_file() and p.name != "qdata.yaml")
    return [{"path": p.relative_to(dest).as_posix(), "sha256": file_sha256(p),
             "size": p.stat().st_size} for p in files]


def manifest(circuits: list[dict[str, Any]], claim_list: list[dict[str, Any]],
             files: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "qdata": 1,
        "identity": {"identifier": {"scheme": "doi", "value": "10.5281/zenodo.7000001"},
                     "title": "Noisy GHZ states, 3 to 8 qubits, on Qiskit Aer",
                     "version": "1.0.0", "created": dt.date(2026, 11, 1)},
        "provenance": {
            "authors": [{"name": "Ada Example", "orcid": "0000-0002-1825-0097",
                         "affiliation": "qrepro reference deposits"}],
            "institution": "qrepro project", "source": "simulator",
            "lineage": [{"description": "generated by benchmarks/deposits/generate_ghz.py"}]},
        "license": {"spdx": "CC-BY-4.0", "commercial_use": True,
                    "redistribution": "with attribution", "embargo_until": None},
        "consent": {"personal_data": False, "basis": "not-applicable"},
        "environment": {"python": "3.11",
                        "requirements": [f"{p}=={importlib.metadata.version(p)}" for p in PINNED]},
        "files": files,
        "noise_models": [{"id": NOISE_ID, "file": f"noise/{NOISE_ID}.json",
                          "format": "qrepro-noise-v1"}],
        "circuits": circuits,
        "claims": claim_list,
    }


def write_deposit(dest: Path, claim_list: list[dict[str, Any]],
                  circuits: list[dict[str, Any]]) -> None:
    text = yaml.safe_dump(manifest(circuits, claim_list, inventory(dest)), sort_keys=False)
    (dest / "qdata.yaml").write_text(text, encoding="utf-8")


def tamper(dest: Path) -> None:
    """Edit one data file after checksumming: 'clean up' the ghz_5 counts."""
    path = dest / "results" / "counts" / "ghz_5.json"
    counts = json.loads(path.read_text(encoding="utf-8"))
    moved = 0
    for key in sorted(counts):
        if key not in ("00000", "11111") and counts[key] > 0:
            moved += counts[key]
            counts[key] = 0
    counts["00000"] += moved // 2
    counts["11111"] += moved - moved // 2
    write_json(path, {k: v for k, v in counts.items() if v})


def overclaim(claim_list: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{**c, "value": 0.97} if c["id"] == "ghz_8-fidelity" else c for c in claim_list]


def main(out: Path) -> None:
    base = out / "ghz-noisy"
    shutil.rmtree(base, ignore_errors=True)
    base.mkdir(parents=True)
    (base / "README.md").write_text(README, encoding="utf-8")
    circuits, fidelities = record(base)
    claim_list = claims(fidelities)
    write_deposit(base, claim_list, circuits)
    for name in ("ghz-noisy-tampered", "ghz-noisy-overclaimed"):
        shutil.rmtree(out / name, ignore_errors=True)
        shutil.copytree(base, out / name)
    tamper(out / "ghz-noisy-tampered")
    write_deposit(out / "ghz-noisy-overclaimed", overclaim(claim_list), circuits)
    print(f"wrote {base}, {out / 'ghz-noisy-tampered'}, {out / 'ghz-noisy-overclaimed'}")


README = """# Noisy GHZ states (qrepro reference deposit)

GHZ circuits on 3 to 8 qubits (H on qubit 0, then a CNOT chain), simulated with Qiskit Aer
under a depolarizing (H: 0.004, CX: 0.02) plus readout (P(1|0)=0.015, P(0|1)=0.025) noise
model, 4000 shots each, one circuit per job, seeds recorded in qdata.yaml.

Claims: the Hellinger fidelity (sum_x sqrt(p_x q_x))^2 of each measured distribution to the
ideal GHZ distribution, and the recorded counts themselves.
"""


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parent)
