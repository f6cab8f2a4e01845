from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
import yaml

from harness.errors import ManifestError
from harness.intake.manifest import CountsClaim, json_schema, load_manifest, parse_manifest
from tests.conftest import base_manifest

SCHEMA_FILE = Path(__file__).resolve().parents[2] / "harness" / "schema" / "qdata-v1.schema.json"


def test_base_manifest_parses() -> None:
    m = parse_manifest(base_manifest())
    assert m.circuit("ghz3").shots == 1000
    assert isinstance(m.claims[1], CountsClaim)
    assert m.claims[1].tolerance.kind == "shot-noise"


def test_shipped_schema_is_in_sync_with_models() -> None:
    assert json.loads(SCHEMA_FILE.read_text()) == json_schema()


def test_shipped_schema_accepts_reference_manifest_and_rejects_bad_one() -> None:
    schema = json.loads(SCHEMA_FILE.read_text())
    data = yaml.safe_load(yaml.safe_dump(base_manifest()))
    data["identity"]["created"] = "2026-01-01"
    jsonschema.validate(data, schema)
    data["circuits"][0]["shots"] = 0
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(data, schema)


@pytest.mark.parametrize(("mutate", "field"), [
    (lambda m: m["circuits"][0].update(shots=0), "circuits[0].shots"),
    (lambda m: m["circuits"][0].update(shotz=5), "circuits[0].shotz"),
    (lambda m: m.pop("license"), "license"),
    (lambda m: m["identity"]["identifier"].update(value="https://doi.org/10.1/x"),
     "identity.identifier.value"),
    (lambda m: m["provenance"]["authors"][0].update(orcid="123"), "provenance.authors[0].orcid"),
    (lambda m: m["claims"][0]["tolerance"].update(kind="fuzzy"), "claims[0].tolerance"),
    (lambda m: m["claims"][0]["tolerance"].update(value=-1), "claims[0].tolerance.value"),
    (lambda m: m["circuits"][0].update(noise_model="nope"), "circuits[0].noise_model"),
    (lambda m: m["claims"][0].update(source={"circuit": "nope"}), "claims[0].source.circuit"),
    (lambda m: m["claims"][0].update(source={}), "claims[0].source"),
    (lambda m: m["claims"][0].pop("value"), "claims[0].value"),
    (lambda m: m["claims"].append(dict(m["claims"][0])), "claims"),
    (lambda m: m["claims"][1].update(tolerance={"kind": "absolute", "value": 0.1}),
     "claims[1].tolerance"),
    (lambda m: m["claims"][0].update(tolerance={"kind": "exact"}), "claims[0].tolerance"),
])
def test_errors_name_the_field(mutate, field: str) -> None:  # type: ignore[no-untyped-def]
    data = base_manifest()
    mutate(data)
    with pytest.raises(ManifestError) as info:
        parse_manifest(data)
    assert info.value.field == field
    assert info.value.file == "qdata.yaml"
    assert "\n" not in info.value.one_line()


def test_yaml_syntax_error_names_line(tmp_path: Path) -> None:
    path = tmp_path / "qdata.yaml"
    path.write_text("qdata: 1\nidentity: [unclosed\n")
    with pytest.raises(ManifestError) as info:
        load_manifest(path)
    assert info.value.field is not None and info.value.field.startswith("line ")


def test_missing_manifest(tmp_path: Path) -> None:
    with pytest.raises(ManifestError, match="no manifest"):
        load_manifest(tmp_path / "qdata.yaml")


def test_non_mapping_manifest() -> None:
    with pytest.raises(ManifestError) as info:
        parse_manifest([1, 2])
    assert info.value.field == "(root)"
