"""Runner names -> factories, with the helpful error for unknown names.

auto    the default: docker when an engine answers (and a base image can be had), else
        bwrap when bubblewrap works here, else local with a loud ``not-sandboxed`` warning
docker  the agent in a sandboxed container built from the deposit's pins
bwrap   the local runner's venv, run under bubblewrap (no image, starts in milliseconds)
local   the agent in an isolated uv venv built from the deposit's pins; not sandboxed
        (scrubbed environment, a copy of the deposit, limits): for authors checking their own
host    the agent in a subprocess of the harness's own Python (fast, no isolation)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.errors import RunnerUnavailable, not_found
from runners.base import Runner
from runners.bwrap import BwrapRunner, bwrap_problem
from runners.docker import DEFAULT_CA, DockerRunner, connect, docker_problem
from runners.local import LocalRunner
from runners.sandbox import Sandbox
from runners.venv import VenvRunner

NOT_SANDBOXED = (
    "the deposit's code runs with your user's rights, not sandboxed; for a deposit you did "
    "not write use --runner docker or --runner bwrap (install docker.io or bubblewrap)"
)


@dataclass(frozen=True)
class RunnerOptions:
    """Everything the command line can say about runners; each factory takes its part."""

    device: str = "auto"
    base_image: str | None = None
    #: CA bundle trusted during image builds; by default the host's, when it has one
    forward_ca: Path | None = DEFAULT_CA
    installer: str = "uv"
    rebuild: bool = False
    sandbox: Sandbox = field(default_factory=Sandbox)


def _venv_kwargs(options: RunnerOptions) -> dict[str, Any]:
    return {"gpu": options.device == "GPU", "limits": options.sandbox.process_limits()}


def _local(options: RunnerOptions, remarks: tuple[str, ...] = ()) -> Runner:
    return VenvRunner(remarks=remarks, **_venv_kwargs(options))


def _bwrap(options: RunnerOptions, remarks: tuple[str, ...] = ()) -> Runner:
    return BwrapRunner(remarks=remarks, **_venv_kwargs(options))


def _host(options: RunnerOptions) -> Runner:
    return LocalRunner(limits=options.sandbox.process_limits())


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
        problem = docker_problem(client, options.base_image)
    except RunnerUnavailable as exc:
        problem = exc.message
    if problem is None:
        runner = _docker(options, client)
        runner.remarks = ("runner auto: a Docker engine answered, used docker",)
        return runner
    why = f"runner auto: docker not used ({problem})"
    sandbox_problem = bwrap_problem()
    if sandbox_problem is None:
        return _bwrap(options, (f"{why}; used bwrap",))
    return _local(
        options, (f"{why}; bwrap not used ({sandbox_problem}); fell back to local",)
    )


RUNNERS: dict[str, Callable[[RunnerOptions], Runner]] = {
    "auto": _auto,
    "docker": _docker,
    "bwrap": _bwrap,
    "local": _local,
    "host": _host,
}


def get_runner(name: str, options: RunnerOptions | None = None) -> Runner:
    try:
        factory = RUNNERS[name]
    except KeyError:
        raise not_found("runner", name, list(RUNNERS)) from None
    return factory(options or RunnerOptions())
