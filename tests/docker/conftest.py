"""Fixtures for tests that need a running Docker engine (marker ``docker``).

Without an engine these tests skip on a developer machine but FAIL in CI (CI=true):
.ci/run installs and starts one, so a missing engine there is a broken CI, not a reason
to skip. The base image comes from QREPRO_BASE_IMAGE (default qrepro-base:bookworm, built
by `qrepro base-image bootstrap`); builds forward the host CA bundle when it exists.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from harness.errors import RunnerUnavailable
from runners.docker import HOST_CA, DockerRunner, connect
from runners.sandbox import Sandbox

BASE_IMAGE = os.environ.get("QREPRO_BASE_IMAGE", "qrepro-base:bookworm")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.docker)


@pytest.fixture(scope="session")
def docker_client() -> Any:
    try:
        client = connect()
        client.images.get(BASE_IMAGE)
    except RunnerUnavailable as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI must run the Docker tests: {exc.message}")
        pytest.skip(f"no Docker engine: {exc.message}")
    except Exception as exc:  # image missing
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI must run the Docker tests: base image {BASE_IMAGE}: {exc}")
        pytest.skip(f"base image {BASE_IMAGE} missing: run `qrepro base-image bootstrap`")
    return client


@pytest.fixture
def docker_runner(docker_client: Any) -> Callable[..., DockerRunner]:
    """A factory of DockerRunners on the local base image (sandbox overrides allowed)."""

    def make(**sandbox: Any) -> DockerRunner:
        return DockerRunner(base_image=BASE_IMAGE, sandbox=Sandbox(**sandbox),
                            forward_ca=HOST_CA if HOST_CA.is_file() else None,
                            client=docker_client)

    return make
