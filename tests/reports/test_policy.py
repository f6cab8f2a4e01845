"""Venue badge policies: the shipped ones, a venue's own file, bad files, and --policy usenix
showing USENIX's three badges in every output of a real evaluation."""

from __future__ import annotations

import json
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from harness.badges import decide, none_awarded
from harness.errors import PolicyError
from harness.models import BADGE_KEYS, BadgeDecision
from harness.policies import load_policy, shipped

ROOT = Path(__file__).resolve().parents[2]


def decision(**awarded: bool) -> BadgeDecision:
    base = {k: awarded.get(k, True) for k in BADGE_KEYS}
    return BadgeDecision(**base, reasons={k: [f"why {k}"] for k in BADGE_KEYS})


def test_every_shipped_policy_loads_and_names_its_badges() -> None:
    assert shipped() == ["acm-v1.1", "ieee", "ndss", "niso-rp-31", "usenix"]
    names = {n: [b.name for b in load_policy(n).badges] for n in shipped()}
    assert names["acm-v1.1"] == ["Artifacts Available", "Artifacts Evaluated - Functional",
                                 "Artifacts Evaluated - Reusable", "Results Reproduced"]
    assert names["usenix"] == ["Artifacts Available", "Artifacts Functional",
                               "Results Reproduced"]
    assert len(names["ndss"]) == 3 and len(names["ieee"]) == 4 and len(names["niso-rp-31"]) == 4
    assert load_policy("acm").name == "acm-v1.1" and load_policy("niso").name == "niso-rp-31"


def test_a_badge_needs_every_decision_it_requires() -> None:
    ieee = load_policy("ieee")
    got = {b.id: b for b in ieee.apply(decision(reusable=False)).badges}
    assert got["available"].awarded and got["reproducible"].awarded
    assert not got["reviewed"].awarded and got["reviewed"].reasons == ("why reusable",)
    # Replicated needs an independent team: never awarded, and said so
    assert not got["replicated"].awarded and not got["replicated"].decided
    assert got["replicated"].reasons[0].startswith("not decided: an independent team")


def test_awarded_badges_carry_the_reasons_of_what_they_need() -> None:
    d = decide([], [], [], {"available": ["open license"], "functional": ["ran"]})
    got = {b.id: b for b in load_policy("usenix").apply(d).badges}
    assert got["available"].awarded and got["available"].reasons == ("open license",)
    assert not got["reproduced"].awarded
    assert "the deposit makes no claims" in got["reproduced"].reasons


def test_a_venue_passes_its_own_file(tmp_path: Path) -> None:
    path = tmp_path / "venue.yaml"
    path.write_text("name: myconf\ntitle: MyConf AE\nbadges:\n"
                    "  - {id: runs, name: It Runs, color: '#112233', requires: [functional]}\n"
                    "  - {id: same, name: Same Numbers, requires: [reproduced, functional]}\n")
    policy = load_policy(path)
    result = policy.apply(none_awarded("evaluation failed"))
    assert [b.name for b in result.badges] == ["It Runs", "Same Numbers"]
    assert not any(b.awarded for b in result.badges)


@pytest.mark.parametrize(("text", "field", "message"), [
    ("name: x\ntitle: y\nbadges: []\n", "badges", "at least 1"),
    ("name: x\ntitle: y\nbadges:\n  - {id: a, name: A, requires: [famous]}\n",
     "badges.0.requires.0", "available"),
    ("name: x\ntitle: y\nbadges:\n  - {id: a, name: A, requires: [available], color: red}\n",
     "badges.0.color", "#RRGGBB"),
    ("name: x\ntitle: y\nbadges:\n  - {id: a, name: A, requires: []}\n", "badges",
     "requires nothing"),
    ("name: x\ntitle: y\nbadges:\n  - {id: a, name: A, requires: [available]}\n"
     "  - {id: a, name: B, requires: [functional]}\n", "badges", "repeat"),
    ("name: x\ntitle: y\nextra: 1\nbadges:\n  - {id: a, name: A, requires: [available]}\n",
     "extra", "not permitted"),
])
def test_a_bad_policy_file_names_file_and_field(tmp_path: Path, text: str, field: str,
                                                message: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(PolicyError) as info:
        load_policy(path)
    assert info.value.file == str(path) and info.value.field == field
    assert message in info.value.message


def test_an_unknown_policy_lists_the_shipped_ones() -> None:
    with pytest.raises(PolicyError, match=r"no policy named 'acm-v2'.*acm-v1\.1, ieee, ndss"):
        load_policy("acm-v2")


def test_policy_usenix_shows_usenixs_three_badges_everywhere(tmp_path: Path) -> None:
    out = tmp_path / "out"
    proc = subprocess.run(
        [sys.executable, "-m", "harness", "evaluate", str(ROOT / "benchmarks/deposits/ghz-noisy"),
         "--out", str(out), "--runner", "local", "--policy", "usenix"],
        capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    usenix = ["Artifacts Available", "Artifacts Functional", "Results Reproduced"]
    for name in usenix:
        assert f"  {name}" in proc.stdout
    assert "Reusable" not in proc.stdout
    report = json.loads((out / "report.json").read_text())
    assert report["policy"]["name"] == "usenix"
    assert [b["name"] for b in report["policy"]["badges"]] == usenix
    assert all(b["awarded"] for b in report["policy"]["badges"])
    md = (out / "report.md").read_text()
    assert "## Badges (USENIX Artifact Evaluation (sysartifacts))" in md
    assert "Reusable" not in md.split("## Claims")[0]
    assert sorted(p.name for p in out.glob("badge-*.svg")) == [
        "badge-available.svg", "badge-functional.svg", "badge-reproduced.svg"]
    assert "Artifacts Functional" in (out / "badge-functional.svg").read_text()
    cases = ET.parse(out / "report.junit.xml").getroot().iter("testcase")
    badge_cases = [c.get("name") or "" for c in cases if c.get("classname") == "badges"]
    assert len(badge_cases) == 3 and all(any(n in c for n in usenix) for c in badge_cases)
    html = out / "report.html"
    if html.exists():
        assert "Artifacts Functional" in html.read_text() and \
            "Evaluated - Reusable" not in html.read_text()
