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
(record_claims.py), then a fresh ``files`` inventory. Other notebooks' entries, and every
other field the author wrote, are kept.
"""

from __future__ import annotations

import contextlib
import io
import json
import re
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from harness.authoring import record_claims as rc
from harness.authoring.record_run import (
    RESERVED,
    Parameters,
    RunSpec,
    SeedRun,
    find_parameters,
    prepare_shim,
    read_notebook,
    run_seed,
)
from harness.errors import AuthoringError, NoiseModelError, QreproError
from harness.intake.correlated_seeds import PER_SHOT_METHODS, close_pairs
from harness.intake.deposit_digest import inventory
from harness.intake.manifest import MANIFEST_NAME, Manifest, load_manifest, parse_manifest
from harness.intake.safe_yaml import MAX_BYTES, load_yaml
from harness.intake.versions import QASM3_READER, installed_version
from harness.noise.load import from_qiskit_dict, load_noise, noise_digest

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


# --- finding things ---------------------------------------------------------------------


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


def _relative(path: Path, root: Path) -> str:
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


# --- running ----------------------------------------------------------------------------


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
    rel = _relative(req.notebook, root)
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


def captures(run: SeedRun) -> list[Capture]:
    folder = run.captures
    return [Capture(folder, json.loads(f.read_text(encoding="utf-8")))
            for f in sorted(folder.glob("exp-*.json"))] if folder.is_dir() else []


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


# --- circuits, counts and noise ---------------------------------------------------------


def _qasm3_exact(text: str, qpy_path: Path) -> bool:
    """Does the OpenQASM 3 text load back as the circuit Aer ran (global phase aside)?"""
    from qiskit import qasm3, qpy

    try:
        with warnings_silenced():
            loaded = qasm3.loads(text)
        with qpy_path.open("rb") as fh:
            ran = qpy.load(fh)[0]
    except Exception:
        return False
    loaded.global_phase = ran.global_phase
    return bool(loaded == ran)


@contextlib.contextmanager
def warnings_silenced() -> Any:
    import warnings

    with warnings.catch_warnings(), contextlib.redirect_stderr(io.StringIO()):
        warnings.simplefilter("ignore")
        yield


def circuit_file(c: Capture) -> tuple[str, str, bytes]:
    """(format, suffix, bytes) of the circuit to deposit: QASM 3 when exact, else QPY."""
    qpy_path = c.folder / c.data["qpy"]
    if c.data.get("qasm3"):
        text = (c.folder / c.data["qasm3"]).read_text(encoding="utf-8")
        if _qasm3_exact(text, qpy_path):
            return "qasm3", ".qasm", text.encode("utf-8")
    return "qpy", ".qpy", qpy_path.read_bytes()


class NoiseBook:
    """Noise models by digest: the deposit's own, and those this record adds."""

    def __init__(self, root: Path, m: Manifest) -> None:
        self.root = root
        self.by_digest: dict[str, str] = {}
        self.new: dict[str, dict[str, Any]] = {}  # id -> entry, with the spec to write
        for ref in m.noise_models:
            with contextlib.suppress(QreproError, OSError):
                spec = load_noise(root / ref.file, ref.format, ref.file)
                self.by_digest.setdefault(noise_digest(spec), ref.id)

    def id_for(self, qiskit_file: Path) -> str:
        """The id of this Aer noise model (converted to qrepro-noise-v1), added if new."""
        raw = json.loads(qiskit_file.read_text(encoding="utf-8"))
        try:
            spec = from_qiskit_dict(raw, qiskit_file.name)
        except NoiseModelError as exc:
            raise AuthoringError(f"the notebook's Aer noise model cannot be converted to "
                                 f"qrepro-noise-v1: {exc.one_line()}") from exc
        digest = noise_digest(spec)
        if digest not in self.by_digest:
            noise_id = f"noise-{digest[:12]}"
            self.by_digest[digest] = noise_id
            self.new[noise_id] = {"file": f"noise/{digest[:12]}.json", "spec": spec}
        return self.by_digest[digest]


@dataclass
class Written:
    """What this record puts into the deposit."""

    files: dict[str, bytes] = field(default_factory=dict)
    circuits: list[dict[str, Any]] = field(default_factory=list)
    claims: list[dict[str, Any]] = field(default_factory=list)
    noise_models: list[dict[str, Any]] = field(default_factory=list)


def _json_bytes(data: Any) -> bytes:
    return (json.dumps(data, indent=1, sort_keys=True) + "\n").encode("utf-8")


def circuit_entries(p: Plan, runs: list[SeedRun], noise: NoiseBook, out: Written,
                    summary: RecordSummary) -> None:
    """One circuit (file, counts, entry) per recorded experiment."""
    for run in runs:
        for k, c in enumerate(captures(run)):
            method = c.data["method"]
            if method not in METHODS:
                summary.warnings.append(f"seed {run.seed}: experiment {k} ran with Aer method "
                                        f"{method!r}, which qrepro cannot replay: left out")
                continue
            cid = f"{p.notebook_id}-{run.seed}-{k}"
            fmt, suffix, data = circuit_file(c)
            summary.formats[fmt] = summary.formats.get(fmt, 0) + 1
            out.files[f"circuits/{cid}{suffix}"] = data
            out.files[f"results/counts/{cid}.json"] = _json_bytes(dict(sorted(
                c.data["counts"].items())))
            entry: dict[str, Any] = {
                "id": cid, "file": f"circuits/{cid}{suffix}", "format": fmt,
                "shots": c.data["shots"], "seed_simulator": c.data["seed_simulator"],
                "optimization_level": 0, "method": method, "precision": c.data["precision"]}
            if c.noisy:
                entry["noise_model"] = noise.id_for(c.folder / c.data["noise_model"])
            entry["counts"] = f"results/counts/{cid}.json"
            out.circuits.append(entry)
    summary.circuits = len(out.circuits)


def capture_warnings(runs: list[SeedRun]) -> list[str]:
    """GPU runs, options the replay does not set, seeds that share shots."""
    out: list[str] = []
    all_captures = [c for run in runs for c in captures(run)]
    if any(c.data.get("device", "CPU") != "CPU" for c in all_captures):
        out.append("some experiments ran on a GPU: a CPU replay gives other counts for the "
                   "same seed (the counts claims then pass statistically only)")
    options = sorted({f"{k}={v}" for c in all_captures for k, v in c.data["options"].items()})
    if options:
        out.append(f"Aer options the replay does not set: {', '.join(options[:6])}: the "
                   "replayed counts may differ")
    out.extend(_shared_shots(runs))
    return out


def _shared_shots(runs: list[SeedRun]) -> list[str]:
    firsts = [c for c in (next((c for c in captures(r) if c.noisy and c.data["method"]
                               in PER_SHOT_METHODS), None) for r in runs) if c is not None]
    if len(firsts) < 2:
        return []
    shots = min(int(c.data["shots"]) for c in firsts)
    pairs = close_pairs([int(c.data["seed_simulator"]) for c in firsts], shots)
    if not pairs:
        return []
    shown = ", ".join(f"{a}/{b}" for a, b in pairs[:4])
    return [f"Aer seeds {shown} of different runs are closer than the {shots} shots of their "
            "noisy runs: Aer's seed s + 1 replays seed s's shots shifted by one, so the runs "
            "share most shots and their spread (and so each tolerance) understates the "
            f"seed-to-seed variance: record with seeds at least {shots} apart "
            f"(e.g. {shots}, {2 * shots}, {3 * shots}) for honest spreads"]


# --- claims -----------------------------------------------------------------------------


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


# --- the manifest -----------------------------------------------------------------------


def previous_record(root: Path, notebook_id: str) -> dict[str, Any]:
    path = root / "results" / "notebooks" / notebook_id / RECORD_FILE
    if not path.is_file():
        return {}
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def _owned(raw: dict[str, Any], p: Plan, before: dict[str, Any],
           out: Written) -> dict[str, set[str]]:
    """Ids (per section) a previous record of this notebook wrote, or this one writes."""
    pattern = re.compile(re.escape(p.notebook_id) + r"-\d+-\d+")
    circuits = {c["id"] for c in raw.get("circuits") or [] if pattern.fullmatch(str(c["id"]))}
    circuits |= set(before.get("circuits", []))
    gone = circuits - {c["id"] for c in out.circuits}
    claims = set(before.get("claims", [])) | {c["id"] for c in out.claims}
    claims |= {c["id"] for c in raw.get("claims") or []
               if (c.get("source") or {}).get("circuit") in gone}
    return {"circuits": circuits, "claims": claims,
            "noise_models": set(before.get("noise_models", []))}


def _notebook_entry(raw: dict[str, Any], p: Plan, seeds: list[int]) -> dict[str, Any]:
    old: dict[str, Any] = next(
        (nb for nb in raw.get("notebooks") or [] if nb.get("path") == p.rel), {})
    entry: dict[str, Any] = {"id": p.notebook_id, "path": p.rel}
    if p.parameters:
        entry["parameters"] = p.parameters
    entry["seeds"] = seeds
    if p.shots is not None:
        entry["shots"] = p.shots
    keep = {k: v for k, v in old.items() if k not in {*entry, "parameters", "shots"}}
    return {**entry, **keep}


def updated_manifest(raw: dict[str, Any], p: Plan, seeds: list[int], out: Written,
                     owned: dict[str, set[str]]) -> dict[str, Any]:
    """The manifest with this record's entries replacing the previous record's."""
    new = dict(raw)
    circuits = [c for c in raw.get("circuits") or [] if c["id"] not in owned["circuits"]]
    new["circuits"] = circuits + out.circuits
    new["claims"] = [c for c in raw.get("claims") or [] if c["id"] not in owned["claims"]]
    new["claims"] += out.claims
    notebooks = [nb for nb in raw.get("notebooks") or [] if nb.get("path") != p.rel]
    new["notebooks"] = [*notebooks, _notebook_entry(raw, p, seeds)]
    used = {c.get("noise_model") for c in new["circuits"]} | \
        {nb.get("noise_model") for nb in new["notebooks"]}
    new["noise_models"] = [n for n in raw.get("noise_models") or []
                           if n["id"] not in owned["noise_models"] or n["id"] in used]
    present = {n["id"] for n in new["noise_models"]}
    new["noise_models"] += [n for n in out.noise_models if n["id"] not in present]
    return {k: new[k] for k in SECTIONS if new.get(k) not in (None, [])}


def pin_requirements(raw: dict[str, Any], versions: dict[str, str | None],
                     needed: list[str], summary: RecordSummary) -> None:
    """Pin what the replay needs (qiskit, qiskit-aer, qiskit-qasm3-import) when unpinned;
    warn when a pin differs from the version that ran."""
    from packaging.requirements import InvalidRequirement, Requirement
    from packaging.utils import canonicalize_name

    env = raw.setdefault("environment", {})
    reqs: list[str] = env.setdefault("requirements", [])
    pinned: dict[str, str] = {}
    for line in reqs:
        with contextlib.suppress(InvalidRequirement):
            r = Requirement(line)
            pinned[canonicalize_name(r.name)] = str(r.specifier)
    for name in needed:
        version = versions.get(name)
        if version is None:
            continue
        if name not in pinned:
            reqs.append(f"{name}=={version}")
            summary.warnings.append(f"environment.requirements: added {name}=={version} "
                                    "(the version that ran; the replay needs it)")
        elif pinned[name] != f"=={version}":
            summary.warnings.append(f"environment.requirements pins {name}{pinned[name]} but "
                                    f"the notebook ran {version}: the replay is not expected "
                                    "to give identical counts")


def _record_file(p: Plan, summary: RecordSummary, out: Written, versions: dict[str, Any],
                 before: dict[str, Any], rel: str) -> bytes:
    """The list of what this record wrote (read back by the next record of the notebook)."""
    used = {c.get("noise_model") for c in out.circuits}
    noise = [n for n in before.get("noise_models", []) if n in used]
    noise += [n["id"] for n in out.noise_models if n["id"] not in noise]
    return _json_bytes({
        "notebook": p.rel, "id": p.notebook_id, "seeds": summary.seeds,
        "parameters": p.parameters, "shots": p.shots, "versions": versions,
        "tolerances": {c.id: c.text for c in summary.claims},
        "circuits": [c["id"] for c in out.circuits],
        "claims": [c["id"] for c in out.claims],
        "noise_models": noise,
        "files": sorted({*out.files, rel}),
    })


def _safe_target(root: Path, rel: str) -> Path | None:
    path = (root / rel).resolve()
    return path if path.is_relative_to(root) and path != root else None


def referenced(manifest: dict[str, Any]) -> set[str]:
    """Every deposit path the manifest's entries name (files a record must not remove)."""
    refs = {n.get("file") for n in manifest.get("noise_models") or []}
    refs |= {c.get(k) for c in manifest.get("circuits") or [] for k in ("file", "counts")}
    refs |= {nb.get("path") for nb in manifest.get("notebooks") or []}
    return {str(r) for r in refs if r}


def write_files(root: Path, before: dict[str, Any], out: Written, keep: set[str]) -> None:
    """Remove what the previous record wrote (unless still named), write this record's."""
    for rel in before.get("files", []):
        path = _safe_target(root, str(rel))
        if path is not None and path.is_file() and rel not in out.files and rel not in keep:
            path.unlink()
    for rel, data in out.files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)


def _dump(manifest: dict[str, Any]) -> str:
    text = yaml.safe_dump(manifest, sort_keys=False, allow_unicode=True)
    if len(text.encode("utf-8")) > MAX_BYTES:
        raise AuthoringError(f"the manifest would exceed {MAX_BYTES} bytes with "
                             f"{len(manifest.get('circuits', []))} circuits: record fewer "
                             "Aer jobs (or fewer seeds)", file=MANIFEST_NAME)
    return text


def with_inventory(root: Path, manifest: dict[str, Any]) -> dict[str, Any]:
    """``files`` re-inventoried (``qrepro inventory``), keeping externally stored entries."""
    external = {f["path"]: f for f in manifest.get("files") or []
                if f.get("storage", "inline") != "inline"}
    files = [external.get(str(e["path"]), e) for e in inventory(root)]
    files += [f for path, f in external.items() if not any(e["path"] == path for e in files)]
    return {k: (files if k == "files" else manifest.get(k)) for k in SECTIONS
            if k == "files" or manifest.get(k) not in (None, [])}


# --- the whole command ------------------------------------------------------------------


def record(req: RecordRequest, echo: Echo = lambda _line: None) -> RecordSummary:
    """Run the notebook per seed, write circuits, counts, noise, metrics and the manifest."""
    if not req.seeds:
        raise AuthoringError("give at least one seed (--seeds 0,1,2,3,4)", field="seeds")
    root = find_deposit(req.notebook, req.deposit)
    manifest_path = root / MANIFEST_NAME
    m = load_manifest(manifest_path, MANIFEST_NAME)
    raw = load_yaml(manifest_path.read_text(encoding="utf-8"), MANIFEST_NAME)
    display = _relative(req.notebook, root)
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
        out.files[item["file"]] = _json_bytes(item["spec"])
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
            _json_bytes(run.metrics)
    versions = kernel_versions(runs)
    needed = ["qiskit", "qiskit-aer"] if out.circuits else []
    needed += ["qiskit-qasm3-import"] if summary.formats.get("qasm3") else []
    pin_requirements(raw, _with_local_qasm3(versions), needed, summary)
    before = previous_record(p.root, p.notebook_id)
    record_rel = f"results/notebooks/{p.notebook_id}/{RECORD_FILE}"
    out.files[record_rel] = _record_file(p, summary, out, versions, before, record_rel)
    manifest = updated_manifest(raw, p, seeds, out, _owned(raw, p, before, out))
    parse_manifest(manifest)  # never write a manifest that does not validate
    write_files(p.root, before, out, referenced(manifest))
    final = with_inventory(p.root, manifest)
    parse_manifest(final)
    (p.root / MANIFEST_NAME).write_text(_dump(final), encoding="utf-8")
    return summary


def _with_local_qasm3(versions: dict[str, str | None]) -> dict[str, str | None]:
    """The kernel's versions; qiskit-qasm3-import from here when the kernel lacks it (the
    QASM 3 files were checked with this one)."""
    if versions.get(QASM3_READER):
        return versions
    here = installed_version(QASM3_READER)
    return versions if here is None else {**versions, QASM3_READER: here}
