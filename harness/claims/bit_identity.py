"""Seed honesty: when everything that decides Aer's random stream is the same as when the
data was recorded, the replay must give the recorded counts bit for bit.

Aer's counts are a function of the circuit, the noise model, the seed, the method, the
precision, the device and the qiskit / qiskit-aer versions (docs/statistics.md). The agent
runs one circuit per job and reports the seed and method Aer really used. When the replay's
versions equal the deposit's pins, it ran on the CPU, and Aer used the recorded seed, different
counts mean that the recorded seed or settings are not the ones that produced the data: the
``seed-not-reproducing`` finding names the circuit and denies Reusable; Reproduced is still
decided by the statistical tests (and says so). When something differs, bit-identity is not
expected, and the ``bit-identity-not-expected`` note says why. Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping

from harness.intake.manifest import MANIFEST_NAME, Manifest
from harness.intake.versions import canonical_name
from harness.models import CircuitRun, Execution, Finding, finding

#: versions that decide the random stream for the same seed
DECIDING_PACKAGES = ("qiskit", "qiskit-aer")


def environment_differences(pins: Mapping[str, str], execution: Execution) -> list[str]:
    """Why the replay's environment is not the recorded one (empty: it is)."""
    ran = {canonical_name(k): v for k, v in execution.environment.packages.items()}
    reasons = []
    for name in DECIDING_PACKAGES:
        pinned = pins.get(name)
        if pinned is None:
            reasons.append(f"the deposit does not pin {name}")
        elif ran.get(name) != pinned:
            reasons.append(f"{name} {ran.get(name, 'absent')} ran, {pinned} is pinned")
    if "qiskit-aer-gpu" in ran or execution.environment.device not in (None, "CPU"):
        reasons.append(f"the replay ran on {execution.environment.device}, not the CPU")
    return reasons


def _run_differences(run: CircuitRun, seed: int | None) -> list[str]:
    reasons = []
    if seed is None:
        reasons.append("no seed_simulator is recorded")
    elif run.seed_simulator != seed:
        reasons.append(f"Aer used seed {run.seed_simulator}, not the recorded {seed}")
    if run.device not in (None, "CPU"):
        reasons.append(f"it ran on {run.device}")
    return reasons


def bit_identity_findings(
    m: Manifest,
    pins: Mapping[str, str],
    execution: Execution | None,
    recorded: Mapping[str, dict[str, int]],
) -> tuple[list[Finding], list[str]]:
    """(findings, ids of circuits whose recorded counts were reproduced bit for bit)."""
    if execution is None or not recorded:
        return [], []
    env_reasons = environment_differences(pins, execution)
    findings: list[Finding] = []
    identical: list[str] = []
    not_expected: list[str] = []
    for i, c in enumerate(m.circuits):
        run = execution.run(c.id)
        if c.id not in recorded or run is None or not run.ok:
            continue
        reasons = [*env_reasons, *_run_differences(run, c.seed_simulator)]
        if reasons:
            not_expected.append(f"{c.id}: {'; '.join(reasons)}")
        elif run.counts == recorded[c.id]:
            identical.append(c.id)
        else:
            findings.append(finding(
                "seed-not-reproducing", "error",
                f"circuit {c.id}: replayed with the recorded seed {c.seed_simulator}, method "
                f"{run.method or c.method}, precision {c.precision} and the pinned versions, "
                "Aer gave other counts than the recorded ones: the recorded seed or settings "
                "are not the ones that produced the data (the claims' match is statistical "
                "only)",
                file=MANIFEST_NAME, field=f"circuits[{i}].seed_simulator",
                blocks=("reusable",),
            ))
    if not_expected:
        shown = not_expected if len(not_expected) <= 5 else [*not_expected[:5], "..."]
        findings.append(finding(
            "bit-identity-not-expected", "info",
            "recorded counts were compared statistically only, since identical counts are "
            "not expected when " + " | ".join(shown),
        ))
    return findings, identical
