"""The default runner: docker when an engine answers, else bwrap, else local (loudly)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from runners.base_image import image_python, local_base_for
from runners.bwrap import bwrap_problem
from tests.conftest import DEPOSITS

QREPRO = str(Path(sys.executable).parent / "qrepro")
NO_ENGINE = {"DOCKER_HOST": "unix:///nonexistent/docker.sock"}


def _evaluate(tmp_path: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([QREPRO, "evaluate", str(DEPOSITS / "ghz-noisy"), "--out",
                           str(tmp_path / "out")], env={**os.environ, **env},
                          capture_output=True, text=True, timeout=900, check=False)


def _report(tmp_path: Path) -> dict[str, object]:
    import json

    return dict(json.loads((tmp_path / "out" / "report.json").read_text()))


@pytest.mark.e2e
def test_without_an_engine_the_default_is_bwrap(tmp_path: Path) -> None:
    if bwrap_problem() is not None:
        pytest.skip(str(bwrap_problem()))
    proc = _evaluate(tmp_path, NO_ENGINE)
    assert proc.returncode == 0, proc.stderr
    report = _report(tmp_path)
    env = report["environment"]
    assert isinstance(env, dict) and env["runner"] == "bwrap"
    assert any("docker not used" in n for n in env["notes"])
    assert "not sandboxed" not in proc.stderr


@pytest.mark.e2e
def test_without_engine_or_bwrap_local_runs_with_a_loud_warning(tmp_path: Path) -> None:
    # PATH holds the interpreter's folder only: no bwrap on it, as on a bare machine
    path = str(Path(os.path.realpath(sys.executable)).parent)
    if not Path(path, "python3.11").exists():
        path = str(Path(sys._base_executable).resolve().parent)  # type: ignore[attr-defined]
    proc = _evaluate(tmp_path, {**NO_ENGINE, "PATH": path})
    assert proc.returncode == 0, proc.stderr
    assert "warning: runner local" in proc.stderr and "not sandboxed" in proc.stderr
    report = _report(tmp_path)
    env = report["environment"]
    assert isinstance(env, dict) and env["runner"] == "local"
    codes = [f["code"] for f in report["findings"]]  # type: ignore[attr-defined]
    assert "not-sandboxed" in codes
    assert all(report["badges"][k] for k in  # type: ignore[index]
               ("available", "functional", "reusable", "reproduced"))


class _Image:
    def __init__(self, tags: list[str], labels: dict[str, str] | None = None) -> None:
        self.tags = tags
        self.attrs = {"Config": {"Labels": labels}}


class _Images:
    def __init__(self, images: list[_Image]) -> None:
        self._images = images

    def list(self) -> list[_Image]:
        return self._images


class _Client:
    def __init__(self, images: list[_Image]) -> None:
        self.images = _Images(images)


def test_base_image_python_from_label_or_tag() -> None:
    assert image_python(_Image(["x:1"], {"org.qrepro.python": "3.12"})) == "3.12"
    assert image_python(_Image(["python:3.11-slim"])) == "3.11"
    assert image_python(_Image(["qrepro-base:bookworm"])) == "3.11"
    assert image_python(_Image(["ubuntu:22.04"])) is None


def test_local_base_prefers_the_official_slim_image() -> None:
    ours = _Image(["qrepro-base:bookworm"])
    official = _Image(["python:3.11-slim"])
    assert local_base_for(_Client([ours]), "3.11") == "qrepro-base:bookworm"
    assert local_base_for(_Client([ours, official]), "3.11") == "python:3.11-slim"
    assert local_base_for(_Client([ours]), "3.12") is None
