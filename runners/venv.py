"""Run the agent in an isolated virtual environment built with uv from the deposit's pins.

The runner for authors without Docker. ``prepare()`` finds a host interpreter of the
pinned Python minor version (``uv python find``; none -> RunnerUnavailable), then builds
or reuses a venv keyed by the environment digest (spec + agent + the interpreter's
``sys.version``). Cache layout, under ``$QREPRO_CACHE/venvs`` (default
``~/.cache/qrepro/venvs``)::

    <digest[:20]>/              a complete venv: bin/python, lib/, pyvenv.cfg,
        qrepro-venv.json        marker: digest, spec, interpreter, creation time
        qrepro-requirements.txt the requirements file that was installed
    .build-<digest[:20]>-XXXX/  a build in progress (removed when it ends)

A venv is built in a ``.build-*`` sibling and renamed into place only once complete, so a
crashed or failed build never leaves a directory that a later prepare would reuse. uv's
own package cache is kept (rebuilds take seconds); uv reads the host's index settings and
``SSL_CERT_FILE`` from the environment. Execution is LocalRunner's, with the venv's python.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, ClassVar

from harness import cache_root
from harness.errors import BuildError, RunnerUnavailable
from harness.intake.manifest import MANIFEST_NAME, Environment
from harness.models import Finding, finding
from runners.base import AgentCall
from runners.confine import ProcessLimits
from runners.dockerfile import requirements_text
from runners.envspec import BYTECODE, EnvSpec, resolve_spec, spec_digest, spec_from_environment
from runners.local import LocalRunner, tail
from runners.wheelhouse import Target, fetch, stage

MARKER = "qrepro-venv.json"
REQUIREMENTS = "qrepro-requirements.txt"
BUILD_PREFIX = ".build-"
KEY_LENGTH = 20
#: what find_interpreter found, per Python minor: beside the venvs folder, not in it
INTERPRETERS = "interpreters.json"
LOG_LINES = 12
STALE_BUILD_S = 24 * 3600.0
_VERSION_CODE = "import sys; print(sys.version)"
#: uv's words when a file's hash is not the one required (its name follows)
_MISMATCH = re.compile(r"[Hh]ash mismatch for `?([^`\s]+)`?|Failed to extract archive: (\S+)")


def default_cache_dir() -> Path:
    """``$QREPRO_CACHE/venvs``, else ``~/.cache/qrepro/venvs``."""
    return cache_root() / "venvs"


def venv_python(venv: Path) -> Path:
    return venv / "bin" / "python"


def is_complete(venv: Path) -> bool:
    """A published venv: its marker is there and its interpreter still resolves."""
    return (venv / MARKER).is_file() and venv_python(venv).exists()


def _uv_bin() -> str:
    try:
        from uv import find_uv_bin

        return find_uv_bin()
    except (ImportError, FileNotFoundError) as exc:
        raise RunnerUnavailable(
            f"uv is not installed ({exc}): `pip install uv`, or use --runner host"
        ) from exc


def _clean_env() -> dict[str, str]:
    """The environment uv runs in: no Python path settings of the caller's, and uv's own
    cache under qrepro's ($QREPRO_CACHE/uv) unless the user chose one (UV_CACHE_DIR): qrepro
    writes nothing on the host outside its own cache and --out."""
    drop = ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")
    env = {k: v for k, v in os.environ.items() if k not in drop}
    env.setdefault("UV_CACHE_DIR", str(cache_root() / "uv"))
    # uv locks its credentials store at every resolve; where the user keeps none, that
    # store is qrepro's too (a user's own store, and what it holds, is used as it is)
    data = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    if "UV_CREDENTIALS_DIR" not in env and not (data / "uv" / "credentials").is_dir():
        env["UV_CREDENTIALS_DIR"] = str(cache_root() / "uv-credentials")
    return env


def run_uv(
    args: list[str], timeout_s: float, merge: bool = True
) -> subprocess.CompletedProcess[str]:
    """Run uv (stderr into ``.stdout`` when ``merge``). Raises BuildError on a timeout."""
    command = [_uv_bin(), *args]
    stderr = subprocess.STDOUT if merge else subprocess.PIPE
    try:
        return subprocess.run(
            command, env=_clean_env(), stdout=subprocess.PIPE, stderr=stderr,
            text=True, timeout=timeout_s, check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise BuildError(f"`uv {args[0]}` ran past the {timeout_s:g} s build timeout") from exc


def _identity(path: str) -> list[int]:
    st = os.stat(path)  # follows links: the interpreter binary itself
    return [st.st_ino, st.st_size, st.st_mtime_ns]


def _remembered(memo: Path, minor: str) -> tuple[str, str] | None:
    """What an earlier search found, while that very file is still in place (a Python
    upgraded in place has a new mtime, size or inode and is probed again)."""
    try:
        entry = json.loads(memo.read_text(encoding="utf-8"))[minor]
        if _identity(entry["path"]) == entry["identity"]:
            return str(entry["path"]), str(entry["version"])
    except (OSError, ValueError, KeyError, TypeError):
        pass
    return None


def _remember(memo: Path, minor: str, path: str, version: str) -> None:
    try:
        known = json.loads(memo.read_text(encoding="utf-8"))
        known = known if isinstance(known, dict) else {}
    except (OSError, ValueError):
        known = {}
    known[minor] = {"path": path, "version": version, "identity": _identity(path)}
    try:
        memo.parent.mkdir(parents=True, exist_ok=True)
        tmp = memo.with_name(f"{memo.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps(known), encoding="utf-8")
        os.replace(tmp, memo)
    except OSError:  # a read-only cache: search again next time
        pass


def find_interpreter(minor: str, timeout_s: float = 60.0, memo: Path | None = None
                     ) -> tuple[str, str]:
    """(path, ``sys.version``) of a host interpreter for Python ``minor``; with ``memo``
    (a JSON file), remembered between runs (uv's search and the probe cost 0.3 s)."""
    if memo is not None and (hit := _remembered(memo, minor)) is not None:
        return hit
    args = ["python", "find", "--system", "--no-python-downloads", minor]
    found = run_uv(args, timeout_s, merge=False)
    path = found.stdout.strip().splitlines()[-1:] if found.returncode == 0 else []
    if not path:
        raise RunnerUnavailable(
            f"the deposit pins Python {minor}, and no Python {minor} interpreter was found on "
            f"this host (uv: {tail(found.stderr, 3) or 'nothing found'}); install one (e.g. "
            f"`uv python install {minor}`) or use --runner docker"
        )
    try:
        probe = subprocess.run([path[0], "-c", _VERSION_CODE], capture_output=True, text=True,
                               env=_clean_env(), timeout=timeout_s, check=True)
    except (OSError, subprocess.SubprocessError) as exc:
        raise RunnerUnavailable(f"cannot run the Python {minor} interpreter {path[0]}: {exc}"
                                ) from exc
    if memo is not None:
        _remember(memo, minor, path[0], probe.stdout.strip())
    return path[0], probe.stdout.strip()


def require_gpu() -> None:
    """Fail fast (before installing qiskit-aer-gpu) when no NVIDIA GPU answers."""
    smi = shutil.which("nvidia-smi")
    listed = ""
    if smi is not None:
        try:
            listed = subprocess.run([smi, "-L"], capture_output=True, text=True, timeout=30,
                                    check=False).stdout
        except (OSError, subprocess.SubprocessError):
            listed = ""
    if "GPU" not in listed:
        raise RunnerUnavailable(
            "GPU requested but no NVIDIA GPU answers on this host (`nvidia-smi -L` lists "
            "none); evaluate with --device CPU or --device auto"
        )


@dataclass(frozen=True)
class VenvRecord:
    """What prepare() did, for the report."""

    path: str
    digest: str
    base_python: str
    python_version: str
    built: bool
    build_s: float
    log_tail: str = ""


class VenvBuilder:
    """Builds one venv for a spec into a cache directory, atomically."""

    def __init__(self, cache_dir: Path, build_timeout_s: float) -> None:
        self.cache_dir = cache_dir
        self.build_timeout_s = build_timeout_s
        self.log_tail = ""

    def ensure(self, spec: EnvSpec, digest: str, base: str,
               files: Callable[[], dict[str, Path]]) -> bool:
        """Make ``cache_dir/<key>`` a complete venv; True when this call built it.
        ``files`` fetches the wheelhouse (file name -> checked file), only when building."""
        target = self.cache_dir / digest[:KEY_LENGTH]
        if is_complete(target):
            return False
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        self._sweep_stale()
        if target.exists():  # published once, but its base interpreter has gone since
            shutil.rmtree(target)
        build = Path(tempfile.mkdtemp(prefix=f"{BUILD_PREFIX}{target.name}-", dir=self.cache_dir))
        try:
            venv = build / "venv"
            self._install(spec, base, stage(files(), build / "wheelhouse"), venv)
            write_marker(venv, spec, digest, base)
            return self._publish(venv, target)
        finally:
            shutil.rmtree(build, ignore_errors=True)

    def _install(self, spec: EnvSpec, base: str, wheelhouse: Path, venv: Path) -> None:
        self._step("uv venv", ["venv", "--relocatable", "--no-python-downloads",
                               "--python", base, str(venv)])
        requirements = venv / REQUIREMENTS
        requirements.write_text(requirements_text(spec), encoding="utf-8")
        # --no-build: an sdist's setup.py would run on this host with the caller's rights
        # (docker builds run it inside the container build instead)
        # --offline --no-index --find-links --require-hashes: only the files resolved and
        # checked on the host (runners/wheelhouse.py), each checked again by uv
        # --compile-bytecode: the packages' .pyc are written now, once; a notebook's kernel
        # (or a read-only venv under bwrap) would otherwise compile pennylane, scipy and
        # the rest from source at every execution (measured: about 5 s each)
        self._step("uv pip install", ["pip", "install", "--no-build", "--compile-bytecode",
                                      "--offline", "--no-index", "--require-hashes",
                                      "--find-links", str(wheelhouse),
                                      "--python", str(venv_python(venv)),
                                      "-r", str(requirements)])

    def _step(self, what: str, args: list[str]) -> None:
        proc = run_uv(args, self.build_timeout_s)
        self.log_tail = tail(proc.stdout, LOG_LINES)
        if proc.returncode != 0:
            hint = ""
            if "building from source is disabled" in proc.stdout:
                hint = ("; a requirement has no wheel, only a source distribution, whose "
                        "build code qrepro does not run on the host: evaluate with --runner "
                        "docker (it builds inside the container) or vendor a wheel; ")
            mismatch = _MISMATCH.search(proc.stdout)
            if mismatch is not None:
                hint = (f"; {mismatch.group(1) or mismatch.group(2)} in the wheelhouse does "
                        "not have the sha256 the package index gave when the environment was "
                        "resolved (or is damaged); ")
            raise BuildError(
                f"{what} failed (exit {proc.returncode}){hint}: "
                f"{self.log_tail or '(no output)'}",
                file=MANIFEST_NAME,
                field="environment",
            )

    def _publish(self, venv: Path, target: Path) -> bool:
        try:
            venv.rename(target)
        except OSError as exc:  # another process published the same venv first
            if is_complete(target):
                return False
            raise BuildError(f"cannot move the built venv to {target}: {exc}") from exc
        return True

    def _sweep_stale(self) -> None:
        """Remove build directories a killed process left behind (older than a day)."""
        cutoff = time.time() - STALE_BUILD_S
        for path in self.cache_dir.glob(f"{BUILD_PREFIX}*"):
            try:
                if path.stat().st_mtime < cutoff:
                    shutil.rmtree(path, ignore_errors=True)
            except OSError:
                continue


def debian_package_installed(name: str) -> bool:
    """Whether dpkg says ``name`` is installed on this host (False where there is no dpkg)."""
    try:
        proc = subprocess.run(["dpkg-query", "-W", "-f=${Status}", name], capture_output=True,
                              text=True, timeout=30, check=False)
    except (OSError, subprocess.SubprocessError):
        return False
    return proc.returncode == 0 and "install ok installed" in proc.stdout


def write_marker(venv: Path, spec: EnvSpec, digest: str, base: str) -> None:
    marker = {
        "digest": digest,
        "spec": asdict(spec),
        "base_python": base,
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }
    (venv / MARKER).write_text(json.dumps(marker, indent=1), encoding="utf-8")


class VenvRunner(LocalRunner):
    """LocalRunner in a uv venv built (or reused) from the deposit's pinned environment."""

    name: ClassVar[str] = "local"

    def __init__(
        self,
        cache_dir: Path | None = None,
        gpu: bool = False,
        timeout_s: float = 3600.0,
        build_timeout_s: float = 1800.0,
        remarks: tuple[str, ...] = (),
        limits: ProcessLimits | None = None,
    ) -> None:
        super().__init__(timeout_s=timeout_s, remarks=remarks, limits=limits)
        self.cache_dir = cache_dir
        self.gpu = gpu
        self.build_timeout_s = build_timeout_s
        self.record: VenvRecord | None = None
        self.spec: EnvSpec | None = None
        self.system_packages: tuple[str, ...] = ()

    def spec_for(self, environment: Environment, deposit_root: Path) -> EnvSpec:
        return spec_from_environment(environment, deposit_root, self.gpu)

    def prepare(self, environment: Environment, deposit_root: Path, workdir: Path) -> None:
        spec = self.spec_for(environment, deposit_root)
        self.system_packages = spec.system_packages
        if self.gpu:
            require_gpu()
        cache = self.cache_dir or default_cache_dir()
        base, version = find_interpreter(spec.python_minor, memo=cache.parent / INTERPRETERS)
        start = time.perf_counter()
        spec = resolve_spec(spec, Target(python=base), [deposit_root / w for w in
                                                        environment.wheels],
                            run_uv, self.build_timeout_s)
        self.spec = spec
        digest = spec_digest(spec, version, BYTECODE)
        builder = VenvBuilder(cache, self.build_timeout_s)
        built = builder.ensure(spec, digest, base, lambda: fetch(spec.artifacts))
        venv = builder.cache_dir / digest[:KEY_LENGTH]
        self.python = str(venv_python(venv))
        self.record = VenvRecord(
            path=str(venv), digest=digest, base_python=base, python_version=version,
            built=built, build_s=round(time.perf_counter() - start, 3), log_tail=builder.log_tail,
        )

    def stack_index(self) -> dict[str, tuple[str, str]]:
        if self.spec is None:
            return {}
        return {n: (a.filename, a.sha256) for n, a in self.spec.stack_artifacts().items()}

    def invoke_agent(self, deposit_root: Path, workdir: Path) -> AgentCall:
        if self.record is None:
            raise RunnerUnavailable("the local runner has no venv yet: call prepare() first")
        return super().invoke_agent(deposit_root, workdir)

    def findings(self) -> tuple[Finding, ...]:
        if not self.system_packages:
            return super().findings()
        missing = [p for p in self.system_packages if not debian_package_installed(p)]
        state = (f"of these, {', '.join(missing)} are not installed on this host"
                 if missing else "all are present on this host")
        return (finding(
            "system-packages-not-installed", "warning",
            f"runner {self.name} does not install environment.system_packages "
            f"({', '.join(self.system_packages)}): {state}; --runner docker installs them "
            "in the image",
            file=MANIFEST_NAME, field="environment.system_packages",
        ), *super().findings())

    def notes(self) -> tuple[str, ...]:
        if self.record is None:
            return ()
        how = "built" if self.record.built else "reused"
        return (
            "local runner: ran in an isolated virtual environment installed with uv from the "
            f"deposit's pins ({how}: {self.record.path})",
        )

    def details(self) -> dict[str, Any]:
        if self.record is None:
            return super().details()
        r = self.record
        return {
            **super().details(),
            "venv": r.path,
            "venv_built": r.built,
            "venv_digest": r.digest,
            "base_python": r.base_python,
            "base_python_version": r.python_version,
            "prepare_s": r.build_s,
            **({"build_log_tail": r.log_tail} if r.built else {}),
        }
