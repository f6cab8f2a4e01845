"""Shared fixtures: small deposits built on the fly."""

from __future__ import annotations

import copy
import hashlib
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
DEPOSITS = ROOT / "benchmarks" / "deposits"

GHZ3 = """OPENQASM 2.0;
include "qelib1.inc";
qreg q[3];
creg c[3];
h q[0];
cx q[0],q[1];
cx q[1],q[2];
measure q[0] -> c[0];
measure q[1] -> c[1];
measure q[2] -> c[2];
"""
GHZ3_QASM3 = """OPENQASM 3.0;
include "stdgates.inc";
qubit[3] q;
bit[3] c;
h q[0];
cx q[0], q[1];
cx q[1], q[2];
c = measure q;
"""
NOISE = {"format": "qrepro-noise-v1", "num_qubits": 3,
         "gate_errors": [{"gates": ["cx"], "qubits": None, "arity": 2,
                          "channels": [{"type": "depolarizing", "p": 0.05}]}],
         "readout_errors": []}
COUNTS = {"000": 480, "111": 470, "001": 20, "110": 30}

BASE: dict[str, Any] = {
    "qdata": 1,
    "identity": {"identifier": {"scheme": "doi", "value": "10.1234/test.1"},
                 "title": "test deposit", "version": "1", "created": "2026-01-01"},
    "provenance": {"authors": [{"name": "T. Ester", "orcid": "0000-0002-1825-0097",
                                "affiliation": "Lab"}],
                   "institution": "Uni", "source": "simulator"},
    "license": {"spdx": "CC-BY-4.0", "commercial_use": True},
    "consent": {"personal_data": False},
    "environment": {"python": "3.11", "requirements": ["qiskit==2.6.2", "qiskit-aer==0.18.2"]},
    "noise_models": [{"id": "n1", "file": "noise/n1.json", "format": "qrepro-noise-v1"}],
    "circuits": [{"id": "ghz3", "file": "circuits/ghz3.qasm", "shots": 1000,
                  "seed_simulator": 11, "seed_transpiler": 3, "noise_model": "n1",
                  "counts": "results/ghz3.json"}],
    "claims": [
        {"id": "fid", "source": {"circuit": "ghz3"}, "metric": "hellinger_fidelity",
         "value": 0.95, "tolerance": {"kind": "absolute", "value": 0.05}},
        {"id": "cnt", "source": {"circuit": "ghz3"}, "metric": "counts",
         "tolerance": {"kind": "shot-noise", "alpha": 0.01}},
    ],
}
BASE_FILES: dict[str, str] = {
    "circuits/ghz3.qasm": GHZ3,
    "noise/n1.json": json.dumps(NOISE),
    "results/ghz3.json": json.dumps(COUNTS),
}


def base_manifest() -> dict[str, Any]:
    return copy.deepcopy(BASE)


def build_deposit(root: Path, manifest: dict[str, Any] | None = None,
                  files: dict[str, str | bytes] | None = None, inventory: bool = True) -> Path:
    """Write files + qdata.yaml (with a computed inventory unless inventory=False)."""
    manifest = base_manifest() if manifest is None else manifest
    files = dict(BASE_FILES) if files is None else files
    root.mkdir(parents=True, exist_ok=True)
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, str):
            content = content.encode()
        path.write_bytes(content)
    if inventory:
        manifest = {**manifest, "files": [
            {"path": rel, "sha256": hashlib.sha256(
                (root / rel).read_bytes()).hexdigest(), "size": (root / rel).stat().st_size}
            for rel in sorted(files)]}
    (root / "qdata.yaml").write_text(yaml.safe_dump(manifest, sort_keys=False))
    return root


@pytest.fixture(scope="session", autouse=True)
def _private_venv_cache(tmp_path_factory: pytest.TempPathFactory) -> None:
    """The local runner's venvs go to a per-session cache, not the user's."""
    import os

    os.environ.setdefault("QREPRO_CACHE", str(tmp_path_factory.mktemp("qrepro-cache")))


@pytest.fixture
def make_deposit(tmp_path: Path) -> Callable[..., Path]:
    def make(manifest: dict[str, Any] | None = None, files: dict[str, str | bytes] | None = None,
             inventory: bool = True, name: str = "deposit") -> Path:
        return build_deposit(tmp_path / name, manifest, files, inventory)
    return make


def unavailable(what: str, why: str) -> NoReturn:
    """A service a test needs is missing: skip locally, fail under CI (CI=true), where the
    Docker, browser and PostgreSQL tests must run (.ci/run installs what they need)."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI must run the {what} tests: {why}")
    pytest.skip(why)
