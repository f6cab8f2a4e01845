"""The options every command that builds or runs an environment shares (evaluate, build,
check, batch), and what their values make: the runner's settings, the runner itself with its
not-sandboxed warning, the ``--today`` date.

A leaf of harness.cli: it imports click only (runners when a command runs), and no command
module, so that harness.authoring and harness.batch define their commands with it.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from runners.base import Runner
    from runners.registry import RunnerOptions


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


def runner_settings(kw: dict[str, Any]) -> RunnerOptions:
    """The runner's settings from the values of :func:`runner_options`' options."""
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


def open_runner(kw: dict[str, Any]) -> Runner:
    """The runner ``--runner`` names, with these options' settings; warns on stderr when it
    is not sandboxed."""
    from runners.registry import get_runner

    runner = get_runner(kw["runner"], runner_settings(kw))
    warn_unsandboxed(runner)
    return runner


def warn_unsandboxed(runner: Runner) -> None:
    """The not-sandboxed warning (and the runner's remarks) on stderr, for a runner that
    runs the deposit's code with the user's rights."""
    if not getattr(runner, "sandboxed", True):
        from runners.registry import NOT_SANDBOXED

        click.echo(f"qrepro: warning: runner {runner.name}: {NOT_SANDBOXED}", err=True)
        for remark in runner.remarks:
            click.echo(f"qrepro: {remark}", err=True)


def parse_today(value: str | None) -> dt.date | None:
    """``--today YYYY-MM-DD``: the date embargoes are evaluated as of (None: today)."""
    return dt.date.fromisoformat(value) if value else None
