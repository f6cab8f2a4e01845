"""The deposit's environment resolved on the host with the index's hashes, and fetched.

Nothing here runs code of a package: ``resolve`` asks ``uv pip compile`` for a PEP 751 lock
(``--format pylock.toml``: every artifact with its URL and the index's sha256) for the target
Python and platform; ``fetch`` downloads each artifact into a content-addressed cache and
checks its sha256 before anything uses it. Builds then install from that local set with
``--require-hashes --no-index`` (runners/dockerfile.py, runners/venv.py), without a network.

* The replay stack (harness/intake/replay_stack.py) must come from the package index: a
  stack distribution resolved to one of the deposit's vendored wheels is refused.
* A distribution with no wheel for the target (an sdist only) is refused with a message:
  resolving it would run its build code on the host (uv builds an sdist to learn its
  metadata), and building it would run that code again; the deposit can vendor a wheel.

Cache layout, under ``$QREPRO_CACHE/wheelhouse``: ``<sha256[:2]>/<sha256>/<file name>``.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import ssl
import tempfile
import tomllib
import urllib.parse
import urllib.request
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness import cache_root
from harness.errors import BuildError
from harness.intake.manifest import MANIFEST_NAME
from harness.intake.replay_stack import STACK

ENV_FIELD = {"file": MANIFEST_NAME, "field": "environment"}
#: the glibc of the Docker base images qrepro makes or finds (Debian bookworm); wheels for a
#: newer glibc would not run there
DOCKER_GLIBC = "2_36"
DOWNLOAD_WORKERS = 4
_CHUNK = 1 << 20


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


@dataclass(frozen=True)
class Artifact:
    """One file of the resolved set."""

    name: str
    version: str
    filename: str
    url: str
    sha256: str

    def requirement(self) -> str:
        return f"{self.name}=={self.version} --hash=sha256:{self.sha256}"


@dataclass(frozen=True)
class Target:
    """What the lock is resolved for: an interpreter (local) or a Python and platform
    (docker)."""

    python: str | None = None
    python_version: str | None = None
    platform: str | None = None

    def args(self) -> list[str]:
        if self.python is not None:
            return ["--python", self.python]
        return ["--python-version", str(self.python_version),
                "--python-platform", str(self.platform)]


def docker_target(python_minor: str) -> Target:
    arch = os.uname().machine
    return Target(python_version=python_minor, platform=f"{arch}-manylinux_{DOCKER_GLIBC}")


def hashed_requirements(artifacts: Iterable[Artifact]) -> str:
    """The requirements file a build installs from: one pinned, hashed line per artifact."""
    return "".join(f"{a.requirement()}\n" for a in artifacts)


def parse_pylock(text: str, vendored: dict[Path, Path]) -> list[Artifact]:
    """Artifacts of a pylock.toml uv wrote: per package its one wheel, else its sdist.
    ``vendored``: the resolver's copy of a vendored wheel -> the deposit's file."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise BuildError(f"uv wrote an unreadable lock: {exc}", **ENV_FIELD) from exc
    out = []
    for package in data.get("packages", []):
        name, version = canonical(str(package["name"])), str(package.get("version", ""))
        wheels: list[dict[str, Any]] = package.get("wheels") or []
        chosen = wheels[0] if wheels else package.get("sdist")
        if chosen is None or "url" not in chosen or not version:
            raise BuildError(
                f"{name} resolved to neither an index wheel nor an sdist ({sorted(package)}): "
                "only artifacts of the package index (or vendored wheels) are installed",
                **ENV_FIELD)
        sha = str(chosen.get("hashes", {}).get("sha256", ""))
        if not re.fullmatch(r"[0-9a-f]{64}", sha):
            raise BuildError(f"the index gave no sha256 for {name} {version}", **ENV_FIELD)
        url = str(chosen["url"])
        filename = urllib.parse.unquote(urllib.parse.urlsplit(url).path.rsplit("/", 1)[-1])
        deposit_file = vendored.get(_local_path(url)) if url.startswith("file:") else None
        if deposit_file is not None:
            if name in STACK:
                raise BuildError(
                    f"{name} (replay stack) resolved to the vendored wheel {filename}: the "
                    "stack is installed from the package index only", **ENV_FIELD)
            url = deposit_file.as_uri()  # the deposit's own file, hashed as it is now
        out.append(Artifact(name, version, filename, url, sha))
    return out


_SDIST_ONLY = re.compile(r"Wheels are required for `([^`]+)` because building from source "
                         r"is disabled")
_HASH = re.compile(r"--hash[= ]sha256:([0-9a-f]{64})")


def _logical_lines(lines: Iterable[str]) -> list[str]:
    """Requirement lines without comments, continuation lines joined."""
    out: list[str] = []
    pending = ""
    for raw in lines:
        line = raw.split(" #", 1)[0].strip() if not raw.lstrip().startswith("#") else ""
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        line = (pending + line).strip()
        pending = ""
        if line:
            out.append(line)
    if pending.strip():
        out.append(pending.strip())
    return out


def _local_path(url: str) -> Path:
    return Path(urllib.parse.unquote(urllib.parse.urlsplit(url).path))


def _compile(run: Any, lines: list[str], target: Target, find_links: Path | None,
             timeout_s: float) -> str:
    with tempfile.TemporaryDirectory(prefix="qrepro-lock-") as tmp:
        source = Path(tmp) / "requirements.in"
        source.write_text("".join(f"{line}\n" for line in lines), encoding="utf-8")
        args = ["pip", "compile", "--quiet", "--format", "pylock.toml", "--no-header", "--no-build",
                *target.args(), *(["--find-links", str(find_links)] if find_links else []),
                str(source)]
        proc = run(args, timeout_s, merge=False)
    if proc.returncode != 0:
        sdist = _SDIST_ONLY.search(proc.stderr)
        if sdist is not None:
            where = " ".join(target.args())
            raise BuildError(
                f"{sdist.group(1)} has no wheel for this Python and platform ({where}), only "
                "a source distribution: qrepro resolves and "
                "fetches the environment on the host without running any package's build "
                "code, and installs it with no network, so a source distribution is not "
                "installed (its metadata would come from running its build code); vendor a "
                "wheel built from it (environment.wheels)", **ENV_FIELD)
        last = " | ".join(proc.stderr.strip().splitlines()[-6:])
        raise BuildError(f"resolving the environment on the host failed (uv pip compile, "
                         f"exit {proc.returncode}): {last or '(no output)'}", **ENV_FIELD)
    return str(proc.stdout)


#: stands for the vendored wheels' folder (a new temporary one each time) in a kept lock
_VENDORED = "@QREPRO_VENDORED@"


def _resolved(run: Any, lines: list[str], target: Target, find_links: Path | None,
              timeout_s: float, wheels: list[Path]) -> str:
    """uv's lock for ``lines``, kept under qrepro's cache; when the index cannot be asked
    (offline, or down), the lock an earlier resolve of the very same input gave, so an
    environment already built and cached still evaluates without a network."""
    key = hashlib.sha256(repr((lines, target.args(), sorted(sha256_file(w) for w in wheels)))
                         .encode()).hexdigest()
    kept = cache_root() / "resolutions" / f"{key}.toml"
    folder = str(find_links) if find_links else None
    try:
        text = _compile(run, lines, target, find_links, timeout_s)
    except BuildError:
        if not kept.is_file():
            raise
        text = kept.read_text(encoding="utf-8")
        return text.replace(_VENDORED, folder) if folder else text
    try:
        kept.parent.mkdir(parents=True, exist_ok=True)
        kept.write_text(text.replace(folder, _VENDORED) if folder else text, encoding="utf-8")
    except OSError:  # a read-only cache keeps nothing
        pass
    return text


def resolve(run: Any, requirements: Iterable[str], wheels: list[Path], target: Target,
            timeout_s: float) -> tuple[Artifact, ...]:
    """The environment's artifacts, with the index's hashes, for ``target``.

    ``run`` is runners.venv.run_uv; ``wheels`` are the deposit's vendored wheels (offered to
    the resolver as a find-links folder and required by name and version).
    """
    lines = _logical_lines(requirements)
    pinned_hashes = {canonical(re.split(r"[=<>!~\[; ]", line, maxsplit=1)[0]):
                     set(_HASH.findall(line)) for line in lines if _HASH.search(line)}
    with tempfile.TemporaryDirectory(prefix="qrepro-vendored-") as tmp:
        folder = Path(tmp)
        vendored = {}
        for wheel in wheels:
            shutil.copyfile(wheel, folder / wheel.name)
            vendored[folder / wheel.name] = wheel.resolve()
            name, version = wheel.name.split("-")[:2]
            lines.append(f"{canonical(name)}=={version}")
        text = _resolved(run, lines, target, folder if wheels else None, timeout_s,
                         [vendored[w] for w in sorted(vendored)])
        artifacts = parse_pylock(text, vendored)
    for artifact in artifacts:
        allowed = pinned_hashes.get(artifact.name)
        if allowed and artifact.sha256 not in allowed:
            raise BuildError(
                f"{artifact.filename}: the package index serves sha256 {artifact.sha256}, "
                f"which is none of the hashes the deposit's lock file gives for "
                f"{artifact.name}", **ENV_FIELD)
    return tuple(artifacts)


def cache_dir() -> Path:
    return cache_root() / "wheelhouse"


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(_CHUNK):
            h.update(chunk)
    return h.hexdigest()


def check(path: Path, artifact: Artifact) -> None:
    """BuildError naming the file when its bytes are not the ones the index hashed."""
    got = sha256_file(path)
    if got != artifact.sha256:
        raise BuildError(
            f"{artifact.filename} has sha256 {got}, the package index says {artifact.sha256}: "
            f"not installed ({path})", **ENV_FIELD)


def _ssl_context() -> ssl.SSLContext:
    cafile = os.environ.get("SSL_CERT_FILE")
    return ssl.create_default_context(cafile=cafile if cafile and Path(cafile).is_file()
                                      else None)


def fetch_one(artifact: Artifact, root: Path, timeout_s: float = 300.0) -> Path:
    """The artifact's file in the cache, downloaded if needed, its sha256 checked."""
    final = root / artifact.sha256[:2] / artifact.sha256 / artifact.filename
    if final.is_file():
        check(final, artifact)
        return final
    final.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=final.parent, prefix=".part-")
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out:
            if artifact.url.startswith("file:"):
                with _local_path(artifact.url).open("rb") as src:
                    shutil.copyfileobj(src, out, _CHUNK)
            else:
                request = urllib.request.Request(artifact.url, headers={"User-Agent": "qrepro"})
                with urllib.request.urlopen(request, timeout=timeout_s,
                                            context=_ssl_context()) as src:
                    shutil.copyfileobj(src, out, _CHUNK)
        check(tmp, artifact)
        os.replace(tmp, final)
    except OSError as exc:
        raise BuildError(f"cannot download {artifact.filename} ({artifact.url}): {exc}",
                         **ENV_FIELD) from exc
    finally:
        tmp.unlink(missing_ok=True)
    return final


def fetch(artifacts: Iterable[Artifact], root: Path | None = None) -> dict[str, Path]:
    """file name -> its checked file in the cache, for every artifact."""
    root = root or cache_dir()
    items = list(artifacts)
    with ThreadPoolExecutor(DOWNLOAD_WORKERS) as pool:
        paths = list(pool.map(lambda a: fetch_one(a, root), items))
    return {a.filename: p for a, p in zip(items, paths, strict=True)}


def stage(files: dict[str, Path], folder: Path) -> Path:
    """A find-links folder holding exactly ``files`` (hard links where possible)."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, path in files.items():
        dest = folder / name
        try:
            os.link(path, dest)
        except OSError:
            shutil.copyfile(path, dest)
    return folder
