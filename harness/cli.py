"""The ``qrepro`` command line. The only place that maps errors to exit codes.

Exit codes (docs/cli.md):
    0  evaluate: all four badges awarded; validate: no error findings
    1  evaluate: the evaluation completed but at least one badge is denied;
       validate: at least one error finding
    2  usage error (unknown option, missing argument)
    3  the deposit cannot be read (missing, unsafe archive, invalid manifest)
    4  the runner or its environment failed (unavailable, build error, agent crash)
    5  any other qrepro error
  130  interrupted (Ctrl-C, SIGTERM, SIGHUP); report.json says status: interrupted

Start-up: this module imports click and harness.errors only, so that ``qrepro --help`` and
every command start fast; each command imports what it uses inside its function (the
pipeline, pydantic models, statistics, docker, papermill). tests/test_cli_imports.py holds
that line: keep heavy imports out of module level here and in the command factories that
_register_commands() imports.
"""

from __future__ import annotations

import datetime as dt
import json
import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from harness import __version__
from harness.errors import DepositError, QreproError, RunnerError

if TYPE_CHECKING:
    from harness.models import Report

EXIT_OK, EXIT_DENIED, EXIT_USAGE, EXIT_DEPOSIT, EXIT_RUNNER, EXIT_OTHER = 0, 1, 2, 3, 4, 5
EXIT_INTERRUPTED = 130


@contextmanager
def terminate_as_interrupt() -> Iterator[None]:
    """SIGTERM (and SIGHUP) end the evaluation like Ctrl-C: cleaned up, report interrupted."""

    def handler(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt(f"signal {signum}")

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGTERM, signal.SIGHUP)}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def _warn_unsandboxed(runner: Any) -> None:
    if not getattr(runner, "sandboxed", True):
        from runners.registry import NOT_SANDBOXED

        click.echo(f"qrepro: warning: runner {runner.name}: {NOT_SANDBOXED}", err=True)
        for remark in runner.remarks:
            click.echo(f"qrepro: {remark}", err=True)


def exit_code_for(error_kind: str | None) -> int:
    """Exit code of a report's error kind (None = no error)."""
    if error_kind is None:
        return EXIT_OK
    if error_kind in {"deposit", "archive", "manifest"}:
        return EXIT_DEPOSIT
    if error_kind in {"runner", "runner-unavailable", "build", "agent"}:
        return EXIT_RUNNER
    return EXIT_OTHER


def _fail(exc: QreproError) -> None:
    click.echo(f"qrepro: error: {exc.one_line()}", err=True)
    code = (
        EXIT_DEPOSIT
        if isinstance(exc, DepositError)
        else (EXIT_RUNNER if isinstance(exc, RunnerError) else EXIT_OTHER)
    )
    sys.exit(code)


def _today(value: str | None) -> dt.date | None:
    return dt.date.fromisoformat(value) if value else None


@click.group()
@click.version_option(__version__, prog_name="qrepro")
def cli() -> None:
    """Reproduce quantum-ML results from a QDATA deposit and award ACM badges."""


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
        click.echo(f"qrepro: error: {report.error.one_line()}", err=True)
    if report.policy is not None:
        for badge in report.policy.badges:
            mark = "awarded" if badge.awarded else ("not decided" if not badge.decided
                                                    else "denied")
            click.echo(f"  {badge.name:<36} {mark}")
    click.echo(f"  claims: {_claims_line(report)}")
    for name in ("report.html", "report.json", "report.md"):
        if (out / name).exists():
            click.echo(f"report: {out / name}")


def _copy_junit(out: Path, dest: Path) -> None:
    from harness.errors import OutputError
    from reports import write_atomic

    source = out / "report.junit.xml"
    if not source.exists():
        return
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(dest, source.read_text(encoding="utf-8"))
    except OSError as exc:
        _fail(OutputError(f"cannot write the JUnit XML: {exc.strerror or exc}",
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


def runner_options(func: Any) -> Any:
    """The options every command that builds or runs an environment shares."""
    options = [
        click.option(
            "--runner",
            default="auto",
            show_default=True,
            type=click.Choice(["auto", "docker", "bwrap", "local", "host"]),
            help="auto: docker when an engine answers, else bwrap, else local (with a "
            "not-sandboxed warning); docker: sandboxed container; bwrap: the local venv under "
            "bubblewrap; local: isolated uv venv, not sandboxed (for authors); host: the "
            "harness's own Python (fast, pins not installed).",
        ),
        click.option(
            "--device",
            type=click.Choice(["auto", "CPU", "GPU"]),
            default="auto",
            show_default=True,
            help="Aer device; auto = GPU when Aer reports one.",
        ),
        click.option(
            "--base-image",
            envvar="QREPRO_BASE_IMAGE",
            default=None,
            help="Base image for docker (default python:<version>-slim).",
        ),
        click.option(
            "--forward-ca",
            envvar="QREPRO_FORWARD_CA",
            default=None,
            type=click.Path(exists=True, dir_okay=False, path_type=Path),
            help="CA bundle to trust during the image build (TLS-intercepting proxies); "
            "default: the host's bundle, /etc/ssl/certs/ca-certificates.crt. Build only.",
        ),
        click.option(
            "--no-forward-ca",
            is_flag=True,
            help="Do not forward any CA bundle into the image build.",
        ),
        click.option(
            "--installer",
            type=click.Choice(["uv", "pip"]),
            default="uv",
            show_default=True,
            help="Installer used inside the image.",
        ),
        click.option(
            "--rebuild",
            is_flag=True,
            help="Build the image again even if one exists for this environment.",
        ),
        click.option(
            "--network", default="none", show_default=True, help="Container network at run time."
        ),
        click.option(
            "--user",
            default=None,
            help="Container user uid:gid (default nobody when run as root, else yours).",
        ),
        click.option(
            "--writable-root",
            is_flag=True,
            help="Do not make the container's root filesystem read-only (less safe).",
        ),
        click.option(
            "--keep-capabilities",
            is_flag=True,
            help="Do not drop the container's capabilities (less safe).",
        ),
        click.option("--memory", default="2g", show_default=True, help="Container memory limit."),
        click.option("--cpus", default=2.0, show_default=True,
                     help="Container CPU limit; with every runner, the most circuits "
                     "simulated at once."),
        click.option(
            "--pids-limit", default=256, show_default=True, help="Container process-count limit."
        ),
        click.option(
            "--timeout",
            "timeout_s",
            default=1800.0,
            show_default=True,
            help="Wall-clock limit (s) of the run, every runner; it is killed after it.",
        ),
        click.option(
            "--disk",
            default="4g",
            show_default=True,
            help="Bytes the run may write into its work directory (every runner).",
        ),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def _runner_options(kw: dict[str, Any]) -> Any:
    from harness.units import parse_size
    from runners.registry import RunnerOptions
    from runners.sandbox import Sandbox

    for name in ("memory", "disk"):
        try:
            parse_size(kw[name])
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint=f"--{name}") from None

    sandbox = Sandbox(
        user=kw["user"],
        read_only_root=not kw["writable_root"],
        cap_drop=() if kw["keep_capabilities"] else ("ALL",),
        network=kw["network"],
        memory=kw["memory"],
        cpus=kw["cpus"],
        pids_limit=kw["pids_limit"],
        timeout_s=kw["timeout_s"],
        disk=kw["disk"],
    )
    ca: dict[str, Path | None] = {}  # empty: RunnerOptions' default, the host's bundle
    if kw["no_forward_ca"]:
        ca = {"forward_ca": None}
    elif kw["forward_ca"] is not None:
        ca = {"forward_ca": kw["forward_ca"]}
    return RunnerOptions(
        device=kw["device"],
        base_image=kw["base_image"],
        **ca,
        installer=kw["installer"],
        rebuild=kw["rebuild"],
        sandbox=sandbox,
    )


@cli.command("evaluate")
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
    from runners.registry import get_runner

    phases = PhaseReporter(progress)
    try:
        venue = load_policy(policy)
        if sign is not None:
            from reports.attestation import load_signing_key

            load_signing_key(sign)  # an unreadable key stops before anything runs
        backend = get_runner(kw["runner"], _runner_options(kw))
        _warn_unsandboxed(backend)
        options = Options(
            device=kw["device"],
            seed=seed,
            today=_today(today),
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
        _fail(exc)
        return
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
        sys.exit(exit_code_for(report.error.kind if report.error else "error"))
    sys.exit(EXIT_OK if all_awarded(report) else EXIT_DENIED)


@cli.command("build")
@click.argument("deposit", type=click.Path(path_type=Path))
@click.option("--dry-run", is_flag=True, help="Print the Dockerfile and build nothing.")
@runner_options
def build_cmd(deposit: Path, dry_run: bool, **kw: Any) -> None:
    """Build (or reuse) DEPOSIT's environment image; --dry-run prints its Dockerfile."""
    import tempfile

    from harness.intake.archive import open_deposit
    from harness.intake.manifest import MANIFEST_NAME, load_manifest
    from runners.docker import DockerRunner
    from runners.registry import get_runner

    try:
        with tempfile.TemporaryDirectory(prefix="qrepro-") as tmp:
            dep = open_deposit(deposit, Path(tmp))
            env = load_manifest(dep.manifest_path, MANIFEST_NAME).environment
            runner = get_runner("docker", _runner_options(kw))
            assert isinstance(runner, DockerRunner)
            if dry_run:
                spec = runner.spec_for(env, dep.root)
                click.echo(runner.dockerfile(spec), nl=False)
                return
            runner.prepare(env, dep.root, Path(tmp) / "work")
    except QreproError as exc:
        _fail(exc)
        return
    r = runner.record
    click.echo(f"image {r.tag} {r.image_id} ({'built' if r.built else 'reused, no build'})")


@cli.group("base-image")
def base_image_group() -> None:
    """Local base images for hosts without a registry."""


@base_image_group.command("bootstrap")
@click.option("--tag", default="qrepro-base:bookworm", show_default=True)
@click.option("--mirror", default=None, help="Debian mirror (default: the host's apt mirror).")
@click.option("--force", is_flag=True, help="Rebuild even if the tag exists.")
def base_image_bootstrap_cmd(tag: str, mirror: str | None, force: bool) -> None:
    """Build a Debian bookworm + Python 3.11 base image with debootstrap + docker import."""
    from runners.base_image import bootstrap
    from runners.docker import connect

    try:
        image_id, built = bootstrap(connect(), tag, mirror, force)
    except QreproError as exc:
        _fail(exc)
        return
    click.echo(f"{tag} {image_id} ({'built' if built else 'reused'})")


@cli.command("validate")
@click.argument("deposit", type=click.Path(path_type=Path))
@click.option(
    "--out",
    "out",
    default=None,
    type=click.Path(path_type=Path),
    help="Also write validation.json into this directory.",
)
@click.option("--today", default=None, help="Evaluate embargoes as of this date (YYYY-MM-DD).")
def validate_cmd(deposit: Path, out: Path | None, today: str | None) -> None:
    """Check DEPOSIT (schema, checksums, governance) without running anything."""
    from harness.pipeline import Options, check, check_out_dir
    from reports import write_atomic

    if out is not None:
        try:
            check_out_dir(deposit, out)
        except QreproError as exc:
            _fail(exc)
    result = check(deposit, Options(today=_today(today)))
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        write_atomic(out / "validation.json", result.model_dump_json(indent=2))
    if result.error is not None:
        click.echo(f"qrepro: error: {result.error.one_line()}", err=True)
        sys.exit(exit_code_for(result.error.kind))
    for f in result.findings:
        click.echo(f"{f.severity}: {f.code}: {f.one_line()}")
    errors = sum(1 for f in result.findings if f.severity == "error")
    click.echo(
        f"{len(result.findings)} findings, {errors} errors; deposit sha256 {result.deposit_sha256}"
    )
    sys.exit(EXIT_DENIED if errors else EXIT_OK)


@cli.command("schema")
@click.option("--report", "which", flag_value="report", help="The report.json schema instead.")
def schema_cmd(which: str | None) -> None:
    """Print the QDATA v1 manifest JSON Schema (or the report schema)."""
    from harness.intake.manifest import json_schema
    from reports.json_report import report_schema

    schema = report_schema() if which == "report" else json_schema()
    click.echo(json.dumps(schema, indent=2))


@cli.command("inventory")
@click.argument("deposit", type=click.Path(exists=True, file_okay=False, path_type=Path))
def inventory_cmd(deposit: Path) -> None:
    """Print the `files:` block for DEPOSIT's manifest (sha256 and size of every file)."""
    import yaml

    from harness.intake.archive import open_deposit
    from harness.intake.manifest import MANIFEST_NAME
    from harness.units import file_sha256

    try:
        dep = open_deposit(deposit, deposit)
    except QreproError as exc:
        _fail(exc)
        return
    entries = [
        {
            "path": rel,
            "sha256": file_sha256(dep.root / rel),
            "size": (dep.root / rel).stat().st_size,
        }
        for rel in dep.files
        if rel != MANIFEST_NAME
    ]
    click.echo(yaml.safe_dump({"files": entries}, sort_keys=False), nl=False)


@cli.group("noise")
def noise_group() -> None:
    """Check and convert noise models."""


#: the formats ``qrepro noise import --from`` reads (harness.noise.load: their importers)
_IMPORTERS = ("calibration-v1", "qiskit-noise-dict")


def _importer(fmt: str) -> Any:
    from harness.noise.load import from_calibration, from_qiskit_dict

    return {"qiskit-noise-dict": from_qiskit_dict, "calibration-v1": from_calibration}[fmt]


@noise_group.command("import")
@click.argument("source", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--from", "fmt", type=click.Choice(sorted(_IMPORTERS)), required=True)
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path),
    default=None,
    help="Write the qrepro-noise-v1 JSON here (default: stdout).",
)
def noise_import_cmd(source: Path, fmt: str, output: Path | None) -> None:
    """Convert a Qiskit noise dict or a calibration snapshot to qrepro-noise-v1."""
    from harness.noise.load import validate_noise

    try:
        data = json.loads(source.read_text(encoding="utf-8"))
        spec = validate_noise(_importer(fmt)(data, str(source)), str(source))
    except json.JSONDecodeError as exc:
        _fail(QreproError(f"invalid JSON: {exc.msg}", file=str(source), field=f"line {exc.lineno}"))
        return
    except QreproError as exc:
        _fail(exc)
        return
    text = json.dumps(spec, indent=1, sort_keys=True) + "\n"
    if output is None:
        click.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")


def _register_commands() -> None:
    from harness.authoring.commands import check_command, init_command
    from harness.authoring.record_command import record_command
    from harness.batch.commands import batch_command, ledger_cmd
    from reports.attest_commands import keygen_command, verify_command

    cli.add_command(batch_command(runner_options, _fail))
    cli.add_command(ledger_cmd)
    cli.add_command(keygen_command())
    cli.add_command(verify_command(_fail))
    cli.add_command(init_command(_fail))
    cli.add_command(record_command(_fail))
    cli.add_command(check_command(runner_options, _fail))


_register_commands()


def main() -> None:
    from harness.console.exiting import exit_now

    try:
        cli(prog_name="qrepro")
    except SystemExit as exc:
        exit_now(exc.code)
    exit_now(0)
