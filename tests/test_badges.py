from __future__ import annotations

from harness.badges import decide, none_awarded
from harness.models import ClaimResult, Finding


def finding(code: str, *blocks: str) -> Finding:
    return Finding.model_validate({"code": code, "severity": "error", "message": code,
                                   "file": "f", "blocks": blocks})


def claim(verdict: str) -> ClaimResult:
    return ClaimResult.model_validate({"id": "c", "source": "circuit:x", "metric": "counts",
                                       "verdict": verdict, "tolerance": {}, "message": "m"})


GRANTED = {"available": ["ok-a"], "functional": ["ok-f"], "reusable": ["ok-u"],
           "reproduced": ["ok-r"]}


def test_all_awarded_with_positive_reasons() -> None:
    d = decide([], [], [claim("pass")], GRANTED)  # type: ignore[arg-type]
    assert (d.available, d.functional, d.reusable, d.reproduced) == (True, True, True, True)
    assert d.reasons["reproduced"] == ["ok-r"]
    assert d.names["functional"] == "Artifacts Evaluated - Functional"


def test_findings_deny_exactly_the_badges_they_block() -> None:
    d = decide([finding("checksum-mismatch", "available", "reproduced")], [], [claim("pass")],
               GRANTED)  # type: ignore[arg-type]
    assert (d.available, d.functional, d.reusable, d.reproduced) == (False, True, True, False)
    assert d.reasons["available"] == ["f: checksum-mismatch"]


def test_not_functional_denies_reusable_and_reproduced() -> None:
    d = decide([], ["circuit x failed"], [claim("pass")], GRANTED)  # type: ignore[arg-type]
    assert (d.functional, d.reusable, d.reproduced) == (False, False, False)
    assert d.available


def test_one_failing_claim_denies_reproduced() -> None:
    d = decide([], [], [claim("pass"), claim("fail")], GRANTED)  # type: ignore[arg-type]
    assert not d.reproduced and d.reusable
    assert d.reasons["reproduced"] == ["claim c: fail: m"]


def test_no_claims_no_reproduced() -> None:
    assert not decide([], [], [], GRANTED).reproduced  # type: ignore[arg-type]


def test_none_awarded() -> None:
    d = none_awarded("boom")
    assert not any((d.available, d.functional, d.reusable, d.reproduced))
    assert d.reasons["available"] == ["boom"]
