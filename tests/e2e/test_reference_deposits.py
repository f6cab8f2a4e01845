"""Whole evaluations of the bundled reference deposits in a venv of their pinned versions
(runner local), so that recorded counts are expected to replay bit for bit."""

from __future__ import annotations

import json
import shutil
import tarfile
from pathlib import Path
from typing import Any

import pytest

from harness.intake.deposit_digest import snapshot
from harness.pipeline import Options, evaluate
from runners.venv import VenvRunner
from tests.conftest import DEPOSITS

pytestmark = pytest.mark.e2e

#: what each reference deposit must earn: (available, functional, reusable, reproduced)
EXPECTED = {
    "ghz-noisy": (True, True, True, True),
    # the edited counts file is not what the recorded seed produces: no Reusable either
    "ghz-noisy-tampered": (False, True, False, False),
    "ghz-noisy-overclaimed": (True, True, True, False),
    # the mean heavy-output probability is reproduced; the QV 16 criterion is not met
    "qv4-noisy": (True, True, True, False),
    "ghz-compare": (True, True, True, True),
    "ghz-compare-reversed": (True, True, True, False),
}

#: the verdict each claim of a reference deposit must get
VERDICTS = {
    "qv4-noisy": {"mean-hop": "pass", "qv16": "fail"},
    "ghz-compare": {"weak-noise-beats-strong": "pass", "fidelity-at-least": "pass",
                    "ghz5_weak-fidelity": "pass", "ghz5_strong-fidelity": "pass"},
    "ghz-compare-reversed": {"strong-beats-weak-false": "fail",
                             "fidelity-at-least-false": "fail",
                             "ghz5_weak-fidelity": "pass", "ghz5_strong-fidelity": "pass"},
}


def run(source: Path, out: Path) -> dict[str, Any]:
    evaluate(source, out, VenvRunner(), Options(seed=0))
    report: dict[str, Any] = json.loads((out / "report.json").read_text())
    assert (out / "report.md").is_file()
    return report


def badges(report: dict[str, Any]) -> tuple[bool, ...]:
    return tuple(report["badges"][k] for k in ("available", "functional", "reusable",
                                               "reproduced"))


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_reference_deposit_earns_its_badges(name: str, tmp_path: Path) -> None:
    before = snapshot(DEPOSITS / name)
    report = run(DEPOSITS / name, tmp_path / "out")
    assert report["status"] == "complete"
    assert badges(report) == EXPECTED[name]
    if name in VERDICTS:
        assert {c["id"]: c["verdict"] for c in report["claims"]} == VERDICTS[name]
    if name == "qv4-noisy":  # 100 circuits: one evaluation serves both checks
        check_qv_bound(report)
    assert snapshot(DEPOSITS / name) == before, "the deposit must never change"
    assert len(report["deposit_sha256"]) == 64
    assert report["environment"]["packages"]["qiskit-aer"]


def test_good_deposit_reproduces_counts_exactly(tmp_path: Path) -> None:
    report = run(DEPOSITS / "ghz-noisy", tmp_path / "out")
    assert {c["verdict"] for c in report["claims"]} == {"pass"}
    circuits = {c["id"]: c for c in report["circuits"]}
    assert set(circuits) == {f"ghz_{n}" for n in range(3, 9)}
    assert circuits["ghz_5"]["seed_simulator"] == 1005
    assert circuits["ghz_5"]["method"] == "statevector"
    pins = report["environment"]["packages"]
    if pins.get("qiskit-aer") == _pinned("qiskit-aer"):
        exact = [c for c in report["claims"] if c["metric"] == "counts"]
        assert all(c["comparison"]["test"] == "exact" for c in exact)


def _pinned(package: str) -> str:
    text = (DEPOSITS / "ghz-noisy" / "qdata.yaml").read_text()
    return text.split(f"{package}==", 1)[1].split()[0]


def test_tampered_deposit_names_the_file(tmp_path: Path) -> None:
    report = run(DEPOSITS / "ghz-noisy-tampered", tmp_path / "out")
    mismatch = [f for f in report["findings"] if f["code"] == "checksum-mismatch"]
    assert [f["file"] for f in mismatch] == ["results/counts/ghz_5.json"]
    assert any("results/counts/ghz_5.json" in r for r in report["badges"]["reasons"]["available"])
    assert any("results/counts/ghz_5.json" in r
               for r in report["badges"]["reasons"]["reproduced"])


def test_overclaimed_deposit_shows_by_how_much(tmp_path: Path) -> None:
    report = run(DEPOSITS / "ghz-noisy-overclaimed", tmp_path / "out")
    failed = [c for c in report["claims"] if c["verdict"] != "pass"]
    assert [c["id"] for c in failed] == ["ghz_8-fidelity"]
    cmp = failed[0]["comparison"]
    assert cmp["claimed"] == 0.97
    assert cmp["difference"] == pytest.approx(cmp["observed"] - 0.97)
    assert cmp["difference"] < -0.1
    md = (tmp_path / "out" / "report.md").read_text()
    assert "ghz_8-fidelity" in md and f"{cmp['difference']:.4f}" in md


def test_archive_deposit_gives_same_digest_and_verdicts(tmp_path: Path) -> None:
    archive = tmp_path / "ghz-noisy.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(DEPOSITS / "ghz-noisy", arcname="ghz-noisy")
    from_dir = run(DEPOSITS / "ghz-noisy", tmp_path / "a")
    from_archive = run(archive, tmp_path / "b")
    assert from_archive["deposit_sha256"] == from_dir["deposit_sha256"]
    assert badges(from_archive) == badges(from_dir)


def test_generator_is_deterministic(tmp_path: Path) -> None:
    """Regenerating the deposits gives the committed bytes (with the pinned versions)."""
    import importlib.metadata

    from benchmarks.deposits.generate_ghz import PINNED, main

    if any(importlib.metadata.version(p) != _pinned(p) for p in PINNED):
        pytest.skip("installed versions differ from the pinned ones: the files would differ")

    main(tmp_path)
    for name in ("ghz-noisy", "ghz-noisy-tampered", "ghz-noisy-overclaimed"):  # its deposits
        assert snapshot(tmp_path / name) == snapshot(DEPOSITS / name), name
    shutil.rmtree(tmp_path)


def test_wrong_recorded_seeds_lose_reusable_and_are_named(tmp_path: Path) -> None:
    """Issue #13: seeds changed after recording. The replay with the same versions, method
    and precision must give the recorded counts; it does not, so each circuit is named and
    Reusable denied, while Reproduced stays a statistical verdict."""
    import re

    deposit = tmp_path / "ghz-wrong-seeds"
    shutil.copytree(DEPOSITS / "ghz-noisy", deposit)
    manifest = deposit / "qdata.yaml"
    text, count = manifest.read_text(), iter(range(1000))
    text = re.sub(r"seed_simulator: (\d+)",
                  lambda m: f"seed_simulator: {int(m.group(1)) + 7}" if next(count) < 2
                  else m.group(0), text)
    manifest.write_text(text)
    report = run(deposit, tmp_path / "out")
    wrong = [f for f in report["findings"] if f["code"] == "seed-not-reproducing"]
    assert [f["field"] for f in wrong] == ["circuits[0].seed_simulator",
                                          "circuits[1].seed_simulator"]
    assert "ghz_3" in wrong[0]["message"] and "statistical only" in wrong[0]["message"]
    assert badges(report) == (True, True, False, True)


def test_honest_deposit_says_its_counts_replayed_bit_for_bit(tmp_path: Path) -> None:
    report = run(DEPOSITS / "ghz-noisy", tmp_path / "out")
    reasons = " ".join(report["badges"]["reasons"]["reusable"])
    assert "the recorded counts of 6 circuits reproduced bit for bit" in reasons


def check_qv_bound(report: dict[str, Any]) -> None:
    """The QV claim names its computed bound (checked on the one qv4-noisy evaluation)."""
    qv = next(c for c in report["claims"] if c["id"] == "qv16")
    bound = qv["comparison"]["details"]["bound"]
    assert 0.6 < bound < 2 / 3 and qv["comparison"]["details"]["circuits"] == 100
    assert f"{bound:.4f}" in qv["message"] and "QV 16 is not shown" in qv["message"]
    assert any(f"{bound:.4f}" in r for r in report["badges"]["reasons"]["reproduced"])
