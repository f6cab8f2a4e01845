"""Hostile deposits in the sandbox: every escape blocked, every kill named in the verdict.

The deposits (benchmarks/deposits/generate_hostile.py) vendor a wheel whose .pth file runs
at interpreter start-up inside the container, when the agent starts.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from harness.intake.archive import snapshot
from harness.models import Report
from harness.pipeline import Options, evaluate
from runners.docker import DockerRunner
from tests.conftest import DEPOSITS

PWNED = "pwned.txt"
TIMEOUT_S = 20.0
OUTSIDE = ["/opt/pwned.txt", "/etc/pwned.txt", "/root/pwned.txt"]


def run_hostile(name: str, runner: DockerRunner, docker_client: Any,
                tmp_path: Path) -> Report:
    """Evaluate one hostile deposit; check what must hold whatever it tried."""
    deposit = DEPOSITS / name
    assert (deposit / "qdata.yaml").is_file(), "run `make deposits`"
    before = snapshot(deposit)
    report = evaluate(deposit, tmp_path / "out", runner, Options())
    assert snapshot(deposit) == before, "the deposit must never change"
    assert not (deposit / PWNED).exists()
    assert runner.record.tag and runner.record.image_id
    left = [c for c in docker_client.containers.list(all=True, sparse=True)
            if c.attrs.get("Image") == runner.record.tag
            or c.attrs.get("ImageID") == runner.record.image_id]
    assert left == [], "no container may outlive the evaluation"
    assert (tmp_path / "out" / "report.json").is_file()
    return report


def test_escape_attempts_are_all_blocked(docker_runner: Callable[..., DockerRunner],
                                         docker_client: Any, tmp_path: Path) -> None:
    runner = docker_runner()
    report = run_hostile("hostile-escape", runner, docker_client, tmp_path)
    assert report.status == "complete", report.error
    assert report.badges.functional is True
    probe = json.loads((tmp_path / "out" / "work" / "hostile-probe.json").read_text())
    assert probe["network_dns"]["blocked"], probe["network_dns"]
    assert probe["network_tcp"]["blocked"], probe["network_tcp"]
    assert probe["deposit_write"]["blocked"], probe["deposit_write"]
    assert "Read-only file system" in probe["deposit_write"]["error"]
    assert [w["path"] for w in probe["outside_writes"]] == OUTSIDE
    for write in probe["outside_writes"]:
        assert write["blocked"], write
    bomb = probe["fork_bomb"]
    assert bomb["blocked"], bomb
    assert 0 < bomb["forked"] < runner.sandbox.pids_limit <= bomb["max"] // 2
    assert probe["uid"] != 0


def test_memory_hog_is_killed_at_the_limit(docker_runner: Callable[..., DockerRunner],
                                           docker_client: Any, tmp_path: Path) -> None:
    report = run_hostile("hostile-oom", docker_runner(memory="256m"), docker_client, tmp_path)
    assert report.status == "error"
    assert report.error is not None and report.error.kind == "agent"
    assert "memory limit" in report.error.message and "256m" in report.error.message
    assert report.badges.functional is False


def test_sleeper_is_killed_at_the_timeout(docker_runner: Callable[..., DockerRunner],
                                          docker_client: Any, tmp_path: Path) -> None:
    timeout_s = TIMEOUT_S
    runner = docker_runner(timeout_s=timeout_s)
    report = run_hostile("hostile-timeout", runner, docker_client, tmp_path)
    assert report.status == "error"
    assert report.error is not None and report.error.kind == "agent"
    assert "timeout" in report.error.message and "killed" in report.error.message
    assert f"{timeout_s:g} s" in report.error.message
    assert report.badges.functional is False
    assert report.timings["execute"] < timeout_s + 30


def test_generator_is_deterministic_and_the_wheel_valid(tmp_path: Path) -> None:
    """Regenerating gives the committed bytes; the wheel's RECORD matches its members."""
    import base64
    import hashlib
    import importlib.metadata
    import zipfile

    from benchmarks.deposits.generate_ghz import PINNED
    from benchmarks.deposits.generate_hostile import DIST_INFO, MODES, WHEEL_PATH, main

    text = (DEPOSITS / "hostile-escape" / "qdata.yaml").read_text()
    if any(f"{p}=={importlib.metadata.version(p)}" not in text for p in PINNED):
        pytest.skip("installed versions differ from the pinned ones: the files would differ")
    main(tmp_path)
    for mode in MODES:
        name = f"hostile-{mode}"
        assert snapshot(tmp_path / name) == snapshot(DEPOSITS / name), name
        with zipfile.ZipFile(DEPOSITS / name / WHEEL_PATH) as whl:
            assert whl.namelist() == sorted(whl.namelist())
            assert f'MODE = "{mode}"' in whl.read("hostile_probe/__init__.py").decode()
            record = whl.read(f"{DIST_INFO}/RECORD").decode().splitlines()
            for line in record:
                path, digest, size = line.rsplit(",", 2)
                if path == f"{DIST_INFO}/RECORD":
                    continue
                data = whl.read(path)
                want = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=")
                assert (digest, int(size)) == (f"sha256={want.decode()}", len(data)), path
            assert {line.split(",")[0] for line in record} == set(whl.namelist())
