"""Whole evaluations of the notebook reference deposits in an isolated venv (runner local).

The Docker variants live in tests/docker/test_notebook_deposits_docker.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.intake.deposit_digest import snapshot
from harness.models import Report
from harness.pipeline import Options, evaluate
from runners.venv import VenvRunner
from tests.conftest import DEPOSITS

pytestmark = pytest.mark.e2e

#: vqc-iris (3 minutes of training on 2 cores) runs here in make test-slow; make test runs it
#: in a container (tests/docker/test_notebook_deposits_docker.py), the default runner's path
GOOD = (pytest.param("vqc-iris", marks=[pytest.mark.slow, pytest.mark.timeout(1800)]),
        "qkernel-breast-cancer")


def run(name: str, out: Path, fresh_seeds: int = 0) -> Report:
    before = snapshot(DEPOSITS / name)
    report = evaluate(DEPOSITS / name, out, VenvRunner(),
                      Options(jobs=2, fresh_seeds=fresh_seeds))
    assert snapshot(DEPOSITS / name) == before, "the deposit must never change"
    return report


@pytest.mark.parametrize("name", GOOD)
def test_good_notebook_deposit_earns_all_four_badges(name: str, tmp_path: Path) -> None:
    report = run(name, tmp_path / "out")
    assert report.status == "complete", report.error
    badges = report.badges
    assert (badges.available, badges.functional, badges.reusable, badges.reproduced) == (
        True, True, True, True), badges.reasons
    assert all(c.verdict == "pass" for c in report.claims)
    assert not [f for f in report.findings if f.code == "nondeterministic-notebook"]
    runs = [n for n in report.notebooks if not n.run.endswith("-repeat")]
    assert runs and all(n.ok for n in runs)
    assert all((tmp_path / "out" / "work" / str(n.executed)).is_file() for n in runs)


def test_broken_notebook_denies_functional_and_names_the_cell(tmp_path: Path) -> None:
    report = run("vqc-iris-broken", tmp_path / "out")
    assert not report.badges.functional and not report.badges.reproduced
    assert report.badges.available
    failed = [n for n in report.notebooks if not n.ok]
    assert failed and all(n.error_type == "cell-error" for n in failed)
    assert failed[0].ename == "RuntimeError" and failed[0].cell_index is not None
    reasons = " ".join(report.badges.reasons["functional"])
    assert f"cell {failed[0].cell_index} raised RuntimeError" in reasons
    md = (tmp_path / "out" / "report.md").read_text()
    assert "deliberately broken" in md


@pytest.mark.slow  # 15 trainings through papermill: about 10 minutes on 2 cores
@pytest.mark.timeout(2400)  # above pyproject's per-test ceiling
def test_cherry_picked_seeds_are_flagged_with_ten_fresh_seeds(tmp_path: Path) -> None:
    """The best 5 of 20 training seeds deposited: replayed, the claim passes; against 10
    fresh seeds it is seed-sensitive and (strict policy) loses Results Reproduced."""
    report = run("vqc-cherry-picked", tmp_path / "out", fresh_seeds=10)
    assert report.status == "complete", report.error
    claim = report.claims[0]
    assert claim.verdict == "pass" and claim.seed_check is not None
    assert claim.seed_check.fresh_n == 10 and claim.seed_check.flagged, claim.seed_check
    assert report.badges.functional and not report.badges.reproduced
    assert any(f.code == "seed-sensitive" for f in report.findings)
