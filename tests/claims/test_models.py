"""One manifest model per claim kind: the published JSON Schema says per kind what applies,
parse_manifest says the same naming file and field, and omitted kinds are inferred."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from pydantic import TypeAdapter

from harness.claims.registry import KINDS
from harness.errors import ManifestError
from harness.intake.manifest import CLAIM_MODELS, Claim, parse_manifest
from tests.conftest import base_manifest

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = json.loads((ROOT / "harness" / "schema" / "qdata-v1.schema.json").read_text())
DEPOSITS = sorted((ROOT / "benchmarks" / "deposits").glob("*/qdata.yaml"))


def as_json(data: Any) -> Any:
    """YAML data as a JSON document has it (dates as strings)."""
    return json.loads(json.dumps(data, default=str))


def claim_defs() -> dict[str, dict[str, Any]]:
    items = SCHEMA["properties"]["claims"]["items"]
    refs = [entry["$ref"].removeprefix("#/$defs/") for entry in items["anyOf"]]
    return {name: SCHEMA["$defs"][name] for name in refs}


def test_the_schema_has_one_model_per_kind() -> None:
    defs = claim_defs()
    assert len(defs) == 7
    kinds = {d["properties"]["kind"]["const"]: d for d in defs.values()}
    assert set(kinds) == set(KINDS)
    assert all(d["additionalProperties"] is False for d in defs.values())
    assert [k for k, d in kinds.items() if "direction" in d["properties"]] == ["one-sided"]
    assert [k for k, d in kinds.items() if "order" in d["properties"]] == ["comparative"]
    assert "tolerance" not in kinds["quantum-volume"]["properties"]
    assert {"value", "tolerance"} <= set(kinds["scalar"]["required"])
    assert "value" not in kinds["counts"]["properties"]
    assert kinds["trials"]["properties"]["test"]["enum"] == ["auto", "tost", "tost-welch",
                                                             "bootstrap-ci"]
    # kind may be left out for the inferred kinds only
    assert {k for k, d in kinds.items() if "kind" not in d["required"]} == {
        "scalar", "counts", "trials"}


def test_every_kind_is_tied_to_its_model() -> None:
    assert {kind.model for kind in KINDS.values()} == set(CLAIM_MODELS)
    assert all(kind.model.kind_name() == name for name, kind in KINDS.items())


@pytest.mark.parametrize("manifest", DEPOSITS, ids=[p.parent.name for p in DEPOSITS])
def test_reference_deposits_validate_against_the_schema(manifest: Path) -> None:
    jsonschema.validate(as_json(yaml.safe_load(manifest.read_text())), SCHEMA)


def test_a_field_of_another_kind_is_rejected_by_schema_and_parser() -> None:
    data = base_manifest()
    data["claims"][0]["direction"] = "at_least"  # a scalar claim
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(as_json(data), SCHEMA)
    with pytest.raises(ManifestError) as err:
        parse_manifest(data)
    assert (err.value.file, err.value.field) == ("qdata.yaml", "claims[0].direction")
    assert err.value.message == "'direction' does not apply to a scalar claim"
    assert err.value.one_line().startswith("qdata.yaml: claims[0].direction: ")


@pytest.mark.parametrize(("change", "field", "message"), [
    ({"kind": "bogus"}, "claims[0].kind", "unknown claim kind 'bogus'; use one of: scalar,"),
    ({"value": None}, "claims[0].value", "a scalar claim needs a value"),
    ({"tolerance": {"kind": "exact"}}, "claims[0].tolerance",
     "tolerance 'exact' does not apply to a scalar claim; use one of: absolute, relative, "
     "shot-noise"),
    ({"test": "tost"}, "claims[0].test",
     "test 'tost' does not apply to a scalar claim; use one of: auto, threshold"),
    ({"kind": "one-sided"}, "claims[0].direction",
     "a one-sided claim needs a direction: at_least or at_most"),
    ({"kind": "aggregate", "statistic": "mode"}, "claims[0].statistic", "Input should be"),
    ({"spread": {"kind": "sd", "value": 0.1, "n": 3}}, "claims[0].spread",
     "'spread' does not apply to a scalar claim"),
    ({"tolerence": {"kind": "exact"}}, "claims[0].tolerence", "Extra inputs are not permitted"),
])
def test_claim_errors_are_said_in_terms_of_the_kind(change: dict[str, Any], field: str,
                                                    message: str) -> None:
    data = base_manifest()
    claim = {**data["claims"][0], **change}
    data["claims"][0] = {k: v for k, v in claim.items() if v is not None}
    with pytest.raises(ManifestError) as err:
        parse_manifest(data)
    assert err.value.field == field and err.value.message.startswith(message)


def test_a_claim_that_is_no_mapping() -> None:
    data = base_manifest()
    data["claims"][0] = "fidelity 0.9"
    with pytest.raises(ManifestError) as err:
        parse_manifest(data)
    assert err.value.field == "claims[0]" and "a claim is a mapping" in err.value.message


def test_omitted_kinds_are_inferred() -> None:
    data = base_manifest()
    data["circuits"].append({**data["circuits"][0], "id": "seeded", "seeds": [1, 2, 3]})
    data["notebooks"] = [{"id": "nb", "path": "nb.ipynb", "seeds": [1, 2]}]
    scalar, counts = data["claims"]
    data["claims"] += [
        {**scalar, "id": "over-seeds", "source": {"circuit": "seeded"}},
        {"id": "acc", "source": {"notebook": "nb"}, "metric": "notebook_metric",
         "name": "accuracy", "value": 0.9, "tolerance": {"kind": "absolute", "value": 0.05}},
    ]
    assert "kind" not in scalar and "kind" not in counts
    m = parse_manifest(data)
    assert [c.kind for c in m.claims] == ["scalar", "counts", "trials", "trials"]
    assert [type(c).__name__ for c in m.claims] == ["ScalarClaim", "CountsClaim",
                                                    "TrialsClaim", "TrialsClaim"]


def test_the_discriminator_infers_on_a_claim_alone() -> None:
    """Without the manifest's circuits: counts for metric counts, trials for a notebook,
    else scalar."""
    adapter: TypeAdapter[Claim] = TypeAdapter(Claim)
    data = base_manifest()
    scalar, counts = data["claims"]
    notebook = {"id": "acc", "source": {"notebook": "nb"}, "metric": "notebook_metric",
                "name": "accuracy", "value": 0.9,
                "tolerance": {"kind": "absolute", "value": 0.05}}
    assert [adapter.validate_python(c).kind for c in (scalar, counts, notebook)] == [
        "scalar", "counts", "trials"]
