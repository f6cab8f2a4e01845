"""Runner names -> factories, with the helpful error for unknown names.

local   the agent in an isolated uv virtual environment built from the deposit's pins
host    the agent in a subprocess of the harness's own Python (fast, no isolation)
docker  the agent in a sandboxed container built from the deposit's pins
auto    docker when an engine answers, else local (the report says which, and why)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.errors import RunnerUnavailable, not_found
from runners.base import Runner
from runners.docker import DockerRunner, connect
from runners.local import LocalRunner
from runners.sandbox import Sandbox
from runners.venv import VenvRunner


@dataclass(frozen=True)
class RunnerOptions:
    """Everything the command line can say about runners; each factory takes its part."""

    device: str = "auto"
    base_image: str | None = None
    forward_ca: Path | None = None
    installer: str = "uv"
    rebuild: bool = False
    sandbox: Sandbox = field(default_factory=Sandbox)


def _local(options: RunnerOptions, remarks: tuple[str, ...] = ()) -> Runner:
    return VenvRunner(
        gpu=options.device == "GPU", timeout_s=options.sandbox.timeout_s, remarks=remarks
    )


def _host(options: RunnerOptions) -> Runner:
    return LocalRunner(timeout_s=options.sandbox.timeout_s)


def _docker(options: RunnerOptions, client: Any = None) -> DockerRunner:
    return DockerRunner(
        base_image=options.base_image,
        sandbox=options.sandbox,
        forward_ca=options.forward_ca,
        gpu=options.device == "GPU",
        installer=options.installer,
        rebuild=options.rebuild,
        client=client,
    )


def _auto(options: RunnerOptions) -> Runner:
    try:
        client = connect()
    except RunnerUnavailable as exc:
        return _local(options, (f"runner auto: fell back to local (a uv venv): {exc.message}",))
    runner = _docker(options, client)
    runner.remarks = ("runner auto: a Docker engine answered, used docker",)
    return runner


RUNNERS: dict[str, Callable[[RunnerOptions], Runner]] = {
    "local": _local,
    "host": _host,
    "docker": _docker,
    "auto": _auto,
}


def get_runner(name: str, options: RunnerOptions | None = None) -> Runner:
    try:
        factory = RUNNERS[name]
    except KeyError:
        raise not_found("runner", name, list(RUNNERS)) from None
    return factory(options or RunnerOptions())
