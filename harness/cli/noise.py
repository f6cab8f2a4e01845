"""``qrepro noise import``: a Qiskit noise dict or a calibration snapshot converted to
qrepro-noise-v1 (harness.noise is imported when the command runs)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from harness.console.failing import fail
from harness.errors import QreproError


@click.group("noise")
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
        fail(QreproError(f"invalid JSON: {exc.msg}", file=str(source), field=f"line {exc.lineno}"))
    except QreproError as exc:
        fail(exc)
    text = json.dumps(spec, indent=1, sort_keys=True) + "\n"
    if output is None:
        click.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
