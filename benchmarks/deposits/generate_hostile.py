"""Generate the hostile test deposits: hostile-escape, hostile-oom, hostile-timeout.

    python benchmarks/deposits/generate_hostile.py [OUTPUT_DIR]     (make deposits)

Each is a small, valid GHZ deposit (one 3-qubit circuit, recorded with generate_ghz's own
procedure) whose ``environment.wheels`` vendors ``wheels/hostile_probe-1.0-py3-none-any.whl``.
The wheel installs a ``.pth`` file, so its code would run whenever the environment's
interpreter starts with its site module; the qrepro agent starts with ``-S`` and never runs
it, and validation reports it as an ``interpreter-start-hook`` finding. What it does is fixed per
deposit (``MODE`` baked into the wheel):

* escape: tries a DNS lookup and a TCP connection to pypi.org:443, writing into the
  deposit, writing outside the output directory (/opt, /etc, /root) and a bounded fork
  bomb; records every attempt in /work/hostile-probe.json, then lets the agent run;
* oom: allocates memory in 64 MiB chunks, touching every page, up to 8 GiB;
* timeout: sleeps forever.

tests/docker/test_hostile.py checks that the hook is reported and never ran. Deterministic:
running it twice gives byte-identical deposits (fixed zip timestamps and modes, sorted
entries).
"""

from __future__ import annotations

import base64
import hashlib
import io
import shutil
import sys
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from benchmarks.deposits import generate_ghz as ghz  # noqa: E402

MODES = ("escape", "oom", "timeout")
WHEEL_NAME = "hostile_probe-1.0-py3-none-any.whl"
WHEEL_PATH = f"wheels/{WHEEL_NAME}"
PROBE_FILE = "hostile-probe.json"
DIST_INFO = "hostile_probe-1.0.dist-info"
#: the timestamp of every wheel member (the earliest a zip can hold)
ZIP_DATE = (1980, 1, 1, 0, 0, 0)
DOI = {"escape": "10.5281/zenodo.7000901", "oom": "10.5281/zenodo.7000902",
       "timeout": "10.5281/zenodo.7000903"}

PROBE = '''"""hostile_probe: a deliberately hostile package (qrepro sandbox test, mode @MODE@).

Runs at interpreter start-up through hostile_probe.pth, and only inside a qrepro
sandbox (a container with the deposit at /deposit and the job at /work/job.json).
"""

import json
import os
import signal
import socket
import time

MODE = "@MODE@"
OUT = "/work/hostile-probe.json"
MAX_FORKS = 1000
CHUNK = 64 * 1024 * 1024
MAX_BYTES = 8 * 1024 * 1024 * 1024
PYPI_IP = "151.101.0.223"  # a pypi.org address, used when the name does not resolve
_DONE = "HOSTILE_PROBE_DONE"


def _in_sandbox():
    return (os.path.exists("/.dockerenv") and os.path.isfile("/deposit/qdata.yaml")
            and os.path.isfile("/work/job.json"))


def _attempt(action):
    try:
        detail = action()
    except Exception as exc:  # every failure is an observation
        return {"blocked": True, "error": f"{type(exc).__name__}: {exc}"}
    return {"blocked": False, "error": None, "detail": detail}


def _dns():
    infos = socket.getaddrinfo("pypi.org", 443, type=socket.SOCK_STREAM)
    return sorted({info[4][0] for info in infos})


def _tcp(host):
    def connect():
        with socket.create_connection((host, 443), timeout=5) as sock:
            return f"connected to {sock.getpeername()}"
    return connect


def _write(path):
    def write():
        with open(path, "w") as fh:
            fh.write("pwned\\n")
        return f"wrote {path}"
    return write


def _fork_bomb():
    children, error = [], None
    for _ in range(MAX_FORKS):
        try:
            pid = os.fork()
        except OSError as exc:
            error = f"{type(exc).__name__}: {exc}"
            break
        if pid == 0:  # child: wait to be killed, never run anything else
            try:
                time.sleep(600)
            finally:
                os._exit(0)
        children.append(pid)
    for pid in children:
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
    for pid in children:
        try:
            os.waitpid(pid, 0)
        except OSError:
            pass
    return {"blocked": error is not None, "forked": len(children), "max": MAX_FORKS,
            "error": error}


def escape():
    seen = {"uid": os.getuid(), "gid": os.getgid()}
    dns = _attempt(_dns)
    seen["network_dns"] = dns
    host = dns["detail"][0] if not dns["blocked"] and dns["detail"] else PYPI_IP
    seen["network_tcp"] = {"host": host, **_attempt(_tcp(host))}
    seen["deposit_write"] = {"path": "/deposit/pwned.txt",
                             **_attempt(_write("/deposit/pwned.txt"))}
    seen["outside_writes"] = [{"path": p, **_attempt(_write(p))}
                              for p in ("/opt/pwned.txt", "/etc/pwned.txt", "/root/pwned.txt")]
    seen["fork_bomb"] = _fork_bomb()
    with open(OUT, "w") as fh:
        json.dump(seen, fh, indent=1, sort_keys=True)


def oom():
    held = []
    while len(held) * CHUNK < MAX_BYTES:
        held.append(b"\\xa5" * CHUNK)  # every page written


def timeout():
    while True:
        time.sleep(3600)


def run():
    if os.environ.get(_DONE) or not _in_sandbox():
        return
    os.environ[_DONE] = "1"  # once per process tree
    {"escape": escape, "oom": oom, "timeout": timeout}[MODE]()
'''

PTH = "import hostile_probe; hostile_probe.run()\n"
METADATA = """Metadata-Version: 2.1
Name: hostile-probe
Version: 1.0
Summary: Deliberately hostile package for qrepro's sandbox tests (mode {mode})
License: CC0-1.0
"""
WHEEL = """Wheel-Version: 1.0
Generator: qrepro generate_hostile.py
Root-Is-Purelib: true
Tag: py3-none-any
"""


def _record_hash(data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"sha256={digest}"


def wheel_bytes(mode: str) -> bytes:
    """A valid wheel holding the probe for ``mode``: byte-identical for the same mode."""
    members = {
        "hostile_probe/__init__.py": PROBE.replace("@MODE@", mode).encode(),
        "hostile_probe.pth": PTH.encode(),
        f"{DIST_INFO}/METADATA": METADATA.format(mode=mode).encode(),
        f"{DIST_INFO}/WHEEL": WHEEL.encode(),
    }
    record = "".join(f"{name},{_record_hash(data)},{len(data)}\n"
                     for name, data in sorted(members.items()))
    members[f"{DIST_INFO}/RECORD"] = (record + f"{DIST_INFO}/RECORD,,\n").encode()
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as whl:
        for name, data in sorted(members.items()):
            info = zipfile.ZipInfo(name, date_time=ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            info.create_system = 3
            whl.writestr(info, data)
    return buf.getvalue()


@contextmanager
def _only_ghz3() -> Iterator[None]:
    """Make generate_ghz record the 3-qubit circuit only."""
    sizes = ghz.SIZES
    ghz.SIZES = range(3, 4)
    try:
        yield
    finally:
        ghz.SIZES = sizes


def _claims(fidelities: dict[str, float]) -> list[dict[str, Any]]:
    """generate_ghz's claims for the recorded circuits (it always adds one on ghz_5)."""
    padded = {**fidelities, "ghz_5": 0.0}
    return [c for c in ghz.claims(padded) if c["source"]["circuit"] in fidelities]


def _manifest(mode: str, circuits: list[dict[str, Any]], claim_list: list[dict[str, Any]],
              dest: Path) -> dict[str, Any]:
    m = ghz.manifest(circuits, claim_list, ghz.inventory(dest))
    m["identity"] = {**m["identity"], "identifier": {"scheme": "doi", "value": DOI[mode]},
                     "title": f"Hostile deposit ({mode}): a 3-qubit GHZ state whose "
                              "vendored wheel attacks the sandbox"}
    m["provenance"]["lineage"] = [
        {"description": "generated by benchmarks/deposits/generate_hostile.py"}]
    m["environment"]["wheels"] = [WHEEL_PATH]
    return m


def write_hostile(dest: Path, mode: str) -> None:
    shutil.rmtree(dest, ignore_errors=True)
    dest.mkdir(parents=True)
    (dest / "README.md").write_text(README[mode], encoding="utf-8")
    (dest / "wheels").mkdir()
    (dest / WHEEL_PATH).write_bytes(wheel_bytes(mode))
    with _only_ghz3():
        circuits, fidelities = ghz.record(dest)
    manifest = _manifest(mode, circuits, _claims(fidelities), dest)
    text = yaml.safe_dump(manifest, sort_keys=False)
    (dest / "qdata.yaml").write_text(text, encoding="utf-8")


def main(out: Path) -> None:
    for mode in MODES:
        write_hostile(out / f"hostile-{mode}", mode)
    print("wrote " + ", ".join(str(out / f"hostile-{mode}") for mode in MODES))


_HEADER = """# Hostile deposit: {mode} (qrepro sandbox test)

**This deposit is hostile on purpose.** Do not install its wheel outside a sandbox.

It is a small valid GHZ deposit (one 3-qubit circuit under depolarizing + readout noise,
4000 shots, recorded counts and claims) whose `environment.wheels` vendors
`wheels/hostile_probe-1.0-py3-none-any.whl`. The wheel installs `hostile_probe.pth`, so its
code runs at interpreter start-up inside the container, when the qrepro agent starts (it
acts only when it finds /.dockerenv, /deposit/qdata.yaml and /work/job.json).

"""
README = {
    "escape": _HEADER.format(mode="escape") + """It tries, and records in /work/hostile-probe.json:
a DNS lookup of pypi.org and a TCP connection to port 443; writing /deposit/pwned.txt;
writing /opt/pwned.txt, /etc/pwned.txt and /root/pwned.txt; a fork bomb bounded at 1000
sleeping children (stopped at the first failure, then all killed and reaped). Then it
returns and the agent runs normally. Expected: every attempt blocked, the evaluation
complete.
""",
    "oom": _HEADER.format(mode="oom") + """It allocates memory in 64 MiB chunks, writing every
page, up to 8 GiB. Expected: the container is killed at the memory limit and the
evaluation ends with an error saying so.
""",
    "timeout": _HEADER.format(mode="timeout") + """It sleeps forever. Expected: the container
is killed at the wall-clock timeout and the evaluation ends with an error saying so.
""",
}


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parent)
