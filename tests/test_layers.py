"""The layer contract (docs/architecture.md, ``[tool.importlinter]`` in pyproject.toml) holds:
``lint-imports`` finds no upward import, no import between independent siblings, and no
import of harness or reports by the in-environment agent; and it would see one."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

CONTRACTS = ("application > adapters", "the agent runs inside", "a claim kind is one module",
             "a report format is one module", "no import cycles")


def lint_imports(root: Path) -> subprocess.CompletedProcess[str]:
    """lint-imports on the packages under ``root`` (they shadow the installed ones)."""
    exe = Path(sys.executable).with_name("lint-imports")
    env = {**os.environ, "PYTHONPATH": str(root)}
    return subprocess.run([str(exe), "--no-logo", "--no-cache"], cwd=root, env=env,
                          capture_output=True, text=True, timeout=300)


def test_the_import_contracts_hold() -> None:
    proc = lint_imports(ROOT)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    for name in CONTRACTS:
        assert name in proc.stdout, f"contract {name!r} was not checked"


@pytest.mark.parametrize(("module", "line", "broken"), [
    ("harness/stats/metrics.py", "import harness.intake.manifest", "application > adapters"),
    ("reports/json_report.py", "import runners.base", "application > adapters"),
    ("runners/agent/exits.py", "import harness.errors", "the agent runs inside"),
    ("harness/intake/paths.py", "import harness.intake.archive", "no import cycles"),
])
def test_an_upward_import_breaks_the_contract(
        tmp_path: Path, module: str, line: str, broken: str) -> None:
    for package in ("harness", "runners", "reports"):
        shutil.copytree(ROOT / package, tmp_path / package,
                        ignore=shutil.ignore_patterns("__pycache__", "*.json", "templates"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    target = tmp_path / module
    target.write_text(target.read_text(encoding="utf-8") + f"\n{line}  # noqa\n",
                      encoding="utf-8")
    proc = lint_imports(tmp_path)
    assert proc.returncode != 0, proc.stdout[-2000:]
    importer = module.removesuffix(".py").replace("/", ".")
    imported = line.split()[-1]
    package = importer.rpartition(".")[0]
    named = (f"{importer} -> {imported}" in proc.stdout  # a layer or a forbidden import
             or f"No cycles are allowed in {package}" in proc.stdout)  # a cycle
    assert broken in proc.stdout and named, proc.stdout
