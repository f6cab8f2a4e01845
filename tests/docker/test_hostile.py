"""Hostile deposits whose vendored wheel carries an interpreter-start hook (.pth).

The deposits (benchmarks/deposits/generate_hostile.py) vendor a wheel whose .pth file would
run at every interpreter start-up inside the container; the agent starts without it.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from harness.intake.deposit_digest import snapshot
from harness.models import Report
from harness.pipeline import Options, evaluate
from runners.docker import OWNER_LABEL, DockerRunner
from tests.conftest import DEPOSITS

PWNED = "pwned.txt"
TIMEOUT_S = 20.0


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
    mine = f"{socket.gethostname()}:{os.getpid()}"  # not another evaluation's containers
    left = [c for c in docker_client.containers.list(all=True, sparse=True)
            if (c.attrs.get("Image") == runner.record.tag
                or c.attrs.get("ImageID") == runner.record.image_id)
            and (c.attrs.get("Labels") or {}).get(OWNER_LABEL) == mine]
    assert left == [], "no container may outlive the evaluation"
    assert (tmp_path / "out" / "report.json").is_file()
    return report


@pytest.mark.parametrize("name", ["hostile-escape", "hostile-oom", "hostile-timeout"])
def test_interpreter_start_hook_is_flagged_and_never_runs_in_the_agent(
        name: str, docker_runner: Callable[..., DockerRunner], docker_client: Any,
        tmp_path: Path) -> None:
    """The wheel's .pth would escape, eat memory or sleep forever at interpreter start. The
    agent starts with -S, so it never runs there: the evaluation completes, and the hook is
    named as a finding. (Attacks from code that does run, a notebook's, are in the hostile
    corpus and the snoop tests.)"""
    runner = docker_runner(timeout_s=TIMEOUT_S * 6)
    report = run_hostile(name, runner, docker_client, tmp_path)
    assert report.status == "complete", report.error
    assert report.badges.functional, report.badges.reasons
    hooks = [f for f in report.findings if f.code == "interpreter-start-hook"]
    assert hooks and "hostile_probe.pth" in hooks[0].message
    assert not (tmp_path / "out" / "work" / "hostile-probe.json").exists()


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
