"""``qrepro build`` and ``qrepro base-image``: the deposit's environment image, and a local
base image for hosts without a registry (docker is imported when a command runs)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from harness.console.failing import fail
from harness.console.options import runner_options, runner_settings
from harness.errors import QreproError


@click.command("build")
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
            runner = get_runner("docker", runner_settings(kw))
            assert isinstance(runner, DockerRunner)
            if dry_run:
                spec = runner.spec_for(env, dep.root)
                click.echo(runner.dockerfile(spec), nl=False)
                return
            runner.prepare(env, dep.root, Path(tmp) / "work")
    except QreproError as exc:
        fail(exc)
    r = runner.record
    click.echo(f"image {r.tag} {r.image_id} ({'built' if r.built else 'reused, no build'})")


@click.group("base-image")
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
        fail(exc)
    click.echo(f"{tag} {image_id} ({'built' if built else 'reused'})")
