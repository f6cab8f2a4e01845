"""Decide the four ACM badges (v1.1 names) from the evidence. Rules: docs/badges.md.

- Available: persistent identifier, open license, no active embargo, consent in order,
  every inventoried file present and matching its checksum, nothing un-inventoried.
- Functional: every listed circuit and notebook runs to completion.
- Reusable: Functional, plus complete provenance, exactly pinned environment, recorded
  seeds and noise models.
- Reproduced: Functional, at least one claim, every claim passes (intersection-union:
  no multiplicity correction), and the claimed data passed its integrity checks.
"""

from __future__ import annotations

from collections.abc import Sequence

from harness.models import BADGE_KEYS, BadgeDecision, BadgeKey, ClaimResult, Finding


def decide(findings: Sequence[Finding], not_run: Sequence[str], claims: Sequence[ClaimResult],
           granted: dict[BadgeKey, list[str]]) -> BadgeDecision:
    """``not_run``: one line per listed item that did not run; ``granted``: the positive
    reasons each badge is shown with when it is awarded."""
    denied: dict[BadgeKey, list[str]] = {k: [] for k in BADGE_KEYS}
    for f in findings:
        for badge in f.blocks:
            denied[badge].append(f.one_line())
    denied["functional"].extend(not_run)
    if denied["functional"]:
        denied["reusable"].append("not Functional")
        denied["reproduced"].append("not Functional")
    if not claims:
        denied["reproduced"].append("the deposit makes no claims")
    for c in claims:
        if c.verdict != "pass":
            denied["reproduced"].append(f"claim {c.id}: {c.verdict}: {c.message}")
    awarded = {k: not denied[k] for k in BADGE_KEYS}
    reasons = {k: (granted.get(k, []) if awarded[k] else denied[k]) for k in BADGE_KEYS}
    return BadgeDecision(available=awarded["available"], functional=awarded["functional"],
                         reusable=awarded["reusable"], reproduced=awarded["reproduced"],
                         reasons=reasons)


def none_awarded(reason: str) -> BadgeDecision:
    """The decision when the evaluation could not be completed."""
    return BadgeDecision(available=False, functional=False, reusable=False, reproduced=False,
                         reasons={k: [reason] for k in BADGE_KEYS})


#: why a kick-the-tires run (--smoke) decides no more than Available and Functional
SMOKE_REASON = ("not attempted: a --smoke run (one seed, few shots) decides Available and "
                "Functional only")


def smoke_only(decision: BadgeDecision) -> BadgeDecision:
    """Reusable and Results Reproduced not attempted; Available and Functional as decided."""
    reasons = dict(decision.reasons)
    reasons["reusable"] = [SMOKE_REASON]
    reasons["reproduced"] = [SMOKE_REASON]
    return decision.model_copy(update={"reusable": False, "reproduced": False,
                                       "reasons": reasons})
