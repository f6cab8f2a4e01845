"""The notebook reference deposits evaluated in containers: same badges as with the venv."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from harness.intake.deposit_digest import snapshot
from harness.pipeline import Options, evaluate
from runners.docker import DockerRunner
from tests.conftest import DEPOSITS

EXPECTED = {
    "vqc-iris": (True, True, True, True),
    "qkernel-breast-cancer": (True, True, True, True),
    "vqc-iris-broken": (True, False, False, False),
}


#: make test runs vqc-iris in a container; the broken notebook and the quantum kernel are
#: covered there with the venv runner (tests/e2e/test_notebook_deposits.py), and run in a
#: container in make test-slow
IN_MAKE_TEST = ("vqc-iris",)


@pytest.mark.parametrize("name", [
    n if n in IN_MAKE_TEST else pytest.param(n, marks=pytest.mark.slow) for n in sorted(EXPECTED)])
def test_notebook_deposit_in_a_container(name: str, docker_runner: Callable[..., DockerRunner],
                                         tmp_path: Path) -> None:
    before = snapshot(DEPOSITS / name)
    report = evaluate(DEPOSITS / name, tmp_path / "out", docker_runner(), Options(jobs=2))
    b = report.badges
    assert (b.available, b.functional, b.reusable, b.reproduced) == EXPECTED[name], b.reasons
    assert report.environment is not None and report.environment.runner == "docker"
    assert snapshot(DEPOSITS / name) == before
    if name == "vqc-iris-broken":
        failed = [n for n in report.notebooks if not n.ok]
        assert failed and failed[0].error_type == "cell-error"
