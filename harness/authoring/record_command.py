"""``qrepro record`` (registered by harness.cli with ``record_command()``).

harness.authoring.record (papermill, qiskit) is imported when the command runs, never when
the qrepro command line starts.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
import yaml

from harness.console.failing import fail
from harness.errors import QreproError
from harness.escaping import terminal


def parse_seeds(text: str) -> tuple[int, ...]:
    """``0,1,2`` (or ``0 1 2``) -> (0, 1, 2): non-negative, no repeats."""
    try:
        seeds = tuple(int(s) for s in text.replace(",", " ").split())
    except ValueError:
        raise click.BadParameter(f"{text!r}: seeds are whole numbers, e.g. 0,1,2,3,4") from None
    if not seeds or any(s < 0 for s in seeds) or len(set(seeds)) != len(seeds):
        raise click.BadParameter(f"{text!r}: give distinct non-negative seeds, e.g. 0,1,2,3,4")
    return seeds


def parse_value(text: str) -> Any:
    """A parameter value as YAML reads it (10 -> int, 0.1 -> float, true, [1, 2]); else text."""
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError:
        return text


def record_command() -> click.Command:
    @click.command("record")
    @click.argument("notebook", type=click.Path(exists=True, dir_okay=False, path_type=Path))
    @click.option("--seeds", required=True, help="Seeds to run, one execution each: 0,1,2,3,4.")
    @click.option("--deposit", type=click.Path(exists=True, file_okay=False, path_type=Path),
                  help="The deposit (default: the nearest folder above NOTEBOOK with a "
                  "qdata.yaml).")
    @click.option("--shots", type=click.IntRange(1, 10_000_000),
                  help="Injected as `shots` (default: the manifest's, else the notebook's).")
    @click.option("-p", "--parameter", "parameters", nargs=2, multiple=True,
                  metavar="NAME VALUE",
                  help="Inject NAME = VALUE (YAML: 10, 0.1, true) and record it in "
                  "notebooks[].parameters; repeatable.")
    def record_cmd(notebook: Path, seeds: str, deposit: Path | None, shots: int | None,
                   parameters: tuple[tuple[str, str], ...]) -> None:
        """Run NOTEBOOK once per seed, recording every Qiskit Aer job, and write circuits,
        counts, noise models, the notebook's entry and claims with tolerances into the
        deposit's qdata.yaml (docs/authors.md, section 2)."""
        from harness.authoring.record import record
        from harness.authoring.record_plan import RecordRequest

        request = RecordRequest(notebook, parse_seeds(seeds), deposit, shots,
                                {name: parse_value(value) for name, value in parameters})
        try:
            summary = record(request, echo=lambda line: click.echo(terminal(line)))
        except QreproError as exc:
            fail(exc)
        for line in summary.lines():
            click.echo(terminal(line))

    return record_cmd
