"""Build a Debian base image locally, for hosts that reach no container registry.

    qrepro base-image bootstrap [--tag qrepro-base:bookworm] [--mirror URL]

debootstrap (minbase + python3, venv, pip, CA certificates) into a temporary directory,
then import that tree as an image through the docker SDK. An image already carrying the
tag is reused unless ``force``. Debian bookworm's python3 is 3.11.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tarfile
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from harness.errors import BuildError, RunnerUnavailable
from runners.locks import named_lock

DEFAULT_TAG = "qrepro-base:bookworm"
SUITE = "bookworm"
BASE_REPO = "qrepro-base"
PYTHON_LABEL = "org.qrepro.python"
#: Debian suite -> its python3 minor version (what a bootstrapped base image carries)
SUITE_PYTHON = {"bullseye": "3.9", "bookworm": "3.11", "trixie": "3.13"}
PACKAGES = ("python3", "python3-venv", "python3-pip", "ca-certificates")
FALLBACK_MIRROR = "http://deb.debian.org/debian"
SOURCES = (Path("/etc/apt/sources.list.d/debian.sources"), Path("/etc/apt/sources.list"))


def host_mirror(sources: tuple[Path, ...] = SOURCES) -> str:
    """The Debian mirror this host's apt uses (deb822 or one-line format)."""
    for path in sources:
        if not path.is_file():
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        match = re.search(r"^URIs:\s*(\S+)", text, re.MULTILINE) or re.search(
            r"^deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+\S+", text, re.MULTILINE
        )
        if match:
            return match.group(1)
    return FALLBACK_MIRROR


def _debootstrap(root: Path, mirror: str, suite: str = SUITE) -> None:
    if shutil.which("debootstrap") is None:
        raise RunnerUnavailable("debootstrap is not installed (apt-get install -y debootstrap)")
    command = [
        "debootstrap",
        "--variant=minbase",
        f"--include={','.join(PACKAGES)}",
        suite,
        str(root),
        mirror,
    ]
    proc = subprocess.run(command, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        last = " | ".join((proc.stdout + proc.stderr).strip().splitlines()[-10:])
        raise BuildError(f"debootstrap failed (status {proc.returncode}): {last}")


def bootstrap(
    client: Any, tag: str = DEFAULT_TAG, mirror: str | None = None, force: bool = False
) -> tuple[str, bool]:
    """(image id, built?) of a local Debian base image tagged ``tag``."""
    import docker

    try:
        if not force:
            return str(client.images.get(tag).id), False
    except docker.errors.ImageNotFound:
        pass
    repository, _, version = tag.partition(":")
    suite = version if version in SUITE_PYTHON else SUITE
    with tempfile.TemporaryDirectory(prefix="qrepro-rootfs-") as tmp:
        root = Path(tmp) / "root"
        _debootstrap(root, mirror or host_mirror(), suite)
        archive = Path(tmp) / "rootfs.tar"
        with tarfile.open(archive, "w") as tar:
            tar.add(root, arcname=".")
        client.api.import_image(
            src=str(archive),
            repository=repository,
            tag=version or "latest",
            changes=[
                "ENV LANG=C.UTF-8",
                f"LABEL {PYTHON_LABEL}={SUITE_PYTHON[suite]}",
                'CMD ["/bin/bash"]',
            ],
        )
    return str(client.images.get(tag).id), True


def image_python(image: Any) -> str | None:
    """The Python minor version a local base image carries, when it says or its tag tells."""
    labels = (image.attrs.get("Config") or {}).get("Labels") or {}
    if labels.get(PYTHON_LABEL):
        return str(labels[PYTHON_LABEL])
    for tag in image.tags:
        repository, _, version = tag.partition(":")
        if repository == "python":
            match = re.match(r"(\d+\.\d+)", version)
            return match.group(1) if match else None
        if repository == BASE_REPO and version in SUITE_PYTHON:
            return SUITE_PYTHON[version]
    return None


def local_base_for(client: Any, minor: str) -> str | None:
    """A local image with Python ``minor``: the official slim one first, then ours."""
    candidates: list[tuple[int, str]] = []
    for image in client.images.list():
        if image_python(image) != minor:
            continue
        for tag in image.tags:
            rank = 0 if tag == f"python:{minor}-slim" else (1 if tag.startswith("python:") else 2)
            candidates.append((rank, tag))
    return min(candidates)[1] if candidates else None


def suite_for(minor: str) -> str | None:
    return next((suite for suite, v in SUITE_PYTHON.items() if v == minor), None)


def can_bootstrap() -> bool:
    return shutil.which("debootstrap") is not None


def bootstrap_command(minor: str) -> str:
    suite = suite_for(minor) or SUITE
    return f"qrepro base-image bootstrap --tag {BASE_REPO}:{suite}"


def resolve_base(
    client: Any, minor: str, progress: Callable[[str], None]
) -> tuple[str, str]:
    """(base image, why) for a deposit pinning Python ``minor``, with no user setting.

    The official ``python:<minor>-slim`` when it is here or can be pulled; else a local image
    with that Python (a ``qrepro-base:*`` made by ``bootstrap``); else one bootstrapped now
    from Debian (progress on stderr); else RunnerUnavailable naming the command to run."""
    import docker

    official = f"python:{minor}-slim"
    found = local_base_for(client, minor)
    if found == official:
        return official, f"{official} is present locally"
    try:
        client.images.pull("python", tag=f"{minor}-slim")
        return official, f"{official} was pulled from the registry"
    except docker.errors.APIError as exc:
        unreachable = f"{official} cannot be pulled here ({_first_line(exc)})"
    if found is not None:
        return found, f"{unreachable}; used the local {found}, which has Python {minor}"
    suite = suite_for(minor)
    if suite is None:
        raise RunnerUnavailable(
            f"{unreachable}, and no local image has Python {minor}: name one with --base-image"
        )
    if not can_bootstrap():
        raise RunnerUnavailable(
            f"{unreachable}, and no local image has Python {minor}: install debootstrap "
            f"(apt-get install -y debootstrap) and run `{bootstrap_command(minor)}`, or name "
            "an image with --base-image"
        )
    tag = f"{BASE_REPO}:{suite}"
    with named_lock(f"base-{tag}"):  # a parallel evaluation may be making it right now
        if local_base_for(client, minor) is None:
            progress(f"qrepro: {unreachable}; bootstrapping {tag} from Debian {suite} "
                     "(once, about a minute)...")
            bootstrap(client, tag)
            progress(f"qrepro: base image {tag} ready")
    return tag, f"{unreachable}; bootstrapped {tag} from Debian {suite} (Python {minor})"


def _first_line(exc: Exception) -> str:
    text = str(getattr(exc, "explanation", None) or exc)
    return text.strip().splitlines()[0][:200] if text.strip() else exc.__class__.__name__
