"""``qrepro init`` and ``qrepro check`` (registered by harness.cli).

Like harness.cli's command modules, this imports click, harness.errors and the shared
leaves harness.console.options and harness.console.failing only: each command imports what it uses
inside its function, so that registering the commands keeps ``qrepro`` fast to start.
"""

from __future__ import annotations

import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from harness.console.failing import EXIT_DENIED, EXIT_INTERRUPTED, fail, terminate_as_interrupt
from harness.console.options import open_runner, parse_today, runner_options
from harness.errors import QreproError
from harness.escaping import terminal

if TYPE_CHECKING:
    from harness.authoring.check import CheckResult
    from harness.authoring.scaffold import NotebookScan, Scaffold
    from harness.authoring.todo import Todo

#: qrepro check: something blocks a badge
EXIT_BLOCKED = EXIT_DENIED


def _print_todos(todos: Sequence[Todo]) -> None:
    from harness.authoring.todo import render

    blocking = sum(1 for t in todos if t.blocks)
    if not todos:
        click.echo("to do: nothing")
        return
    click.echo(f"to do, by badge impact ({blocking} of {len(todos)} block a badge):")
    for line in render(todos):
        click.echo(terminal(line))


# --- init ------------------------------------------------------------------------------


def _license_option(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    from harness.authoring.scaffold import check_license

    if value is None or not value.strip():
        return None
    try:
        return check_license(value)
    except QreproError as exc:
        raise click.BadParameter(exc.message, ctx=ctx, param=param) from None


def _authors_option(ctx: click.Context, param: click.Parameter,
                    values: tuple[str, ...]) -> tuple[dict[str, str], ...]:
    from harness.authoring.scaffold import parse_author

    try:
        return tuple(parse_author(v) for v in values)
    except QreproError as exc:
        raise click.BadParameter(exc.message, ctx=ctx, param=param) from None


def interactive() -> bool:
    """Whether a person answers on stdin (then init asks for what it lacks)."""
    return sys.stdin.isatty()


def _ask_license() -> str | None:
    """The license, asked on a terminal (empty: decide later, a to-do)."""
    from harness.authoring.scaffold import check_license

    def validated(text: str) -> str:
        try:
            return check_license(text) if text.strip() else ""
        except QreproError as exc:
            raise click.BadParameter(exc.message) from None

    answer = click.prompt("License of the deposit, an SPDX expression (CC-BY-4.0, MIT, ...; "
                          "empty: later)", default="", show_default=False, value_proc=validated)
    return str(answer) or None


def _identifier_option(ctx: click.Context, param: click.Parameter,
                       value: str | None) -> dict[str, str] | None:
    """``doi:10.5281/zenodo.123`` (or handle:, ark:, swh:, url:) -> {scheme, value}."""
    if value is None:
        return None
    from pydantic import ValidationError

    from harness.intake.manifest import Identifier

    scheme, sep, rest = value.partition(":")
    if scheme == "https" or scheme == "http":
        scheme, rest, sep = "url", value, ":"
    try:
        ident = Identifier(scheme=scheme.lower(), value=rest.strip())  # type: ignore[arg-type]
    except ValidationError as exc:
        msg = exc.errors()[0]["msg"] if sep else "write SCHEME:VALUE, e.g. doi:10.5281/zenodo.1"
        raise click.BadParameter(msg, ctx=ctx, param=param) from None
    return {"scheme": ident.scheme, "value": ident.value}


def init_command() -> click.Command:
    @click.command("init")
    @click.argument("folder", type=click.Path(exists=True, file_okay=False, path_type=Path))
    @click.option("--title", default=None,
                  help="Title of the deposit (default: the first notebook's first heading).")
    @click.option("--license", "license_", default=None, callback=_license_option,
                  help="SPDX license expression, e.g. CC-BY-4.0 (asked on a terminal).")
    @click.option("--author", "authors", multiple=True, callback=_authors_option,
                  help="An author, 'Name' or 'Name <ORCID iD>' (repeatable).")
    @click.option("--identifier", default=None, callback=_identifier_option,
                  help="The persistent identifier you reserved, e.g. doi:10.5281/zenodo.123 "
                  "(Artifacts Available needs one).")
    @click.option("--institution", default=None,
                  help="Your institution: provenance.institution and the affiliation of the "
                  "authors (Reusable needs both).")
    @click.option("--python", "python", default=None,
                  type=click.Path(exists=True, dir_okay=False),
                  help="Pin the versions installed for this interpreter (default: the one "
                  "running qrepro).")
    @click.option("--force", is_flag=True, help="Replace an existing qdata.yaml.")
    def init_cmd(folder: Path, title: str | None, license_: str | None,
                 authors: tuple[dict[str, str], ...], identifier: dict[str, str] | None,
                 institution: str | None, python: str | None, force: bool) -> None:
        """Scaffold FOLDER's qdata.yaml from its notebooks and data, and list what is left
        to fill in, by badge."""
        from harness.authoring.scaffold import InitOptions, scaffold

        if license_ is None and interactive():
            license_ = _ask_license()
        options = InitOptions(title=title, license=license_, authors=authors, python=python,
                              force=force, identifier=identifier, institution=institution)
        try:
            result = scaffold(folder, options)
        except QreproError as exc:
            fail(exc)
        _print_scaffold(result)

    return init_cmd


def _print_scaffold(result: Scaffold) -> None:
    from harness.wording import plural

    env = result.manifest["environment"]
    pins = ([f"lock file {env['lock_file']}"] if env.get("lock_file")
            else env["requirements"] or ["nothing pinned"])
    click.echo(terminal(f"wrote {result.root / 'qdata.yaml'}: "
                        f"{plural(len(result.manifest['files']), 'file')} inventoried, python "
                        f"{env['python']}, {plural(len(result.notebooks), 'notebook')}"
                        + ("; README.md is a new stub" if result.readme_written else "")))
    click.echo(terminal(f"environment: {', '.join(pins)}"))
    for scan in result.notebooks:
        _print_notebook(scan)
    if result.seeds:
        click.echo("seeds found (declare the seeds you ran under notebooks[].seeds; derive "
                   "each of these from `seed`):")
        for use in result.seeds:
            click.echo(terminal(f"  {use.describe()}"))
    _print_todos(result.todos)
    if result.notebooks:
        first = result.notebooks[0]
        click.echo(terminal(f"next: qrepro record {result.root / first.path} --seeds 0,1,2,3,4"))
        shots = first.entry.get("shots")
        if shots:
            spaced = ",".join(str(shots * k) for k in range(1, 6))
            click.echo(f"  (noisy Aer runs whose seeds lie closer than their shots share shots: "
                       f"with shots = {shots}, --seeds {spaced} keeps them apart)")


def _print_notebook(scan: NotebookScan) -> None:
    p = scan.parameters
    if p is None:
        state = "no parameters cell: add one (docs/notebooks.md)"
    elif p.tagged:
        state = f"parameters cell: {p.cell.where} (tagged)"
    else:
        state = (f"tag {p.cell.where} as parameters (in Jupyter: View > Cell Toolbar > "
                 "Tags)")
    click.echo(terminal(f"notebook {scan.path} (id {scan.entry['id']}): {state}"))
    if p is not None and p.values:
        shown = ", ".join(f"{k} = {v!r}" for k, v in p.values.items())
        click.echo(terminal(f"  parameters: {shown}"))


# --- check -----------------------------------------------------------------------------


def check_command() -> click.Command:
    @click.command("check")
    @click.argument("deposit", type=click.Path(path_type=Path))
    @click.option("--out", default=None, type=click.Path(path_type=Path),
                  help="Keep the smoke run's reports here (default: a temporary folder).")
    @runner_options
    @click.option("--today", default=None, help="Evaluate embargoes as of this date.")
    def check_cmd(deposit: Path, out: Path | None, today: str | None, **kw: Any) -> None:
        """Validate DEPOSIT, kick its tires (a smoke run: one seed, few shots), look at its
        claims, and list what blocks each badge with the field to change. Exit 0 when
        nothing blocks a badge, 1 otherwise."""
        try:
            if out is not None:
                result = _check(deposit, out, today, kw)
            else:
                with tempfile.TemporaryDirectory(prefix="qrepro-check-") as tmp:
                    result = _check(deposit, Path(tmp) / "out", today, kw)
        except QreproError as exc:
            fail(exc)
        except KeyboardInterrupt:
            click.echo("qrepro: check interrupted", err=True)
            sys.exit(EXIT_INTERRUPTED)
        _print_check(deposit, result, out)
        sys.exit(EXIT_BLOCKED if result.blocking else 0)

    return check_cmd


def _check(deposit: Path, out: Path, today: str | None, kw: dict[str, Any]) -> CheckResult:
    from harness.authoring.check import check_deposit
    from harness.pipeline import Options

    backend = open_runner(kw)
    options = Options(device=kw["device"], runner_name=backend.name, today=parse_today(today))
    with backend, terminate_as_interrupt():
        return check_deposit(deposit, out, backend, options)


def _print_check(deposit: Path, result: CheckResult, out: Path | None) -> None:
    report = result.report
    click.echo(terminal(f"qrepro check {deposit}: validation, a smoke run (one seed, at "
                        "most 100 shots) and the claims"))
    for key in ("available", "functional"):
        mark = "awarded" if getattr(report.badges, key) else "denied"
        click.echo(terminal(f"  {report.badges.names[key]:<36} {mark}"))
    click.echo("  Reusable and Results Reproduced: decided by qrepro evaluate; what already "
               "blocks them is listed below")
    _print_todos(result.todos)
    if out is not None:
        click.echo(f"report: {out / 'report.json'}")
    if not result.blocking:
        click.echo(terminal(f"next: qrepro evaluate {deposit} --out OUT"))
