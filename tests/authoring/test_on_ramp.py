"""Issue #16's done-when, end to end through the console script: a folder with one
unprepared PennyLane + Aer notebook (no qdata.yaml, no tagged cell) becomes, with qrepro init,
qrepro record and qrepro evaluate, a deposit with all four badges; the only edit by hand is
tagging the parameters cell (license, identifier, authors and institution are options)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.authoring.test_init import bell_notebook
from tests.conftest import ROOT

pytestmark = pytest.mark.e2e


def qrepro(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "harness", *args], capture_output=True,
                          text=True, stdin=subprocess.DEVNULL, cwd=ROOT, check=False,
                          timeout=900)


def test_unprepared_notebook_to_four_badges(tmp_path: Path) -> None:
    root = tmp_path / "bell"
    notebook = root / "notebooks" / "bell.ipynb"
    notebook.parent.mkdir(parents=True)
    nb = bell_notebook()
    # what the notebook reports: a PennyLane estimate and an Aer one, both seeded
    nb["cells"][-1]["source"] = ("json.dump({'fidelity': fidelity, 'p00': float(p[0])}, "
                                 "open('metrics.json', 'w'))")
    notebook.write_text(json.dumps(nb))

    init = qrepro("init", str(root), "--license", "CC-BY-4.0", "--identifier",
                  "doi:10.5281/zenodo.1234567", "--author", "Ada Example <0000-0002-1825-0097>",
                  "--institution", "Example University")
    assert init.returncode == 0, init.stdout + init.stderr
    assert "tag cell 2 of notebooks/bell.ipynb as parameters" in init.stdout
    assert (root / "qdata.yaml").is_file()
    assert "matplotlib==" in (root / "qdata.yaml").read_text()  # %matplotlib needs it

    # the one edit by hand: tag the parameters cell (Jupyter: View > Cell Toolbar > Tags)
    nb["cells"][1]["metadata"] = {"tags": ["parameters"]}
    notebook.write_text(json.dumps(nb))

    record = qrepro("record", str(notebook), "--seeds", "1000,2000,3000")
    assert record.returncode == 0, record.stdout + record.stderr

    out = tmp_path / "out"
    evaluate = qrepro("evaluate", str(root), "--out", str(out), "--runner", "local")
    report = json.loads((out / "report.json").read_text())
    badges = report["badges"]
    assert evaluate.returncode == 0, (badges["reasons"], evaluate.stderr)
    assert all(badges[k] for k in ("available", "functional", "reusable", "reproduced"))
    assert report["claims"] and all(c["verdict"] == "pass" for c in report["claims"])
