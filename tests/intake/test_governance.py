from __future__ import annotations

import datetime as dt

from harness.intake.governance import governance_findings
from harness.intake.manifest import parse_manifest
from tests.conftest import base_manifest

TODAY = dt.date(2026, 11, 22)


def codes(data: dict) -> dict[str, tuple[str, ...]]:  # type: ignore[type-arg]
    return {f.code: f.blocks for f in governance_findings(parse_manifest(data), TODAY)}


def test_clean_manifest_has_only_no_blocking_findings() -> None:
    assert all(not blocks for blocks in codes(base_manifest()).values())


def test_missing_identifier_blocks_available() -> None:
    data = base_manifest()
    data["identity"].pop("identifier")
    assert codes(data)["identifier-missing"] == ("available",)


def test_non_open_and_unknown_licenses() -> None:
    data = base_manifest()
    data["license"] = {"spdx": "CC-BY-NC-4.0", "commercial_use": False}
    assert "available" in codes(data)["license-not-open"]
    data["license"] = {"spdx": "My-License", "commercial_use": False}
    assert "available" in codes(data)["license-unknown"]


def test_commercial_flag_inconsistency_is_a_warning() -> None:
    data = base_manifest()
    data["license"]["commercial_use"] = False
    assert codes(data)["license-inconsistent"] == ()


def test_embargo_active_and_ended() -> None:
    data = base_manifest()
    data["license"]["embargo_until"] = "2027-01-01"
    assert codes(data)["embargo-active"] == ("available",)
    data["license"]["embargo_until"] = "2026-01-01"
    assert "embargo-active" not in codes(data)


def test_personal_data_needs_basis_and_record() -> None:
    data = base_manifest()
    data["consent"] = {"personal_data": True}
    found = codes(data)
    assert found["consent-basis-missing"] == ("available", "reusable")
    assert found["consent-record-missing"] == ("available", "reusable")
    assert "deidentification-missing" in found
    data["consent"] = {"personal_data": True, "basis": "informed-consent",
                       "record": "https://example.org/consent/1", "deidentification": "k-anon"}
    assert not {"consent-basis-missing", "consent-record-missing"} & set(codes(data))


def test_provenance_completeness() -> None:
    data = base_manifest()
    data["provenance"]["authors"][0].pop("affiliation")
    data["provenance"].pop("institution")
    data["provenance"]["source"] = "hardware"
    found = {f.field: f.blocks for f in governance_findings(parse_manifest(data), TODAY)}
    assert found["provenance.authors[0].affiliation"] == ("reusable",)
    assert found["provenance.institution"] == ("reusable",)
    assert found["provenance.calibration"] == ("reusable",)
