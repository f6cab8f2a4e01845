"""Compare the versions a deposit pinned with the versions that actually ran."""

from __future__ import annotations

import re

from harness.models import Execution, Finding
from harness.qdata import MANIFEST_NAME, Manifest

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
