"""Generate the comparative GHZ reference deposits: ghz-compare, ghz-compare-reversed.

    python benchmarks/deposits/generate_compare.py [OUTPUT_DIR]     (make deposits)

One GHZ-5 circuit file run as two circuits, ``ghz5_weak`` and ``ghz5_strong``, under a weak
and a strong depolarizing + readout noise model; each is run over 5 seeds (repeated trials,
``seeds:``) with the same procedure the qrepro agent replays (runners/agent/replay.py
``run_circuit``: one circuit per Aer job, statevector method, double precision), so that
with the pinned versions the replay reproduces the recorded counts and per-seed values
exactly. The seeds lie 10,000 apart (more than the 2,000 shots), so that no two trials
share shots (Aer's statevector with noise draws shot i of seed s from seed s + i,
../shared/FACTS.md).

Both deposits hold the same files and differ only in their claims:

* ``ghz-compare``: "weak noise beats strong noise" (comparative, higher Hellinger fidelity
  first) and "the weak-noise fidelity is at least its mean - 0.05" (one-sided); both true.
* ``ghz-compare-reversed``: the reversed order and "at least the weak mean + 0.05"; both
  false.

Each deposit also holds one claim over seeds per circuit (the mean fidelity, with its
per-seed values, sd and TOST), true in both. Deterministic: running it twice gives
byte-identical deposits.
"""

from __future__ import annotations

import datetime as dt
import importlib.metadata
import shutil
import statistics
import sys
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "runners" / "agent"))

from benchmarks.deposits.generate_ghz import ghz_qasm, inventory, write_json  # noqa: E402
from harness.noise.load import load_noise  # noqa: E402
from harness.stats.metrics import hellinger_fidelity, probabilities  # noqa: E402
from runners.agent.replay import run_circuit  # noqa: E402

N_QUBITS = 5
SHOTS = 2000
SEED_TRANSPILER = 7
N_SEEDS = 5
SEED_SPACING = 10_000  # > SHOTS: trials share no shots
QASM = "circuits/ghz_5.qasm"
ONE_SIDED_OFFSET = 0.05
ONE_SIDED_MARGIN = 0.01
TRIAL_TOLERANCE = 0.02
PINNED = ("qiskit", "qiskit-aer", "qiskit-qasm3-import", "numpy")


def noise(h: float, cx: float, p10: float, p01: float) -> dict[str, Any]:
    """Depolarizing after every h and cx, readout P(1|0) = p10, P(0|1) = p01."""
    return {
        "format": "qrepro-noise-v1",
        "num_qubits": N_QUBITS,
        "gate_errors": [
            {"gates": ["h"], "qubits": None, "arity": 1,
             "channels": [{"type": "depolarizing", "p": h}]},
            {"gates": ["cx"], "qubits": None, "arity": 2,
             "channels": [{"type": "depolarizing", "p": cx}]},
        ],
        "readout_errors": [{"qubits": None, "matrix": [[1 - p10, p10], [p01, 1 - p01]]}],
    }


#: circuit id -> (noise id, noise model, first seed)
VARIANTS: dict[str, tuple[str, dict[str, Any], int]] = {
    "ghz5_weak": ("depol-weak", noise(0.002, 0.01, 0.01, 0.015), 100_000),
    "ghz5_strong": ("depol-strong", noise(0.01, 0.05, 0.04, 0.06), 200_000),
}


def seeds_of(cid: str) -> list[int]:
    first = VARIANTS[cid][2]
    return [first + SEED_SPACING * k for k in range(N_SEEDS)]


def r6(x: float) -> float:
    """Six significant digits."""
    return float(f"{float(x):.6g}")


def record(dest: Path) -> tuple[list[dict[str, Any]], dict[str, list[float]]]:
    """Write the circuit, both noise models and the recorded counts; return the circuit
    entries and each circuit's per-seed fidelities (in seed order)."""
    (dest / "circuits").mkdir(parents=True, exist_ok=True)
    (dest / QASM).write_text(ghz_qasm(N_QUBITS), encoding="utf-8", newline="\n")
    circuits, fidelities = [], {}
    for cid, (noise_id, model, _) in VARIANTS.items():
        noise_file = f"noise/{noise_id}.json"
        write_json(dest / noise_file, model)
        load_noise(dest / noise_file, "qrepro-noise-v1", noise_file)  # raises if invalid
        seeds = seeds_of(cid)
        entry = {"id": cid, "file": QASM, "format": "qasm2", "shots": SHOTS,
                 "seed_simulator": seeds[0], "seed_transpiler": SEED_TRANSPILER,
                 "optimization_level": 0, "method": "statevector", "precision": "double",
                 "noise_model": noise_id, "seeds": seeds,
                 "counts": f"results/counts/{cid}.json"}
        values = []
        for seed in seeds:
            job = {**entry, "seed_simulator": seed, "noise_model": noise_file, "ideal": True}
            run = run_circuit(job, str(dest), str(dest), "CPU")
            if run["seed_simulator"] != seed or run["method"] != "statevector":
                raise RuntimeError(f"{cid}: Aer ran seed {run['seed_simulator']}, "
                                   f"{run['method']}")
            if seed == entry["seed_simulator"]:
                write_json(dest / entry["counts"], dict(sorted(run["counts"].items())))
            values.append(hellinger_fidelity(probabilities(run["counts"]), run["ideal"]))
        circuits.append(entry)
        fidelities[cid] = values
    return circuits, fidelities


def trial_claims(fidelities: dict[str, list[float]]) -> list[dict[str, Any]]:
    """The mean fidelity over each circuit's seeds, with its per-seed values (TOST)."""
    out = []
    for cid, values in fidelities.items():
        per_seed = [r6(v) for v in values]
        out.append({"id": f"{cid}-fidelity", "source": {"circuit": cid},
                    "metric": "hellinger_fidelity", "value": r6(statistics.fmean(per_seed)),
                    "spread": {"kind": "sd", "value": r6(statistics.stdev(per_seed)),
                               "n": len(per_seed)},
                    "per_seed": per_seed,
                    "tolerance": {"kind": "absolute", "value": TRIAL_TOLERANCE},
                    "test": "tost"})
    return out


def comparative(claim_id: str, order: list[str]) -> dict[str, Any]:
    return {"id": claim_id, "kind": "comparative", "metric": "hellinger_fidelity",
            "order": [{"circuit": cid} for cid in order], "better": "higher"}


def one_sided(claim_id: str, value: float) -> dict[str, Any]:
    return {"id": claim_id, "kind": "one-sided", "source": {"circuit": "ghz5_weak"},
            "metric": "hellinger_fidelity", "direction": "at_least", "value": value,
            "tolerance": {"kind": "absolute", "value": ONE_SIDED_MARGIN}}


def claim_sets(fidelities: dict[str, list[float]]
               ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(ghz-compare's claims, ghz-compare-reversed's claims)."""
    weak = statistics.fmean(fidelities["ghz5_weak"])
    trials = trial_claims(fidelities)
    honest = [comparative("weak-noise-beats-strong", ["ghz5_weak", "ghz5_strong"]),
              one_sided("fidelity-at-least", round(weak - ONE_SIDED_OFFSET, 3)), *trials]
    false = [comparative("strong-beats-weak-false", ["ghz5_strong", "ghz5_weak"]),
             one_sided("fidelity-at-least-false", round(weak + ONE_SIDED_OFFSET, 3)),
             *trials]
    return honest, false


def manifest(doi: str, title: str, circuits: list[dict[str, Any]],
             claim_list: list[dict[str, Any]], files: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "qdata": 1,
        "identity": {"identifier": {"scheme": "doi", "value": doi}, "title": title,
                     "version": "1.0.0", "created": dt.date(2026, 11, 1)},
        "provenance": {
            "authors": [{"name": "Ada Example", "orcid": "0000-0002-1825-0097",
                         "affiliation": "qrepro reference deposits"}],
            "institution": "qrepro project", "source": "simulator",
            "lineage": [{"description": "generated by benchmarks/deposits/generate_compare.py"}]},
        "license": {"spdx": "CC-BY-4.0", "commercial_use": True,
                    "redistribution": "with attribution", "embargo_until": None},
        "consent": {"personal_data": False, "basis": "not-applicable"},
        "environment": {"python": "3.11",
                        "requirements": [f"{p}=={importlib.metadata.version(p)}" for p in PINNED]},
        "files": files,
        "noise_models": [{"id": noise_id, "file": f"noise/{noise_id}.json",
                          "format": "qrepro-noise-v1"} for noise_id, _, _ in VARIANTS.values()],
        "circuits": circuits,
        "claims": claim_list,
    }


def describe(fidelities: dict[str, list[float]]) -> dict[str, str]:
    """README fields: per-circuit mean, sd and per-seed values."""
    fields = {}
    for cid, values in fidelities.items():
        key = cid.split("_")[1]
        fields[f"{key}_mean"] = f"{statistics.fmean(values):.4f}"
        fields[f"{key}_sd"] = f"{statistics.stdev(values):.4f}"
        fields[f"{key}_values"] = ", ".join(f"{v:.4f}" for v in values)
        fields[f"{key}_seeds"] = ", ".join(str(s) for s in seeds_of(cid))
    return fields


def check(fidelities: dict[str, list[float]]) -> None:
    """The honest claims hold and the false ones do not, by a wide margin."""
    weak, strong = fidelities["ghz5_weak"], fidelities["ghz5_strong"]
    if not min(weak) - max(strong) > 0.1:
        raise RuntimeError(f"weak {weak} and strong {strong} are too close: retune the noise")
    if statistics.stdev(weak) > ONE_SIDED_OFFSET / 5:
        raise RuntimeError(f"weak-noise fidelities vary too much for the one-sided claims: {weak}")


def write(dest: Path, readme: str, doi: str, title: str, circuits: list[dict[str, Any]],
          claim_list: list[dict[str, Any]]) -> None:
    (dest / "README.md").write_text(readme, encoding="utf-8")
    text = yaml.safe_dump(manifest(doi, title, circuits, claim_list, inventory(dest)),
                          sort_keys=False)
    (dest / "qdata.yaml").write_text(text, encoding="utf-8")


def main(out: Path) -> None:
    base = out / "ghz-compare"
    shutil.rmtree(base, ignore_errors=True)
    base.mkdir(parents=True)
    circuits, fidelities = record(base)
    check(fidelities)
    honest, false = claim_sets(fidelities)
    fields = {**describe(fidelities), "at_least": f"{honest[1]['value']:.3f}",
              "above": f"{false[1]['value']:.3f}", "margin": ONE_SIDED_MARGIN,
              "tol": TRIAL_TOLERANCE}
    reversed_dir = out / "ghz-compare-reversed"
    shutil.rmtree(reversed_dir, ignore_errors=True)
    shutil.copytree(base, reversed_dir)
    write(base, README.format(**fields), "10.5281/zenodo.7000031", TITLE, circuits, honest)
    write(reversed_dir, REVERSED_README.format(**fields), "10.5281/zenodo.7000032",
          f"{TITLE} (false comparative claims)", circuits, false)
    print(f"wrote {base}, {reversed_dir}: weak {fields['weak_mean']} +/- {fields['weak_sd']}, "
          f"strong {fields['strong_mean']} +/- {fields['strong_sd']}")


TITLE = "GHZ-5 under weak and strong noise on Qiskit Aer, 5 seeds each"

COMMON = """One OpenQASM 2 circuit, `circuits/ghz_5.qasm` (H on qubit 0, then a CNOT chain, 5
qubits measured), is deposited as two circuits that differ only in their noise model
(qrepro-noise-v1, depolarizing after every `h` and `cx`, then readout error):

| circuit | noise model | h | cx | P(1\\|0) | P(0\\|1) |
|---|---|---|---|---|---|
| `ghz5_weak` | `noise/depol-weak.json` | 0.002 | 0.01 | 0.01 | 0.015 |
| `ghz5_strong` | `noise/depol-strong.json` | 0.01 | 0.05 | 0.04 | 0.06 |

Each circuit ran on Qiskit Aer, one job per seed, 2000 shots, statevector method, double
precision, over 5 seeds (`seeds:`), 10,000 apart so that no two trials share shots (Aer's
statevector with noise draws shot i of seed s from seed s + i). `seed_simulator` is the
first seed; its counts are in `results/counts/`.

Hellinger fidelity (sum_x sqrt(p_x q_x))^2 to the ideal GHZ distribution, per seed:

- `ghz5_weak` (seeds {weak_seeds}): {weak_values}; mean {weak_mean}, sd {weak_sd}
- `ghz5_strong` (seeds {strong_seeds}): {strong_values}; mean {strong_mean}, sd {strong_sd}
"""

README = """# GHZ-5 under weak and strong noise (qrepro reference deposit)

""" + COMMON + """
Claims and the verdicts qrepro must give:

- `weak-noise-beats-strong` (comparative, higher fidelity first: `ghz5_weak`, then
  `ghz5_strong`): **pass**.
- `fidelity-at-least` (one-sided: the `ghz5_weak` fidelity is at least {at_least}, the mean
  minus 0.05, margin {margin}): **pass**.
- `ghz5_weak-fidelity`, `ghz5_strong-fidelity` (the mean over the seeds, with its per-seed
  values and sd, absolute tolerance {tol}, TOST): **pass**.

Expected badges: Available, Functional, Reusable and Results Reproduced.
"""

REVERSED_README = """# GHZ-5 under weak and strong noise, false comparative claims (qrepro)

The files of `ghz-compare`; only the claims differ.

""" + COMMON + """
Claims and the verdicts qrepro must give:

- `strong-beats-weak-false` (comparative, higher fidelity first: `ghz5_strong`, then
  `ghz5_weak`): **fail**: the strong-noise fidelity is the lower one.
- `fidelity-at-least-false` (one-sided: the `ghz5_weak` fidelity is at least {above}, the
  mean plus 0.05, margin {margin}): **fail**.
- `ghz5_weak-fidelity`, `ghz5_strong-fidelity` (the mean over the seeds, with its per-seed
  values and sd, absolute tolerance {tol}, TOST): **pass**.

Expected badges: Available, Functional and Reusable yes; Results Reproduced no.
"""


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parent)
