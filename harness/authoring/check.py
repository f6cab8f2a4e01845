"""``qrepro check``: validation, a smoke run and a static look at the claims, ending in what
to fix, ordered by badge impact.

The smoke run is :func:`harness.pipeline.evaluate` with ``Options(smoke=True)`` (one seed,
at most 100 shots): its report holds every validation finding and decides Available and
Functional. Reusable's findings come from validation too; Results Reproduced, which no smoke
run decides, gets :mod:`harness.authoring.review`. Every to-do is a finding (or a run that
failed) with its fix sentence from :mod:`harness.authoring.fixes`.
"""

from __future__ import annotations

import dataclasses
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.authoring.review import review_claims, untrusted_circuits
from harness.authoring.todo import Todo, from_findings, ordered, todo
from harness.errors import QreproError
from harness.intake.archive import Deposit, open_deposit
from harness.intake.manifest import MANIFEST_NAME, Manifest, load_manifest
from harness.intake.safe_yaml import load_yaml
from harness.jobs import recorded_counts
from harness.models import BADGE_KEYS, Report
from harness.pipeline import Options, evaluate
from runners.base import Runner

#: findings whose file is no longer the inventoried one: claims on it are not reviewed
UNTRUSTED_CODES = ("checksum-mismatch", "missing-file", "git-lfs-pointer", "dvc-pointer",
                   "invalid-counts", "unsafe-path")
DEPOSIT_ERRORS = ("deposit", "archive", "manifest")


@dataclass(frozen=True)
class CheckResult:
    report: Report
    todos: list[Todo]

    @property
    def blocking(self) -> list[Todo]:
        return [t for t in self.todos if t.blocks]


def check_deposit(source: Path, out: Path, runner: Runner,
                  options: Options | None = None) -> CheckResult:
    """Smoke-evaluate ``source`` into ``out`` and list what is left to do."""
    smoke = dataclasses.replace(options or Options(), smoke=True)
    report = evaluate(source, out, runner, smoke)
    todos = _error_todos(report)
    if report.error is None or report.error.kind not in DEPOSIT_ERRORS:
        todos += _deposit_todos(source, report)
    return CheckResult(report, ordered(todos))


def _error_todos(report: Report) -> list[Todo | None]:
    """The evaluation stopped: an unreadable deposit blocks everything, a runner Functional."""
    e = report.error
    if e is None:
        return []
    if e.kind in DEPOSIT_ERRORS:
        return [todo("manifest-invalid", BADGE_KEYS, field=e.field, file=e.file,
                     message=e.message)]
    return [todo("environment-failed", ("functional",), field=e.field, file=e.file,
                 message=e.message)]


def _deposit_todos(source: Path, report: Report) -> list[Todo | None]:
    """The findings' fixes, the failed runs and the claims' review, read from the deposit."""
    with tempfile.TemporaryDirectory(prefix="qrepro-check-") as tmp:
        try:
            deposit = open_deposit(source, Path(tmp))
            data: dict[str, Any] = load_yaml(deposit.manifest_path.read_text(encoding="utf-8"),
                                             MANIFEST_NAME)
            manifest = load_manifest(deposit.manifest_path, MANIFEST_NAME)
        except (QreproError, OSError, UnicodeDecodeError):
            return from_findings(report.findings)
        return [*from_findings(report.findings, data), *_run_todos(report, manifest),
                *_claim_todos(deposit, manifest, report)]


def _run_todos(report: Report, m: Manifest) -> list[Todo | None]:
    """Circuits and notebooks that did not run, or ran and failed (Functional)."""
    if report.badges.functional:
        return []
    notebooks = {nb.id: (i, nb.path) for i, nb in enumerate(m.notebooks)}
    circuits = {c.id: (i, c.file) for i, c in enumerate(m.circuits)}
    failed = [todo("notebook-failed", ("functional",), value=notebooks[r.id][1],
                   field=f"notebooks[{notebooks[r.id][0]}].path", file=MANIFEST_NAME,
                   message=f"seed {r.seed}: {r.error or r.error_type}")
              for r in report.notebooks if not r.ok and r.id in notebooks]
    failed += [todo("circuit-failed", ("functional",), value=r.circuit or r.id,
                    field=f"circuits[{circuits[r.circuit][0]}].file", file=MANIFEST_NAME,
                    message=r.error or "")
               for r in report.circuits if not r.ok and r.circuit in circuits]
    not_run = [todo("not-run", ("functional",), message=reason)
               for reason in report.badges.reasons["functional"] if " not run: " in reason]
    return [*failed, *not_run]


def _claim_todos(deposit: Deposit, manifest: Manifest, report: Report) -> list[Todo | None]:
    bad_files = [f.file for f in report.findings if f.code in UNTRUSTED_CODES and f.file]
    recorded, _ = recorded_counts(deposit, manifest)  # invalid counts: already findings
    return review_claims(deposit, manifest, recorded, untrusted_circuits(manifest, bad_files))
