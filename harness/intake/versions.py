"""Compare the versions a deposit pinned with the versions that actually ran."""

from __future__ import annotations

import re
from importlib import metadata
from pathlib import Path

from harness.intake.lockfile import logical_lines
from harness.intake.manifest import MANIFEST_NAME, Environment, Manifest
from harness.models import Execution, Finding

#: packages whose version changes counts for the same seed (see docs/statistics.md)
SIMULATION_PACKAGES = ("qiskit", "qiskit-aer", "qiskit-aer-gpu")
_PIN = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?\s*==\s*([^\s;]+)")


def canonical_name(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def pinned_versions(m: Manifest) -> dict[str, str]:
    pins: dict[str, str] = {}
    for req in m.environment.requirements:
        match = _PIN.match(req)
        if match:
            pins[canonical_name(match.group(1))] = match.group(2)
    return pins


def pinned_names(root: Path, m: Manifest) -> tuple[str, ...]:
    """Canonical names of the distributions the deposit pins exactly, in its requirements
    or its lock file: what the report marks as pinned among the packages that ran."""
    names = set(pinned_versions(m))
    if m.environment.lock_file is not None:
        try:
            text = (root / m.environment.lock_file).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            text = ""
        for _, line in logical_lines(text):
            match = _PIN.match(line)
            if match:
                names.add(canonical_name(match.group(1)))
    return tuple(sorted(names))


#: what Qiskit reads OpenQASM 3 with (``qiskit.qasm3.load``), and qiskit's extras that pull it
QASM3_READER = "qiskit-qasm3-import"
_QASM3_EXTRAS = re.compile(r"^\s*qiskit\s*\[[^\]]*\b(qasm3-import|all)\b[^\]]*\]", re.I)


def qasm3_reader_findings(root: Path, m: Manifest, qasm3: list[str]) -> list[Finding]:
    """A warning when circuits ``qasm3`` (ids) are OpenQASM 3 and the environment pins
    nothing that reads it: their replay would fail with Qiskit's MissingOptionalLibraryError.
    A warning, not an error: a pinned package may still pull the reader in."""
    if not qasm3 or QASM3_READER in pinned_names(root, m) or any(
            _QASM3_EXTRAS.match(req) for req in m.environment.requirements):
        return []
    version = installed_version(QASM3_READER)
    return [Finding(
        code="qasm3-reader-not-pinned", severity="warning", file=MANIFEST_NAME,
        field="environment.requirements",
        message=f"{'circuits' if len(qasm3) > 1 else 'circuit'} {', '.join(qasm3)} "
                f"{'are' if len(qasm3) > 1 else 'is'} OpenQASM 3, which Qiskit reads with "
                f"{QASM3_READER}; the environment does not pin it: add "
                f"{QASM3_READER}=={version or 'VERSION'}")]


def installed_version(name: str) -> str | None:
    """The version of distribution ``name`` installed where qrepro runs, or None."""
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def version_findings(m: Manifest, execution: Execution | None) -> list[Finding]:
    if execution is None:
        return []
    ran = {canonical_name(k): v for k, v in execution.environment.packages.items()}
    out: list[Finding] = []
    for name, pinned in pinned_versions(m).items():
        if name in SIMULATION_PACKAGES and name in ran and ran[name] != pinned:
            out.append(Finding(
                code="version-mismatch", severity="warning", file=MANIFEST_NAME,
                field="environment.requirements",
                message=f"pinned {name}=={pinned} but {ran[name]} ran: identical counts are "
                        "not expected, the statistical comparison applies"))
    return out


#: what the in-environment agent needs to execute notebooks
NOTEBOOK_AGENT_PACKAGES = ("papermill", "ipykernel")


def environment_for(m: Manifest) -> tuple[Environment, list[Finding]]:
    """The environment to build: the deposit's own, plus what the agent needs to execute
    its notebooks (pinned to the versions qrepro runs with) when the deposit does not pin
    them itself. The additions are reported as info findings."""
    env = m.environment
    if not m.notebooks or env.lock_file:
        return env, []
    pins = pinned_versions(m)
    added = [f"{name}=={metadata.version(name)}" for name in NOTEBOOK_AGENT_PACKAGES
             if name not in pins]
    if not added:
        return env, []
    finding = Finding(code="agent-requirements-added", severity="info", file=MANIFEST_NAME,
                      field="environment.requirements",
                      message=f"added {', '.join(added)} to execute the notebooks (not pinned "
                              "by the deposit)")
    return env.model_copy(update={"requirements": [*env.requirements, *added]}), [finding]
