"""Run an author's notebook once per seed with papermill, with the Aer recorder installed.

The author's notebook is never modified: each run executes a copy whose first cell puts
the recorder (``aer_recorder.py``, copied into a scratch folder with ``aer_noise.py``) on
``sys.path`` and installs it. papermill injects the run's parameters after the cell tagged
``parameters``, with the values ``qrepro evaluate`` will inject (docs/notebooks.md), and the
kernel runs as the evaluation's does: ``PYTHONHASHSEED=0``, the working directory the run's
output folder, Jupyter's folders private (so ``python3`` is this interpreter).
"""

from __future__ import annotations

import ast
import contextlib
import importlib.util
import json
import os
import shutil
import signal
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nbformat
import yaml

from harness.authoring.notebooks import parameters_cell, read_cells
from harness.errors import AuthoringError

RECORDER_TAG = "qrepro-recorder"
INJECTED_TAG = "injected-parameters"
HERE = Path(__file__).resolve().parent
#: names qrepro evaluate injects besides the manifest's parameters (docs/notebooks.md)
RESERVED = ("seed", "shots", "device", "noise_model_path", "output_dir")


@dataclass(frozen=True)
class Parameters:
    """The notebook's cell tagged ``parameters``: where it is, its literal defaults and
    every name it assigns."""

    where: str
    defaults: dict[str, Any]
    names: frozenset[str]


@dataclass(frozen=True)
class RunSpec:
    """One execution: the notebook, its seed, what to inject and the limits."""

    notebook: Path
    display: str
    seed: int
    parameters: dict[str, Any]
    shots: int | None
    metrics: str
    cell_timeout: int
    timeout: int


@dataclass
class SeedRun:
    """What one execution left: its metrics and the folder the recorder wrote."""

    seed: int
    metrics: dict[str, Any]
    captures: Path
    notes: list[str] = field(default_factory=list)


# --- the parameters cell ----------------------------------------------------------------


def _assigned(tree: ast.Module | None) -> frozenset[str]:
    targets = [t for stmt in (tree.body if tree else []) if isinstance(stmt, ast.Assign)
               for t in stmt.targets]
    targets += [stmt.target for stmt in (tree.body if tree else [])
                if isinstance(stmt, ast.AnnAssign)]
    return frozenset(t.id for t in targets if isinstance(t, ast.Name))


def find_parameters(root: Path, rel: str) -> Parameters:
    """The cell tagged ``parameters``; an error naming the cell to tag when there is none."""
    found = parameters_cell(read_cells(root, rel))
    if found is None:
        raise AuthoringError(
            "no cell is tagged 'parameters' and no code cell only assigns literals: add a "
            "first code cell with `seed = 0` and `output_dir = \".\"`, tag it 'parameters', "
            "and derive all randomness from `seed` (docs/notebooks.md)", file=rel)
    if not found.tagged:
        names = ", ".join(f"{k} = {v!r}" for k, v in list(found.values.items())[:4])
        raise AuthoringError(
            f"no cell is tagged 'parameters': tag {found.cell.where} ({names}), the first "
            "that assigns literals, as 'parameters' (Jupyter: View > Cell Toolbar > Tags; "
            "JupyterLab: the property inspector), so that qrepro can inject the seed",
            file=rel)
    return Parameters(found.cell.where, found.values, _assigned(found.cell.tree()))


def read_notebook(path: Path, display: str) -> Any:
    try:
        return nbformat.read(str(path), as_version=4)  # type: ignore[no-untyped-call]
    except (OSError, ValueError) as exc:
        raise AuthoringError(f"cannot read the notebook: {exc}", file=display) from exc


def injected(cell: Parameters, spec: RunSpec, out_dir: Path) -> dict[str, Any]:
    """What papermill injects: the values ``qrepro evaluate`` injects for this run."""
    extra = {"shots": spec.shots, "device": "CPU", "noise_model_path": None}
    return {**{k: v for k, v in extra.items() if k in cell.names}, **spec.parameters,
            "seed": spec.seed, "output_dir": str(out_dir)}


# --- one execution ----------------------------------------------------------------------


def _recorder_cell(shim_dir: Path, capture_dir: Path) -> Any:
    source = (
        "# added by qrepro record (not part of the notebook): record every Aer job\n"
        "import sys as _qrepro_sys\n"
        f"_qrepro_sys.path.insert(0, {str(shim_dir)!r})\n"
        "import aer_recorder as _qrepro_recorder\n"
        f"_qrepro_recorder.install({str(capture_dir)!r})\n"
    )
    cell = nbformat.v4.new_code_cell(source)  # type: ignore[no-untyped-call]
    cell.metadata["tags"] = [RECORDER_TAG]
    return cell


def prepare_shim(work: Path) -> Path:
    """Copy the recorder (and aer_noise, which notebooks import) into a private folder."""
    shim = work / "shim"
    shim.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(HERE / "aer_recorder.py", shim / "aer_recorder.py")
    agent = importlib.util.find_spec("runners.agent")
    folders = agent.submodule_search_locations if agent is not None else None
    aer_noise = Path(next(iter(folders or [""]))) / "aer_noise.py"
    if aer_noise.is_file():
        shutil.copyfile(aer_noise, shim / "aer_noise.py")
    return shim


def _kernel_env(scratch: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        PYTHONHASHSEED="0",
        JUPYTER_RUNTIME_DIR=str(scratch / "runtime"),
        JUPYTER_DATA_DIR=str(scratch / "data"),
        IPYTHONDIR=str(scratch / "ipython"),
        MPLCONFIGDIR=str(scratch / "mpl"),
    )
    return env


def run_seed(nb: Any, cell: Parameters, spec: RunSpec, shim: Path, work: Path) -> SeedRun:
    """Execute the recording copy of the notebook for one seed; its metrics and captures."""
    run_dir = work / f"seed-{spec.seed}"
    out_dir, captures = run_dir / "output", run_dir / "captures"
    out_dir.mkdir(parents=True)
    copy = nbformat.from_dict(nb)  # type: ignore[no-untyped-call]
    copy.cells.insert(0, _recorder_cell(shim, captures))
    source, executed = run_dir / "recording.ipynb", run_dir / "executed.ipynb"
    nbformat.write(copy, str(source))  # type: ignore[no-untyped-call]
    params = run_dir / "parameters.yaml"
    params.write_text(yaml.safe_dump(injected(cell, spec, out_dir)), encoding="utf-8")
    command = [sys.executable, "-m", "papermill", str(source), str(executed), "-f", str(params),
               "--cwd", str(out_dir), "-k", "python3", "--execution-timeout",
               str(spec.cell_timeout), "--no-progress-bar", "--no-log-output"]
    _execute(command, spec, run_dir, executed)
    return SeedRun(spec.seed, read_metrics(out_dir, spec), captures)


def _execute(command: list[str], spec: RunSpec, run_dir: Path, executed: Path) -> None:
    log = run_dir / "papermill.log"
    with log.open("w", encoding="utf-8") as fh:
        proc = subprocess.Popen(command, stdout=fh, stderr=subprocess.STDOUT,
                                env=_kernel_env(run_dir / "jupyter"), start_new_session=True)
        try:
            code = proc.wait(timeout=spec.timeout)
        except subprocess.TimeoutExpired:
            _stop(proc)
            raise AuthoringError(
                f"seed {spec.seed}: the notebook ran past its {spec.timeout} s timeout "
                f"(notebooks[].timeout) and was stopped; executed part: {executed}",
                file=spec.display) from None
        except BaseException:  # Ctrl-C: the run has its own session, so stop it here
            _stop(proc)
            raise
    if code != 0:
        raise AuthoringError(f"seed {spec.seed}: {failure(executed, log)}", file=spec.display)


def _stop(proc: subprocess.Popen[bytes]) -> None:
    """Kill papermill and its kernel (the whole session)."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()


def failure(executed: Path, log: Path) -> str:
    """The failing cell (index in the author's notebook), exception and value."""
    try:
        nb = nbformat.read(str(executed), as_version=4)  # type: ignore[no-untyped-call]
    except (OSError, ValueError):
        nb = None
    number = 0  # as a person counts the author's cells: from 1, markdown included
    for cell in nb.cells if nb is not None else []:
        tags = cell.get("metadata", {}).get("tags", [])
        if RECORDER_TAG in tags or INJECTED_TAG in tags or "papermill-error-cell-tag" in tags:
            continue
        number += 1
        for output in cell.get("outputs", []) if cell.cell_type == "code" else []:
            if output.get("output_type") == "error":
                return (f"cell {number} raised {output.get('ename')}: "
                        f"{output.get('evalue')} (executed notebook: {executed})")
    tail = log.read_text(encoding="utf-8", errors="replace").strip().splitlines()[-5:]
    return "papermill failed: " + " | ".join(tail) + f" (log: {log})"


def read_metrics(out_dir: Path, spec: RunSpec) -> dict[str, Any]:
    path = out_dir / spec.metrics
    if not path.is_file():
        raise AuthoringError(
            f"seed {spec.seed}: the notebook wrote no {spec.metrics} in output_dir: end it "
            f"with json.dump(metrics, open(os.path.join(output_dir, {spec.metrics!r}), 'w'))"
            " (docs/notebooks.md)", file=spec.display)
    try:
        metrics = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise AuthoringError(f"seed {spec.seed}: unreadable {spec.metrics}: {exc}",
                             file=spec.display) from exc
    if not isinstance(metrics, dict):
        raise AuthoringError(f"seed {spec.seed}: {spec.metrics} is not a JSON object",
                             file=spec.display)
    return metrics
