"""Fixtures for tests that need a running Docker engine (marker ``docker``).

Without an engine these tests skip on a developer machine but FAIL in CI (CI=true):
.ci/run installs and starts one, so a missing engine there is a broken CI, not a reason
to skip. Nothing else is set up for them: the base image is whatever a user with no
options gets (found, pulled, or bootstrapped from Debian on first use), and builds forward
the host CA bundle by default, exactly as `qrepro evaluate --runner docker` does.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn

import pytest

from harness.errors import RunnerUnavailable
from runners.base_image import resolve_base
from runners.docker import DockerRunner, connect
from runners.sandbox import Sandbox
from tests.conftest import unavailable

PYTHON = "3.11"
#: pytest-timeout's ceiling for a Docker test (pyproject's default is lower): the first one a
#: worker runs may bootstrap the base image from Debian and build an environment image
DOCKER_TIMEOUT_S = 2400


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.docker)
            if item.get_closest_marker("timeout") is None:
                item.add_marker(pytest.mark.timeout(DOCKER_TIMEOUT_S))


def _unavailable(why: str) -> NoReturn:
    unavailable("Docker", why)


@pytest.fixture(scope="session")
def docker_client() -> Any:
    try:
        client = connect()
    except RunnerUnavailable as exc:
        _unavailable(f"no Docker engine: {exc.message}")
    return client


@pytest.fixture(scope="session")
def base_image(docker_client: Any) -> str:
    """The base image the zero-configuration path chooses (bootstrapped when none is here)."""
    try:
        name, _why = resolve_base(docker_client, PYTHON, lambda m: print(m, file=sys.stderr))
    except RunnerUnavailable as exc:
        _unavailable(exc.message)
    return name


@pytest.fixture
def docker_runner(docker_client: Any, base_image: str) -> Callable[..., DockerRunner]:
    """A factory of DockerRunners with the defaults a user gets (sandbox overrides allowed)."""

    def make(**sandbox: Any) -> DockerRunner:
        return DockerRunner(sandbox=Sandbox(**sandbox), client=docker_client)

    return make
