"""report.junit.xml: the evaluation as JUnit XML, for the test views of CI systems
(GitHub Actions, GitLab, Jenkins; docs/outputs.md), written with ``junit_xml``.

One test suite per evaluation. One test case per claim (classname ``claims.<kind>``): a
pass passes, fail and inconclusive are failures (typed ``failure`` and ``inconclusive``)
with the verdict's reason as message and the comparison's evidence as text, error is an
error; a smoke run evaluated no claim, so its claims are one skipped case. One test case
per badge of the venue's policy (classname ``badges``): denied is a failure with the
reasons, a badge no rerun can decide (or that a smoke run did not attempt) is skipped.
An evaluation that failed adds an error case (classname ``qrepro``).
"""

from __future__ import annotations

import fnmatch
from typing import TYPE_CHECKING

from harness.badges import SMOKE_REASON
from harness.models import BadgeKey, ClaimResult, Report, VenueBadge
from reports import Context
from reports.svg_badges import policy_of

if TYPE_CHECKING:
    from junit_xml import TestCase

FILE = "report.junit.xml"
#: the decisions a smoke run does not attempt (harness.badges.smoke_only)
SMOKE_SKIPS: tuple[BadgeKey, ...] = ("reusable", "reproduced")


def render(report: Report, context: Context) -> dict[str, str]:
    return {FILE: junit_text(report)}


def junit_text(report: Report) -> str:
    """The whole JUnit XML document (UTF-8 text, ``<testsuites>`` with one suite)."""
    from junit_xml import TestSuite, to_xml_report_string

    suite = TestSuite(suite_name(report), suite_cases(report), package="qrepro",
                      timestamp=report.generated, properties=suite_properties(report))
    text: str = to_xml_report_string([suite], prettyprint=True)
    return text if text.endswith("\n") else text + "\n"


def suite_name(report: Report) -> str:
    return f"qrepro: {report.deposit.title or report.deposit.source}"


def suite_properties(report: Report) -> dict[str, str]:
    values = {
        "deposit.source": report.deposit.source,
        "deposit.identifier": report.deposit.identifier,
        "deposit.version": report.deposit.version,
        "deposit.sha256": report.deposit_sha256,
        "qrepro.version": report.tool.get("version"),
        "policy": policy_of(report).name,
        "mode": report.mode,
        "status": report.status,
        "claims.replay": str(sum(c.computed_by == "replay" for c in report.claims)),
        "claims.deposit-code": str(sum(c.computed_by == "deposit-code" for c in report.claims)),
    }
    return {k: v for k, v in values.items() if v is not None}


def suite_cases(report: Report) -> list[TestCase]:
    cases = [error_case(report)] if report.status != "complete" or report.error else []
    if report.mode == "smoke":
        cases += smoke_claim_cases(report)
    else:
        cases += [claim_case(c, report) for c in report.claims]
    return cases + [badge_case(b, report) for b in policy_of(report).badges]


# --- the evaluation ---------------------------------------------------------------------


def error_case(report: Report) -> TestCase:
    from junit_xml import TestCase

    case = TestCase("evaluation", classname="qrepro",
                    elapsed_sec=report.timings.get("total", 0.0))
    if report.error is None:
        case.add_error_info(f"the evaluation ended with status {report.status}",
                            error_type=report.status)
    else:
        case.add_error_info(one_line(report.error.one_line()), error_type=report.error.kind)
    return case


# --- claims -----------------------------------------------------------------------------


def claim_case(c: ClaimResult, report: Report) -> TestCase:
    from junit_xml import TestCase

    case = TestCase(f"{c.id} ({c.metric})", classname=f"claims.{c.kind or 'claim'}",
                    elapsed_sec=claim_seconds(c, report))
    text = claim_text(c)
    if c.verdict == "pass":
        case.stdout = text
    elif c.verdict == "error":
        case.add_error_info(claim_reason(c), text, error_type="error")
    else:  # fail or inconclusive
        case.add_failure_info(claim_reason(c), text,
                              failure_type="inconclusive" if c.verdict == "inconclusive"
                              else "failure")
    return case


def smoke_claim_cases(report: Report) -> list[TestCase]:
    """A smoke run evaluates no claim: each one the report names (none, as the pipeline
    writes it) or a single ``claims`` case is skipped with that reason."""
    from junit_xml import TestCase

    reason = "not evaluated: a --smoke run (one seed, few shots) evaluates no claim"
    if not report.claims:
        case = TestCase("claims", classname="claims")
        case.add_skipped_info(reason)
        return [case]
    cases = []
    for c in report.claims:
        case = TestCase(f"{c.id} ({c.metric})", classname=f"claims.{c.kind or 'claim'}")
        case.add_skipped_info(reason)
        cases.append(case)
    return cases


def claim_reason(c: ClaimResult) -> str:
    """The verdict's reason (never empty: junit_xml drops an empty failure)."""
    evidence = c.comparison.evidence if c.comparison is not None else ""
    return one_line(c.message or evidence or f"verdict {c.verdict}")


def claim_text(c: ClaimResult) -> str:
    """The comparison's evidence first, then the facts a CI log reader needs."""
    cmp = c.comparison
    lines = [cmp.evidence if cmp is not None else c.message or f"verdict {c.verdict}",
             f"source: {c.source}", f"computed by: {c.computed_by}", f"verdict: {c.verdict}"]
    if cmp is not None:
        facts = {"test": cmp.test, "claimed": cmp.claimed, "observed": cmp.observed,
                 "difference": cmp.difference, "p-value": cmp.p_value,
                 "threshold": cmp.threshold}
        lines += [f"{k}: {v}" for k, v in facts.items() if v is not None]
    if c.adjusted_p_value is not None:
        lines.append(f"adjusted p-value: {c.adjusted_p_value}")
    if c.seed_check is not None:
        lines.append(f"seed check: {c.seed_check.evidence}")
    return "\n".join(lines)


def claim_seconds(c: ClaimResult, report: Report) -> float:
    """Wall time of the circuit and notebook runs the claim's source names (0 if none)."""
    total = 0.0
    for part in c.source.split(" > "):
        kind, _, ref = part.strip().partition(":")
        if kind == "circuit":
            total += sum(r.wall_s for r in report.circuits if (r.circuit or r.id) == ref)
        elif kind == "circuits":
            patterns = ref.split(",")
            total += sum(r.wall_s for r in report.circuits
                         if any(fnmatch.fnmatchcase(r.circuit or r.id, p) for p in patterns))
        elif kind == "notebook":
            total += sum(r.wall_s for r in report.notebooks if r.id == ref)
    return round(total, 6)


# --- badges -----------------------------------------------------------------------------


def badge_case(b: VenueBadge, report: Report) -> TestCase:
    from junit_xml import TestCase

    case = TestCase(b.name, classname="badges")
    reasons = "\n".join(b.reasons)
    if b.awarded:
        case.stdout = reasons or None
    elif not b.decided:
        case.add_skipped_info(one_line("; ".join(b.reasons) or "no rerun can decide this badge"))
    elif not_attempted(b, report):
        case.add_skipped_info(SMOKE_REASON)
    else:
        case.add_failure_info(one_line("; ".join(b.reasons) or "denied"),
                              reasons or None, failure_type="denied")
    return case


def not_attempted(b: VenueBadge, report: Report) -> bool:
    """Denied only for decisions a smoke run does not attempt."""
    missing = [k for k in b.requires if not getattr(report.badges, k)]
    return report.mode == "smoke" and bool(missing) and all(k in SMOKE_SKIPS for k in missing)


def one_line(text: str) -> str:
    return " ".join(text.split())
