"""Small deposits for the batch tests (GHZ-3, evaluated in seconds with --runner host) and the
helpers that run ``qrepro batch`` as a child process and look at what it left."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from tests.conftest import BASE_FILES, base_manifest, build_deposit

ROOT = Path(__file__).resolve().parents[2]
#: what Aer 0.18 gives for GHZ-3 with the conftest noise model, seed_simulator 11 and 1000
#: shots: recorded as such, the replay matches exactly and Reusable is granted
REPLAYED = {"000": 471, "001": 24, "010": 5, "011": 5, "100": 5, "101": 6, "110": 22,
            "111": 462}
BADGES = ("available", "functional", "reusable", "reproduced")
#: the four small submissions and what each must get: (state, badges awarded)
EXPECTED: dict[str, tuple[str, tuple[str, ...]]] = {
    "honest": ("done", BADGES),
    "invalid": ("error", ()),
    "overclaimed": ("done", ("available", "functional", "reusable")),
    "tampered": ("done", ("functional",)),
}
#: evaluate with the harness's own Python: seconds per deposit, no container engine needed
HOST = ("--runner", "host")


def files() -> dict[str, str | bytes]:
    return {**BASE_FILES, "results/ghz3.json": json.dumps(REPLAYED)}


def honest(root: Path, title: str = "test deposit") -> Path:
    manifest = base_manifest()
    manifest["identity"]["title"] = title
    return build_deposit(root, manifest, files())


def tampered(root: Path) -> Path:
    """Honest, then a data file edited after the inventory was written."""
    build_deposit(root, base_manifest(), files())
    (root / "results" / "ghz3.json").write_text(
        json.dumps({**REPLAYED, "000": REPLAYED["000"] + 24, "001": 0}))
    return root


def invalid(root: Path) -> Path:
    """A manifest the schema rejects (a license that is not a string, shots not a number)."""
    manifest = base_manifest()
    manifest["license"]["spdx"] = 12345
    manifest["circuits"][0]["shots"] = "many"
    return build_deposit(root, manifest, files())


def overclaimed(root: Path) -> Path:
    """Honest data, a fidelity claim the data do not support."""
    manifest = base_manifest()
    manifest["claims"][0]["value"] = 0.999
    manifest["claims"][0]["tolerance"]["value"] = 0.001
    return build_deposit(root, manifest, files())


MAKERS: dict[str, Callable[[Path], Path]] = {
    "honest": honest, "invalid": invalid, "overclaimed": overclaimed, "tampered": tampered}


def four(root: Path) -> Path:
    """A folder with the four submissions of :data:`EXPECTED`."""
    for name, make in MAKERS.items():
        make(root / name)
    return root


def batch_command(*args: str | os.PathLike[str]) -> list[str]:
    return [sys.executable, "-m", "harness", "batch", *map(str, args)]


def env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1"}


def run_batch(*args: str | os.PathLike[str], cwd: Path | None = None, timeout: float = 300.0
              ) -> subprocess.CompletedProcess[str]:
    """``python -m harness batch ARGS`` to its end."""
    return subprocess.run(batch_command(*args), cwd=cwd, env=env(), capture_output=True,
                          text=True, timeout=timeout, stdin=subprocess.DEVNULL)


def ledger_rows(out: Path) -> list[dict[str, Any]]:
    """Every attempt in ``out``'s ledger, read with sqlite3 (not through the code under
    test), oldest first."""
    db = sqlite3.connect(f"file:{out / 'ledger.sqlite'}?mode=ro", uri=True, timeout=30)
    try:
        db.row_factory = sqlite3.Row
        return [dict(r) for r in db.execute("SELECT * FROM evaluations ORDER BY id")]
    finally:
        db.close()


def ledger_rows_now(out: Path) -> list[dict[str, Any]]:
    """:func:`ledger_rows` while a batch may still be creating its ledger: [] until the
    database and its table exist."""
    if not (out / "ledger.sqlite").exists():
        return []
    try:
        return ledger_rows(out)
    except sqlite3.OperationalError:  # created, not migrated yet
        return []


def summary(out: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    return data


def outcomes(out: Path) -> dict[str, tuple[str, tuple[str, ...]]]:
    """submission -> (status, badges awarded), from summary.json."""
    return {s["submission"]: (s["status"], tuple(s["awarded"]))
            for s in summary(out)["submissions"]}


def processes_in(path: Path, exclude: Sequence[int] = ()) -> list[str]:
    """Live (not zombie) processes whose command line or working directory mentions
    ``path`` (absolute, or relative to the process's working directory): ``pid: cmdline``
    each."""
    needle = str(path.resolve())
    found = []
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit() or int(entry.name) in (os.getpid(), *exclude):
            continue
        try:
            stat = Path(f"/proc/{entry.name}/stat").read_text()
            if stat.rpartition(")")[2].split()[:1] == ["Z"]:
                continue
            cmdline = Path(f"/proc/{entry.name}/cmdline").read_bytes().replace(b"\0", b" ")
            try:
                cwd = os.readlink(f"/proc/{entry.name}/cwd")
            except OSError:
                cwd = ""
        except OSError:
            continue
        text = cmdline.decode(errors="replace")
        relative = needle[len(cwd) + 1:] if cwd and needle.startswith(cwd + "/") else None
        if needle in text or (relative and relative in text) or cwd == needle \
                or cwd.startswith(needle + "/"):
            found.append(f"{entry.name}: {text.strip()}")
    return found
