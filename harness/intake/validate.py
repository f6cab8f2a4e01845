"""The validate phase: inventory, checksums, pointer files, pins and seeds.

Reads the deposit (never writes it) and returns :class:`harness.models.Validation`.
Governance findings (license, embargo, consent, provenance) come from
:mod:`harness.intake.governance`; this module adds what needs the files themselves.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from pathlib import Path

from harness.errors import DepositError
from harness.intake.archive import Deposit
from harness.intake.claim_checks import claim_findings
from harness.intake.correlated_seeds import correlated_pairs
from harness.intake.governance import governance_findings
from harness.intake.hooks import startup_hook_findings
from harness.intake.lockfile import check_lock_file
from harness.intake.manifest import MANIFEST_NAME, FileEntry, Manifest
from harness.intake.replay_stack import check_wheels
from harness.models import Finding, Severity, Validation, finding
from harness.units import file_sha256

LFS_MAGIC = b"version https://git-lfs.github.com/spec/v1"
_PIN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*(\[[A-Za-z0-9,._-]+\])?==[A-Za-z0-9.+!_-]+$")
_URL = re.compile(r"^[a-z][a-z0-9+.-]*://", re.IGNORECASE)


def _finding(
    code: str,
    severity: Severity,
    message: str,
    *,
    file: str | None = MANIFEST_NAME,
    field: str | None = None,
    blocks: tuple[str, ...] = (),
) -> Finding:
    """A finding about the manifest unless another file is named."""
    return finding(code, severity, message, file=file, field=field, blocks=blocks)


def referenced_files(m: Manifest) -> Iterator[tuple[str, str]]:
    """Every file the manifest points at, with the field that points at it."""
    for i, c in enumerate(m.circuits):
        yield c.file, f"circuits[{i}].file"
        if c.counts:
            yield c.counts, f"circuits[{i}].counts"
    for i, n in enumerate(m.noise_models):
        yield n.file, f"noise_models[{i}].file"
    for i, nb in enumerate(m.notebooks):
        yield nb.path, f"notebooks[{i}].path"
    if m.environment.lock_file:
        yield m.environment.lock_file, "environment.lock_file"
    for i, wheel in enumerate(m.environment.wheels):
        yield wheel, f"environment.wheels[{i}]"
    if m.provenance.calibration:
        yield m.provenance.calibration, "provenance.calibration"
    if m.consent.record and not _URL.match(m.consent.record):
        yield m.consent.record, "consent.record"


def pointer_kind(head: bytes) -> str | None:
    """'git-lfs' or 'dvc' when the first bytes of a file are a pointer, else None."""
    if head.startswith(LFS_MAGIC):
        return "git-lfs"
    text = head.lstrip()
    if text.startswith(b"outs:") and (b"md5:" in text or b"hash:" in text):
        return "dvc"
    return None


def _read_head(path: Path, size: int = 512) -> bytes:
    with path.open("rb") as fh:
        return fh.read(size)


def check_entry(deposit: Deposit, entry: FileEntry, index: int) -> list[Finding]:
    """Existence, pointer files, size and sha256 of one inventoried file."""
    field = f"files[{index}]"
    try:
        path = deposit.path(entry.path, field=f"{field}.path")
    except DepositError as exc:
        return [
            _finding(
                "unsafe-path",
                "error",
                exc.message,
                file=entry.path,
                field=f"{field}.path",
                blocks=("available", "functional", "reproduced"),
            )
        ]
    if not path.is_file():
        hint = (
            " (DVC-tracked: run `dvc pull`)"
            if (path.parent / (path.name + ".dvc")).is_file()
            else ""
        )
        return [
            _finding(
                "missing-file",
                "error",
                f"inventoried file is missing{hint}",
                file=entry.path,
                field=field,
                blocks=("available", "functional", "reproduced"),
            )
        ]
    pointer = pointer_kind(_read_head(path))
    if pointer is not None:
        fetch = "git lfs pull" if pointer == "git-lfs" else "dvc pull"
        return [
            _finding(
                f"{pointer}-pointer",
                "error",
                f"a {pointer} pointer stands where the data should be; "
                f"fetch the data first (`{fetch}`)",
                file=entry.path,
                field=f"{field}.storage",
                blocks=("available", "functional", "reproduced"),
            )
        ]
    size = path.stat().st_size
    if size != entry.size:
        return [
            _checksum_finding(entry, field, f"size is {size} bytes, inventory says {entry.size}")
        ]
    digest = file_sha256(path)
    if digest != entry.sha256:
        return [
            _checksum_finding(entry, field, f"sha256 is {digest}, inventory says {entry.sha256}")
        ]
    return []


def _checksum_finding(entry: FileEntry, field: str, detail: str) -> Finding:
    return _finding(
        "checksum-mismatch",
        "error",
        f"file changed after it was inventoried: {detail}",
        file=entry.path,
        field=f"{field}.sha256",
        blocks=("available", "reproduced"),
    )


def inventory_findings(deposit: Deposit, m: Manifest) -> tuple[list[Finding], list[str]]:
    findings: list[Finding] = []
    verified: list[str] = []
    for i, entry in enumerate(m.files):
        problems = check_entry(deposit, entry, i)
        findings.extend(problems)
        if not problems:
            verified.append(entry.path)
    listed = {e.path for e in m.files}
    for rel in deposit.files:
        if rel != MANIFEST_NAME and rel not in listed:
            findings.append(
                _finding(
                    "not-inventoried",
                    "error",
                    "file present but not in the manifest's files inventory",
                    file=rel,
                    field="files",
                    blocks=("available", "reusable"),
                )
            )
    for rel, field in referenced_files(m):
        if rel not in listed:
            findings.append(
                _finding(
                    "reference-not-inventoried",
                    "error",
                    f"'{rel}' is referenced but not inventoried",
                    field=field,
                    blocks=("available", "reusable"),
                )
            )
    return findings, verified


def environment_findings(m: Manifest) -> list[Finding]:
    env = m.environment
    out: list[Finding] = []
    if not env.requirements and not env.lock_file:
        out.append(
            _finding(
                "requirements-missing",
                "error",
                "no requirements and no lock file: the environment cannot be rebuilt",
                field="environment.requirements",
                blocks=("reusable",),
            )
        )
    for i, req in enumerate(env.requirements):
        if not _PIN.match(req.strip()):
            out.append(
                _finding(
                    "unpinned-requirement",
                    "error",
                    f"'{req}' is not pinned exactly (name==version)",
                    field=f"environment.requirements[{i}]",
                    blocks=("reusable",),
                )
            )
    return out


def seed_findings(m: Manifest) -> list[Finding]:
    out: list[Finding] = []
    for i, c in enumerate(m.circuits):
        if c.seed_simulator is None:
            out.append(
                _finding(
                    "seed-missing",
                    "error",
                    f"circuit '{c.id}' has no recorded seed_simulator",
                    field=f"circuits[{i}].seed_simulator",
                    blocks=("reusable",),
                )
            )
        if c.seed_transpiler is None and c.optimization_level > 0:
            out.append(
                _finding(
                    "seed-missing",
                    "error",
                    f"circuit '{c.id}' is transpiled at level "
                    f"{c.optimization_level} without a seed_transpiler",
                    field=f"circuits[{i}].seed_transpiler",
                    blocks=("reusable",),
                )
            )
    out.extend(correlated_seed_findings(m))
    for i, nb in enumerate(m.notebooks):
        if not nb.seeds:
            out.append(
                _finding(
                    "seed-missing",
                    "error",
                    f"notebook '{nb.id}' records no seeds",
                    field=f"notebooks[{i}].seeds",
                    blocks=("reusable",),
                )
            )
    return out


def correlated_seed_findings(m: Manifest) -> list[Finding]:
    """Repeated-trial seeds of a circuit that share shots (closer than its shot count under a
    per-shot method with noise): their spread understates seed-to-seed variance."""
    out: list[Finding] = []
    for i, c in enumerate(m.circuits):
        pairs = correlated_pairs(c)
        if pairs:
            shown = ", ".join(f"{a}/{b}" for a, b in pairs[:5])
            out.append(_finding(
                "correlated-seeds", "warning",
                f"circuit '{c.id}': seeds {shown} are closer than its {c.shots} shots under "
                f"method {c.method} with noise: Aer's seed s + 1 replays the shots of seed s "
                "shifted by one, so these runs share most of their shots and their spread "
                "understates seed-to-seed variance; seed-robustness checks on them are "
                "inconclusive. Choose seeds at least `shots` apart.",
                field=f"circuits[{i}].seeds",
            ))
    return out


def validate(deposit: Deposit, m: Manifest, today: dt.date) -> Validation:
    check_lock_file(deposit, m)  # build input: refused before anything else looks at it
    check_wheels(deposit, m)  # a vendored wheel may not replace the replay stack
    inventory, verified = inventory_findings(deposit, m)
    findings = [
        *inventory,
        *environment_findings(m),
        *startup_hook_findings(deposit, m),
        *seed_findings(m),
        *claim_findings(m),
        *governance_findings(m, today),
    ]
    return Validation(findings=tuple(findings), verified_files=tuple(verified))
