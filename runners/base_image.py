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
from pathlib import Path
from typing import Any

from harness.errors import BuildError, RunnerUnavailable

DEFAULT_TAG = "qrepro-base:bookworm"
SUITE = "bookworm"
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


def _debootstrap(root: Path, mirror: str) -> None:
    if shutil.which("debootstrap") is None:
        raise RunnerUnavailable("debootstrap is not installed (apt-get install -y debootstrap)")
    command = [
        "debootstrap",
        "--variant=minbase",
        f"--include={','.join(PACKAGES)}",
        SUITE,
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
    with tempfile.TemporaryDirectory(prefix="qrepro-rootfs-") as tmp:
        root = Path(tmp) / "root"
        _debootstrap(root, mirror or host_mirror())
        archive = Path(tmp) / "rootfs.tar"
        with tarfile.open(archive, "w") as tar:
            tar.add(root, arcname=".")
        client.api.import_image(
            src=str(archive),
            repository=repository,
            tag=version or "latest",
            changes=["ENV LANG=C.UTF-8", 'CMD ["/bin/bash"]'],
        )
    return str(client.images.get(tag).id), True
