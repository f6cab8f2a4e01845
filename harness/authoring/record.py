"""``qrepro record``: run an author's notebook per seed and write what it did into the deposit.

For each seed the notebook runs once (record_run.py) with the Aer recorder installed
(aer_recorder.py). What the runs leave is written into the deposit found above the notebook:

    circuits/<notebook-id>-<seed>-<k>.qasm    every Aer experiment, OpenQASM 3 (QPY, .qpy,
                                               when QASM 3 cannot express it exactly)
    results/counts/<circuit-id>.json          its counts
    noise/<digest>.json                       each noise model, qrepro-noise-v1, once
    results/notebooks/<id>/metrics-<seed>.json the notebook's metrics file of each seed
    results/notebooks/<id>/record.json        what this record wrote (so that recording
                                               again replaces exactly that)

and the manifest gets the notebook's entry, one circuit per experiment and the claims
(record_claims.py), then a fresh ``files`` inventory (record_manifest.py). Other notebooks'
entries, and every other field the author wrote, are kept. The plan comes first
(record_plan.py); the captures become files in record_capture.py.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path
from typing import Any

from harness.authoring import record_claims as rc
from harness.authoring.record_capture import NoiseBook, capture_warnings, circuit_entries
from harness.authoring.record_manifest import (
    manifest_text,
    owned_entries,
    pin_requirements,
    previous_record,
    record_file,
    referenced,
    updated_manifest,
    with_inventory,
    write_files,
)
from harness.authoring.record_plan import (
    RECORD_FILE,
    ClaimLine,
    Echo,
    Plan,
    RecordRequest,
    RecordSummary,
    Written,
    find_deposit,
    json_bytes,
    plan,
    relative_to_deposit,
)
from harness.authoring.record_run import (
    RunSpec,
    SeedRun,
    find_parameters,
    prepare_shim,
    read_notebook,
    run_seed,
)
from harness.errors import AuthoringError, QreproError
from harness.intake.manifest import MANIFEST_NAME, Manifest, load_manifest, parse_manifest
from harness.intake.safe_yaml import load_yaml
from harness.intake.versions import QASM3_READER, installed_version
from harness.noise.load import load_noise


def _noise_parameter(p: Plan, m: Manifest, work: Path) -> dict[str, Any]:
    """The canonical noise file evaluate injects as noise_model_path, when the entry has one."""
    if p.noise_model is None or "noise_model_path" not in p.cell.names:
        return {}
    ref = m.noise_model(p.noise_model)
    spec = load_noise(p.root / ref.file, ref.format, ref.file)
    path = work / "noise" / f"{ref.id}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(spec, indent=1, sort_keys=True), encoding="utf-8")
    return {"noise_model_path": str(path)}


def run_all(req: RecordRequest, p: Plan, nb: Any, m: Manifest, work: Path,
            echo: Echo) -> list[SeedRun]:
    shim = prepare_shim(work)
    noise = _noise_parameter(p, m, work)
    runs = []
    for i, seed in enumerate(req.seeds, start=1):
        echo(f"recording {p.rel} with seed {seed} ({i}/{len(req.seeds)})")
        spec = RunSpec(req.notebook, p.rel, seed, {**p.parameters, **noise}, p.shots,
                       p.metrics, p.cell_timeout, p.timeout)
        runs.append(run_seed(nb, p.cell, spec, shim, work))
    return runs


def recorder_notes(run: SeedRun) -> list[str]:
    """The recorder's notes of one run, one line per kind (with how many there were)."""
    path = run.captures / "notes.jsonl"
    if not path.is_file():
        return []
    by_code: dict[str, list[str]] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        note = json.loads(line)
        by_code.setdefault(note["code"], []).append(note["message"])
    return [f"seed {run.seed}: {messages[0]}" + (f" (and {len(messages) - 1} more like it)"
                                                 if len(messages) > 1 else "")
            for messages in by_code.values()]


def kernel_versions(runs: list[SeedRun]) -> dict[str, str | None]:
    for run in runs:
        path = run.captures / "versions.json"
        if path.is_file():
            data: dict[str, str | None] = json.loads(path.read_text(encoding="utf-8"))
            return data
    return {}


# --- the claims ---------------------------------------------------------------------------


def claim_entries(p: Plan, runs: list[SeedRun], out: Written, summary: RecordSummary) -> None:
    metrics, skipped = rc.numeric_metrics([r.metrics for r in runs])
    summary.warnings.extend(skipped)
    summary.metrics = list(metrics)
    n = len(runs)
    for name, values in metrics.items():
        choice = rc.choose_tolerance(values)
        claim = rc.metric_claim(p.notebook_id, name, values, choice)
        out.claims.append(claim)
        sd = claim.get("spread", {}).get("value", 0.0)
        text = f"{name} = {claim['value']:.6g} over {n} seeds; {choice.describe(sd, n)}"
        if claim.get("better") == "lower":
            text += "; better: lower (guessed from the name: check it)"
        summary.claims.append(ClaimLine(claim["id"], text))
        if choice.warning:
            summary.warnings.append(f"claim {claim['id']}: {choice.warning}")
    alpha = rc.counts_alpha(len(out.circuits))
    for entry in out.circuits:
        out.claims.append(rc.counts_claim(entry["id"], alpha))
    summary.claims_written = len(out.claims)
    if out.circuits:
        summary.claims.append(ClaimLine(
            f"{out.circuits[0]['id']}-counts ... ({len(out.circuits)} counts claims)",
            f"tolerance shot-noise alpha {alpha:g}: identical counts (same seed and versions) "
            f"pass outright; otherwise a permutation test at alpha {alpha:g} per circuit"))


# --- the whole command ------------------------------------------------------------------


def record(req: RecordRequest, echo: Echo = lambda _line: None) -> RecordSummary:
    """Run the notebook per seed, write circuits, counts, noise, metrics and the manifest."""
    if not req.seeds:
        raise AuthoringError("give at least one seed (--seeds 0,1,2,3,4)", field="seeds")
    root = find_deposit(req.notebook, req.deposit)
    manifest_path = root / MANIFEST_NAME
    m = load_manifest(manifest_path, MANIFEST_NAME)
    raw = load_yaml(manifest_path.read_text(encoding="utf-8"), MANIFEST_NAME)
    display = relative_to_deposit(req.notebook, root)
    nb = read_notebook(req.notebook, display)
    p = plan(req, m, root, find_parameters(root, display))
    work = Path(tempfile.mkdtemp(prefix="qrepro-record-"))
    try:
        runs = run_all(req, p, nb, m, work, echo)
        summary = _write(raw, p, m, runs, list(req.seeds))
    except QreproError:
        echo(f"the recording runs are kept in {work}")
        raise
    shutil.rmtree(work, ignore_errors=True)
    return summary


def _write(raw: dict[str, Any], p: Plan, m: Manifest, runs: list[SeedRun],
           seeds: list[int]) -> RecordSummary:
    summary = RecordSummary(p.root, p.notebook_id, seeds)
    noise, out = NoiseBook(p.root, m), Written()
    circuit_entries(p, runs, noise, out, summary)
    for noise_id, item in noise.new.items():
        out.files[item["file"]] = json_bytes(item["spec"])
        out.noise_models.append({"id": noise_id, "file": item["file"],
                                 "format": "qrepro-noise-v1"})
    summary.noise_models = sorted({c["noise_model"] for c in out.circuits
                                   if "noise_model" in c})
    claim_entries(p, runs, out, summary)
    summary.warnings += capture_warnings(runs) + [n for r in runs for n in recorder_notes(r)]
    if "seed" not in p.cell.names:
        summary.warnings.append(f"the parameters cell ({p.cell.where}) does not define `seed`: "
                                "derive every random choice from it (docs/notebooks.md)")
    for run in runs:
        out.files[f"results/notebooks/{p.notebook_id}/metrics-{run.seed}.json"] = \
            json_bytes(run.metrics)
    versions = kernel_versions(runs)
    needed = ["qiskit", "qiskit-aer"] if out.circuits else []
    needed += ["qiskit-qasm3-import"] if summary.formats.get("qasm3") else []
    pin_requirements(raw, _with_local_qasm3(versions), needed, summary)
    before = previous_record(p.root, p.notebook_id)
    record_rel = f"results/notebooks/{p.notebook_id}/{RECORD_FILE}"
    out.files[record_rel] = record_file(p, summary, out, versions, before, record_rel)
    manifest = updated_manifest(raw, p, seeds, out, owned_entries(raw, p, before, out))
    parse_manifest(manifest)  # never write a manifest that does not validate
    write_files(p.root, before, out, referenced(manifest))
    final = with_inventory(p.root, manifest)
    parse_manifest(final)
    (p.root / MANIFEST_NAME).write_text(manifest_text(final), encoding="utf-8")
    return summary


def _with_local_qasm3(versions: dict[str, str | None]) -> dict[str, str | None]:
    """The kernel's versions; qiskit-qasm3-import from here when the kernel lacks it (the
    QASM 3 files were checked with this one)."""
    if versions.get(QASM3_READER):
        return versions
    here = installed_version(QASM3_READER)
    return versions if here is None else {**versions, QASM3_READER: here}
