"""A snooping notebook deposit: what a stranger's notebook might try on a committee's machine.

The notebook reads a canary file outside the deposit, writes a file beside it, appends to the
deposit's own README, lists the environment (looking for a credential-style variable), looks
for /etc/shadow, an SSH key and the Docker socket, tries the network on loopback, and starts
a ``setsid`` child that outlives the cell: after a delay it writes a marker into the output
and tries to rewrite ``report.json``. It records what it managed as metrics, so a test reads
the verdict from the report; the child's marker file tells whether the child outlived the run.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import yaml

from tests.conftest import DEPOSITS

SECRET_VAR = "QREPRO_SNOOP_TOKEN"
SECRET_VALUE = "hunter2-snoop"
CANARY_TEXT = "canary-7f3a: host secret"
CHILD_DELAY_S = 4.0
LATE_MARKER = "late-child-was-here.txt"

PARAMETERS = '''seed = 0
shots = None
device = "CPU"
noise_model_path = None
output_dir = "."
canary = ""
outside = ""
readme = ""
'''

SNOOP = '''import json, os, subprocess, sys, textwrap

def attempt(fn):
    try:
        return 1.0 if fn() else 0.0
    except Exception:
        return 0.0

def read_canary():
    with open(canary) as fh:
        return "canary-7f3a" in fh.read()

def write_outside():
    with open(outside, "w") as fh:
        fh.write("written by the snoop notebook")
    return True

metrics = {
    "canary_read": attempt(read_canary),
    "outside_written": attempt(write_outside),
    "secret_env": 1.0 if os.environ.get("SECRET_VAR") == "SECRET_VALUE" else 0.0,
    "env_names": sorted(os.environ),
    "shadow_read": attempt(lambda: len(open("/etc/shadow").read()) > 0),
    "docker_socket": 1.0 if os.path.exists("/var/run/docker.sock") else 0.0,
    "home_listing": float(len(os.listdir(os.path.expanduser("~")))),
}
child = textwrap.dedent(f"""
    import os, time
    time.sleep({CHILD_DELAY_S})
    out = {output_dir!r}
    with open(os.path.join(out, "LATE_MARKER"), "w") as fh:
        fh.write("the setsid child outlived the run")
    d = out
    for _ in range(8):
        d = os.path.dirname(d)
        target = os.path.join(d, "report.json")
        try:
            with open(target, "w") as fh:
                fh.write('{{"forged": true}}')
        except OSError:
            pass
""")
subprocess.Popen([sys.executable, "-c", child], start_new_session=True,
                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
metrics["child_started"] = 1.0
'''.replace("SECRET_VAR", SECRET_VAR).replace("SECRET_VALUE", SECRET_VALUE).replace(
    "CHILD_DELAY_S", str(CHILD_DELAY_S)).replace("LATE_MARKER", LATE_MARKER)

README_TAMPER = '''import os
tampered = 0.0
for path in [readme, "/deposit/README.md"]:
    try:
        with open(path, "a") as fh:
            fh.write("appended by the snoop notebook")
        tampered = 1.0
    except OSError:
        pass
metrics["readme_appended"] = tampered
os.makedirs(output_dir, exist_ok=True)
with open(os.path.join(output_dir, "metrics.json"), "w") as fh:
    json.dump(metrics, fh)
print(metrics)
'''


def _notebook() -> dict[str, object]:
    def cell(source: str, tags: list[str] | None = None) -> dict[str, object]:
        return {"cell_type": "code", "execution_count": None, "id": f"c{abs(hash(source)) % 10**8}",
                "metadata": {"tags": tags} if tags else {}, "outputs": [], "source": source}

    return {
        "cells": [cell(PARAMETERS, ["parameters"]), cell(SNOOP), cell(README_TAMPER)],
        "metadata": {"kernelspec": {"display_name": "Python 3", "language": "python",
                                    "name": "python3"},
                     "language_info": {"name": "python"}},
        "nbformat": 4, "nbformat_minor": 5,
    }


def build_snoop_deposit(root: Path, canary: Path, outside: Path) -> Path:
    """Write the deposit; its environment is vqc-iris's, so a built venv or image is reused."""
    reference = yaml.safe_load((DEPOSITS / "vqc-iris" / "qdata.yaml").read_text())
    root.mkdir(parents=True)
    (root / "notebooks").mkdir()
    (root / "README.md").write_text("A deposit whose notebook snoops on the host.\n")
    (root / "notebooks" / "snoop.ipynb").write_text(json.dumps(_notebook(), indent=1))
    manifest = {key: reference[key] for key in
                ("qdata", "identity", "provenance", "license", "consent", "environment")}
    manifest["identity"] = {**manifest["identity"], "title": "snooping notebook"}
    manifest["notebooks"] = [{
        "id": "snoop", "path": "notebooks/snoop.ipynb", "seeds": [1], "timeout": 120,
        "cell_timeout": 60, "metrics": "metrics.json",
        "parameters": {"canary": str(canary), "outside": str(outside),
                       "readme": str(root / "README.md")},
    }]
    manifest["claims"] = [{
        "id": "started", "source": {"notebook": "snoop"}, "metric": "notebook_metric",
        "name": "child_started", "value": 1.0, "tolerance": {"kind": "absolute", "value": 0.0},
    }]
    manifest["files"] = [
        {"path": rel, "sha256": hashlib.sha256((root / rel).read_bytes()).hexdigest(),
         "size": (root / rel).stat().st_size}
        for rel in ("README.md", "notebooks/snoop.ipynb")
    ]
    (root / "qdata.yaml").write_text(yaml.safe_dump(manifest, sort_keys=False))
    return root


def qrepro_command() -> list[str]:
    """The installed console script, as a user runs it."""
    import sys

    return [str(Path(sys.executable).parent / "qrepro")]


class SnoopRun:
    """One `qrepro evaluate` of the snoop deposit, as a subprocess, and what it left."""

    def __init__(self, tmp: Path, args: list[str], env: dict[str, str] | None = None) -> None:
        import os
        import subprocess
        import time

        self.secrets = tmp / "host-secrets"
        self.secrets.mkdir()
        self.canary = self.secrets / "canary.txt"
        self.canary.write_text(CANARY_TEXT)
        self.outside = self.secrets / "written-from-the-sandbox.txt"
        self.deposit = build_snoop_deposit(tmp / "deposit", self.canary, self.outside)
        self.before = {p: p.read_bytes() for p in self.deposit.rglob("*") if p.is_file()}
        self.out = tmp / "out"
        run_env = {**os.environ, SECRET_VAR: SECRET_VALUE, **(env or {})}
        self.proc = subprocess.run(
            [*qrepro_command(), "evaluate", str(self.deposit), "--out", str(self.out),
             "--no-determinism-check", *args],
            env=run_env, capture_output=True, text=True, timeout=1200, check=False)
        self.returned = time.monotonic()
        self.report_text = (self.out / "report.json").read_text()
        self.report = json.loads(self.report_text)
        time.sleep(CHILD_DELAY_S + 2.0)  # give a surviving child its chance

    def metrics(self) -> dict[str, Any]:
        runs = [n for n in self.report["notebooks"] if n["ok"]]
        assert runs, (self.report.get("error"), self.proc.stderr[-2000:])
        return dict(runs[0]["metrics"])

    def finding_codes(self) -> set[str]:
        return {f["code"] for f in self.report["findings"]}

    def deposit_changed(self) -> bool:
        now = {p: p.read_bytes() for p in self.deposit.rglob("*") if p.is_file()}
        return now != self.before

    def assert_child_gone(self) -> None:
        late = list(self.out.rglob(LATE_MARKER))
        assert not late, f"a process of the deposit outlived the harness: {late}"
        assert (self.out / "report.json").read_text() == self.report_text, \
            "report.json changed after qrepro returned"

    def assert_host_untouched(self) -> None:
        m = self.metrics()
        assert m["canary_read"] == 0.0, "the notebook read a host file outside the deposit"
        assert m["outside_written"] == 0.0 and not self.outside.exists(), \
            "the notebook wrote outside the output directory"
        assert m["secret_env"] == 0.0, "the caller's environment reached the notebook"
        assert m["shadow_read"] == 0.0 and m["docker_socket"] == 0.0
        assert m["readme_appended"] == 0.0 and not self.deposit_changed()
        assert CANARY_TEXT not in self.report_text
