"""qrepro check: validation + a smoke run + the claims on the deposited data, ending in a
to-do list ordered by badge impact; exit 0 when nothing blocks a badge."""

from __future__ import annotations

import json
import math
import re
import tempfile
from pathlib import Path
from typing import Any

import pytest

from harness.authoring.review import margin_for_power, review_claims
from harness.authoring.todo import Todo, ordered, render
from harness.intake.archive import open_deposit
from harness.intake.manifest import MANIFEST_NAME, load_manifest
from tests.authoring.cli import qrepro
from tests.conftest import DEPOSITS, base_manifest, build_deposit


def check(name: str, *more: str) -> tuple[int, str]:
    return qrepro("check", str(DEPOSITS / name), "--runner", "host", *more)


def test_the_reference_deposit_has_nothing_left(tmp_path: Path) -> None:
    code, out = check("ghz-noisy", "--out", str(tmp_path / "out"))
    assert code == 0, out
    assert re.search(r"Artifacts Available\s+awarded", out)
    assert re.search(r"Artifacts Evaluated - Functional\s+awarded", out)
    assert "to do: nothing" in out
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert report["mode"] == "smoke"


def test_tampered_lists_the_changed_file_with_its_checksum_field() -> None:
    code, out = check("ghz-noisy-tampered")
    assert code == 1, out
    assert re.search(r"Artifacts Available\s+denied", out)
    assert (" 1. Available: results/counts/ghz_5.json changed after it was inventoried: restore "
            "the original bytes") in out
    assert ("    field files[10].sha256 (file results/counts/ghz_5.json); also blocks "
            "Reproduced") in out
    assert "claim ghz_5" not in out  # the counts are not trusted: the checksum comes first
    assert "(1 of 1 block a badge)" in out


def test_overclaimed_lists_the_unsupported_claim() -> None:
    code, out = check("ghz-noisy-overclaimed")
    assert code == 1, out
    assert re.search(r"Artifacts Available\s+awarded", out)
    assert " 1. Reproduced: the deposited data do not support claim ghz_8-fidelity" in out
    assert "reproduced 0.7721 vs claimed 0.9700" in out
    assert "    field claims[10].value in qdata.yaml" in out
    assert out.count("do not support claim") == 1


def test_an_unreadable_manifest_blocks_everything(make_deposit: Any) -> None:
    manifest = base_manifest()
    manifest["circuits"][0]["shots"] = 0
    deposit = make_deposit(manifest)
    code, out = qrepro("check", str(deposit), "--runner", "host")
    assert code == 1, out
    assert "Available: correct qdata.yaml: Input should be greater than or equal to 1" in out
    assert "field circuits[0].shots in qdata.yaml; also blocks Functional, Reusable, " \
           "Reproduced" in out


@pytest.mark.parametrize(("n", "k80", "k95"), [
    (2, 8.93, 13.23), (3, 4.61, 6.05), (5, 3.58, 4.47), (10, 3.18, 3.92), (30, 3.00, 3.69)])
def test_recommended_margins_are_those_of_docs_statistics(n: int, k80: float,
                                                          k95: float) -> None:
    assert margin_for_power(1.0, n, 0.80) * math.sqrt(n) == pytest.approx(k80, abs=0.01)
    assert margin_for_power(1.0, n, 0.95) * math.sqrt(n) == pytest.approx(k95, abs=0.01)


def _trials_deposit(root: Path, claim: dict[str, Any]) -> Path:
    manifest = base_manifest()
    manifest["circuits"][0]["seeds"] = [1000, 2000, 3000, 4000, 5000]
    manifest["claims"] = [{"id": "fid5", "source": {"circuit": "ghz3"},
                           "metric": "hellinger_fidelity", **claim}]
    return build_deposit(root, manifest)


def _review(root: Path) -> list[Todo]:
    with tempfile.TemporaryDirectory() as tmp:
        deposit = open_deposit(root, Path(tmp))
        manifest = load_manifest(deposit.manifest_path, MANIFEST_NAME)
        return ordered(review_claims(deposit, manifest, {}, set()))


def test_a_tight_tolerance_gets_the_recommended_value(tmp_path: Path) -> None:
    root = _trials_deposit(tmp_path / "d", {
        "value": 0.913, "spread": {"kind": "sd", "value": 0.0079, "n": 5},
        "tolerance": {"kind": "absolute", "value": 0.005}})
    (item,) = _review(root)
    assert item.code == "tolerance-tight" and item.blocks == ("reproduced",)
    assert item.field == "claims[0].tolerance.value"
    assert "raise the tolerance of claim fid5 to 0.016" in item.fix  # 4.47 x 0.0079 / sqrt 5
    assert "0.0126 for 80%" in item.fix


def test_a_claim_far_from_its_per_seed_values(tmp_path: Path) -> None:
    per_seed = [0.912, 0.923931, 0.915175, 0.901853, 0.91311]
    root = _trials_deposit(tmp_path / "d", {
        "value": 0.97, "per_seed": per_seed, "tolerance": {"kind": "absolute", "value": 0.02}})
    (item,) = _review(root)
    assert item.code == "claim-unsupported" and item.field == "claims[0].value"
    assert "claimed mean 0.9700 is not the mean 0.9132" in item.fix
    honest = _trials_deposit(tmp_path / "e", {
        "value": 0.913214, "per_seed": per_seed, "tolerance": {"kind": "absolute",
                                                               "value": 0.02}})
    assert _review(honest) == []


def test_no_claims_and_a_missing_tolerance(tmp_path: Path) -> None:
    manifest = base_manifest()
    manifest["claims"] = []
    assert [t.code for t in _review(build_deposit(tmp_path / "a", manifest))] == ["no-claims"]
    manifest["claims"] = [{"id": "at-least", "kind": "one-sided",
                           "source": {"circuit": "ghz3"}, "metric": "hellinger_fidelity",
                           "direction": "at_least", "value": 0.5}]
    (item,) = _review(build_deposit(tmp_path / "b", manifest))
    assert (item.code, item.blocks, item.field) == (
        "tolerance-missing", (), "claims[0].tolerance")


def test_the_list_is_ordered_by_badge() -> None:
    items = [Todo("b", "fix b", ("reproduced",)), Todo("c", "fix c"),
             Todo("a", "fix a", ("reusable", "available"), "files[0].sha256", "x.json")]
    assert [t.code for t in ordered(items)] == ["a", "b", "c"]
    assert render(ordered(items))[:2] == [
        " 1. Available: fix a",
        "    field files[0].sha256 (file x.json); also blocks Reusable"]
