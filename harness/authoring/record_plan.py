"""What ``qrepro record`` decides before it runs anything: the request, the deposit above the
notebook, the plan of the runs (parameters, shots, timeouts), and the plain records the
later steps fill in (captures, what is written, the summary)."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.authoring import record_claims as rc
from harness.authoring.record_run import (
    RESERVED,
    Parameters,
)
from harness.errors import AuthoringError
from harness.intake.manifest import MANIFEST_NAME, Manifest

SECTIONS = ("qdata", "identity", "provenance", "license", "consent", "environment", "files",
            "noise_models", "circuits", "notebooks", "claims")
METHODS = frozenset({"automatic", "statevector", "density_matrix", "stabilizer",
                     "matrix_product_state", "extended_stabilizer", "unitary", "superop",
                     "tensor_network"})
RECORD_FILE = "record.json"
DEFAULT_TIMEOUT, DEFAULT_CELL_TIMEOUT = 600, 300

Echo = Callable[[str], None]


@dataclass(frozen=True)
class RecordRequest:
    """What the author asked for: ``qrepro record NOTEBOOK --seeds ...``."""

    notebook: Path
    seeds: tuple[int, ...]
    deposit: Path | None = None
    shots: int | None = None
    parameters: dict[str, Any] = field(default_factory=dict)


@dataclass
class Capture:
    """One recorded Aer experiment (one exp-*.json of the recorder)."""

    folder: Path
    data: dict[str, Any]

    @property
    def noisy(self) -> bool:
        return self.data.get("noise_model") is not None


@dataclass
class ClaimLine:
    id: str
    text: str


@dataclass
class RecordSummary:
    """What was run and written, for the command's report."""

    deposit: Path
    notebook_id: str
    seeds: list[int]
    circuits: int = 0
    formats: dict[str, int] = field(default_factory=dict)
    noise_models: list[str] = field(default_factory=list)
    metrics: list[str] = field(default_factory=list)
    claims: list[ClaimLine] = field(default_factory=list)
    claims_written: int = 0
    warnings: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        formats = ", ".join(f"{n} {f}" for f, n in sorted(self.formats.items())) or "none"
        out = [f"deposit: {self.deposit}",
               f"notebook '{self.notebook_id}': seeds run: "
               f"{', '.join(map(str, self.seeds))}",
               f"circuits captured: {self.circuits} ({formats}); noise models: "
               f"{', '.join(self.noise_models) or 'none (noiseless)'}",
               f"metrics: {', '.join(self.metrics) or 'none'}",
               f"claims written: {self.claims_written}"]
        out += [f"  {c.id}: {c.text}" for c in self.claims]
        out += [f"warning: {w}" for w in self.warnings]
        out.append(f"next: qrepro check {self.deposit}, then qrepro evaluate {self.deposit} "
                   "--out OUT")
        return out


@dataclass
class Written:
    """What this record puts into the deposit."""

    files: dict[str, bytes] = field(default_factory=dict)
    circuits: list[dict[str, Any]] = field(default_factory=list)
    claims: list[dict[str, Any]] = field(default_factory=list)
    noise_models: list[dict[str, Any]] = field(default_factory=list)


def json_bytes(data: Any) -> bytes:
    return (json.dumps(data, indent=1, sort_keys=True) + "\n").encode("utf-8")


def find_deposit(notebook: Path, deposit: Path | None) -> Path:
    """``--deposit``, else the nearest folder above the notebook that holds qdata.yaml."""
    if deposit is not None:
        if not (deposit / MANIFEST_NAME).is_file():
            raise AuthoringError(f"no {MANIFEST_NAME} in {deposit}: run qrepro init there "
                                 "first", file=str(deposit))
        return deposit.resolve()
    for folder in notebook.resolve().parents:
        if (folder / MANIFEST_NAME).is_file():
            return folder
    raise AuthoringError(f"no {MANIFEST_NAME} in any folder above the notebook: run qrepro "
                         "init in the deposit's folder, or pass --deposit DIR",
                         file=str(notebook))


def relative_to_deposit(path: Path, root: Path) -> str:
    try:
        return path.resolve().relative_to(root).as_posix()
    except ValueError:
        raise AuthoringError(f"the notebook is not inside the deposit {root}: move it there",
                             file=str(path)) from None


def _entry(m: Manifest, rel: str) -> Any:
    return next((nb for nb in m.notebooks if nb.path == rel), None)


def _notebook_id(rel: str, existing: Any) -> str:
    if existing is not None:
        return str(existing.id)
    return rc.claim_id(Path(rel).stem, "").rstrip("-") or "notebook"


@dataclass(frozen=True)
class Plan:
    """Everything decided before the first run."""

    root: Path
    rel: str
    notebook_id: str
    cell: Parameters
    parameters: dict[str, Any]
    shots: int | None
    metrics: str
    cell_timeout: int
    timeout: int
    noise_model: str | None


def plan(req: RecordRequest, m: Manifest, root: Path, cell: Parameters) -> Plan:
    rel = relative_to_deposit(req.notebook, root)
    existing = _entry(m, rel)
    bad = sorted(set(req.parameters) & set(RESERVED))
    if bad:
        raise AuthoringError(f"--parameter {bad[0]}: qrepro sets it itself (seeds: --seeds, "
                             "shots: --shots)", field="parameter")
    parameters = {**(existing.parameters if existing else {}), **req.parameters}
    default_shots = cell.defaults.get("shots")
    shots = req.shots or (existing.shots if existing else None) or (
        default_shots if isinstance(default_shots, int) and default_shots > 0 else None)
    return Plan(root, rel, _notebook_id(rel, existing), cell, parameters, shots,
                existing.metrics if existing else "metrics.json",
                existing.cell_timeout if existing else DEFAULT_CELL_TIMEOUT,
                existing.timeout if existing else DEFAULT_TIMEOUT,
                existing.noise_model if existing else None)
