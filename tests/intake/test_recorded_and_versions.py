from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.errors import DepositError
from harness.intake.manifest import parse_manifest
from harness.intake.recorded import load_counts, parse_counts
from harness.intake.versions import pinned_versions, version_findings
from harness.models import Execution, RunEnvironment
from tests.conftest import base_manifest


def test_counts_parse_and_normalise() -> None:
    assert parse_counts({"0 1": 3, "1 0": 2}, "c.json", 5) == {"01": 3, "10": 2}


@pytest.mark.parametrize(("data", "field"), [
    ({"0x1": 3}, "0x1"), ({"01": -1}, "01"), ({"01": 1.5}, "01"), ({"01": True}, "01"),
    ({"01": 1, "1": 2}, "(root)"), ([], "(root)"), ({}, "(root)"),
])
def test_bad_counts_name_the_key(data: object, field: str) -> None:
    with pytest.raises(DepositError) as info:
        parse_counts(data, "c.json")
    assert (info.value.file, info.value.field) == ("c.json", field)


def test_counts_must_sum_to_shots(tmp_path: Path) -> None:
    path = tmp_path / "c.json"
    path.write_text(json.dumps({"0": 1, "1": 1}))
    with pytest.raises(DepositError, match="sum to 2 but the circuit records 3 shots"):
        load_counts(path, "c.json", 3)
    path.write_text("{nope")
    with pytest.raises(DepositError, match="invalid JSON"):
        load_counts(path, "c.json")


def test_version_mismatch_is_a_warning() -> None:
    m = base_manifest()
    m["environment"]["requirements"] = ["qiskit==2.6.2", "qiskit_aer==0.17.0", "numpy==2.0"]
    manifest = parse_manifest(m)
    assert pinned_versions(manifest) == {"qiskit": "2.6.2", "qiskit-aer": "0.17.0",
                                         "numpy": "2.0"}
    env = RunEnvironment(runner="local", packages={"qiskit": "2.6.2", "qiskit-aer": "0.18.2",
                                                   "numpy": "2.4"})
    found = version_findings(manifest, Execution(environment=env))
    assert [(f.code, f.severity, f.blocks) for f in found] == [
        ("version-mismatch", "warning", ())]
    assert "qiskit-aer==0.17.0 but 0.18.2 ran" in found[0].message
