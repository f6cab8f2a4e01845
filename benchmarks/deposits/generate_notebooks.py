"""Generate the notebook reference deposits: vqc-iris, vqc-iris-broken, qkernel-breast-cancer.

    python benchmarks/deposits/generate_notebooks.py [OUTPUT_DIR]     (make deposits)

Each deposit holds a Jupyter notebook that follows qrepro's notebook contract: the cell
tagged ``parameters`` defines ``seed``, ``shots``, ``device``, ``noise_model_path`` and
``output_dir`` (plus the manifest's ``parameters``), and the notebook writes its metrics to
``output_dir/metrics.json``. The claimed values are recorded by executing each notebook with
papermill once per seed, exactly as qrepro does, and checked to be deterministic (the first
seed is run twice). Data comes from scikit-learn's bundled data sets (no download).

* ``vqc-iris``: a PennyLane variational classifier trained on iris (versicolor vs
  virginica), its test accuracy measured on Qiskit Aer with shots; 5 seeds.
* ``vqc-iris-broken``: the same deposit with a notebook whose training cell (the 4th code
  cell) raises ``RuntimeError``; the claims are those of ``vqc-iris``.
* ``qkernel-breast-cancer``: a fidelity quantum-kernel SVM on breast_cancer, every kernel
  entry estimated on Aer with shots under a depolarizing + readout noise model; 3 seeds.
* ``vqc-cherry-picked``: a PennyLane variational classifier on wine (classes 0 and 1) whose
  test accuracy varies widely from seed to seed; the notebook was run with 20 seeds and
  only the best 5 were deposited (a cherry-picked claim that ``--fresh-seeds`` must flag).

Deterministic: running it twice gives byte-identical deposits (no timestamps, no absolute
paths; notebooks are written with fixed cell ids and no outputs).
"""

from __future__ import annotations

import datetime as dt
import importlib.metadata
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import nbformat
import yaml

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from benchmarks.deposits.generate_ghz import inventory, write_json  # noqa: E402
from harness.noise.load import load_noise  # noqa: E402

AGENT_DIR = ROOT / "runners" / "agent"  # holds aer_noise.py, importable in qrepro's kernel
PINNED = ("qiskit", "qiskit-aer", "pennylane", "scikit-learn", "numpy", "scipy", "papermill",
          "ipykernel")
KERNEL = "python3"
TIMEOUT, CELL_TIMEOUT = 300, 120

VQC_SEEDS = [11, 12, 13, 14, 15]
VQC_SHOTS = 1024
VQC_PARAMETERS = {"n_layers": 2, "steps": 40, "stepsize": 0.1}
VQC_NOTEBOOK = "notebooks/vqc_iris.ipynb"
BROKEN_CODE_CELL = 4  # 1-based index among code cells: the training cell

CHERRY_SEEDS = list(range(1, 21))  # every seed the 'author' ran
CHERRY_KEEP = 5  # the best ones, deposited
CHERRY_SHOTS = 1024
CHERRY_PARAMETERS = {"n_layers": 2, "steps": 12, "stepsize": 0.1}
CHERRY_NOTEBOOK = "notebooks/vqc_wine.ipynb"
CHERRY_N_TEST = 39  # the notebook's test_size
CHERRY_TOLERANCE = round(2 / CHERRY_N_TEST, 4)  # two steps of 1/39

QK_SEEDS = [1, 2, 3]
QK_SHOTS = 256
QK_PARAMETERS = {"C": 1.0}
QK_NOTEBOOK = "notebooks/qkernel_breast_cancer.ipynb"
NOISE_ID = "depol"
NOISE_FILE = "noise/depol.json"
NOISE = {
    "format": "qrepro-noise-v1",
    "num_qubits": 4,
    "gate_errors": [
        {"gates": ["h", "p"], "qubits": None, "arity": 1,
         "channels": [{"type": "depolarizing", "p": 0.001}]},
        {"gates": ["cx"], "qubits": None, "arity": 2,
         "channels": [{"type": "depolarizing", "p": 0.01}]},
    ],
    "readout_errors": [{"qubits": None, "matrix": [[0.98, 0.02], [0.03, 0.97]]}],
}

# --- notebooks ------------------------------------------------------------------------

NB_METADATA = {
    "kernelspec": {"display_name": "Python 3", "language": "python", "name": KERNEL},
    "language_info": {"name": "python"},
}


def contract_cell(seed: int, shots: int, extra: dict[str, Any]) -> str:
    """The parameters cell: qrepro's contract, then the deposit's own parameters."""
    lines = [
        "# Parameters (qrepro injects new values with papermill)",
        f"seed = {seed}  # everything random derives from it",
        f"shots = {shots}  # None: the notebook's default number of shots",
        'device = "CPU"  # Aer device, "CPU" or "GPU"',
        "noise_model_path = None  # qrepro-noise-v1 JSON (canonical form), or None: noiseless",
        'output_dir = "."  # metrics.json is written here',
    ]
    lines += [f"{name} = {value!r}" for name, value in extra.items()]
    return "\n".join(lines)


NOISE_CODE = '''noise_model = None
if noise_model_path is not None:
    from aer_noise import build_noise_model

    with open(noise_model_path, encoding="utf-8") as fh:
        noise_model = build_noise_model(json.load(fh))'''

METRICS_CODE = '''os.makedirs(output_dir, exist_ok=True)
with open(os.path.join(output_dir, "metrics.json"), "w", encoding="utf-8") as fh:
    json.dump(metrics, fh, indent=1, sort_keys=True)
print(metrics)'''

VQC_CELLS: list[tuple[str, str]] = [
    ("markdown", """# Variational quantum classifier on iris (versicolor vs virginica)

Trained with PennyLane `default.qubit` (analytic, autograd, Adam): 4 qubits, `AngleEmbedding`
then `StronglyEntanglingLayers`, prediction = sign of <Z0>. The trained circuit is then
rebuilt gate by gate in Qiskit and its **test accuracy** is measured on Qiskit Aer with
shots. The train/test split is fixed (`random_state=0`); the seed drives the initial
weights and the Aer sampler."""),
    ("parameters", ""),
    ("code", """import json
import os

import numpy as np
import pennylane as qml
from pennylane import numpy as pnp
from qiskit import QuantumCircuit
from qiskit_aer import AerSimulator
from sklearn.datasets import load_iris
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import MinMaxScaler"""),
    ("code", """# Data: versicolor (+1) vs virginica (-1), features scaled to [0, pi] (fit: train).
iris = load_iris()
mask = iris.target > 0
X = iris.data[mask]
y = np.where(iris.target[mask] == 1, 1.0, -1.0)
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=30, stratify=y, random_state=0)
scaler = MinMaxScaler(feature_range=(0.0, np.pi)).fit(X_train)
X_train = scaler.transform(X_train)
X_test = np.clip(scaler.transform(X_test), 0.0, np.pi)
print(len(X_train), "training points,", len(X_test), "test points")"""),
    ("code", """# Training: PennyLane default.qubit (analytic), Adam on the square loss.
n_qubits = 4
dev = qml.device("default.qubit", wires=n_qubits, seed=seed)


@qml.qnode(dev, diff_method="backprop")
def classifier(weights, x):
    qml.AngleEmbedding(x, wires=range(n_qubits))
    qml.StronglyEntanglingLayers(weights, wires=range(n_qubits))
    return qml.expval(qml.PauliZ(0))


features = pnp.array(X_train, requires_grad=False)
labels = pnp.array(y_train, requires_grad=False)


def square_loss(weights):
    return pnp.mean((classifier(weights, features) - labels) ** 2)


rng = np.random.default_rng(seed)
shape = qml.StronglyEntanglingLayers.shape(n_layers=n_layers, n_wires=n_qubits)
weights = pnp.array(rng.uniform(0.0, 2 * np.pi, size=shape), requires_grad=True)
opt = qml.AdamOptimizer(stepsize=stepsize)
for step in range(steps):
    weights, cost = opt.step_and_cost(square_loss, weights)
    if step % 10 == 0:
        print(f"step {step:3d}  loss {float(cost):.4f}")
train_loss = float(square_loss(weights))
print("final training loss", train_loss)"""),
    ("code", """# Evaluation: the same circuit written in Qiskit, <Z0> estimated from Aer counts.
trained = np.asarray(weights, dtype=float)


def qiskit_classifier(x, w):
    \"\"\"RX embedding; per layer Rot = RZ(phi) RY(theta) RZ(omega), then a CNOT ring.\"\"\"
    qc = QuantumCircuit(n_qubits, 1)
    for i in range(n_qubits):
        qc.rx(float(x[i]), i)
    for layer in range(w.shape[0]):
        r = layer % (n_qubits - 1) + 1  # PennyLane's default ranges
        for i in range(n_qubits):
            phi, theta, omega = (float(a) for a in w[layer, i])
            qc.rz(phi, i)
            qc.ry(theta, i)
            qc.rz(omega, i)
        for i in range(n_qubits):
            qc.cx(i, (i + r) % n_qubits)
    qc.measure(0, 0)
    return qc


""" + NOISE_CODE + """

n_shots = 1024 if shots is None else int(shots)
circuits = [qiskit_classifier(x, trained) for x in X_test]
sim = AerSimulator(
    method="statevector", seed_simulator=seed, device=device, noise_model=noise_model
)
counts = sim.run(circuits, shots=n_shots).result().get_counts()
z0 = np.array([(c.get("0", 0) - c.get("1", 0)) / n_shots for c in counts])
test_accuracy = float(np.mean(np.where(z0 >= 0, 1.0, -1.0) == y_test))
print("test accuracy on Aer", test_accuracy)"""),
    ("code", 'metrics = {"test_accuracy": test_accuracy, "train_loss": train_loss}\n'
     + METRICS_CODE),
]

CHERRY_CELLS: list[tuple[str, str]] = [
    ("markdown", """# Variational quantum classifier on wine (class 0 vs class 1)

PennyLane `default.qubit`: 4 qubits, `AngleEmbedding` then `StronglyEntanglingLayers`,
prediction = sign of <Z0>. A short training (Adam on the square loss, analytic gradients)
from random initial weights, then the **test accuracy** with <Z0> estimated from `shots`
samples. The train/test split is fixed (`random_state=0`); the seed drives the initial
weights and the sampler. `device` is not used and no noise model applies (noiseless
PennyLane simulation)."""),
    ("parameters", ""),
    ("code", """import json
import os
import time

import numpy as np
import pennylane as qml
from pennylane import numpy as pnp
from sklearn.datasets import load_wine
from sklearn.decomposition import PCA
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import MinMaxScaler, StandardScaler

if noise_model_path is not None:
    raise ValueError("this notebook simulates without noise: no noise model applies")"""),
    ("code", """# Data: wine class 0 (+1) vs class 1 (-1); StandardScaler, PCA(4), angles in [0, pi]
# (all fit on the training points; test features clipped).
X, y = load_wine(return_X_y=True)
mask = y < 2
X = X[mask]
y = np.where(y[mask] == 0, 1.0, -1.0)
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=39, stratify=y, random_state=0)
standard = StandardScaler().fit(X_train)
pca = PCA(n_components=4, svd_solver="full").fit(standard.transform(X_train))
Z_train = pca.transform(standard.transform(X_train))
Z_test = pca.transform(standard.transform(X_test))
to_angles = MinMaxScaler(feature_range=(0.0, np.pi)).fit(Z_train)
Z_train = to_angles.transform(Z_train)
Z_test = np.clip(to_angles.transform(Z_test), 0.0, np.pi)
print(len(Z_train), "training points,", len(Z_test), "test points")"""),
    ("code", """# Training: analytic expectation values, backprop, Adam on the square loss.
n_qubits = 4
started = time.perf_counter()


def circuit(weights, x):
    qml.AngleEmbedding(x, wires=range(n_qubits))
    qml.StronglyEntanglingLayers(weights, wires=range(n_qubits))
    return qml.expval(qml.PauliZ(0))


classifier = qml.QNode(circuit, qml.device("default.qubit", wires=n_qubits), diff_method="backprop")
features = pnp.array(Z_train, requires_grad=False)
labels = pnp.array(y_train, requires_grad=False)


def square_loss(weights):
    return pnp.mean((classifier(weights, features) - labels) ** 2)


rng = np.random.default_rng(seed)
shape = qml.StronglyEntanglingLayers.shape(n_layers=n_layers, n_wires=n_qubits)
weights = pnp.array(rng.uniform(0.0, 2 * np.pi, size=shape), requires_grad=True)
opt = qml.AdamOptimizer(stepsize=stepsize)
for _ in range(steps):
    weights = opt.step(square_loss, weights)
train_loss = float(square_loss(weights))
print(f"final training loss {train_loss:.4f} after {steps} steps")"""),
    ("code", """# Evaluation: <Z0> of each test point from shots (one call of a seeded sampler)
n_shots = 1024 if shots is None else int(shots)
sampler = qml.QNode(circuit, qml.device("default.qubit", wires=n_qubits, seed=seed))
trained = np.asarray(weights, dtype=float)
z0 = np.asarray(qml.set_shots(sampler, shots=n_shots)(trained, Z_test))
test_accuracy = float(np.mean(np.where(z0 >= 0, 1.0, -1.0) == y_test))
print(f"test accuracy {test_accuracy:.4f}; training + evaluation "
      f"{time.perf_counter() - started:.2f} s")"""),
    ("code", 'metrics = {"test_accuracy": test_accuracy, "train_loss": train_loss}\n'
     + METRICS_CODE),
]

QK_CELLS: list[tuple[str, str]] = [
    ("markdown", """# Fidelity quantum-kernel SVM on breast_cancer, noisy Aer

StandardScaler + PCA to 4 components (fit on the training points), features scaled to
[0, pi]; a fixed subsample of 60 training and 30 test points (`random_state=0`). Kernel
entry k(x, y) = probability of measuring 0000 after U(x) U(y)^dagger, U a ZZ-feature-map-
like circuit; every entry is estimated on Qiskit Aer with shots under the deposit's noise
model (one Aer job). The training kernel's diagonal is set to 1 (not estimated).
`SVC(kernel="precomputed")`. The seed drives the Aer sampler."""),
    ("parameters", ""),
    ("code", """import json
import os

import numpy as np
from qiskit import QuantumCircuit
from qiskit.circuit import ParameterVector
from qiskit_aer import AerSimulator
from sklearn.datasets import load_breast_cancer
from sklearn.decomposition import PCA
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import MinMaxScaler, StandardScaler
from sklearn.svm import SVC"""),
    ("code", """# Data: fixed subsample; StandardScaler, PCA(4), scaling to [0, pi] (fit: train).
X, y = load_breast_cancer(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(
    X, y, train_size=60, test_size=30, stratify=y, random_state=0
)
standard = StandardScaler().fit(X_train)
pca = PCA(n_components=4, svd_solver="full").fit(standard.transform(X_train))
Z_train = pca.transform(standard.transform(X_train))
Z_test = pca.transform(standard.transform(X_test))
to_angles = MinMaxScaler(feature_range=(0.0, np.pi)).fit(Z_train)
Z_train = to_angles.transform(Z_train)
Z_test = np.clip(to_angles.transform(Z_test), 0.0, np.pi)
n_train, n_test = len(Z_train), len(Z_test)
print(n_train, "training points,", n_test, "test points")"""),
    ("code", """# Kernel circuit U(x) U(y)^dagger, one parameter per phase, bound per kernel entry.
n_qubits = 4
pairs = [(i, j) for i in range(n_qubits) for j in range(i + 1, n_qubits)]


def feature_map(theta):
    \"\"\"H and P(x_i) on every qubit, then CX P((pi - x_i)(pi - x_j)) CX for every pair.\"\"\"
    qc = QuantumCircuit(n_qubits)
    for q in range(n_qubits):
        qc.h(q)
        qc.p(theta[q], q)
    for k, (i, j) in enumerate(pairs):
        qc.cx(i, j)
        qc.p(theta[n_qubits + k], j)
        qc.cx(i, j)
    return qc


def phases(Z):
    \"\"\"The phases of U(x) for each row x of Z: x_i, then (pi - x_i)(pi - x_j) per pair.\"\"\"
    zz = [(np.pi - Z[:, i]) * (np.pi - Z[:, j]) for i, j in pairs]
    return np.column_stack([Z, *zz])


theta_x = ParameterVector("x", n_qubits + len(pairs))
theta_y = ParameterVector("y", n_qubits + len(pairs))
kernel_circuit = feature_map(theta_x).compose(feature_map(theta_y).inverse())
kernel_circuit.measure_all()

P_train, P_test = phases(Z_train), phases(Z_test)
upper = np.triu_indices(n_train, k=1)
test_rows, test_cols = np.divmod(np.arange(n_test * n_train), n_train)
left = np.vstack([P_train[upper[0]], P_test[test_rows]])
right = np.vstack([P_train[upper[1]], P_train[test_cols]])
binds = {p: left[:, k].tolist() for k, p in enumerate(theta_x)}
binds.update({p: right[:, k].tolist() for k, p in enumerate(theta_y)})
print(len(left), "kernel circuits")"""),
    ("code", NOISE_CODE + """

n_shots = 256 if shots is None else int(shots)
sim = AerSimulator(
    method="density_matrix",
    seed_simulator=seed,  # kernel entry k is sampled with Aer's derived seed for experiment k
    device=device,
    noise_model=noise_model,
    max_parallel_experiments=0,  # bindings in parallel: same counts, faster
)
result = sim.run(kernel_circuit, shots=n_shots, parameter_binds=[binds]).result()
p_zero = np.array([c.get("0" * n_qubits, 0) / n_shots for c in result.get_counts()])

n_upper = len(upper[0])
K_train = np.eye(n_train)
K_train[upper] = p_zero[:n_upper]
K_train[upper[1], upper[0]] = p_zero[:n_upper]
K_test = p_zero[n_upper:].reshape(n_test, n_train)"""),
    ("code", """svc = SVC(kernel="precomputed", C=C).fit(K_train, y_train)
test_accuracy = float(np.mean(svc.predict(K_test) == y_test))
kernel_offdiag_mean = float(K_train[~np.eye(n_train, dtype=bool)].mean())
metrics = {"test_accuracy": test_accuracy, "kernel_offdiag_mean": kernel_offdiag_mean}
""" + METRICS_CODE),
]


def write_notebook(path: Path, cells: list[tuple[str, str]], parameters: str,
                   broken: str | None = None) -> None:
    """Write a clean nbformat v4 notebook; ``broken`` is raised at the start of code cell
    number ``BROKEN_CODE_CELL``."""
    nb = nbformat.v4.new_notebook(metadata=NB_METADATA)
    n_code = 0
    for i, (kind, source) in enumerate(cells):
        if kind == "markdown":
            cell = nbformat.v4.new_markdown_cell(source)
        else:
            n_code += 1
            if kind == "parameters":
                source = parameters
            if broken is not None and n_code == BROKEN_CODE_CELL:
                source = f"raise RuntimeError({json.dumps(broken)})\n{source}"
            cell = nbformat.v4.new_code_cell(source)
            if kind == "parameters":
                cell.metadata["tags"] = ["parameters"]
        cell["id"] = f"cell-{i:02d}"
        nb.cells.append(cell)
    nbformat.validate(nb)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(nbformat.writes(nb) + "\n", encoding="utf-8", newline="\n")


# --- recording ------------------------------------------------------------------------


@contextmanager
def kernel_pythonpath() -> Iterator[None]:
    """Make ``aer_noise`` importable in papermill's kernel, as it is in qrepro's."""
    old = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (str(AGENT_DIR), old) if p)
    try:
        yield
    finally:
        if old is None:
            os.environ.pop("PYTHONPATH", None)
        else:
            os.environ["PYTHONPATH"] = old


def execute(notebook: Path, seed: int, shots: int, parameters: dict[str, Any],
            noise_model_path: str | None) -> tuple[dict[str, Any], float]:
    """Run the notebook once with papermill; return its metrics and the wall time."""
    import papermill  # imported here: only recording needs it

    with tempfile.TemporaryDirectory(prefix="qrepro-nb-") as tmp:
        injected = {**parameters, "seed": seed, "shots": shots, "device": "CPU",
                    "noise_model_path": noise_model_path, "output_dir": tmp}
        start = time.perf_counter()
        with kernel_pythonpath():
            papermill.execute_notebook(
                str(notebook), str(Path(tmp) / "executed.ipynb"), parameters=injected,
                kernel_name=KERNEL, progress_bar=False, cwd=str(notebook.parent),
                execution_timeout=CELL_TIMEOUT)
        elapsed = time.perf_counter() - start
        metrics = json.loads((Path(tmp) / "metrics.json").read_text(encoding="utf-8"))
    return metrics, elapsed


def record(dest: Path, notebook: str, seeds: list[int], shots: int,
           parameters: dict[str, Any], noise_file: str | None = None
           ) -> list[dict[str, Any]]:
    """Execute the notebook for every seed (the first one twice, to check determinism)."""
    with tempfile.TemporaryDirectory(prefix="qrepro-noise-") as tmp:
        noise_path = None
        if noise_file is not None:
            canonical = load_noise(dest / noise_file, "qrepro-noise-v1", noise_file)
            noise_path = str(Path(tmp) / "noise.json")
            with open(noise_path, "w", encoding="utf-8") as fh:
                json.dump(canonical, fh)
        runs = []
        for seed in seeds:
            metrics, elapsed = execute(dest / notebook, seed, shots, parameters, noise_path)
            print(f"  {dest.name} seed {seed}: {elapsed:.1f} s  {metrics}")
            runs.append(metrics)
        again, elapsed = execute(dest / notebook, seeds[0], shots, parameters, noise_path)
        print(f"  {dest.name} seed {seeds[0]} again: {elapsed:.1f} s  {again}")
        if again != runs[0]:
            raise RuntimeError(f"{notebook} is not deterministic: {runs[0]} then {again}")
    return runs


def r6(x: float) -> float:
    """Six significant digits."""
    return float(f"{float(x):.6g}")


def seed_claim(claim_id: str, notebook_id: str, name: str, values: list[float],
               tolerance: float, step: float | None = None) -> dict[str, Any]:
    """A mean +/- sd claim over seeds, tested by TOST with an absolute margin."""
    claim: dict[str, Any] = {
        "id": claim_id, "source": {"notebook": notebook_id}, "metric": "notebook_metric",
        "name": name, "value": r6(statistics.fmean(values)),
        "spread": {"kind": "sd", "value": r6(statistics.stdev(values)), "n": len(values)},
        "per_seed": [r6(v) for v in values],
        "tolerance": {"kind": "absolute", "value": tolerance}, "test": "tost"}
    if step is not None:
        claim["step"] = step
    return claim


# --- manifests ------------------------------------------------------------------------


def manifest(doi: str, title: str, notebook: dict[str, Any], claims: list[dict[str, Any]],
             files: list[dict[str, Any]], noise_models: list[dict[str, Any]] | None = None
             ) -> dict[str, Any]:
    data: dict[str, Any] = {
        "qdata": 1,
        "identity": {"identifier": {"scheme": "doi", "value": doi}, "title": title,
                     "version": "1.0.0", "created": dt.date(2026, 11, 1)},
        "provenance": {
            "authors": [{"name": "Ada Example", "orcid": "0000-0002-1825-0097",
                         "affiliation": "qrepro reference deposits"}],
            "institution": "qrepro project", "source": "simulator",
            "lineage": [{"description": "generated by benchmarks/deposits/"
                                        "generate_notebooks.py"}]},
        "license": {"spdx": "CC-BY-4.0", "commercial_use": True,
                    "redistribution": "with attribution", "embargo_until": None},
        "consent": {"personal_data": False, "basis": "not-applicable"},
        "environment": {"python": "3.11",
                        "requirements": [f"{p}=={importlib.metadata.version(p)}"
                                         for p in PINNED]},
        "files": files,
    }
    if noise_models:
        data["noise_models"] = noise_models
    data["notebooks"] = [notebook]
    data["claims"] = claims
    return data


def notebook_entry(nb_id: str, path: str, parameters: dict[str, Any], seeds: list[int],
                   shots: int, noise_model: str | None = None) -> dict[str, Any]:
    entry: dict[str, Any] = {"id": nb_id, "path": path, "parameters": parameters,
                             "seeds": seeds, "shots": shots}
    if noise_model is not None:
        entry["noise_model"] = noise_model
    entry.update({"timeout": TIMEOUT, "cell_timeout": CELL_TIMEOUT, "metrics": "metrics.json"})
    return entry


def write_manifest(dest: Path, data: dict[str, Any]) -> None:
    data = {**data, "files": inventory(dest)}
    (dest / "qdata.yaml").write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")


def fresh(dest: Path) -> Path:
    shutil.rmtree(dest, ignore_errors=True)
    dest.mkdir(parents=True)
    return dest


def summary(claims: list[dict[str, Any]]) -> str:
    return "\n".join(f"- `{c['name']}`: {c['value']} +/- {c['spread']['value']} (sd over "
                     f"{c['spread']['n']} seeds; per seed {c['per_seed']}), tolerance "
                     f"+/- {c['tolerance']['value']}, TOST" for c in claims)


# --- the deposits ---------------------------------------------------------------------


def vqc_deposit(out: Path) -> list[dict[str, Any]]:
    dest = fresh(out / "vqc-iris")
    params = contract_cell(VQC_SEEDS[0], VQC_SHOTS, VQC_PARAMETERS)
    write_notebook(dest / VQC_NOTEBOOK, VQC_CELLS, params)
    runs = record(dest, VQC_NOTEBOOK, VQC_SEEDS, VQC_SHOTS, VQC_PARAMETERS)
    claims = [seed_claim("vqc-test-accuracy", "vqc", "test_accuracy",
                         [r["test_accuracy"] for r in runs], 0.05, 1 / 30)]
    (dest / "README.md").write_text(VQC_README.format(claims=summary(claims)), encoding="utf-8")
    entry = notebook_entry("vqc", VQC_NOTEBOOK, VQC_PARAMETERS, VQC_SEEDS, VQC_SHOTS)
    write_manifest(dest, manifest("10.5281/zenodo.7000011", VQC_TITLE, entry, claims, []))
    return claims


def broken_deposit(out: Path, claims: list[dict[str, Any]]) -> None:
    dest = fresh(out / "vqc-iris-broken")
    params = contract_cell(VQC_SEEDS[0], VQC_SHOTS, VQC_PARAMETERS)
    write_notebook(dest / VQC_NOTEBOOK, VQC_CELLS, params,
                   broken="deliberately broken: the training cell fails before training")
    (dest / "README.md").write_text(BROKEN_README.format(claims=summary(claims)),
                                    encoding="utf-8")
    entry = notebook_entry("vqc", VQC_NOTEBOOK, VQC_PARAMETERS, VQC_SEEDS, VQC_SHOTS)
    write_manifest(dest, manifest("10.5281/zenodo.7000012", f"{VQC_TITLE} (broken notebook)",
                                  entry, claims, []))


def qkernel_deposit(out: Path) -> None:
    dest = fresh(out / "qkernel-breast-cancer")
    write_json(dest / NOISE_FILE, NOISE)
    load_noise(dest / NOISE_FILE, "qrepro-noise-v1", NOISE_FILE)  # raises if invalid
    params = contract_cell(QK_SEEDS[0], QK_SHOTS, QK_PARAMETERS)
    write_notebook(dest / QK_NOTEBOOK, QK_CELLS, params)
    runs = record(dest, QK_NOTEBOOK, QK_SEEDS, QK_SHOTS, QK_PARAMETERS, NOISE_FILE)
    claims = [
        seed_claim("qkernel-test-accuracy", "qkernel", "test_accuracy",
                   [r["test_accuracy"] for r in runs], 0.05, 1 / 30),
        seed_claim("qkernel-offdiag-mean", "qkernel", "kernel_offdiag_mean",
                   [r["kernel_offdiag_mean"] for r in runs], 0.01),
    ]
    (dest / "README.md").write_text(QK_README.format(claims=summary(claims)), encoding="utf-8")
    entry = notebook_entry("qkernel", QK_NOTEBOOK, QK_PARAMETERS, QK_SEEDS, QK_SHOTS, NOISE_ID)
    noise_models = [{"id": NOISE_ID, "file": NOISE_FILE, "format": "qrepro-noise-v1"}]
    write_manifest(dest, manifest("10.5281/zenodo.7000013", QK_TITLE, entry, claims, [],
                                  noise_models))


def cherry_deposit(out: Path) -> None:
    """Run the notebook with 20 seeds, deposit only the best 5 (ties: the smaller seed)."""
    dest = fresh(out / "vqc-cherry-picked")
    write_notebook(dest / CHERRY_NOTEBOOK, CHERRY_CELLS,
                   contract_cell(CHERRY_SEEDS[0], CHERRY_SHOTS, CHERRY_PARAMETERS))
    runs = record(dest, CHERRY_NOTEBOOK, CHERRY_SEEDS, CHERRY_SHOTS, CHERRY_PARAMETERS)
    accuracy = {s: float(r["test_accuracy"]) for s, r in zip(CHERRY_SEEDS, runs, strict=True)}
    ranked = sorted(CHERRY_SEEDS, key=lambda s: (-accuracy[s], s))
    best = sorted(ranked[:CHERRY_KEEP])
    # the notebook's own default seed is the first deposited one
    write_notebook(dest / CHERRY_NOTEBOOK, CHERRY_CELLS,
                   contract_cell(best[0], CHERRY_SHOTS, CHERRY_PARAMETERS))
    claims = [seed_claim("vqc-test-accuracy", "vqc", "test_accuracy",
                         [accuracy[s] for s in best], CHERRY_TOLERANCE, 1 / CHERRY_N_TEST)]
    every = list(accuracy.values())
    kept = [accuracy[s] for s in best]
    table = "\n".join(f"| {s} | {accuracy[s]:.4f} | {'yes' if s in best else 'no'} |"
                       for s in CHERRY_SEEDS)
    readme = CHERRY_README.format(
        claims=summary(claims), n_all=len(every), all_mean=statistics.fmean(every),
        all_sd=statistics.stdev(every), all_min=min(every), all_max=max(every),
        n_best=len(kept), best_mean=statistics.fmean(kept), best_sd=statistics.stdev(kept),
        best=", ".join(str(s) for s in best), table=table)
    (dest / "README.md").write_text(readme, encoding="utf-8")
    entry = notebook_entry("vqc", CHERRY_NOTEBOOK, CHERRY_PARAMETERS, best, CHERRY_SHOTS)
    write_manifest(dest, manifest("10.5281/zenodo.7000014", CHERRY_TITLE, entry, claims, []))
    print(f"  vqc-cherry-picked: {len(every)} seeds {statistics.fmean(every):.4f} +/- "
          f"{statistics.stdev(every):.4f}; best {len(kept)} (seeds {best}) "
          f"{statistics.fmean(kept):.4f} +/- {statistics.stdev(kept):.4f}")


def main(out: Path) -> None:
    claims = vqc_deposit(out)
    broken_deposit(out, claims)
    qkernel_deposit(out)
    cherry_deposit(out)
    names = ("vqc-iris", "vqc-iris-broken", "qkernel-breast-cancer", "vqc-cherry-picked")
    print("wrote " + ", ".join(str(out / n) for n in names))


VQC_TITLE = "Variational quantum classifier on iris, trained with PennyLane, tested on Aer"
QK_TITLE = "Fidelity quantum-kernel SVM on breast_cancer under Aer noise"
CHERRY_TITLE = "Variational quantum classifier on wine, best 5 of 20 seeds (cherry-picked)"

VQC_README = """# Variational quantum classifier on iris (qrepro reference deposit)

`notebooks/vqc_iris.ipynb` trains a 4-qubit variational classifier (PennyLane
`default.qubit`, analytic; `AngleEmbedding` + 2 `StronglyEntanglingLayers`; Adam, 40
steps, step size 0.1, square loss) to separate iris versicolor (+1) from virginica (-1), then
rebuilds the trained circuit in Qiskit and measures the test accuracy (sign of <Z0>
estimated from 1024 shots) on Qiskit Aer (statevector method, `seed_simulator` = seed).

Data: scikit-learn's bundled iris (no download), classes 1 and 2, the 4 features scaled to
[0, pi] by a min-max scaler fit on the training set (test features clipped); a fixed
stratified split with `random_state=0`: 70 training points, 30 test points. The seed only
drives the initial weights (`np.random.default_rng(seed)`) and the Aer sampler.

The notebook follows qrepro's notebook contract: its cell tagged `parameters` defines
`seed`, `shots`, `device`, `noise_model_path`, `output_dir` and `n_layers`, `steps`,
`stepsize`; it writes `test_accuracy` and `train_loss` to `output_dir/metrics.json`.

Claims (seeds 11 to 15, recorded by executing the notebook with papermill):

{claims}
"""

BROKEN_README = """# Variational quantum classifier on iris, broken notebook (qrepro reference)

The `vqc-iris` deposit with one deliberate defect: in `notebooks/vqc_iris.ipynb` the
**training cell** (the 4th code cell; index 4 counting all cells from 0, the title cell
included) raises `RuntimeError("deliberately broken: ...")` in its first line, before the
`# Training:` code, so no execution reaches the evaluation and no `metrics.json` is written.
The claims are copied from `vqc-iris`; qrepro must report the notebook as failed (and the
claims as not reproduced), not crash.

Claims (copied from `vqc-iris`):

{claims}
"""

QK_README = """# Fidelity quantum-kernel SVM on breast_cancer under noise (qrepro reference deposit)

`notebooks/qkernel_breast_cancer.ipynb` classifies scikit-learn's bundled breast_cancer data
(no download) with a quantum-kernel SVM (`SVC(kernel="precomputed", C=1.0)`).

- Data: a fixed stratified subsample of 60 training and 30 test points (`random_state=0`,
  independent of the seed); StandardScaler + PCA to 4 components, then min-max scaling to
  [0, pi], all fit on the training points (test features clipped to [0, pi]).
- Feature map U(x) on 4 qubits (ZZ-feature-map-like, one repetition): H and P(x_i) on every
  qubit, then CX(i, j) P((pi - x_i)(pi - x_j)) on j CX(i, j) for all 6 pairs i < j.
- Kernel: k(x, y) = probability of measuring 0000 after U(x) U(y)^dagger, estimated from 256
  shots on Qiskit Aer (density_matrix method, `seed_simulator` = seed) under the noise model
  `noise/depol.json` (qrepro-noise-v1: depolarizing 0.001 after every h and p, 0.01 after
  every cx, readout P(1|0) = 0.02, P(0|1) = 0.03). The 1770 upper-triangle training entries
  and the 30 x 60 test entries are 3570 bindings of one parameterized circuit, run as one
  Aer job; the training kernel's diagonal is set to 1.

Metrics written to `output_dir/metrics.json`: `test_accuracy` and `kernel_offdiag_mean` (the
mean of the off-diagonal training-kernel entries). The seed drives only the Aer sampler.

Claims (seeds 1 to 3, recorded by executing the notebook with papermill):

{claims}
"""

CHERRY_README = """# Variational quantum classifier on wine, cherry-picked seeds (qrepro reference)

`notebooks/vqc_wine.ipynb` trains a 4-qubit variational classifier (PennyLane
`default.qubit`; `AngleEmbedding` + 2 `StronglyEntanglingLayers`; Adam, 12 steps, step
size 0.1, square loss, analytic gradients) to separate wine class 0 (+1) from class 1
(-1), then measures the test accuracy with the sign of <Z0> estimated from 1024 shots
(`default.qubit` sampler seeded with the seed). Such a short training from random initial
weights often stops in a poor solution, so the accuracy varies widely from seed to seed.

Data: scikit-learn's bundled wine data (no download), classes 0 and 1 (130 samples); a
fixed stratified split with `random_state=0`: 91 training points, 39 test points (the
accuracy moves in steps of 1/39 = 0.0256); StandardScaler, PCA to 4 components and min-max
scaling to [0, pi], all fit on the training points (test features clipped). The seed drives
the initial weights (`np.random.default_rng(seed)`) and the sampler.

The notebook follows qrepro's notebook contract (parameters cell with `seed`, `shots`,
`device`, `noise_model_path`, `output_dir`, `n_layers`, `steps`, `stepsize`; it writes
`test_accuracy` and `train_loss` to `output_dir/metrics.json`).

**This deposit is cherry-picked on purpose.** The notebook was executed with the
{n_all} seeds 1 to {n_all}:

| seed | test accuracy | deposited |
|---|---|---|
{table}

- all {n_all} seeds: mean {all_mean:.4f}, sd {all_sd:.4f} (from {all_min:.4f} to {all_max:.4f});
- the best {n_best} (seeds {best}), which alone are deposited: mean {best_mean:.4f}, sd
  {best_sd:.4f}.

Claim (the deposited seeds, recorded by executing the notebook with papermill):

{claims}

Verdicts qrepro must give: a plain evaluation replays the deposited seeds, reproduces
their accuracies exactly and **passes** the claim (Available, Functional, Reusable and
Results Reproduced). With `--fresh-seeds 10` the claim must be flagged
**seed-sensitive**: on fresh seeds the accuracy is typically {all_mean:.2f} +/-
{all_sd:.2f}, and the deposited seeds are too good and too alike to be a random draw
(with the default seed policy `strict`, Results Reproduced is then denied).
"""


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parent)
