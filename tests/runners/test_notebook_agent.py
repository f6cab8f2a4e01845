"""The agent's notebook execution for real (papermill + a kernel of this environment)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import nbformat
import pytest

AGENT = Path(__file__).resolve().parents[2] / "runners" / "agent"


@pytest.fixture(scope="module")
def agent() -> ModuleType:
    sys.path.insert(0, str(AGENT))
    spec = importlib.util.spec_from_file_location("qrepro_nb_agent", AGENT / "notebooks.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def notebook(path: Path, *cells: str) -> None:
    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell(
        "seed = 0\nshots = None\ndevice = 'CPU'\nnoise_model_path = None\noutput_dir = '.'\n"
        "scale = 1.0")
    params.metadata["tags"] = ["parameters"]
    nb.cells = [params, *(nbformat.v4.new_code_cell(c) for c in cells)]
    nbformat.write(nb, path)


WRITE_METRICS = ("import json, os, random\nrandom.seed(seed)\n"
                 "json.dump({'value': random.random() * scale, 'seed_seen': seed},"
                 " open(os.path.join(output_dir, 'metrics.json'), 'w'))")


def job(path: str, seed: int = 1, **kw: Any) -> dict[str, Any]:
    return {"id": "nb", "run": f"nb-seed-{seed}{kw.pop('suffix', '')}", "path": path,
            "seed": seed, "parameters": {"scale": 2.0}, "shots": 10, "noise_model": None,
            "timeout": 60, "cell_timeout": 30, "metrics": "metrics.json", **kw}


def run(agent: ModuleType, tmp_path: Path, jobs: list[dict[str, Any]], parallel: int = 2
        ) -> list[dict[str, Any]]:
    work = tmp_path / "work"
    work.mkdir(exist_ok=True)
    return list(agent.run_notebooks(jobs, str(tmp_path), str(work), "CPU", parallel))


def test_parameters_injected_metrics_collected_and_evidence_saved(agent: ModuleType,
                                                                   tmp_path: Path) -> None:
    notebook(tmp_path / "ok.ipynb", WRITE_METRICS)
    results = run(agent, tmp_path, [job("ok.ipynb", 1), job("ok.ipynb", 2),
                                    job("ok.ipynb", 1, suffix="-repeat")])
    assert [r["ok"] for r in results] == [True, True, True]
    assert results[0]["metrics"]["seed_seen"] == 1
    assert results[0]["metrics"] == results[2]["metrics"], "same seed, same metrics"
    assert results[0]["metrics"] != results[1]["metrics"]
    assert results[0]["metrics"]["value"] <= 2.0
    executed = tmp_path / "work" / results[0]["executed"]
    text = executed.read_text()
    assert "injected-parameters" in text and "seed = 1" in text


def test_failing_cell_reports_index_name_value_traceback(agent: ModuleType,
                                                         tmp_path: Path) -> None:
    notebook(tmp_path / "bad.ipynb", "x = 1", "raise RuntimeError('deliberately broken')",
             WRITE_METRICS)
    (result,) = run(agent, tmp_path, [job("bad.ipynb")])
    assert not result["ok"] and result["error_type"] == "cell-error"
    assert result["cell_index"] == 2, "index in the deposited notebook"
    assert (result["ename"], result["evalue"]) == ("RuntimeError", "deliberately broken")
    assert any("deliberately broken" in line for line in result["traceback"])
    assert result["executed"] is not None, "the partial notebook is saved"


def test_missing_metrics_file(agent: ModuleType, tmp_path: Path) -> None:
    notebook(tmp_path / "quiet.ipynb", "x = 1")
    (result,) = run(agent, tmp_path, [job("quiet.ipynb")])
    assert result["error_type"] == "metrics-missing"


def test_dead_kernel_is_reported_not_hung(agent: ModuleType, tmp_path: Path) -> None:
    notebook(tmp_path / "die.ipynb", "import os, signal\nos.kill(os.getpid(), signal.SIGKILL)")
    (result,) = run(agent, tmp_path, [job("die.ipynb")])
    assert result["error_type"] == "kernel-died"


def test_cell_and_notebook_timeouts(agent: ModuleType, tmp_path: Path) -> None:
    notebook(tmp_path / "slow.ipynb", "import time\ntime.sleep(600)")
    cell, whole = run(agent, tmp_path, [job("slow.ipynb", 1, cell_timeout=2),
                                        job("slow.ipynb", 2, timeout=4)])
    assert cell["error_type"] == "cell-timeout"
    assert whole["error_type"] == "timeout" and "killed" in whole["error"]
