"""Dockerfile rendering and sandbox settings: pure, no engine needed."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.errors import RunnerUnavailable
from runners.docker import DockerRunner, connect
from runners.dockerfile import render_dockerfile, requirements_text
from runners.envspec import EnvSpec, spec_digest
from runners.sandbox import Sandbox

SPEC = EnvSpec(python="3.11", requirements=("qiskit==2.6.2", "qiskit-aer==0.18.2"))


def test_same_spec_same_dockerfile_and_digest() -> None:
    a = render_dockerfile(SPEC, "base:1", forward_ca=False)
    b = render_dockerfile(EnvSpec(python="3.11", requirements=SPEC.requirements), "base:1", False)
    assert a == b
    assert spec_digest(SPEC, "id1") == spec_digest(SPEC, "id1") != spec_digest(SPEC, "id2")
    assert a.splitlines()[1] == "FROM base:1"
    assert "uv pip install" in a and "/opt/qrepro/agent/replay.py" in a


def test_ca_and_index_settings_stay_out_of_the_offline_build() -> None:
    text = render_dockerfile(SPEC, "base:1", forward_ca=True)
    assert "ca.crt" not in text and "INDEX" not in text and "ARG " not in text
    assert "rm -rf /opt/qrepro/build" in text


def test_gpu_swaps_aer_for_aer_gpu() -> None:
    gpu = EnvSpec(python="3.11", requirements=SPEC.requirements, gpu=True)
    assert requirements_text(gpu) == "qiskit==2.6.2\nqiskit-aer-gpu==0.18.2\n"


def test_pip_installer() -> None:
    text = render_dockerfile(SPEC, "base:1", forward_ca=False, installer="pip")
    assert "COPY uv" not in text
    assert "pip install --no-index --require-hashes" in text and "--no-cache-dir" in text
    with pytest.raises(ValueError):
        render_dockerfile(SPEC, "base:1", forward_ca=False, installer="conda")


def test_python_version_checked_in_build() -> None:
    text = render_dockerfile(EnvSpec(python="3.12.1", requirements=()), "b", False)
    assert "the deposit pins 3.12" in text


def test_sandbox_defaults_are_safe(tmp_path: Path) -> None:
    kw = Sandbox(user="65534:65534").run_kwargs(tmp_path / "dep", tmp_path / "work")
    assert kw["network_mode"] == "none" and kw["read_only"] is True
    assert kw["cap_drop"] == ["ALL"] and kw["security_opt"] == ["no-new-privileges"]
    assert kw["user"] == "65534:65534" and kw["pids_limit"] == 256
    assert kw["mem_limit"] == kw["memswap_limit"] == "2g"
    assert kw["volumes"][str(tmp_path / "dep")] == {"bind": "/deposit", "mode": "ro"}
    assert kw["volumes"][str(tmp_path / "work")] == {"bind": "/work", "mode": "rw"}
    assert set(kw["volumes"]) == {str(tmp_path / "dep"), str(tmp_path / "work")}


def test_engine_not_running_says_how_to_start_one(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent/docker.sock")
    with pytest.raises(RunnerUnavailable, match=r"start one .*--runner local.*--runner auto"):
        connect()


def test_auto_without_engine_falls_back_and_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    from runners.registry import get_runner

    monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent/docker.sock")
    runner = get_runner("auto")
    assert not isinstance(runner, DockerRunner)
    assert any("docker not used (no Docker engine answers" in r for r in runner.remarks)
    assert runner.name in ("bwrap", "local")
