"""What the recording runs captured, as deposit files: each Aer experiment's circuit (OpenQASM
3, or QPY when QASM 3 cannot say it exactly) and counts, each noise model once, and the
warnings the captures call for (seeds that share shots)."""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path
from typing import Any

from harness.authoring.record_plan import (
    METHODS,
    Capture,
    Plan,
    RecordSummary,
    Written,
    json_bytes,
)
from harness.authoring.record_run import (
    SeedRun,
)
from harness.errors import AuthoringError, NoiseModelError, QreproError
from harness.intake.correlated_seeds import PER_SHOT_METHODS, close_pairs
from harness.intake.manifest import Manifest
from harness.noise.load import from_qiskit_dict, load_noise, noise_digest


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
            out.files[f"results/counts/{cid}.json"] = json_bytes(dict(sorted(
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


def captures(run: SeedRun) -> list[Capture]:
    folder = run.captures
    return [Capture(folder, json.loads(f.read_text(encoding="utf-8")))
            for f in sorted(folder.glob("exp-*.json"))] if folder.is_dir() else []
