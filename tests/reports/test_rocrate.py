"""ro-crate-metadata.json from real evaluations, read back with rocrate's own reader."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import warnings
from pathlib import Path
from typing import Any

import pytest

from harness.badges import none_awarded
from harness.models import DepositInfo, Person, Report, RunEnvironment
from reports import Context, write_reports
from reports.rocrate_report import (
    FILE,
    PROFILE,
    WFRUN_CONTEXT,
    crate_text,
    deposit_id,
)
from tests.conftest import DEPOSITS

pytestmark = pytest.mark.e2e

QREPRO = Path(sys.executable).parent / "qrepro"
FORMATS = ["json", "md", "badges", "junit", "rocrate"]
DOI = "https://doi.org/10.5281/zenodo.7000001"
ORCID = "https://orcid.org/0000-0002-1825-0097"
SCHEMA = "http://schema.org/"


def evaluate(source: Path, out: Path) -> Report:
    """``qrepro evaluate SOURCE --out OUT --runner local``, then every report format."""
    proc = subprocess.run([str(QREPRO), "evaluate", str(source), "--out", str(out),
                           "--runner", "local"], capture_output=True, text=True, timeout=900)
    assert (out / "report.json").is_file(), f"exit {proc.returncode}: {proc.stderr[-3000:]}"
    report = Report.model_validate_json((out / "report.json").read_text())
    write_reports(report, out, FORMATS)
    return report


@pytest.fixture(scope="module")
def ghz(tmp_path_factory: pytest.TempPathFactory) -> tuple[Report, Path]:
    out = tmp_path_factory.mktemp("rocrate") / "ghz"
    return evaluate(DEPOSITS / "ghz-noisy", out), out


@pytest.fixture(scope="module")
def failed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Report, Path]:
    root = tmp_path_factory.mktemp("rocrate-error")
    (root / "no-manifest").mkdir()
    return evaluate(root / "no-manifest", root / "out"), root / "out"


def read(source: Path | dict[str, Any]) -> Any:
    """The crate as rocrate reads it (a warning of its reader fails the test)."""
    from rocrate.rocrate import ROCrate

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return ROCrate(source)


def the_action(crate: Any) -> Any:
    (action,) = crate.get_by_type("CreateAction")
    return action


def ids(value: Any) -> list[str]:
    values = value if isinstance(value, list) else [value]
    return [v.id.rstrip("/") for v in values]


# --- a complete evaluation --------------------------------------------------------------


def test_crate_follows_the_process_run_crate_profile(ghz: tuple[Report, Path]) -> None:
    report, out = ghz
    data = json.loads((out / FILE).read_text())
    assert data["@context"] == ["https://w3id.org/ro/crate/1.1/context", WFRUN_CONTEXT]
    crate = read(out)
    assert crate.version == "1.1"
    assert crate.metadata["conformsTo"] == "https://w3id.org/ro/crate/1.1"  # not an entity
    root = crate.root_dataset
    assert root.id == "./"
    assert root["conformsTo"].id == PROFILE
    assert crate.get(PROFILE)["version"] == "0.5"
    for key in ("name", "description", "datePublished", "license"):
        assert root.get(key), key
    assert root.get("datePublished") == report.generated
    assert root["license"].id == "https://spdx.org/licenses/CC-BY-4.0"
    assert ids(root["mentions"]) == [the_action(crate).id]


def test_evaluation_is_a_create_action(ghz: tuple[Report, Path]) -> None:
    report, out = ghz
    action = the_action(read(out))
    instruments = action["instrument"]
    qrepro = next(i for i in instruments if i.get("name") == "qrepro")
    assert qrepro.type == "SoftwareApplication"
    assert qrepro["version"] == report.tool["version"]
    runtime = next(i for i in instruments if i is not qrepro)
    assert runtime.type == "SoftwareApplication"
    assert runtime["version"] == report.environment.python if report.environment else False
    assert "qiskit" in [p["name"] for p in runtime["softwareRequirements"]]
    assert ids(action["object"]) == [DOI]
    assert action["actionStatus"] == SCHEMA + "CompletedActionStatus"
    assert "error" not in action
    assert action["startTime"] <= action["endTime"] == report.generated


def test_results_are_the_report_files_written_before_it(ghz: tuple[Report, Path]) -> None:
    _, out = ghz
    crate = read(out)
    results = the_action(crate)["result"]
    names = [r.id for r in results]
    assert names[:2] == ["report.json", "report.md"]
    assert "report.junit.xml" in names
    assert any(n.startswith("badge-") and n.endswith(".svg") for n in names)
    assert FILE not in names  # the crate does not list itself
    for r in results:
        assert r.type == "File"
        data = (out / r.id).read_bytes()
        assert r["sha256"] == hashlib.sha256(data).hexdigest()
        assert r["contentSize"] == str(len(data))
    assert set(names) <= {e.id for e in crate.data_entities}


def test_deposit_and_its_authors(ghz: tuple[Report, Path]) -> None:
    report, out = ghz
    crate = read(out)
    deposit = crate.get(DOI)
    assert deposit is not None and deposit.type == "Dataset"
    assert deposit["name"] == report.deposit.title
    assert deposit["identifier"] == "doi:10.5281/zenodo.7000001"
    assert deposit["version"] == "1.0.0"
    assert deposit["sha256"] == report.deposit_sha256
    assert deposit["license"].id == "https://spdx.org/licenses/CC-BY-4.0"
    (author,) = deposit["author"]
    assert author is crate.get(ORCID)
    assert author.type == "Person" and author["name"] == "Ada Example"
    assert author["affiliation"]["name"] == "qrepro reference deposits"


def test_only_the_metadata_is_written(ghz: tuple[Report, Path]) -> None:
    report, out = ghz
    before = {p: p.stat().st_mtime_ns for p in out.rglob("*") if p.name != FILE}
    assert write_reports(report, out, ["rocrate"]) == [out / FILE]
    assert {p: p.stat().st_mtime_ns for p in out.rglob("*") if p.name != FILE} == before


# --- a failed evaluation ----------------------------------------------------------------


def test_failed_evaluation(failed: tuple[Report, Path]) -> None:
    report, out = failed
    assert report.status == "error" and report.error is not None
    crate = read(out)
    action = the_action(crate)
    assert action["actionStatus"] == SCHEMA + "FailedActionStatus"
    assert "qdata.yaml at the deposit root is missing" in action["error"]
    assert ids(action["object"]) == ["#deposit"]
    assert action["object"]["name"] == report.deposit.source
    assert [i["name"] for i in action["instrument"]] == ["qrepro"]  # nothing ran
    assert isinstance(crate.root_dataset["license"], str)  # the deposit declared none
    assert ids(action["result"]) == ["report.json", "report.md", "badge-available.svg",
                                     "badge-functional.svg", "badge-reusable.svg",
                                     "badge-reproduced.svg", "report.junit.xml"]


# --- from synthetic reports -------------------------------------------------------------


def sample(out: Path, written: tuple[str, ...] = ()) -> tuple[Report, Context]:
    """A report of a deposit without identifier, license or environment."""
    report = Report(tool={"name": "qrepro", "version": "0"},
                    generated="2026-01-02T03:04:05+00:00", status="complete",
                    deposit=DepositInfo(source="d"), badges=none_awarded("none ran"),
                    timings={"total": 65.4})
    return report, Context(out, written)


def test_docker_image_is_the_actions_container_image(tmp_path: Path) -> None:
    report, context = sample(tmp_path)
    env = RunEnvironment(runner="docker", python="3.11.9", details={"image": {
        "tag": "qrepro-env:0123456789abcdef0123", "id": "sha256:" + "a" * 64,
        "base": "python:3.11-slim", "base_id": "sha256:" + "b" * 64,
        "base_reason": "the deposit's Python", "built": True}})
    report = report.model_copy(update={"environment": env})
    crate = read(json.loads(crate_text(report, context)))
    image = the_action(crate)["containerImage"]
    assert image.type == "ContainerImage"
    assert image["additionalType"] == "https://w3id.org/ro/terms/workflow-run#DockerImage"
    assert (image["name"], image["tag"], image["sha256"]) == (
        "qrepro-env", "0123456789abcdef0123", "a" * 64)
    base = image["isBasedOn"]
    assert (base["name"], base["tag"], base["sha256"]) == ("python", "3.11-slim", "b" * 64)
    assert the_action(crate)["startTime"] == "2026-01-02T03:03:00+00:00"


def test_persons_without_orcid_and_license_expressions(tmp_path: Path) -> None:
    report, context = sample(tmp_path)
    deposit = DepositInfo(source="d", identifier="other:x", license="MIT OR Apache-2.0",
                          authors=(Person(name="A"), Person(name="B", affiliation="Lab"),
                                   Person(name="C", orcid="0000-0001-2345-6789",
                                          affiliation="Lab")))
    report = report.model_copy(update={"deposit": deposit})
    crate = read(json.loads(crate_text(report, context)))
    dep = crate.get("#deposit")
    assert dep["license"]["name"] == "MIT OR Apache-2.0"
    assert crate.root_dataset["license"] is dep["license"]
    assert ids(dep["author"]) == ["#author-1", "#author-2", "https://orcid.org/0000-0001-2345-6789"]
    assert dep["author"][1]["affiliation"] is dep["author"][2]["affiliation"]


def test_result_files_that_are_not_there_are_left_out(tmp_path: Path) -> None:
    (tmp_path / "report.json").write_text("{}")
    report, context = sample(tmp_path, ("report.json", "report.md", FILE))
    crate = read(json.loads(crate_text(report, context)))
    assert ids(the_action(crate)["result"]) == ["report.json"]


@pytest.mark.parametrize(("identifier", "uri"), [
    ("doi:10.5281/zenodo.7000001", DOI),
    ("handle:20.500.12345/67", "https://hdl.handle.net/20.500.12345/67"),
    ("url:https://example.org/deposit", "https://example.org/deposit"),
    ("swh:swh:1:dir:" + "c" * 40, "https://archive.softwareheritage.org/swh:1:dir:" + "c" * 40),
    ("ark:/13030/tf5p30086k", "https://n2t.net/ark:/13030/tf5p30086k"),
    ("ark:13030/tf5p30086k", "https://n2t.net/ark:/13030/tf5p30086k"),
    ("url:ftp://example.org/x", "#deposit"),
    ("other:local-7", "#deposit"),
    (None, "#deposit"),
])
def test_deposit_id(identifier: str | None, uri: str) -> None:
    assert deposit_id(identifier) == uri
