from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from harness.badges import decide
from harness.errors import RegistryError
from harness.models import ClaimResult, Comparison, DepositInfo, Finding, Report
from reports import write_reports
from reports.json_report import report_schema

SCHEMA_FILE = Path(__file__).resolve().parents[1] / "harness" / "schema" / "report-v1.schema.json"


def sample() -> Report:
    cmp = Comparison(verdict="fail", test="threshold", observed=0.77, claimed=0.97,
                     difference=-0.2, statistic="|difference|", statistic_value=0.2,
                     threshold=0.02, evidence="too far | really")
    claim = ClaimResult(id="fid", kind="scalar", source="circuit:a", metric="hellinger_fidelity",
                        verdict="fail", tolerance={"kind": "absolute", "value": 0.02},
                        comparison=cmp, message="too far | really")
    finding = Finding(code="orcid-missing", severity="info", message="no ORCID",
                      file="qdata.yaml", field="provenance.authors[0].orcid")
    badges = decide([], [], [claim], {"available": ["a"]})
    return Report(tool={"name": "qrepro", "version": "0"}, generated="2026-11-22T00:00:00Z",
                  status="complete", deposit=DepositInfo(source="d", title="T"),
                  deposit_sha256="0" * 64, badges=badges, claims=(claim,),
                  findings=(finding,))


def test_json_report_validates_against_shipped_schema(tmp_path: Path) -> None:
    assert json.loads(SCHEMA_FILE.read_text()) == report_schema()
    paths = write_reports(sample(), tmp_path)
    data = json.loads(paths[0].read_text())
    jsonschema.validate(data, report_schema())
    assert data["badges"]["reproduced"] is False
    assert data["claims"][0]["comparison"]["difference"] == -0.2


def test_markdown_report_shows_badges_claims_findings(tmp_path: Path) -> None:
    md = write_reports(sample(), tmp_path, ["md"])[0].read_text()
    assert "| Results Reproduced | **denied** |" in md
    assert ("| fid | scalar | circuit:a | qrepro's replay | hellinger_fidelity | 0.9700 | 0.7700 | "
            "-0.2000 |") in md
    assert "too far \\| really" in md
    assert "info `orcid-missing`: qdata.yaml: provenance.authors\\[0\\].orcid: no ORCID" in md


def test_unknown_format() -> None:
    with pytest.raises(RegistryError, match="report format 'pdf' not found; available: "
                       "badges, html, json, junit, md, rocrate"):
        write_reports(sample(), Path("."), ["pdf"])
