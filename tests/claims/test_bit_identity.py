"""harness.claims.bit_identity: when identical counts are expected, and what a difference means."""

from __future__ import annotations

from harness.claims.bit_identity import bit_identity_findings
from harness.intake.manifest import parse_manifest
from harness.models import CircuitRun, Execution, RunEnvironment
from tests.conftest import COUNTS, base_manifest

PINS = {"qiskit": "2.6.2", "qiskit-aer": "0.18.2"}


def _execution(counts: dict[str, int], *, seed: int = 11, device: str = "CPU",
               aer: str = "0.18.2") -> Execution:
    env = RunEnvironment(runner="x", packages={"qiskit": "2.6.2", "qiskit-aer": aer},
                         device=device)
    run = CircuitRun(id="ghz3", ok=True, counts=counts, seed_simulator=seed,
                     method="statevector", device=device, shots=1000)
    return Execution(environment=env, circuits=(run,))


def _codes(findings: list[object]) -> list[str]:
    return [f.code for f in findings]  # type: ignore[attr-defined]


def test_identical_counts_are_named() -> None:
    m = parse_manifest(base_manifest())
    findings, identical = bit_identity_findings(m, PINS, _execution(COUNTS), {"ghz3": COUNTS})
    assert findings == [] and identical == ["ghz3"]


def test_different_counts_with_everything_equal_deny_reusable() -> None:
    m = parse_manifest(base_manifest())
    other = {**COUNTS, "000": COUNTS["000"] - 1, "111": COUNTS["111"] + 1}
    findings, identical = bit_identity_findings(m, PINS, _execution(other), {"ghz3": COUNTS})
    assert identical == [] and _codes(findings) == ["seed-not-reproducing"]
    assert findings[0].blocks == ("reusable",)
    assert findings[0].field == "circuits[0].seed_simulator"


def test_other_versions_device_or_seed_make_it_statistical_only() -> None:
    m = parse_manifest(base_manifest())
    other = {**COUNTS, "000": COUNTS["000"] - 1, "111": COUNTS["111"] + 1}
    for execution, why in [(_execution(other, aer="0.17.0"), "qiskit-aer 0.17.0 ran"),
                           (_execution(other, device="GPU"), "GPU"),
                           (_execution(other, seed=12), "Aer used seed 12")]:
        findings, _ = bit_identity_findings(m, PINS, execution, {"ghz3": COUNTS})
        assert _codes(findings) == ["bit-identity-not-expected"], why
        assert why in findings[0].message and findings[0].blocks == ()
    findings, _ = bit_identity_findings(m, {}, _execution(other), {"ghz3": COUNTS})
    assert "does not pin qiskit" in findings[0].message
