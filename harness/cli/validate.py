"""``qrepro validate``, ``qrepro inventory`` and ``qrepro schema``: the deposit and its
manifest checked, inventoried and described, nothing run.

``qrepro validate`` must start fast: what it loads never imports the statistics, the
simulator or the report renderers (tests/test_lazy_imports.py).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from harness.console.failing import EXIT_DENIED, EXIT_OK, exit_code_of, fail, say_error
from harness.console.options import parse_today
from harness.errors import QreproError
from harness.escaping import terminal


@click.command("validate")
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
            fail(exc)
    result = check(deposit, Options(today=parse_today(today)))
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        write_atomic(out / "validation.json", result.model_dump_json(indent=2))
    if result.error is not None:
        say_error(result.error.one_line())
        sys.exit(exit_code_of(result.error.kind))
    for f in result.findings:
        click.echo(terminal(f"{f.severity}: {f.code}: {f.one_line()}"))
    errors = sum(1 for f in result.findings if f.severity == "error")
    click.echo(
        f"{len(result.findings)} findings, {errors} errors; deposit sha256 {result.deposit_sha256}"
    )
    sys.exit(EXIT_DENIED if errors else EXIT_OK)


@click.command("schema")
@click.option("--report", "which", flag_value="report", help="The report.json schema instead.")
def schema_cmd(which: str | None) -> None:
    """Print the QDATA v1 manifest JSON Schema (or the report schema)."""
    from harness.intake.manifest import json_schema
    from reports.json_report import report_schema

    schema = report_schema() if which == "report" else json_schema()
    click.echo(json.dumps(schema, indent=2))


@click.command("inventory")
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
        fail(exc)
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
