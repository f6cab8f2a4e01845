"""The local runner: a uv venv built from the deposit's pins, cached by environment digest.

Builds real venvs (uv's package cache makes a rebuild take about a second) into a
temporary ``$QREPRO_CACHE``, so the user's cache is never touched.
"""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from harness.errors import BuildError, RunnerUnavailable
from harness.intake.manifest import Environment
from harness.pipeline import Options, evaluate
from runners import venv as venv_module
from runners.docker import DockerRunner
from runners.local import LocalRunner
from runners.registry import RunnerOptions, get_runner
from runners.venv import MARKER, VenvRunner, default_cache_dir, is_complete
from tests.conftest import DEPOSITS

HOST_MINOR = f"{sys.version_info.major}.{sys.version_info.minor}"
WHEEL = "qrepro_tiny-0.1-py3-none-any.whl"


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """``$QREPRO_CACHE`` in a temporary directory; returns the venv cache under it."""
    monkeypatch.setenv("QREPRO_CACHE", str(tmp_path / "qrepro-cache"))
    return tmp_path / "qrepro-cache" / "venvs"


def _record_line(name: str, data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{name},sha256={digest},{len(data)}"


def make_wheel(directory: Path) -> Path:
    """A minimal pure-Python wheel providing ``qrepro_tiny.VALUE == 42``."""
    info = "qrepro_tiny-0.1.dist-info"
    files = {
        "qrepro_tiny/__init__.py": b"VALUE = 42\n",
        f"{info}/METADATA": b"Metadata-Version: 2.1\nName: qrepro-tiny\nVersion: 0.1\n",
        f"{info}/WHEEL": b"Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\n"
        b"Tag: py3-none-any\n",
    }
    record = [_record_line(name, data) for name, data in files.items()]
    files[f"{info}/RECORD"] = ("\n".join([*record, f"{info}/RECORD,,"]) + "\n").encode()
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / WHEEL
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    return path


@pytest.fixture
def tiny(tmp_path: Path) -> tuple[Environment, Path]:
    """A deposit root with one vendored wheel, and an environment pinning six."""
    root = tmp_path / "deposit"
    make_wheel(root / "wheels")
    env = Environment(python=HOST_MINOR, requirements=["six==1.16.0"],
                      wheels=[f"wheels/{WHEEL}"])
    return env, root


def _python(runner: VenvRunner, code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([runner.python, "-c", code], capture_output=True, text=True,
                          check=False)


def test_default_cache_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("QREPRO_CACHE", str(tmp_path))
    assert default_cache_dir() == tmp_path / "venvs"
    monkeypatch.delenv("QREPRO_CACHE")
    assert default_cache_dir() == Path.home() / ".cache" / "qrepro" / "venvs"


def test_build_then_reuse(cache: Path, tiny: tuple[Environment, Path], tmp_path: Path) -> None:
    env, root = tiny
    first = VenvRunner()
    first.prepare(env, root, tmp_path / "work")
    assert first.record is not None and first.record.built
    venv = Path(first.record.path)
    assert venv.parent == cache and first.python == str(venv / "bin" / "python")
    marker = json.loads((venv / MARKER).read_text(encoding="utf-8"))
    assert marker["digest"] == first.record.digest and marker["created"]
    assert marker["spec"]["requirements"] == ["six==1.16.0"]
    probe = _python(first, "import six, qrepro_tiny; print(six.__version__, qrepro_tiny.VALUE)")
    assert probe.stdout.split() == ["1.16.0", "42"], probe.stderr
    assert _python(first, "import pydantic").returncode != 0, "the harness's packages leaked in"

    second = VenvRunner()
    second.prepare(env, root, tmp_path / "work")
    assert second.record is not None and not second.record.built
    assert second.python == first.python
    assert "reused" in second.notes()[0] and second.details()["venv"] == str(venv)
    assert [p.name for p in cache.iterdir()] == [venv.name]


def test_changed_pins_get_another_venv(cache: Path, tiny: tuple[Environment, Path],
                                       tmp_path: Path) -> None:
    env, root = tiny
    runner = VenvRunner()
    runner.prepare(env, root, tmp_path)
    other = env.model_copy(update={"requirements": ["six==1.17.0"]})
    runner.prepare(other, root, tmp_path)
    assert runner.record is not None and runner.record.built
    assert len([p for p in cache.iterdir() if is_complete(p)]) == 2


def test_impossible_pin_is_a_build_error_quoting_uv(cache: Path, tmp_path: Path) -> None:
    env = Environment(python=HOST_MINOR, requirements=["qrepro-no-such-package-xyz==1.0"])
    runner = VenvRunner()
    with pytest.raises(BuildError, match=r"uv pip compile.*qrepro-no-such-package-xyz"):
        runner.prepare(env, tmp_path, tmp_path / "work")
    assert not cache.exists() or list(cache.iterdir()) == [], "a failed build leaves nothing"
    with pytest.raises(BuildError):  # and so the next prepare builds (and fails) again
        VenvRunner().prepare(env, tmp_path, tmp_path / "work")
    assert runner.record is None and runner.notes() == ()
    assert set(runner.details()) == {"confinement"}, "only what would have confined the run"


def test_interrupted_build_is_never_reused(cache: Path, tiny: tuple[Environment, Path],
                                           tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                           ) -> None:
    env, root = tiny

    def crash(*args: object) -> None:
        raise KeyboardInterrupt

    with monkeypatch.context() as patch, pytest.raises(KeyboardInterrupt):
        patch.setattr(venv_module, "write_marker", crash)
        VenvRunner().prepare(env, root, tmp_path)
    assert list(cache.iterdir()) == []
    runner = VenvRunner()
    runner.prepare(env, root, tmp_path)
    assert runner.record is not None and runner.record.built


def test_half_published_venv_is_rebuilt(cache: Path, tiny: tuple[Environment, Path],
                                        tmp_path: Path) -> None:
    env, root = tiny
    runner = VenvRunner()
    runner.prepare(env, root, tmp_path)
    assert runner.record is not None
    (Path(runner.record.path) / MARKER).unlink()
    runner.prepare(env, root, tmp_path)
    assert runner.record.built and is_complete(Path(runner.record.path))


@pytest.mark.parametrize("version", ["3.4", "3.99"])
def test_python_not_on_host_is_unavailable(cache: Path, tmp_path: Path, version: str) -> None:
    env = Environment(python=version, requirements=["six==1.16.0"])
    with pytest.raises(RunnerUnavailable, match=rf"no Python {version} interpreter was found"):
        VenvRunner().prepare(env, tmp_path, tmp_path / "work")
    assert not cache.exists()


@pytest.mark.skipif(shutil.which("nvidia-smi") is not None, reason="this host may have a GPU")
def test_gpu_request_without_gpu_fails_before_installing(cache: Path, tmp_path: Path) -> None:
    env = Environment(python=HOST_MINOR, requirements=["qiskit-aer==0.18.2"])
    with pytest.raises(RunnerUnavailable, match="GPU requested"):
        VenvRunner(gpu=True).prepare(env, tmp_path, tmp_path / "work")
    assert not cache.exists()


def test_invoke_before_prepare_is_refused(tmp_path: Path) -> None:
    with pytest.raises(RunnerUnavailable, match="prepare"):
        VenvRunner().invoke_agent(tmp_path, tmp_path)


def test_ghz_noisy_reproduces_in_its_pinned_venv(cache: Path, tmp_path: Path) -> None:
    report = evaluate(DEPOSITS / "ghz-noisy", tmp_path / "out", VenvRunner(), Options(seed=0))
    assert report.status == "complete", report.error
    badges = report.badges
    assert (badges.available, badges.functional, badges.reusable, badges.reproduced) == (
        True, True, True, True)
    env = report.environment
    assert env is not None and env.runner == "local"
    assert env.packages["qiskit-aer"] == "0.18.2" and env.packages["qiskit"] == "2.6.2"
    assert Path(env.details["venv"]).parent == cache
    assert any("isolated virtual environment" in note for note in env.notes)


# --- registry ---------------------------------------------------------------------------------


def test_registry_local_is_the_venv_runner_and_host_is_not() -> None:
    local = get_runner("local", RunnerOptions(device="GPU"))
    assert isinstance(local, VenvRunner) and local.gpu
    host = get_runner("host")
    assert isinstance(host, LocalRunner) and not isinstance(host, VenvRunner)
    assert host.python == sys.executable


def test_registry_auto_falls_back_to_the_venv_runner(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_engine() -> None:
        raise RunnerUnavailable("no Docker engine answers")

    monkeypatch.setattr("runners.registry.connect", no_engine)
    monkeypatch.setattr("runners.registry.bwrap_problem", lambda: "bubblewrap is not installed")
    runner = get_runner("auto")
    assert isinstance(runner, VenvRunner) and not isinstance(runner, DockerRunner)
    assert runner.name == "local" and not runner.sandboxed
    assert "fell back to local" in runner.remarks[0]
    assert "bubblewrap is not installed" in runner.remarks[0]


def test_system_packages_not_installed_by_the_venv_runner_are_a_finding() -> None:
    runner = VenvRunner()
    runner.system_packages = ("qrepro-surely-not-a-package", "coreutils")
    (found,) = runner.findings()
    assert found.code == "system-packages-not-installed" and found.severity == "warning"
    assert found.field == "environment.system_packages"
    assert "qrepro-surely-not-a-package are not installed on this host" in found.message


def test_the_interpreter_search_is_remembered_while_the_interpreter_is_unchanged(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    memo = tmp_path / "interpreters.json"
    minor = f"{sys.version_info.major}.{sys.version_info.minor}"
    found = venv_module.find_interpreter(minor, memo=memo)
    assert json.loads(memo.read_text())[minor]["path"] == found[0]
    searches: list[object] = []
    real = venv_module.run_uv
    monkeypatch.setattr(venv_module, "run_uv", lambda *a, **k: searches.append(a) or real(*a, **k))
    assert venv_module.find_interpreter(minor, memo=memo) == found and not searches
    stale = json.loads(memo.read_text())
    stale[minor]["identity"][2] -= 1  # the file at that path changed since (an upgrade)
    memo.write_text(json.dumps(stale))
    assert venv_module.find_interpreter(minor, memo=memo) == found and len(searches) == 1
    memo.write_text("{not json")
    assert venv_module.find_interpreter(minor, memo=memo) == found and len(searches) == 2
