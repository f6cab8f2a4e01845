"""Tests of the runners: the Runner template method, LocalRunner, FakeRunner, the registry."""

from __future__ import annotations

import importlib.metadata
import json
import re
import sys
from pathlib import Path

import pytest

from harness.errors import AgentError, RegistryError, RunnerUnavailable
from harness.models import CircuitJob, CircuitRun, JobSpec
from harness.noise.load import validate_noise
from runners.base import AgentCall, Runner
from runners.fake import FakeRunner
from runners.local import LocalRunner
from runners.registry import RunnerOptions, get_runner
from runners.sandbox import Sandbox
from tests.conftest import GHZ3


def circuit_job(
    cid: str = "ghz3", file: str = "circuits/ghz3.qasm", **overrides: object
) -> CircuitJob:
    fields: dict[str, object] = {
        "id": cid, "file": file, "format": "qasm2", "shots": 200, "seed_simulator": 7,
        "seed_transpiler": 1, "optimization_level": 0, "method": "automatic",
        "precision": "double"} | overrides
    return CircuitJob.model_validate(fields)


@pytest.fixture
def deposit(tmp_path: Path) -> Path:
    root = tmp_path / "deposit"
    (root / "circuits").mkdir(parents=True)
    (root / "circuits" / "ghz3.qasm").write_text(GHZ3, encoding="utf-8")
    return root


def script(path: Path, body: str) -> str:
    """An executable stand-in for the interpreter; it ignores the agent's arguments."""
    path.write_bytes(b"#!/bin/sh\n" + body.encode("latin-1"))
    path.chmod(0o755)
    return str(path)


class FileRunner(Runner):
    """Writes a fixed result.json, as a misbehaving agent would."""

    name = "file"

    def __init__(self, content: bytes) -> None:
        self.content = content

    def invoke_agent(self, deposit_root: Path, workdir: Path) -> AgentCall:
        (workdir / "result.json").write_bytes(self.content)
        return AgentCall(status=0, log_tail="")


# --- LocalRunner with the real agent ------------------------------------------------------


def test_local_runner_end_to_end(deposit: Path, tmp_path: Path) -> None:
    workdir = tmp_path / "work"
    execution = LocalRunner().execute(JobSpec(circuits=(circuit_job(),)), deposit, workdir)
    env = execution.environment
    assert env.runner == "host"
    assert {"qiskit", "qiskit-aer"} <= set(env.packages)
    assert env.python and env.device == "CPU"
    assert any("harness's own Python environment" in note for note in env.notes)
    run = execution.run("ghz3")
    assert run is not None and run.ok, run
    assert sum(run.counts.values()) == 200 and set(run.counts) <= {"000", "111"}
    assert run.seed_simulator == 7
    assert run.ideal == pytest.approx({"000": 0.5, "111": 0.5})
    assert execution.wall_s > 0
    for name in ("job.json", "result.json", "agent.log"):
        assert (workdir / name).is_file(), name
    job = json.loads((workdir / "job.json").read_text(encoding="utf-8"))
    # the agent works on a read-only copy of the deposit, never the deposit itself
    assert job["deposit_root"] == str(workdir.resolve() / "deposit")
    assert job["work_dir"] == str(workdir.resolve())
    assert job["circuits"][0]["id"] == "ghz3"


def test_local_runner_relative_paths(
    deposit: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    execution = LocalRunner().execute(
        JobSpec(circuits=(circuit_job(),)), Path("deposit"), Path("runs") / "one")
    run = execution.run("ghz3")
    assert run is not None and run.ok, run
    job = json.loads((tmp_path / "runs" / "one" / "job.json").read_text(encoding="utf-8"))
    assert Path(job["deposit_root"]).is_absolute() and Path(job["work_dir"]).is_absolute()


def test_local_runner_gpu_request_is_unavailable(deposit: Path, tmp_path: Path) -> None:
    try:  # without the GPU build of Aer no GPU is reported (and qiskit_aer is not imported)
        importlib.metadata.version("qiskit-aer-gpu")
        pytest.skip("qiskit-aer-gpu is installed; a GPU may be available")
    except importlib.metadata.PackageNotFoundError:
        pass
    with pytest.raises(RunnerUnavailable, match="GPU"):
        LocalRunner().execute(JobSpec(device="GPU", circuits=(circuit_job(),)), deposit,
                              tmp_path / "work")


def test_local_runner_timeout(deposit: Path, tmp_path: Path) -> None:
    # 16 qubits, non-Clifford, noisy: every one of the 10^6 shots is its own trajectory,
    # minutes of work; the 0.5 s timeout kills the agent before qiskit is even imported.
    lines = ["OPENQASM 2.0;", 'include "qelib1.inc";', "qreg q[16];", "creg c[16];"]
    for _ in range(40):
        lines += [f"h q[{i}]; rz(0.1) q[{i}];" for i in range(16)]
        lines += [f"cx q[{i}],q[{i + 1}];" for i in range(15)]
    lines.append("measure q -> c;")
    (deposit / "circuits" / "big.qasm").write_text("\n".join(lines), encoding="utf-8")
    workdir = tmp_path / "work"
    workdir.mkdir()
    noise = {"format": "qrepro-noise-v1", "num_qubits": 16,
             "gate_errors": [{"gates": ["cx"], "qubits": None, "arity": 2,
                              "channels": [{"type": "depolarizing", "p": 0.01}]}]}
    (workdir / "noise.json").write_text(json.dumps(validate_noise(noise, "noise.json")))
    job = circuit_job("big", "circuits/big.qasm", shots=1_000_000, method="statevector",
                      noise_model="noise.json", ideal=False)
    with pytest.raises(AgentError, match="wall-clock limit") as info:
        LocalRunner(timeout_s=0.5).execute(JobSpec(circuits=(job,)), deposit, workdir)
    assert "0.5 s" in str(info.value)
    assert not (workdir / "result.json").exists()


# --- LocalRunner failures without the agent -----------------------------------------------


def test_local_runner_missing_interpreter(deposit: Path, tmp_path: Path) -> None:
    with pytest.raises(RunnerUnavailable, match="/nonexistent/python"):
        LocalRunner(python="/nonexistent/python").execute(
            JobSpec(circuits=(circuit_job(),)), deposit, tmp_path / "work")


def test_local_runner_interpreter_not_executable(deposit: Path, tmp_path: Path) -> None:
    python = tmp_path / "python"
    python.write_text("not a program\n")
    python.chmod(0o644)
    with pytest.raises(RunnerUnavailable, match="cannot start"):
        LocalRunner(python=str(python)).execute(JobSpec(), deposit, tmp_path / "work")


def test_agent_crash_without_result_quotes_the_log(deposit: Path, tmp_path: Path) -> None:
    python = script(tmp_path / "crash.sh",
                    "echo 'Traceback (most recent call last):' >&2\n"
                    "echo 'ZeroDivisionError: boom in the agent' >&2\nexit 1\n")
    workdir = tmp_path / "work"
    workdir.mkdir()
    (workdir / "result.json").write_text('{"stale": true}')  # from an earlier run
    with pytest.raises(AgentError) as info:
        LocalRunner(python=python).execute(JobSpec(circuits=(circuit_job(),)), deposit, workdir)
    message = str(info.value)
    assert "status 1" in message and "wrote no result" in message
    assert "ZeroDivisionError: boom in the agent" in message
    assert info.value.file == str((workdir / "agent.log").resolve())
    assert "boom" in (workdir / "agent.log").read_text()


def test_agent_log_that_is_not_utf8(deposit: Path, tmp_path: Path) -> None:
    python = script(tmp_path / "crash.sh", "printf '\\377\\376 bad bytes\\n' >&2\nexit 1\n")
    with pytest.raises(AgentError, match="bad bytes"):
        LocalRunner(python=python).execute(JobSpec(), deposit, tmp_path / "work")


def test_local_runner_notes_name_another_interpreter() -> None:
    assert LocalRunner(python="/opt/venv/bin/python").notes() == (
        "local runner: ran with /opt/venv/bin/python",)
    assert LocalRunner(python=sys.executable).notes() == LocalRunner().notes()


# --- the result.json contract -------------------------------------------------------------


@pytest.mark.parametrize("content", [
    b"{not json", b"\xff\xfe\x00", b"[1, 2]", b'"text"', b"{}",
    b'{"environment": {"python": "3"}, "circuits": [{"ok": true}]}',
    b'{"environment": {"unknown": 1}, "circuits": []}',
    b'{"environment": [], "circuits": []}',
    b'{"environment": {}, "circuits": 5}',
])
def test_malformed_result_is_an_agent_error(content: bytes, deposit: Path, tmp_path: Path) -> None:
    with pytest.raises(AgentError, match="agent result"):
        FileRunner(content).execute(JobSpec(), deposit, tmp_path / "work")


def test_fatal_result_is_runner_unavailable(deposit: Path, tmp_path: Path) -> None:
    runner = FakeRunner(lambda job: CircuitRun(id=job.id, ok=True), fatal="no GPU here")
    with pytest.raises(RunnerUnavailable, match="no GPU here"):
        runner.execute(JobSpec(circuits=(circuit_job(),)), deposit, tmp_path / "work")


def test_fake_runner_receives_jobs_and_returns_runs(deposit: Path, tmp_path: Path) -> None:
    jobs = (circuit_job("a"), circuit_job("b", shots=50, noise_model="n.json"))
    runner = FakeRunner(lambda job: CircuitRun(id=job.id, ok=True, counts={"0": job.shots},
                                               shots=job.shots))
    with runner:
        execution = runner.execute(JobSpec(circuits=jobs), deposit, tmp_path / "work")
    assert runner.jobs == list(jobs)
    assert execution.environment.runner == "fake"
    assert [r.id for r in execution.circuits] == ["a", "b"]
    b = execution.run("b")
    assert b is not None and b.counts == {"0": 50}
    assert execution.run("absent") is None


# --- registry -----------------------------------------------------------------------------


def test_registry_unknown_runner() -> None:
    expected = "runner 'k8s' not found; available: auto, bwrap, docker, host, local"
    with pytest.raises(RegistryError, match=re.escape(expected)):
        get_runner("k8s")


def test_registry_builds_host_runner_with_options() -> None:
    runner = get_runner("host", RunnerOptions(sandbox=Sandbox(timeout_s=12.0)))
    assert isinstance(runner, LocalRunner)
    assert runner.timeout_s == 12.0 and runner.python == sys.executable


def test_registry_passes_every_docker_option() -> None:
    from runners.docker import DockerRunner

    options = RunnerOptions(base_image="b:1", installer="pip", rebuild=True, device="GPU",
                            sandbox=Sandbox(memory="1g"))
    runner = get_runner("docker", options)
    assert isinstance(runner, DockerRunner)
    assert (runner.base_image, runner.installer, runner.rebuild, runner.gpu) == (
        "b:1", "pip", True, True)
    assert runner.sandbox.memory == "1g"
