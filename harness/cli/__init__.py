"""The ``qrepro`` command line: the root group, its commands, ``main``.

One module per command group; the pieces they share sit a layer below, in harness/console/:
:mod:`harness.console.options` (the runner and evaluation options, the runner they make)
and :mod:`harness.console.failing` (errors to exit codes, the one place:
docs/cli.md#exit-codes). The commands of authors and batches live in their packages
(harness.authoring, harness.batch) and use the same two.

Start-up: this module imports click and the version only. A command's module is imported
when the command is looked up (``qrepro validate`` imports validate's, ``--help`` every
one's), and each command imports what it uses inside its function (the pipeline, pydantic
models, statistics, docker, papermill). tests/test_lazy_imports.py holds that line: keep
heavy imports out of module level in the modules of :data:`COMMANDS`.
"""

from __future__ import annotations

import importlib

import click

from harness import __version__

#: every command: its name -> (module, attribute): the click command, or the function that
#: makes it (harness.authoring's and harness.batch's)
COMMANDS: dict[str, tuple[str, str]] = {
    "evaluate": ("harness.cli.evaluate", "evaluate_cmd"),
    "validate": ("harness.cli.validate", "validate_cmd"),
    "schema": ("harness.cli.validate", "schema_cmd"),
    "inventory": ("harness.cli.validate", "inventory_cmd"),
    "build": ("harness.cli.environment", "build_cmd"),
    "base-image": ("harness.cli.environment", "base_image_group"),
    "noise": ("harness.cli.noise", "noise_group"),
    "keygen": ("harness.cli.attestation", "keygen_cmd"),
    "verify": ("harness.cli.attestation", "verify_cmd"),
    "init": ("harness.authoring.commands", "init_command"),
    "check": ("harness.authoring.commands", "check_command"),
    "record": ("harness.authoring.record_command", "record_command"),
    "batch": ("harness.batch.commands", "batch_command"),
    "ledger": ("harness.batch.commands", "ledger_cmd"),
}


def _load(name: str) -> click.Command:
    module, attribute = COMMANDS[name]
    found = getattr(importlib.import_module(module), attribute)
    command = found if isinstance(found, click.Command) else found()
    if not isinstance(command, click.Command) or command.name != name:
        raise TypeError(f"{module}.{attribute} is not the click command {name!r}")
    return command


class CommandLine(click.Group):
    """The root group: loads a command of :data:`COMMANDS` when it is first looked up."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*self.commands, *COMMANDS})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in COMMANDS and cmd_name not in self.commands:
            self.add_command(_load(cmd_name))
        elif cmd_name not in self.commands:  # "No such command": suggest among all of them
            for name in COMMANDS.keys() - self.commands.keys():
                self.add_command(_load(name))
        return super().get_command(ctx, cmd_name)


@click.group(cls=CommandLine)
@click.version_option(__version__, prog_name="qrepro")
def cli() -> None:
    """Reproduce quantum-ML results from a QDATA deposit and award ACM badges."""


def main() -> None:
    """The console script ``qrepro`` (and ``python -m harness``)."""
    from harness.console.exiting import exit_now

    try:
        cli(prog_name="qrepro")
    except SystemExit as exc:
        exit_now(exc.code)
    exit_now(0)
