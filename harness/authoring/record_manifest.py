"""The deposit's manifest after a record: the notebook's entry, its circuits and claims merged
into what the author wrote (other notebooks' entries and every other field kept), pins for
what the kernel ran, the record file, and a fresh ``files`` inventory."""

from __future__ import annotations

import contextlib
import json
import re
from pathlib import Path
from typing import Any

import yaml

from harness.authoring.record_plan import (
    RECORD_FILE,
    SECTIONS,
    Plan,
    RecordSummary,
    Written,
    json_bytes,
)
from harness.errors import AuthoringError
from harness.intake.deposit_digest import inventory
from harness.intake.manifest import MANIFEST_NAME
from harness.intake.safe_yaml import MAX_BYTES


def previous_record(root: Path, notebook_id: str) -> dict[str, Any]:
    path = root / "results" / "notebooks" / notebook_id / RECORD_FILE
    if not path.is_file():
        return {}
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def owned_entries(raw: dict[str, Any], p: Plan, before: dict[str, Any],
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


def record_file(p: Plan, summary: RecordSummary, out: Written, versions: dict[str, Any],
                 before: dict[str, Any], rel: str) -> bytes:
    """The list of what this record wrote (read back by the next record of the notebook)."""
    used = {c.get("noise_model") for c in out.circuits}
    noise = [n for n in before.get("noise_models", []) if n in used]
    noise += [n["id"] for n in out.noise_models if n["id"] not in noise]
    return json_bytes({
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


def manifest_text(manifest: dict[str, Any]) -> str:
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
