"""validate catches claims that contradict their own per-seed values, and useless margins."""

from __future__ import annotations

from typing import Any

from harness.intake.claim_checks import claim_findings
from harness.intake.manifest import parse_manifest
from tests.conftest import base_manifest


def _manifest(**claim: Any) -> Any:
    m = base_manifest()
    m["notebooks"] = [{"id": "nb", "path": "nb.ipynb", "seeds": [1, 2, 3, 4, 5]}]
    m["claims"] = [{"id": "acc", "source": {"notebook": "nb"}, "metric": "notebook_metric",
                    "name": "accuracy", "tolerance": {"kind": "absolute", "value": 0.05},
                    **claim}]
    return parse_manifest(m)


VALUES = [0.90, 0.92, 0.88, 0.91, 0.89]  # mean 0.90, sd 0.0158


def test_consistent_claim_has_no_finding() -> None:
    m = _manifest(value=0.90, per_seed=VALUES, spread={"kind": "sd", "value": 0.0158, "n": 5},
                  step=0.01)
    assert claim_findings(m) == []


def test_mean_spread_and_step_mismatches_are_named() -> None:
    m = _manifest(value=0.93, per_seed=VALUES, spread={"kind": "sd", "value": 0.002, "n": 4},
                  step=0.1)
    found = {(f.code, f.field) for f in claim_findings(m)}
    assert found == {
        ("claimed-mean-mismatch", "claims[0].value"),
        ("spread-mismatch", "claims[0].spread.n"),
        ("spread-mismatch", "claims[0].spread.value"),
        ("tolerance-below-step", "claims[0].tolerance.value"),
        ("step-mismatch", "claims[0].step"),
    }


def test_step_must_divide_the_per_seed_values() -> None:
    on_grid = [round(k / 39, 6) for k in (30, 31, 33, 32, 30)]  # written to 6 decimals
    assert claim_findings(_manifest(value=round(sum(on_grid) / 5, 6), per_seed=on_grid,
                                    step=1 / 39)) == []
    found = claim_findings(_manifest(value=0.8512, per_seed=[0.8512, 0.8512], step=1 / 39))
    assert [f.code for f in found] == ["step-mismatch"]
    assert "0.8512" in found[0].message and "1/39" in found[0].message


def test_standard_error_is_checked_as_such() -> None:
    se = 0.0158 / 5 ** 0.5
    assert claim_findings(_manifest(value=0.90, per_seed=VALUES,
                                    spread={"kind": "se", "value": se, "n": 5})) == []
