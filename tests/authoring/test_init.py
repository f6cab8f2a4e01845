"""qrepro init: a folder with an unprepared PennyLane + Aer notebook becomes a deposit whose
qdata.yaml validates, with exact pins, the parameters cell to tag, the seeds found and the
to-do list."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from harness.authoring import commands
from harness.authoring.fixes import FIXES
from harness.errors import ManifestError
from harness.intake.manifest import MANIFEST_NAME, load_manifest, parse_manifest
from tests.authoring.cli import ROOT, qrepro
from tests.conftest import DEPOSITS, base_manifest

AUTHOR = "Ada Example <0000-0002-1825-0097>"


def _cell(kind: str, source: str, tags: tuple[str, ...] = ()) -> dict[str, Any]:
    cell: dict[str, Any] = {"cell_type": kind, "id": f"c{abs(hash(source)) % 10**8}",
                            "metadata": {"tags": list(tags)} if tags else {},
                            "source": source}
    if kind == "code":
        cell.update(outputs=[], execution_count=None)
    return cell


def bell_notebook(tag_parameters: bool = False) -> dict[str, Any]:
    """2 qubits, numpy + pennylane + qiskit_aer, first code cell `seed = 11\\nshots = 256`."""
    tags = ("parameters",) if tag_parameters else ()
    return {"nbformat": 4, "nbformat_minor": 5,
            "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3",
                                        "language": "python"}},
            "cells": [
                _cell("markdown", "# Bell pair fidelity\n\nPennyLane and Aer, 2 qubits."),
                _cell("code", "seed = 11\nshots = 256", tags),
                _cell("code", "import json\n\nimport numpy as np\nimport pennylane as qml\n"
                      "from qiskit import QuantumCircuit\nfrom qiskit_aer import AerSimulator"),
                _cell("code", "%matplotlib inline\nrng = np.random.default_rng(seed)\n"
                      "dev = qml.device('default.qubit', wires=2, shots=shots, seed=seed)\n"
                      "\n@qml.qnode(dev)\ndef bell():\n    qml.Hadamard(wires=0)\n"
                      "    qml.CNOT(wires=[0, 1])\n    return qml.probs(wires=[0, 1])\n\n"
                      "p = bell()"),
                _cell("code", "qc = QuantumCircuit(2)\nqc.h(0)\nqc.cx(0, 1)\nqc.measure_all()\n"
                      "counts = AerSimulator(seed_simulator=seed).run(qc, shots=shots)"
                      ".result().get_counts()\n"
                      "fidelity = (counts.get('00', 0) + counts.get('11', 0)) / shots"),
                _cell("code", "json.dump({'fidelity': fidelity}, open('metrics.json', 'w'))"),
            ]}


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    root = tmp_path / "bell"
    (root / "notebooks" / ".ipynb_checkpoints").mkdir(parents=True)
    (root / "notebooks" / "bell.ipynb").write_text(json.dumps(bell_notebook()))
    (root / "data").mkdir()
    (root / "data" / "angles.csv").write_text("theta\n0.1\n")
    return root


def _pins() -> dict[str, str]:
    return {name: f"{name}=={metadata.version(name)}"
            for name in ("numpy", "pennylane", "qiskit", "qiskit-aer", "papermill", "ipykernel")}


def test_init_scaffolds_an_untagged_notebook(folder: Path) -> None:
    code, out = qrepro("init", str(folder), "--author", AUTHOR, "--license", "CC-BY-4.0")
    assert code == 0, out
    manifest = load_manifest(folder / MANIFEST_NAME)  # validates schema-wise
    assert manifest.license.spdx == "CC-BY-4.0" and manifest.license.commercial_use
    assert manifest.provenance.authors[0].orcid == "0000-0002-1825-0097"
    assert manifest.identity.title == "Bell pair fidelity"
    assert manifest.identity.identifier is None and manifest.identity.version == "0.1.0"
    assert set(_pins().values()) <= set(manifest.environment.requirements)
    assert manifest.environment.python == f"{sys.version_info[0]}.{sys.version_info[1]}"
    (nb,) = manifest.notebooks
    assert (nb.id, nb.path, nb.shots, nb.parameters, nb.seeds) == (
        "bell", "notebooks/bell.ipynb", 256, {}, [])
    assert sorted(f.path for f in manifest.files) == [
        "README.md", "data/angles.csv", "notebooks/bell.ipynb"]
    assert ("tag cell 2 of notebooks/bell.ipynb as parameters (in Jupyter: View > Cell "
            "Toolbar > Tags)") in out
    for seeded in ("cell 4 line 2: np.random.default_rng(seed)",
                   "cell 4 line 3: qml.device('default.qubit', wires=2, shots=shots, seed=seed)",
                   "cell 5 line 5: AerSimulator(seed_simulator=seed)"):
        assert f"notebooks/bell.ipynb {seeded}" in out
    assert re.search(r" 1\. Available: reserve a persistent identifier.*\n"
                     r"    field identity\.identifier in qdata\.yaml", out)
    assert "Reusable: declare the seeds that produced the results in notebooks[0].seeds" in out
    assert "field provenance.institution in qdata.yaml" in out
    assert "Reproduced: state what the paper claims under claims" in out
    assert "defaults for device, noise_model_path, output_dir" in out
    assert f"next: qrepro record {folder / 'notebooks/bell.ipynb'} --seeds 0,1,2,3,4" in out
    _validates_without_manifest_error(folder)


def _validates_without_manifest_error(folder: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "harness", "validate", str(folder)],
                          capture_output=True, text=True, cwd=ROOT, check=False)
    assert proc.returncode == 1, proc.stderr  # findings (identifier, ...), not a bad manifest
    assert "identifier-missing" in proc.stdout and "not-inventoried" not in proc.stdout


def test_init_never_overwrites_without_force(folder: Path) -> None:
    assert qrepro("init", str(folder))[0] == 0
    before = (folder / MANIFEST_NAME).read_text()
    code, out = qrepro("init", str(folder), "--title", "Another title")
    assert code != 0 and "--force" in out
    assert (folder / MANIFEST_NAME).read_text() == before
    code, out = qrepro("init", str(folder), "--title", "Another title", "--force")
    assert code == 0, out
    assert load_manifest(folder / MANIFEST_NAME).identity.title == "Another title"


def test_without_license_and_author_the_gaps_are_marked_and_listed(folder: Path) -> None:
    code, out = qrepro("init", str(folder))
    assert code == 0, out
    manifest = load_manifest(folder / MANIFEST_NAME)
    assert manifest.license.spdx == "NOASSERTION" and manifest.provenance.authors[0].name == "TODO"
    assert "Available: state an open SPDX license" in out
    assert "Reusable: name the authors in provenance.authors" in out


@pytest.mark.parametrize(("option", "value", "words"), [
    ("--license", "CC-BY-FOO-9.9", "Unknown license key"),
    ("--author", "Ada Example <0000-0002-1825-0098>", "fails the ORCID checksum"),
    ("--author", "Ada Example <1234>", "looks like 0000-0002-1825-0097"),
])
def test_bad_license_and_orcid_are_rejected_naming_the_option(
        folder: Path, option: str, value: str, words: str) -> None:
    code, out = qrepro("init", str(folder), option, value)
    assert code == 2
    assert f"'{option}'" in out and words in out
    assert not (folder / MANIFEST_NAME).exists()


def test_the_manifest_checks_the_orcid_checksum() -> None:
    bad = base_manifest()
    bad["provenance"]["authors"][0]["orcid"] = "0000-0002-1825-0098"
    with pytest.raises(ManifestError) as info:
        parse_manifest(bad)
    assert info.value.field == "provenance.authors[0].orcid"
    assert "checksum" in info.value.message
    for name in ("ghz-noisy", "vqc-iris"):  # ORCID's documented example passes
        author = load_manifest(DEPOSITS / name / MANIFEST_NAME).provenance.authors[0]
        assert author.orcid == "0000-0002-1825-0097"


def test_a_tagged_cell_and_a_requirements_file_are_used(folder: Path) -> None:
    nb = bell_notebook(tag_parameters=True)
    nb["cells"][1]["source"] = "seed = 11\nshots = 256\nlayers = 2\noutput_dir = '.'"
    (folder / "notebooks" / "bell.ipynb").write_text(json.dumps(nb))
    (folder / "requirements.txt").write_text(
        "--index-url https://example.org/simple\npennylane==0.45.1\nqiskit-aer==0.18.2\n"
        "numpy>=1.26\n")
    code, out = qrepro("init", str(folder), "--license", "MIT")
    assert code == 0, out
    manifest = load_manifest(folder / MANIFEST_NAME)
    requirements = manifest.environment.requirements
    assert requirements[:3] == ["pennylane==0.45.1", "qiskit-aer==0.18.2", "numpy>=1.26"]
    assert _pins()["papermill"] in requirements and _pins()["qiskit"] in requirements
    assert manifest.notebooks[0].parameters == {"layers": 2}
    assert "parameters cell: cell 2 of notebooks/bell.ipynb (tagged)" in out
    assert "tag cell" not in out
    assert (f"Reusable: pin numpy exactly (numpy=={metadata.version('numpy')} is installed "
            "here); found numpy>=1.26\n    field environment.requirements[2] in qdata.yaml"
            ) in out
    assert "line 1 of requirements.txt was left out" in out


def test_the_license_is_asked_on_a_terminal(folder: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(commands, "interactive", lambda: True)
    result = CliRunner().invoke(commands.init_command(), [str(folder)],
                                input="NOT-A-LICENSE\ncc-by-4.0\n")
    assert result.exit_code == 0, result.output
    assert "Unknown license key" in result.output
    assert yaml.safe_load((folder / MANIFEST_NAME).read_text())["license"]["spdx"] == "CC-BY-4.0"


def _emitted_codes() -> set[str]:
    """Every finding code written in harness/ and runners/ (finding(...), code=...)."""
    pattern = re.compile(r'(?:\bfinding\(|_finding\(|_bad\(|Finding\(|code=)\s*"([a-z][a-z0-9-]+)"')
    codes = {"git-lfs-pointer", "dvc-pointer"}  # f"{pointer}-pointer"
    for folder in ("harness", "runners"):
        for path in (ROOT / folder).rglob("*.py"):
            codes |= set(pattern.findall(path.read_text(encoding="utf-8")))
    return codes - {"error", "warning", "info"}


def test_every_finding_code_has_a_fix() -> None:
    codes = _emitted_codes()
    assert {"checksum-mismatch", "unpinned-requirement", "seed-sensitive"} <= codes
    assert codes - set(FIXES) == set()
