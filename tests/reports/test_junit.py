"""report.junit.xml from real evaluations: one case per claim and per venue badge, read the
way CI systems read it (xml.etree; junitparser too when it is installed)."""

from __future__ import annotations

import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from harness.models import ClaimResult, Report
from harness.policies import load_policy
from reports import write_reports
from reports.junit_report import FILE, junit_text
from reports.svg_badges import policy_of
from tests.conftest import DEPOSITS

pytestmark = pytest.mark.e2e

QREPRO = Path(sys.executable).parent / "qrepro"
SMOKE_CLAIMS = "not evaluated: a --smoke run (one seed, few shots) evaluates no claim"


def evaluate_all(root: Path, runs: dict[str, list[str]]) -> dict[str, Path]:
    """``qrepro evaluate ARGS --out root/NAME --runner local`` for each run, all at once;
    the output folders (each with its report.json, whatever the exit status)."""
    procs = {name: subprocess.Popen(
        [str(QREPRO), "evaluate", *args, "--out", str(root / name), "--runner", "local"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE) for name, args in runs.items()}
    for name, proc in procs.items():
        _, err = proc.communicate(timeout=900)
        assert (root / name / "report.json").is_file(), (
            f"{name}: exit {proc.returncode}, no report: {err.decode()[-3000:]}")
    return {name: root / name for name in runs}


def load(out: Path) -> Report:
    return Report.model_validate_json((out / "report.json").read_text())


@pytest.fixture(scope="module")
def outs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("junit")
    (root / "no-manifest").mkdir()
    return evaluate_all(root, {
        "ghz": [str(DEPOSITS / "ghz-noisy")],
        "overclaimed": [str(DEPOSITS / "ghz-noisy-overclaimed")],
        "error": [str(root / "no-manifest")],
        "smoke": [str(DEPOSITS / "ghz-noisy"), "--smoke"],
    })


@pytest.fixture(scope="module")
def ghz(outs: dict[str, Path]) -> Report:
    return load(outs["ghz"])


@pytest.fixture(scope="module")
def overclaimed(outs: dict[str, Path]) -> Report:
    return load(outs["overclaimed"])


# --- reading it as CI does --------------------------------------------------------------


def parse(text: str) -> ET.Element:
    """The document, checked as Jenkins/GitLab/GitHub read it: testsuites > testsuite >
    testcase > at most one of failure|error|skipped, the counts matching the cases."""
    root = ET.fromstring(text)
    assert root.tag == "testsuites"
    suites = root.findall("testsuite")
    assert len(suites) == 1
    totals = {"tests": 0, "failures": 0, "errors": 0}
    for suite in suites:
        cases = suite.findall("testcase")
        outcome = [[child.tag for child in case if child.tag in ("failure", "error", "skipped")]
                   for case in cases]
        assert all(len(o) <= 1 for o in outcome)
        counts = {"tests": len(cases), "failures": outcome.count(["failure"]),
                  "errors": outcome.count(["error"]), "skipped": outcome.count(["skipped"])}
        assert {k: int(suite.attrib[k]) for k in counts} == counts
        assert all(case.get("name") and case.get("classname") for case in cases)
        for key in totals:
            totals[key] += counts[key]
    assert {k: int(root.attrib[k]) for k in totals} == totals
    return suites[0]


def cases(suite: ET.Element, classname_prefix: str) -> list[ET.Element]:
    return [c for c in suite.findall("testcase")
            if (c.get("classname") or "").startswith(classname_prefix)]


def claim_name(c: ClaimResult) -> str:
    return f"{c.id} ({c.metric})"


@pytest.mark.parametrize("name", ["ghz", "overclaimed", "error", "smoke"])
def test_junitparser_reads_it(outs: dict[str, Path], name: str, tmp_path: Path) -> None:
    """junitparser (not a dependency: skipped unless installed) counts what etree counts."""
    junitparser = pytest.importorskip("junitparser")
    report = load(outs[name])
    if name == "ghz":  # with an undecided badge
        report = report.model_copy(update={"policy": load_policy("ieee").apply(report.badges)})
    path = tmp_path / FILE
    path.write_text(junit_text(report), encoding="utf-8")
    (suite,) = list(junitparser.JUnitXml.fromfile(str(path)))
    results = [type(r).__name__ for case in suite for r in case.result]
    assert suite.tests == len(list(suite)) > 0
    assert (suite.failures, suite.errors, suite.skipped) == (
        results.count("Failure"), results.count("Error"), results.count("Skipped"))
    assert suite.skipped == {"ghz": 1, "overclaimed": 0, "error": 0, "smoke": 3}[name]


# --- the suite --------------------------------------------------------------------------


def test_suite_names_the_deposit_and_the_evaluation(ghz: Report) -> None:
    suite = parse(junit_text(ghz))
    assert suite.get("name") == "qrepro: Noisy GHZ states, 3 to 8 qubits, on Qiskit Aer"
    assert suite.get("timestamp") == ghz.generated
    props = {p.get("name"): p.get("value") for p in suite.iter("property")}
    assert props["deposit.identifier"] == "doi:10.5281/zenodo.7000001"
    assert props["deposit.sha256"] == ghz.deposit_sha256
    assert props["qrepro.version"] == ghz.tool["version"]
    assert props["policy"] == "acm-v1.1"
    assert props["mode"] == "full"


def test_one_passing_case_per_claim_and_badge(ghz: Report) -> None:
    text = junit_text(ghz)
    suite = parse(text)
    claims = cases(suite, "claims.")
    assert [c.get("name") for c in claims] == [claim_name(c) for c in ghz.claims]
    assert [c.get("classname") for c in claims] == [f"claims.{c.kind}" for c in ghz.claims]
    assert all(float(c.get("time", 0)) > 0 for c in claims)  # the circuits' wall times
    badges = cases(suite, "badges")
    assert [b.get("name") for b in badges] == [b.name for b in policy_of(ghz).badges]
    assert suite.get("failures") == suite.get("errors") == suite.get("skipped") == "0"
    assert int(suite.attrib["tests"]) == len(ghz.claims) + len(policy_of(ghz).badges)


def test_failing_claim_is_a_failure_with_the_verdicts_reason(overclaimed: Report) -> None:
    text = junit_text(overclaimed)
    suite = parse(text)
    failed = [c for c in overclaimed.claims if c.verdict == "fail"]
    assert [c.id for c in failed] == ["ghz_8-fidelity"]
    by_name = {c.get("name"): c for c in cases(suite, "claims.")}
    assert len(by_name) == len(overclaimed.claims)
    failure = by_name[claim_name(failed[0])].find("failure")
    assert failure is not None
    assert failure.get("message") == failed[0].message
    assert failed[0].comparison is not None
    assert (failure.text or "").startswith(failed[0].comparison.evidence)
    passing = [by_name[claim_name(c)] for c in overclaimed.claims if c.verdict == "pass"]
    assert all(len(case) == 0 or case[0].tag == "system-out" for case in passing)
    # the denied badge fails with its reasons
    reproduced = next(b for b in cases(suite, "badges") if b.get("name") == "Results Reproduced")
    denied = reproduced.find("failure")
    assert denied is not None and denied.get("type") == "denied"
    assert "ghz_8-fidelity" in (denied.get("message") or "")
    assert suite.get("failures") == "2"


def test_inconclusive_is_a_typed_failure_and_error_an_error(overclaimed: Report) -> None:
    first, second, *rest = overclaimed.claims
    claims = (first.model_copy(update={"verdict": "inconclusive"}),
              second.model_copy(update={"verdict": "error", "comparison": None,
                                        "message": "circuit ghz_3 did not run"}),
              *rest)
    suite = parse(junit_text(overclaimed.model_copy(update={"claims": claims})))
    one, two = cases(suite, "claims.")[:2]
    inconclusive = one.find("failure")
    assert inconclusive is not None and inconclusive.get("type") == "inconclusive"
    assert inconclusive.get("message") == first.message
    error = two.find("error")
    assert error is not None and error.get("message") == "circuit ghz_3 did not run"
    assert suite.get("errors") == "1"


def test_a_failure_without_a_message_still_fails(overclaimed: Report) -> None:
    claim = overclaimed.claims[0].model_copy(update={"verdict": "fail", "message": "",
                                                     "comparison": None})
    suite = parse(junit_text(overclaimed.model_copy(update={"claims": (claim,)})))
    failure = cases(suite, "claims.")[0].find("failure")
    assert failure is not None and failure.get("message") == "verdict fail"


def test_undecided_badge_is_skipped_with_its_reason(ghz: Report) -> None:
    ieee = ghz.model_copy(update={"policy": load_policy("ieee").apply(ghz.badges)})
    undecided = [b for b in policy_of(ieee).badges if not b.decided]
    assert [b.name for b in undecided] == ["Code Replicated"]
    text = junit_text(ieee)
    suite = parse(text)
    badge = {b.get("name"): b for b in cases(suite, "badges")}["Code Replicated"]
    skipped = badge.find("skipped")
    assert skipped is not None
    assert skipped.get("message") == undecided[0].reasons[0]
    assert suite.get("skipped") == "1" and suite.get("failures") == "0"
    props = {p.get("name"): p.get("value") for p in suite.iter("property")}
    assert props["policy"] == "ieee"


def test_failed_evaluation_is_an_error_case(outs: dict[str, Path]) -> None:
    report = load(outs["error"])
    assert report.status == "error" and report.error is not None
    text = junit_text(report)
    suite = parse(text)
    assert suite.get("name") == f"qrepro: {report.deposit.source}"
    (evaluation,) = cases(suite, "qrepro")
    error = evaluation.find("error")
    assert error is not None
    assert error.get("type") == report.error.kind == "manifest"
    assert "qdata.yaml" in (error.get("message") or "")
    assert cases(suite, "claims") == []
    assert suite.get("errors") == "1"
    assert suite.get("failures") == str(len(policy_of(report).badges))  # all denied


def test_smoke_run_skips_the_claims_and_what_it_did_not_attempt(outs: dict[str, Path]
                                                                ) -> None:
    report = load(outs["smoke"])
    assert report.mode == "smoke" and report.claims == ()
    text = junit_text(report)
    suite = parse(text)
    (claims,) = cases(suite, "claims")
    skipped = claims.find("skipped")
    assert skipped is not None and skipped.get("message") == SMOKE_CLAIMS
    outcome = {b.get("name"): [c.tag for c in b if c.tag != "system-out"]
               for b in cases(suite, "badges")}
    assert outcome == {"Artifacts Available": [], "Artifacts Evaluated - Functional": [],
                       "Artifacts Evaluated - Reusable": ["skipped"],
                       "Results Reproduced": ["skipped"]}
    assert suite.get("failures") == "0" and suite.get("skipped") == "3"


def test_written_by_the_registry(outs: dict[str, Path]) -> None:
    out = outs["overclaimed"]
    report = load(out)
    paths = write_reports(report, out, ["junit"])
    assert paths == [out / FILE]
    assert paths[0].read_text(encoding="utf-8") == junit_text(report)
