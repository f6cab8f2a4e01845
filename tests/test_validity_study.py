"""The validation study's bookkeeping, and the committed results meeting the issue's targets."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from benchmarks.validity.study import RESULTS, markdown, summarise, weaker

KINDS = ("honest", "shift-0.5se", "shift-1se", "shift-3se", "cherry-picked", "weaker-noise",
         "shots-misreported")


def row(reproduced: bool, flagged: bool = False) -> dict[str, object]:
    return {"reproduced": reproduced, "verdict": "pass" if reproduced else "fail",
            "flagged": flagged, "test": "exact", "status": "complete"}


def test_summary_fields_and_rates() -> None:
    rows = {k: [row(True), row(False, flagged=True)] for k in KINDS}
    result = summarise(rows, se=0.003, wall=1.0)
    assert result["honest_pass_rate"] == 0.5
    assert result["false_badge_rate_3se"] == 0.5
    assert result["cherry_pick_flag_rate"] == 0.5
    assert result["kinds"]["honest"]["false_badge_rate"] == 0.0
    assert "| cherry-picked | 2 | 50% | 50% | 50% |" in markdown(result)


def test_weaker_noise_halves_every_channel() -> None:
    noise = {"gate_errors": [{"channels": [{"type": "depolarizing", "p": 0.02}]}]}
    assert weaker(noise)["gate_errors"][0]["channels"][0]["p"] == 0.01
    assert noise["gate_errors"][0]["channels"][0]["p"] == 0.02


def test_committed_results_meet_the_targets() -> None:
    result = json.loads(Path(RESULTS).read_text())
    assert result["deposits"] >= 40
    assert result["honest_pass_rate"] >= 0.95
    assert result["false_badge_rate_3se"] <= 0.05
    assert result["cherry_pick_flag_rate"] >= 0.80
    assert set(result["kinds"]) == set(KINDS)


def test_committed_claim_kind_results_meet_the_targets() -> None:
    """Issue 13's targets, on the committed `make validity` results."""
    kinds = json.loads((Path(RESULTS).parent / "claim_kinds.json").read_text())
    rows = kinds["rows"]
    honest = {k: r["pass"] for k, r in rows.items() if "honest" in k}
    false = {k: r["pass"] for k, r in rows.items() if "false" in k or "below the bound" in k}
    assert len(honest) >= 4 and all(rate >= 0.95 for rate in honest.values()), honest
    assert len(false) >= 5 and all(rate <= 0.05 for rate in false.values()), false
    assert all(r["n"] >= 1000 for r in rows.values())
    assert kinds["consecutive_seeds"]["flagged"] <= 0.05
    assert kinds["wrong_seeds"]["random other seed"]["caught"] >= 0.99


def test_committed_seed_check_results_meet_the_targets() -> None:
    seeds = json.loads((Path(RESULTS).parent / "seed_check.json").read_text())
    assert seeds["trials"] >= 1000
    high_variance = [r for r in seeds["rows"]
                     if r["metric"].startswith("accuracy") and r["fresh"] == 10]
    assert len(high_variance) == 3
    assert all(r["cherry-picked"]["check"] >= 0.80 for r in high_variance)
    assert all(r["honest"]["check"] <= 0.05 for r in seeds["rows"])
    assert all(r["worst-picked"]["check"] <= 0.05 for r in seeds["rows"])


def test_committed_monte_carlo_checks_pass_and_name_their_fast_versions() -> None:
    """make validity's Monte Carlo checks (moved out of make test): every criterion met, and
    each names the make test test that keeps a fast version of it."""
    result = json.loads((Path(RESULTS).parent / "monte_carlo.json").read_text())
    assert len(result["rows"]) == 14 and result["failed"] == []
    assert all(r["passed"] for r in result["rows"])
    root = Path(RESULTS).parents[2]
    for r in result["rows"]:
        path, name = r["test"].split("::")
        assert f"def {name}(" in (root / path).read_text(), r["test"]


def test_a_failed_criterion_is_reported_and_fails_make_validity(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    from benchmarks.validity import monte_carlo, study

    failing = monte_carlo.check("x", "tests/a.py::test_x", "3 of 4", "0", False)
    passing = monte_carlo.check("y", "tests/a.py::test_y", "0 of 4", "0", True)
    monkeypatch.setattr(monte_carlo, "STUDIES", [lambda: failing, lambda: [passing]])
    monkeypatch.setattr(sys, "argv", ["study", "--only", "checks", "--no-write"])
    with pytest.raises(SystemExit) as exited:
        study.main()
    assert exited.value.code == 1
    out, err = capsys.readouterr()
    assert "| x | 3 of 4 | 0 | **FAIL** |" in out and "| y | 0 of 4 | 0 | pass |" in out
    assert "2 criteria, 1 failed" in out and "1 criteria failed: x" in err
