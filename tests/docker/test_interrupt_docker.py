"""SIGTERM mid-run under Docker: the container is gone, the report says interrupted."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from runners.docker import OWNER_LABEL
from tests.interrupt import interrupt_midrun


def test_sigterm_removes_the_container(tmp_path: Path, docker_client: Any, base_image: str
                                       ) -> None:
    import socket

    pids: list[int] = []
    code, report, err = interrupt_midrun(tmp_path, ["--runner", "docker"], ready="job.json",
                                         pids=pids)
    assert code == 130, err
    assert report["status"] == "interrupted"
    owner = f"{socket.gethostname()}:{pids[0]}"
    left = docker_client.containers.list(all=True, filters={"label": f"{OWNER_LABEL}={owner}"})
    assert left == [], "a container of the interrupted run is still there"


def test_containers_of_a_dead_harness_are_removed_at_the_next_start(
        docker_client: Any, base_image: str) -> None:
    from runners.docker import cleanup_stale

    orphan = docker_client.containers.create(
        base_image, ["sleep", "600"], labels={OWNER_LABEL: "some-host:999999999"})
    assert cleanup_stale(docker_client) >= 1
    ids = {c.id for c in docker_client.containers.list(all=True)}
    assert orphan.id not in ids
