"""report.md: the report a committee member reads.

Every value that did not come from qrepro itself (the deposit's title, ids, file names,
messages that quote them, a notebook's error, the environment's package names, the policy's
names) goes through ``md`` (harness.escaping.markdown_inline): it stays inline text, so a
deposit cannot add a heading, a table row, a link, an image or raw HTML to the report."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from harness.escaping import identifier_href, local_href
from harness.escaping import markdown_inline as md
from harness.models import ClaimResult, Finding, MemoryPlan, NotebookRun, Report
from harness.wording import number, test_name
from reports import Context
from reports.svg_badges import badge_file, badge_state, policy_of


def _identifier(identifier: str | None) -> str:
    """The identifier, linked through harness.escaping.identifier_href when it is a DOI or a
    web address; as text otherwise."""
    if not identifier:
        return "(none)"
    href = identifier_href(identifier)
    return f"[{md(identifier)}]({href})" if href else md(identifier)


def _header(r: Report) -> list[str]:
    d = r.deposit
    lines = [f"# qrepro report: {md(d.title or d.source)}", ""]
    lines += [
        f"- deposit: {md(d.source)}",
        f"- identifier: {_identifier(d.identifier)}",
        f"- version: {md(d.version or '-')}",
        f"- deposit sha256: {md(r.deposit_sha256 or '-')}",
        f"- files: {d.files} ({d.bytes} bytes)",
        f"- status: **{r.status}**",
        f"- generated: {md(r.generated)} by qrepro {md(r.tool.get('version', '?'))}",
    ]
    if r.mode == "smoke":
        lines += ["", "**Kick-the-tires run (--smoke)**: one seed and at most 100 shots per "
                  "circuit; Available and Functional only. Reusable and Results Reproduced "
                  "were not attempted."]
    if r.error is not None:
        lines += ["", f"**Error ({md(r.error.kind)})**: {md(r.error.one_line())}"]
    return [*lines, ""]


def _badges(r: Report) -> list[str]:
    policy = policy_of(r)
    images = " ".join(f"![{md(b.name)}: {badge_state(b)}]({local_href(badge_file(b))})"
                      for b in policy.badges)
    lines = [f"## Badges ({md(policy.title)})", "", images, "",
             "| badge | decision | reasons |", "|---|---|---|"]
    for b in policy.badges:
        reasons = "; ".join(x for x in b.reasons if x)
        lines.append(f"| {md(b.name)} | **{badge_state(b)}** | {md(reasons)} |")
    return [*lines, ""]


#: who computed a claim's values, as every report names it (docs/runners.md says what each
#: proves)
COMPUTED_BY = {"replay": "qrepro's replay", "deposit-code": "the deposit's code"}


def verdict_label(c: ClaimResult) -> str:
    """The verdict as a row shows it: a seed-sensitive pass says so in the same cell."""
    if c.seed_check is not None and c.seed_check.flagged:
        return f"{c.verdict}, seed-sensitive"
    return c.verdict


def _claim_row(c: ClaimResult) -> str:
    cmp = c.comparison
    if cmp is None:
        return (f"| {md(c.id)} | {md(c.kind)} | {md(c.source)} | {COMPUTED_BY[c.computed_by]} | "
                f"{md(c.metric)} | - | - | - | - | **{verdict_label(c)}** |")
    stat = cmp.statistic or ""
    if cmp.statistic_value is not None:
        stat += f" = {number(cmp.statistic_value)}"
    if cmp.threshold is not None:
        stat += f" (threshold {number(cmp.threshold)})"
    if cmp.p_value is not None:
        stat += f", p = {number(cmp.p_value, 3)}"
    return (
        f"| {md(c.id)} | {md(c.kind)} | {md(c.source)} | {COMPUTED_BY[c.computed_by]} | "
        f"{md(c.metric)} | {number(cmp.claimed)} | {number(cmp.observed)} | "
        f"{number(cmp.difference)} | {md(test_name(cmp.test))}: {md(stat)} | "
        f"**{verdict_label(c)}** |"
    )


def _adjusted(c: ClaimResult) -> str:
    if c.adjusted_p_value is None:
        return ""
    flag = "**discrepancy**" if c.discrepancy else "no discrepancy"
    return f" ({flag} across claims: adjusted p = {number(c.adjusted_p_value, 3)})"


def _claims(claims: Iterable[ClaimResult]) -> list[str]:
    claims = list(claims)
    if not claims:
        return []
    lines = [
        "## Claims",
        "",
        "| claim | kind | source | computed by | metric | claimed | reproduced | difference | test "
        "| verdict |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    lines += [_claim_row(c) for c in claims]
    if any(c.computed_by == "deposit-code" for c in claims):
        lines += ["", "Computed by qrepro's replay: the circuits replayed on the verified replay "
                  "stack. Computed by the deposit's code: a notebook's own numbers, run "
                  "sandboxed but not vouched for (docs/runners.md)."]
    lines += ["", *[f"- **{md(c.id)}**: {md(c.message)}{_adjusted(c)}" for c in claims], ""]
    checks = [c for c in claims if c.seed_check is not None]
    if checks:
        lines += [
            "### Seed robustness (fresh seeds)",
            "",
            "| claim | fresh runs | fresh mean | fresh sd | claim percentile | p | "
            "seed-sensitive |",
            "|---|---|---|---|---|---|---|",
        ]
        for c in checks:
            k = c.seed_check
            assert k is not None
            lines.append(
                f"| {md(c.id)} | {k.fresh_n} | {number(k.fresh_mean)} | {number(k.fresh_sd)} | "
                f"{k.percentile:.0%} | {number(k.p_value, 3)} | "
                f"{'**yes**' if k.flagged else 'no'} |"
            )
        lines.append("")
    return lines


def _findings(findings: Iterable[Finding]) -> list[str]:
    findings = list(findings)
    if not findings:
        return ["## Findings", "", "None.", ""]
    lines = ["## Findings", ""]
    for f in sorted(findings, key=lambda f: ("error", "warning", "info").index(f.severity)):
        blocks = f" (denies: {md(', '.join(f.blocks))})" if f.blocks else ""
        lines.append(f"- {f.severity} `{f.code}`: {md(f.one_line())}{blocks}")
    return [*lines, ""]


def _circuits(r: Report) -> list[str]:
    if not r.circuits:
        return []
    lines = [
        "## Circuit runs",
        "",
        "| circuit | ok | shots | seed used | method | device | wall (s) | error |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for c in r.circuits:
        lines.append(
            f"| {md(c.id)} | {'yes' if c.ok else 'no'} | {c.shots or '-'} | "
            f"{c.seed_simulator if c.seed_simulator is not None else '-'} | "
            f"{md(c.method or '-')} | {md(c.device or '-')} | {c.wall_s:.3f} | "
            f"{md(c.error or '')} |"
        )
    return [*lines, ""]


def _notebook_error(n: NotebookRun) -> str:
    if n.ok:
        return ""
    if n.traceback:
        return f"{n.error} (traceback: {n.traceback[-1].strip()})"
    return n.error or ""


def _notebooks(r: Report) -> list[str]:
    if not r.notebooks:
        return []
    lines = [
        "## Notebook runs",
        "",
        "| notebook | run | seed | ok | wall (s) | metrics | executed notebook | error |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for n in r.notebooks:
        metrics = ", ".join(
            f"{k} = {number(v) if isinstance(v, float) else v}"
            for k, v in sorted(n.metrics.items())
            if isinstance(v, int | float | str)
        )
        lines.append(
            f"| {md(n.id)} | {md(n.run)} | {n.seed} | {'yes' if n.ok else 'no'} | "
            f"{n.wall_s:.2f} | {md(metrics)} | {md(n.executed or '-')} | "
            f"{md(_notebook_error(n))} |"
        )
    return [*lines, ""]


def _environment(r: Report) -> list[str]:
    lines: list[str] = []
    if r.environment is not None:
        e = r.environment
        pinned = set(e.pinned)
        pkgs = ", ".join(f"{k} {v}" for k, v in sorted(e.packages.items()) if k in pinned)
        deps = ", ".join(f"{k} {v}" for k, v in sorted(e.packages.items()) if k not in pinned)
        lines += [
            "## Environment",
            "",
            f"- runner: {md(e.runner)}",
            f"- python: {md(e.python)}",
            f"- platform: {md(e.platform)}",
            f"- device: {md(e.device)} (available: {md(', '.join(e.devices_available) or '-')})",
            f"- packages pinned by the deposit: {md(pkgs or '-')}",
            f"- other packages installed (dependencies): {md(deps or '-')}",
            *[f"- note: {md(n)}" for n in e.notes],
            *_isolation(e.details),
            *_memory(r.memory),
            "",
        ]
    elif r.memory is not None:  # stopped before anything ran (a circuit did not fit)
        lines += ["## Environment", "", *_memory(r.memory), ""]
    if r.timings:
        lines += ["## Timings (s)", "",
                  *[f"- {md(k)}: {v:.3f}" for k, v in r.timings.items()], ""]
    return lines


def _memory(plan: MemoryPlan | None) -> list[str]:
    """The memory plan in two or three lines, whatever the number of circuits: the largest
    estimate, the total, the limit (report.json has one entry per circuit)."""
    from harness.units import human_size as human

    if plan is None:
        return []
    largest = next((c for c in plan.circuits if c.circuit == plan.largest), None)
    n = len(plan.circuits)
    if largest is not None and largest.bytes is not None and largest.state_bytes is not None:
        head = (f"- memory (estimated before the run): largest {md(largest.circuit)}, "
                f"{md(largest.estimated_as)}, {largest.qubits} qubits: {human(largest.bytes)} "
                f"({human(largest.state_bytes)} of state + {human(plan.overhead_bytes)} "
                f"for Python and Aer)")
    else:
        head = "- memory (estimated before the run): no circuit's width could be told"
    lines = [f"{head}; {n} circuit{'s' if n != 1 else ''}, "
             f"{human(plan.total_state_bytes)} of state in all"]
    limit = (f"{human(plan.limit_bytes)} ({md(plan.limit_source)})"
             if plan.limit_bytes is not None else md(plan.limit_source))
    host = (f"; this machine had {human(plan.host_available_bytes)} available"
            if plan.host_available_bytes is not None and plan.limit_bytes is not None
            and plan.host_available_bytes != plan.limit_bytes else "")
    gpu = f"; GPU {human(plan.gpu_bytes)}" if plan.gpu_bytes is not None else ""
    lines.append(f"- memory limit: {limit}{host}{gpu}")
    if plan.refused:
        lines.append(f"- refused, too large for the limit: {md(', '.join(plan.refused))}")
    return lines


def _isolation(details: dict[str, Any]) -> list[str]:
    """Where the deposit's code ran and the limits that held, in one line each."""
    lines: list[str] = []
    sandbox = details.get("sandbox")
    if isinstance(sandbox, dict):
        lines.append("- sandbox (container): " + md(", ".join(
            f"{k} {v}" for k, v in sandbox.items()
            if k not in ("deposit_mount", "writable_mount"))))
    confinement = details.get("confinement")
    if isinstance(confinement, dict):
        lines.append(f"- sandbox: {md(confinement.get('sandbox'))}")
        passed = confinement.get("environment_passed") or []
        lines.append(f"- environment passed: {md(', '.join(map(str, passed)) or '-')}")
        limits = confinement.get("limits") or {}
        lines.append("- limits: " + md(", ".join(
            f"{k} {v}" for k, v in limits.items() if k != "notes" and v is not None)))
    return lines


def render_markdown(report: Report) -> str:
    parts = [
        _header(report),
        _badges(report),
        _claims(report.claims),
        _findings(report.findings),
        _circuits(report),
        _notebooks(report),
        _environment(report),
    ]
    return "\n".join(line for part in parts for line in part)


def render(report: Report, context: Context) -> dict[str, str]:
    return {"report.md": render_markdown(report)}
