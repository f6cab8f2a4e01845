"""The hashed lock and the wheelhouse: resolved on the host, fetched, checked, installed
offline in hash-checking mode (runners/wheelhouse.py, runners/dockerfile.py, runners/venv.py).

The tests that resolve need the package index (as every venv test does); the small
pure-Python pins keep them to a few seconds with uv's cache warm.
"""

from __future__ import annotations

import io
import tarfile
from dataclasses import replace
from pathlib import Path

import pytest

from harness.errors import BuildError
from harness.intake.manifest import Environment
from runners.dockerfile import render_dockerfile, render_system_dockerfile, requirements_text
from runners.envspec import EnvSpec, resolve_spec, spec_digest
from runners.venv import VenvBuilder, find_interpreter, run_uv
from runners.wheelhouse import (
    Artifact,
    Target,
    docker_target,
    fetch,
    fetch_one,
    parse_pylock,
)
from tests.runners.test_venv_runner import HOST_MINOR, make_wheel

SIX = EnvSpec(python=HOST_MINOR, requirements=("six==1.16.0",))


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("QREPRO_CACHE", str(tmp_path / "qrepro-cache"))
    return tmp_path / "qrepro-cache"


def test_hashed_lock_is_generated_with_the_index_hashes(cache: Path) -> None:
    spec = resolve_spec(SIX, docker_target(HOST_MINOR), [], run_uv, 300)
    (six,) = spec.artifacts
    assert (six.name, six.version, six.filename) == ("six", "1.16.0",
                                                     "six-1.16.0-py2.py3-none-any.whl")
    assert len(six.sha256) == 64 and six.url.startswith("https://")
    assert requirements_text(spec) == f"six==1.16.0 --hash=sha256:{six.sha256}\n"
    # the hashes are in the digest: another index artifact is another environment
    forged = replace(spec, artifacts=(replace(six, sha256="0" * 64),))
    assert spec_digest(spec) != spec_digest(forged) and spec_digest(spec) != spec_digest(SIX)


def test_without_the_index_an_earlier_resolve_of_the_same_input_is_used(
        cache: Path, tmp_path: Path) -> None:
    """Offline (the index cannot be asked), an environment resolved before still resolves,
    to the same files, vendored wheels included; an input never resolved is an error."""
    wheel = make_wheel(tmp_path / "wheels")
    online = resolve_spec(SIX, docker_target(HOST_MINOR), [wheel], run_uv, 300)

    def offline(args: list[str], timeout_s: float, merge: bool = True) -> object:
        return run_uv([*args, "--offline", "--no-cache"], timeout_s, merge)

    again = resolve_spec(SIX, docker_target(HOST_MINOR), [wheel], offline, 300)
    assert again.artifacts == online.artifacts
    other = EnvSpec(python=HOST_MINOR, requirements=("six==1.15.0",))
    with pytest.raises(BuildError, match="resolving the environment on the host failed"):
        resolve_spec(other, docker_target(HOST_MINOR), [], offline, 300)


def test_the_lock_files_hashes_must_match_the_index(cache: Path) -> None:
    lock = f"six==1.16.0 \\\n    --hash=sha256:{'1' * 64}\n"
    with pytest.raises(BuildError, match="none of the hashes the deposit's lock file gives"):
        resolve_spec(EnvSpec(python=HOST_MINOR, requirements=(), lock=lock),
                     docker_target(HOST_MINOR), [], run_uv, 300)


def test_a_vendored_wheel_joins_the_set_by_its_hash(cache: Path, tmp_path: Path) -> None:
    wheel = make_wheel(tmp_path / "wheels")
    spec = resolve_spec(SIX, docker_target(HOST_MINOR), [wheel], run_uv, 300)
    tiny = next(a for a in spec.artifacts if a.name == "qrepro-tiny")
    assert tiny.url == wheel.resolve().as_uri()
    assert fetch([tiny])[tiny.filename].read_bytes() == wheel.read_bytes()


def test_a_stack_distribution_from_a_vendored_wheel_is_refused(tmp_path: Path) -> None:
    vendored = {tmp_path / "copy.whl": tmp_path / "deposit" / "numpy-1-py3-none-any.whl"}
    text = ('[[packages]]\nname = "numpy"\nversion = "1"\nwheels = [{ url = "'
            f'{(tmp_path / "copy.whl").as_uri()}", hashes = {{ sha256 = "{"a" * 64}" }} }}]\n')
    with pytest.raises(BuildError, match=r"numpy .replay stack. resolved to the vendored wheel"):
        parse_pylock(text, vendored)


def test_tampered_file_in_the_cache_is_refused_naming_it(cache: Path, tmp_path: Path) -> None:
    source = tmp_path / "pkg-1-py3-none-any.whl"
    source.write_bytes(b"the index's bytes")
    import hashlib

    artifact = Artifact("pkg", "1", source.name, source.as_uri(),
                        hashlib.sha256(source.read_bytes()).hexdigest())
    path = fetch_one(artifact, cache)
    data = bytearray(path.read_bytes())
    data[0] ^= 1  # one byte changed after the download
    path.write_bytes(bytes(data))
    with pytest.raises(BuildError, match=r"pkg-1-py3-none-any.whl has sha256 .* the package "
                       "index says"):
        fetch_one(artifact, cache)


def test_tampered_wheel_in_the_wheelhouse_fails_the_install(cache: Path, tmp_path: Path
                                                            ) -> None:
    """uv's own hash check: a wheel changed between the fetch and the install."""
    spec = resolve_spec(SIX, docker_target(HOST_MINOR), [], run_uv, 300)
    files = fetch(spec.artifacts)
    (name, path), = files.items()
    bad = tmp_path / "bad" / name
    bad.parent.mkdir()
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 1  # one byte
    bad.write_bytes(bytes(data))
    base, _ = find_interpreter(HOST_MINOR)
    builder = VenvBuilder(tmp_path / "venvs", 300)
    with pytest.raises(BuildError, match=r"six-1.16.0-py2.py3-none-any.whl in the wheelhouse "
                       r"does not have the sha256"):
        builder.ensure(spec, "f" * 64, base, lambda: {name: bad})


def test_dockerfile_installs_offline_with_hashes_and_needs_no_network() -> None:
    text = render_dockerfile(SIX, "base:1", forward_ca=True)
    install = next(line for line in text.splitlines() if "uv pip install" in line)
    for flag in ("--offline", "--no-index", "--require-hashes",
                 "--find-links /opt/qrepro/build/wheelhouse"):
        assert flag in install
    assert "apt-get" not in text and "ARG " not in text and "ca.crt" not in text
    assert "index-url" not in text.lower() and "http" not in text
    pip = render_dockerfile(SIX, "base:1", installer="pip")
    assert "--no-index --require-hashes --find-links /opt/qrepro/build/wheelhouse" in pip
    # Debian's packages are the only stage with a network, and run no deposit code
    system = render_system_dockerfile(replace(SIX, system_packages=("libgomp1",)), "base:1")
    assert "apt-get install -y --no-install-recommends libgomp1" in system
    assert "pip" not in system and "COPY" not in system


def _sdist(path: Path, pyproject: str | None) -> Path:
    with tarfile.open(path, "w:gz") as tf:
        files = {"pkg-1/setup.py": b"raise SystemExit('never run on the host')\n"}
        if pyproject is not None:
            files["pkg-1/pyproject.toml"] = pyproject.encode()
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
    return path


def test_local_runner_refuses_an_sdist_before_building(cache: Path, tmp_path: Path) -> None:
    """No runner runs an sdist's build code (not even to resolve): refused with advice."""
    from runners.venv import VenvRunner

    links = tmp_path / "links"
    links.mkdir()
    _sdist(links / "qrepro_sdist_only-1.0.tar.gz", '[build-system]\nrequires = ["flit_core"]\n')
    env = Environment(python=HOST_MINOR, requirements=["qrepro-sdist-only==1.0"])
    import os

    os.environ["UV_FIND_LINKS"] = str(links)
    try:
        with pytest.raises(BuildError, match=r"qrepro-sdist-only has no wheel for this "
                           r"Python .* only a source distribution.*vendor a wheel"):
            VenvRunner(cache_dir=tmp_path / "venvs").prepare(env, tmp_path, tmp_path / "w")
    finally:
        del os.environ["UV_FIND_LINKS"]


def test_target_args() -> None:
    assert Target(python="/usr/bin/python3").args() == ["--python", "/usr/bin/python3"]
    assert docker_target("3.11").args()[:2] == ["--python-version", "3.11"]
    assert docker_target("3.11").args()[3].endswith("-manylinux_2_36")
