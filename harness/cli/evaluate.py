"""``qrepro evaluate``: validate, replay, compare the claims, write the reports and say the
badges (exit codes: harness.console.failing).

Start-up: like every command module, this imports click, harness.errors and the shared
leaves (harness.console.options, harness.console.failing) only; the command imports what it uses
(the pipeline, pydantic models, statistics, docker, papermill) inside its function.
tests/test_lazy_imports.py holds that line.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from harness.console.failing import (
    EXIT_DENIED,
    EXIT_INTERRUPTED,
    EXIT_OK,
    exit_code_of,
    fail,
    say_error,
    terminate_as_interrupt,
)
from harness.console.options import open_runner, parse_today, runner_options
from harness.errors import OutputError, QreproError
from harness.escaping import terminal

if TYPE_CHECKING:
    from harness.models import Report


@contextmanager
def _closing(phases: Any) -> Iterator[None]:
    try:
        yield
    finally:
        phases.close()


def _claims_line(report: Report) -> str:
    if report.mode == "smoke":
        return "not evaluated (--smoke: Available and Functional only)"
    verdicts = [c.verdict for c in report.claims]
    sensitive = [c.id for c in report.claims if c.seed_check is not None and c.seed_check.flagged]
    return (f"{verdicts.count('pass')} pass, {verdicts.count('fail')} fail, "
            f"{verdicts.count('inconclusive')} inconclusive, {verdicts.count('error')} error"
            + (f"; seed-sensitive: {', '.join(sensitive)}" if sensitive else ""))


def _print_report(report: Report, out: Path) -> None:
    if report.error is not None:
        say_error(report.error.one_line())
    if report.policy is not None:
        for badge in report.policy.badges:
            mark = "awarded" if badge.awarded else ("not decided" if not badge.decided
                                                    else "denied")
            click.echo(terminal(f"  {badge.name:<36} {mark}"))
    click.echo(terminal(f"  claims: {_claims_line(report)}"))
    for name in ("report.html", "report.json", "report.md"):
        if (out / name).exists():
            click.echo(f"report: {out / name}")


def _copy_junit(out: Path, dest: Path) -> None:
    from reports import write_atomic

    source = out / "report.junit.xml"
    if not source.exists():
        return
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(dest, source.read_text(encoding="utf-8"))
    except OSError as exc:
        fail(OutputError(f"cannot write the JUnit XML: {exc.strerror or exc}",
                          file=str(dest), field="--junit"))
    click.echo(f"junit: {dest}")


def all_awarded(report: Report) -> bool:
    """Exit 0 only when every badge that could be decided was awarded: the policy's badges
    (those no rerun can decide aside), or Available and Functional in a --smoke run."""
    from harness.models import BADGE_KEYS

    if report.mode == "smoke":
        return report.badges.available and report.badges.functional
    if report.policy is not None:
        return all(b.awarded for b in report.policy.badges if b.decided)
    return all(getattr(report.badges, k) for k in BADGE_KEYS)


@click.command("evaluate")
@click.argument("deposit", type=click.Path(path_type=Path))
@click.option(
    "--out",
    "out",
    required=True,
    type=click.Path(path_type=Path),
    help="Output directory (outside the deposit) for reports and evidence.",
)
@runner_options
@click.option("--seed", default=0, show_default=True, help="Seed of the statistical tests.")
@click.option(
    "--jobs",
    default=None,
    type=click.IntRange(1, 64),
    help="Circuits simulated and notebook executions run at once.  [default: circuits one "
    "per core the runner may use (--cpus), fewer when memory is short, one at a time when "
    "Aer parallelises a wide circuit itself; notebooks one at a time]",
)
@click.option(
    "--determinism-check/--no-determinism-check",
    default=True,
    show_default=True,
    help="Run each notebook's first seed twice to catch notebooks ignoring the seed.",
)
@click.option(
    "--fresh-seeds",
    default=0,
    show_default=True,
    type=click.IntRange(0, 1000),
    help="Also run every seeded experiment with K new seeds and report where each "
    "claim falls among them (seed-sensitive claims are flagged).",
)
@click.option(
    "--seed-policy",
    type=click.Choice(["strict", "report"]),
    default="strict",
    show_default=True,
    help="strict: a seed-sensitive claim denies Results Reproduced; report: only shown.",
)
@click.option(
    "--discrepancy-method",
    type=click.Choice(["holm", "bh"]),
    default="holm",
    show_default=True,
    help="Adjustment of p-values across claims for the discrepancy flags.",
)
@click.option("--today", default=None, help="Evaluate embargoes as of this date (YYYY-MM-DD).")
@click.option(
    "--progress",
    type=click.Choice(["auto", "rich", "plain", "none"]),
    default="auto",
    show_default=True,
    help="Phases on stderr: auto = on a terminal only; plain = one line per phase (CI logs).",
)
@click.option(
    "--smoke",
    is_flag=True,
    help="Kick the tires: one seed and at most 100 shots per circuit, the first seed of each "
    "notebook; decides Available and Functional only (Reusable and Reproduced not attempted).",
)
@click.option(
    "--policy",
    default="acm-v1.1",
    show_default=True,
    help="The venue's badges: acm-v1.1, usenix, ndss, ieee, niso-rp-31, or a policy YAML file "
    "(docs/badges.md).",
)
@click.option(
    "--junit",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Also write the JUnit XML (always in OUT/report.junit.xml) to this path.",
)
@click.option(
    "--sign",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Sign the reports with this Ed25519 private key (qrepro keygen): writes "
    "OUT/report.intoto.json, checked by qrepro verify (docs/attestation.md).",
)
def evaluate_cmd(
    deposit: Path,
    out: Path,
    seed: int,
    jobs: int | None,
    determinism_check: bool,
    fresh_seeds: int,
    seed_policy: str,
    discrepancy_method: str,
    today: str | None,
    progress: str,
    smoke: bool,
    policy: str,
    junit: Path | None,
    sign: Path | None,
    **kw: Any,
) -> None:
    """Validate DEPOSIT, replay it, compare claims and write the reports (report.json,
    report.md, report.html, report.junit.xml, badge SVGs, ro-crate-metadata.json)."""
    from harness.console.progress import PhaseReporter
    from harness.pipeline import Options, evaluate
    from harness.policies import load_policy

    phases = PhaseReporter(progress)
    try:
        venue = load_policy(policy)
        if sign is not None:
            from harness.console.extras import require
            from reports.attestation import load_signing_key

            require("sign", "--sign")
            load_signing_key(sign)  # an unreadable key stops before anything runs
        backend = open_runner(kw)
        options = Options(
            device=kw["device"],
            seed=seed,
            today=parse_today(today),
            jobs=jobs,
            determinism_check=determinism_check,
            fresh_seeds=fresh_seeds,
            seed_policy="report" if seed_policy == "report" else "strict",
            discrepancy_method="bh" if discrepancy_method == "bh" else "holm",
            smoke=smoke,
            on_phase=phases,
            policy=venue,
            sign=sign,
            runner_name=backend.name,
        )
        with backend, terminate_as_interrupt(), _closing(phases):
            report = evaluate(deposit, out, backend, options)
    except QreproError as exc:
        fail(exc)
    except KeyboardInterrupt:
        click.echo("qrepro: interrupted; the run was stopped and nothing of it is left "
                   "running", err=True)
        if (out / "report.json").exists():
            click.echo(f"report: {out / 'report.json'} (status: interrupted)", err=True)
        sys.exit(EXIT_INTERRUPTED)
    if junit is not None:
        _copy_junit(out, junit)
    _print_report(report, out)
    if report.status == "error":
        sys.exit(exit_code_of(report.error.kind if report.error else "error"))
    sys.exit(EXIT_OK if all_awarded(report) else EXIT_DENIED)
