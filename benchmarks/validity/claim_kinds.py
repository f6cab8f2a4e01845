"""Validity of the claim kinds and of the seed-honesty checks, measured (make validity).

Populations come from real Aer runs, loaded the agent's way (runners/agent/replay.py):

* GHZ-4 under the ghz-noisy model ("strong"), the same model at half ("weak") and at twice
  ("stronger") the error rates: Hellinger fidelity to the ideal distribution, 1000 shots, on
  POOL seeds spaced far more than the shot count apart (so that no two share shots);
* width-4 Quantum Volume model circuits under a depolarizing + readout model: heavy-output
  probability, 500 shots each.

Each trial draws a deposit from a population and decides it with the very functions the
claim kinds call (harness.stats.aggregate, one_sided, comparative, quantum_volume). A claim
is "honest" when it states the population's value with the tolerance docs/statistics.md
recommends (its 95%-power margin rounded up: 4 standard errors for a mean over 100
circuits, 4.5 for a one-sided claim over 5 seeds), and "false" when its value lies 3
standard errors outside that tolerance, its order is reversed, or its circuits do not meet
the QV bound.

Seed honesty: six-circuit GHZ deposits (3 to 8 qubits, as benchmarks/deposits/ghz-noisy)
whose recorded counts come from other seeds than the declared ones (random, or each off by
one) are caught when the replay with the declared seeds differs from the recorded counts on
at least one circuit, the test of harness.claims.bit_identity. Honest deposits with
consecutive seeds (which share shots) are checked against fresh seeds with and without the
correlated-seeds rule.
"""

from __future__ import annotations

import math
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.deposits.generate_ghz import NOISE, ghz_qasm, write_json
from benchmarks.validity.study import weaker
from harness.stats.aggregate import aggregate
from harness.stats.comparative import Arm, compare_order
from harness.stats.metrics import heavy_output_probability, hellinger_fidelity, probabilities
from harness.stats.one_sided import one_sided
from harness.stats.quantum_volume import qv_criterion
from runners.agent.replay import ideal_distribution, load_circuit, load_noise

POOL, QV_POOL, SHOTS, N_SEEDS, GROUP, FALSE_SE = 150, 100, 1000, 5, 100, 3.0
#: margins in standard errors: docs/statistics.md's 95%-power values rounded up to a half
TOL_SE, ONE_SIDED_SE = 4.0, 4.5  # two-sided over 100 circuits (3.7); one-sided, 5 seeds (4.1)
SPACING = 1_000_003  # seeds this far apart share no shots
QV_NOISE = {
    "format": "qrepro-noise-v1", "num_qubits": 4,
    "gate_errors": [
        {"gates": ["u", "u3", "u2", "u1", "rz", "sx", "x"], "qubits": None, "arity": 1,
         "channels": [{"type": "depolarizing", "p": 0.002}]},
        {"gates": ["cx"], "qubits": None, "arity": 2,
         "channels": [{"type": "depolarizing", "p": 0.035}]}],
    "readout_errors": [{"qubits": None, "matrix": [[0.98, 0.02], [0.03, 0.97]]}],
}


class Lab:
    """Runs circuits the way the agent replays them (one circuit per Aer job)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._prepared: dict[tuple[str, str], tuple[Any, Any, dict[str, float] | None]] = {}
        write_json(root / "strong.json", NOISE)
        write_json(root / "weak.json", weaker(NOISE))
        write_json(root / "stronger.json", weaker(NOISE, 2.0))
        write_json(root / "qv.json", QV_NOISE)
        for n in range(3, 9):
            (root / f"ghz{n}.qasm").write_text(ghz_qasm(n), encoding="utf-8")

    def run(self, file: str, seed: int, noise: str, shots: int = SHOTS) -> dict[str, Any]:
        """What run_circuit gives for this job (its loading, noise model and transpilation
        done once per circuit and noise model, then only the seed changes)."""
        key = (file, noise)
        if key not in self._prepared:
            from qiskit import transpile
            from qiskit_aer import AerSimulator

            circuit = load_circuit(str(self.root / file), "qasm2")
            simulator = AerSimulator(method="statevector", precision="double", device="CPU",
                                     noise_model=load_noise(str(self.root / noise)))
            compiled = transpile(circuit, simulator, seed_transpiler=7, optimization_level=0)
            self._prepared[key] = (simulator, compiled, ideal_distribution(circuit))
        simulator, compiled, ideal = self._prepared[key]
        result = simulator.run(compiled, shots=shots, seed_simulator=seed).result()
        counts = {str(k).replace(" ", ""): int(v) for k, v in result.get_counts(0).items()}
        return {"counts": counts, "ideal": ideal}

    def fidelity(self, seed: int, noise: str) -> float:
        run = self.run("ghz4.qasm", seed, noise)
        return hellinger_fidelity(probabilities(run["counts"]), run["ideal"])

    def qv_hops(self, n: int, rng: np.random.Generator) -> list[float]:
        from qiskit import qasm2, transpile
        from qiskit.circuit.library import QuantumVolume

        hops = []
        for i in range(n):
            qc = QuantumVolume(4, 4, seed=int(rng.integers(2**31)))
            qc.measure_all()
            tqc = transpile(qc, basis_gates=["u", "cx"], optimization_level=0,
                            seed_transpiler=7)
            (self.root / f"qv{i}.qasm").write_text(qasm2.dumps(tqc), encoding="utf-8")
            run = self.run(f"qv{i}.qasm", SPACING * (i + 1), "qv.json", shots=500)
            hops.append(heavy_output_probability(probabilities(run["counts"]), run["ideal"]))
        return hops


def _rate(trials: int, decide: Callable[[], bool]) -> float:
    return sum(decide() for _ in range(trials)) / trials


def kinds_study(lab: Lab, rng: np.random.Generator, trials: int) -> dict[str, Any]:
    seeds = [SPACING * (k + 1) for k in range(POOL)]
    strong = np.array([lab.fidelity(s, "strong.json") for s in seeds])
    weak = np.array([lab.fidelity(s, "weak.json") for s in seeds])
    hops = np.array(lab.qv_hops(QV_POOL, rng))
    rows: dict[str, dict[str, Any]] = {}

    # aggregate: mean heavy-output probability over GROUP circuits drawn from the population
    se_group = hops.std(ddof=1) / math.sqrt(GROUP)
    margin = TOL_SE * se_group

    def agg(shift: float) -> bool:
        group = rng.choice(hops, GROUP, replace=True)
        return aggregate(group, "mean", hops.mean() + shift, margin).verdict == "pass"

    rows["aggregate mean, honest"] = {"n": trials, "pass": _rate(trials, lambda: agg(0.0))}
    rows["aggregate mean, false (3 se outside)"] = {
        "n": trials, "pass": _rate(trials, lambda: agg(margin + FALSE_SE * se_group))}

    # one-sided: "fidelity at least b" over N_SEEDS seeds
    se5 = strong.std(ddof=1) / math.sqrt(N_SEEDS)

    def at_least(bound: float) -> bool:
        x = rng.choice(strong, N_SEEDS, replace=False)
        return one_sided(float(x.mean()), float(x.std(ddof=1) / math.sqrt(N_SEEDS)),
                         N_SEEDS - 1, N_SEEDS, bound, 0.0, "at_least").verdict == "pass"

    rows["one-sided at least, honest"] = {
        "n": trials, "pass": _rate(trials, lambda: at_least(strong.mean() - ONE_SIDED_SE * se5))}
    rows["one-sided at least, false (3 se above)"] = {
        "n": trials, "pass": _rate(trials, lambda: at_least(strong.mean() + FALSE_SE * se5))}

    # comparative: weak noise beats strong noise, paired by seed
    def order(first: np.ndarray, second: np.ndarray) -> bool:
        idx = rng.choice(POOL, N_SEEDS, replace=False)
        picked = [seeds[i] for i in idx]
        arms = [Arm("first", list(first[idx]), picked), Arm("second", list(second[idx]), picked)]
        return compare_order(arms).verdict == "pass"

    diff = weak - strong
    rows["comparative, honest (weak beats strong)"] = {
        "n": trials, "pass": _rate(trials, lambda: order(weak, strong)),
        "note": f"true difference {diff.mean():.4f} = "
                f"{diff.mean() / (diff.std(ddof=1) / math.sqrt(N_SEEDS)):.1f} se"}
    rows["comparative, false (order reversed)"] = {
        "n": trials, "pass": _rate(trials, lambda: order(strong, weak))}

    # rank order of three: weak > strong > twice the strong model's error rates
    stronger = np.array([lab.fidelity(s, "stronger.json") for s in seeds])

    def rank(first: np.ndarray, second: np.ndarray, third: np.ndarray) -> bool:
        idx = rng.choice(POOL, N_SEEDS, replace=False)
        picked = [seeds[i] for i in idx]
        arms = [Arm(str(k), list(a[idx]), picked) for k, a in enumerate((first, second, third))]
        return compare_order(arms).verdict == "pass"

    rows["rank order of three, honest"] = {
        "n": trials, "pass": _rate(trials, lambda: rank(weak, strong, stronger))}
    rows["rank order of three, false (two swapped)"] = {
        "n": trials, "pass": _rate(trials, lambda: rank(weak, stronger, strong))}
    rows["quantum volume, below the bound"] = {
        "n": trials, "pass": _rate(trials, lambda: qv_criterion(
            rng.choice(hops, GROUP, replace=True), 16).verdict == "pass"),
        "note": f"population mean HOP {hops.mean():.3f}"}
    return {"rows": rows, "populations": {
        "ghz4_strong": {"mean": float(strong.mean()), "sd": float(strong.std(ddof=1))},
        "ghz4_weak": {"mean": float(weak.mean()), "sd": float(weak.std(ddof=1))},
        "qv4_hop": {"mean": float(hops.mean()), "sd": float(hops.std(ddof=1))}}}


def consecutive_seeds_study(lab: Lab, rng: np.random.Generator, deposits: int,
                            fresh: int = 10) -> dict[str, Any]:
    """Honest GHZ-4 deposits with seeds s..s+4 (they share shots under a noisy statevector),
    checked against fresh seeds: how often they are called seed-sensitive, with the
    correlated-seeds rule (harness.intake.correlated_seeds) and without it."""
    from harness.claims.seed_sensitivity import seed_check
    from harness.intake.correlated_seeds import close_pairs

    flagged = naive = 0
    for _ in range(deposits):
        start = int(rng.integers(1, 2**31 - 10**7))
        deposited_seeds = list(range(start, start + N_SEEDS))
        values = [lab.fidelity(s, "strong.json") for s in deposited_seeds]
        fresh_values = [lab.fidelity(start + SPACING * (k + 1), "strong.json")
                        for k in range(fresh)]
        correlated = bool(close_pairs(deposited_seeds, SHOTS))
        claimed = float(np.mean(values))
        flagged += seed_check(claimed, values, fresh_values, correlated=correlated).flagged
        naive += seed_check(claimed, values, fresh_values, correlated=False).flagged
    return {"deposits": deposits, "fresh": fresh, "flagged": flagged / deposits,
            "flagged_without_the_rule": naive / deposits}


def wrong_seeds_study(lab: Lab, rng: np.random.Generator, deposits: int) -> dict[str, Any]:
    """Share of six-circuit GHZ deposits with wrong recorded seeds whose replay with the
    declared seeds differs from the recorded counts on at least one circuit."""
    out: dict[str, Any] = {}
    for name, wrong in (("random other seed", lambda s: s + int(rng.integers(1, 10**6))),
                        ("off by one", lambda s: s + 1)):
        caught = circuits_differ = total = 0
        for _ in range(deposits):
            any_differs = False
            for n in range(3, 9):
                true_seed = int(rng.integers(1, 2**31 - 10**6))
                recorded = lab.run(f"ghz{n}.qasm", true_seed, "strong.json")["counts"]
                replay = lab.run(f"ghz{n}.qasm", wrong(true_seed), "strong.json")["counts"]
                differs = recorded != replay
                any_differs |= differs
                circuits_differ += differs
                total += 1
            caught += any_differs
        out[name] = {"deposits": deposits, "caught": caught / deposits,
                     "circuits_caught": circuits_differ / total}
    return out


def run(trials: int = 1000, deposits: int = 40, seed: int = 2026) -> dict[str, Any]:
    start = time.perf_counter()
    rng = np.random.default_rng(seed)
    with tempfile.TemporaryDirectory(prefix="qrepro-kinds-") as tmp:
        lab = Lab(Path(tmp))
        result = kinds_study(lab, rng, trials)
        result["wrong_seeds"] = wrong_seeds_study(lab, rng, deposits)
        result["consecutive_seeds"] = consecutive_seeds_study(lab, rng, deposits)
    result["settings"] = {"trials": trials, "pool": POOL, "seeds": N_SEEDS, "group": GROUP,
                          "tolerance_se": TOL_SE, "one_sided_se": ONE_SIDED_SE,
                          "false_shift_se": FALSE_SE}
    result["wall_s"] = round(time.perf_counter() - start, 1)
    return result


def markdown(result: dict[str, Any]) -> str:
    lines = ["| case | trials | pass rate (badge) | note |", "|---|---|---|---|"]
    for case, row in result["rows"].items():
        lines.append(f"| {case} | {row['n']} | {row['pass']:.1%} | {row.get('note', '')} |")
    lines += ["", "| wrong recorded seeds (six GHZ circuits, 1000 shots) | deposits | "
              "deposits caught | circuits caught |", "|---|---|---|---|"]
    for case, row in result["wrong_seeds"].items():
        lines.append(f"| {case} | {row['deposits']} | {row['caught']:.1%} | "
                     f"{row['circuits_caught']:.1%} |")
    c = result["consecutive_seeds"]
    lines += ["", "| honest deposits with consecutive seeds (share shots) | deposits | "
              "called seed-sensitive | without the correlated-seeds rule |",
              "|---|---|---|---|",
              f"| GHZ-4, seeds s..s+4, --fresh-seeds {c['fresh']} | {c['deposits']} | "
              f"{c['flagged']:.1%} | {c['flagged_without_the_rule']:.1%} |"]
    s = result["settings"]
    lines += ["", f"Honest margins: {s['tolerance_se']:g} standard errors (aggregate), "
              f"{s['one_sided_se']:g} (one-sided); false claims "
              f"{s['false_shift_se']:g} standard errors outside it; {s['seeds']} seeds per "
              f"deposit, groups of {s['group']} circuits, populations of {s['pool']} Aer runs; "
              f"wall time {result['wall_s']} s on this machine."]
    return "\n".join(lines)
