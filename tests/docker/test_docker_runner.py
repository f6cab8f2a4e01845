"""The Docker runner for real: reference deposits in containers, image reuse, build errors."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from harness.intake.deposit_digest import snapshot
from harness.pipeline import Options, evaluate
from runners.docker import DockerRunner
from runners.local import LocalRunner
from tests.conftest import DEPOSITS

REFERENCE = ("ghz-noisy", "ghz-noisy-tampered", "ghz-noisy-overclaimed")


def verdicts(report: Any) -> tuple[Any, ...]:
    b = report.badges
    return (report.status, b.available, b.functional, b.reusable, b.reproduced,
            tuple((c.id, c.verdict) for c in report.claims))


@pytest.mark.parametrize("name", REFERENCE)
def test_reference_deposit_same_verdicts_as_local(
        name: str, docker_runner: Callable[..., DockerRunner], tmp_path: Path) -> None:
    before = snapshot(DEPOSITS / name)
    runner = docker_runner()
    in_container = evaluate(DEPOSITS / name, tmp_path / "docker", runner, Options())
    local = evaluate(DEPOSITS / name, tmp_path / "local", LocalRunner(), Options())
    assert verdicts(in_container) == verdicts(local)
    env = in_container.environment
    assert env is not None and env.runner == "docker"
    assert env.details["image"]["id"].startswith("sha256:")
    assert env.details["sandbox"]["network"] == "none"
    assert env.details["sandbox"]["user"] == "65534:65534"
    pinned = yaml.safe_load((DEPOSITS / name / "qdata.yaml").read_text())
    pins = dict(r.split("==") for r in pinned["environment"]["requirements"])
    assert env.packages["qiskit-aer"] == pins["qiskit-aer"], "the deposit's pins ran"
    assert snapshot(DEPOSITS / name) == before


def test_second_evaluation_builds_nothing(docker_runner: Callable[..., DockerRunner],
                                          tmp_path: Path) -> None:
    first = docker_runner()
    evaluate(DEPOSITS / "ghz-noisy", tmp_path / "a", first, Options())
    second = docker_runner()
    evaluate(DEPOSITS / "ghz-noisy-overclaimed", tmp_path / "b", second, Options())
    assert second.record.built is False
    assert second.record.build_log == [f"reused {second.record.tag} ({second.record.image_id})"]
    assert second.record.image_id == first.record.image_id
    report = json.loads((tmp_path / "b" / "report.json").read_text())
    assert report["environment"]["details"]["image"]["built"] is False


def test_unsatisfiable_pin_is_a_build_error_with_functional_denied(
        docker_runner: Callable[..., DockerRunner], tmp_path: Path) -> None:
    deposit = tmp_path / "dep"
    shutil.copytree(DEPOSITS / "ghz-noisy", deposit)
    manifest = yaml.safe_load((deposit / "qdata.yaml").read_text())
    manifest["environment"]["requirements"].append("qrepro-no-such-package==9.9.9")
    (deposit / "qdata.yaml").write_text(yaml.safe_dump(manifest, sort_keys=False))
    report = evaluate(deposit, tmp_path / "out", docker_runner(), Options())
    assert report.status == "error" and report.error is not None
    assert report.error.kind == "build"
    assert "qrepro-no-such-package" in report.error.message
    assert report.badges.available and not report.badges.functional


def test_gpu_request_without_nvidia_runtime_fails_before_building(
        docker_client: Any, tmp_path: Path) -> None:
    if "nvidia" in (docker_client.info().get("Runtimes") or {}):
        pytest.skip("this engine has an NVIDIA runtime")
    runner = DockerRunner(gpu=True, client=docker_client)
    report = evaluate(DEPOSITS / "ghz-noisy", tmp_path / "out", runner, Options(device="GPU"))
    assert report.status == "error" and report.error is not None
    assert report.error.kind == "runner-unavailable"
    assert "GPU requested but the Docker engine has no NVIDIA runtime" in report.error.message
    assert runner.record.tag == "", "nothing was built"


def test_build_runs_with_no_network_from_the_hashed_wheelhouse(
        docker_runner: Callable[..., DockerRunner], tmp_path: Path) -> None:
    """The image is built with network none, installing only the files resolved and
    checked on the host (--require-hashes --no-index); the report pairs the stack's index
    hashes with the RECORDs the agent verified, and all four badges are earned."""
    runner = docker_runner()
    runner.rebuild = True  # a real build, to see its network
    calls: list[dict[str, Any]] = []
    build = runner.client.api.build

    def spy(**kwargs: Any) -> Any:
        calls.append(kwargs)
        return build(**kwargs)

    runner.client.api.build = spy
    try:
        report = evaluate(DEPOSITS / "ghz-noisy", tmp_path / "out", runner, Options())
    finally:
        del runner.client.api.build
    assert [c["network_mode"] for c in calls] == ["none"]
    assert "--require-hashes" in runner.record.dockerfile
    b = report.badges
    assert (b.available, b.functional, b.reusable, b.reproduced) == (True, True, True, True)
    assert report.environment is not None
    stack = {d.name: d for d in report.environment.stack}
    assert runner.spec is not None
    for name, artifact in runner.spec.stack_artifacts().items():
        assert stack[name].wheel == artifact.filename
        assert stack[name].index_sha256 == artifact.sha256
    assert stack["qiskit-aer"].wheel.startswith("qiskit_aer-0.18.2-")
