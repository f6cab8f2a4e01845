"""qrepro notebook worker: one papermill execution, inside the deposit's environment.

    python -E -s -S nb_worker.py SPEC.json fd:N

The result goes through the descriptor the agent handed over (channel.py): the notebook's
kernel, a child of this process, can neither inherit it nor open it, so a notebook cannot
forge its own outcome.

Standard library + the environment's papermill / nbformat only (never ``harness``). The
kernel is the environment's own (``python3`` resolves to this interpreter). On failure the
partially executed notebook is saved first (papermill does), then the error is described:
the cell's index in the *deposited* notebook, the exception name, value and traceback.
"""

from __future__ import annotations

import json
import os
import random
import re
import sys
import time
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from channel import add_site_dirs, harden, open_result

add_site_dirs()

_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
INJECTED_TAG = "injected-parameters"
ERROR_TAGS = ("papermill-error-cell-tag",)


def deposit_cell_index(output_path: str, executed_index: int | None) -> int | None:
    """Index of a cell of the executed notebook in the deposited one (without the cells
    papermill inserted: injected parameters, error banners)."""
    if executed_index is None:
        return None
    import nbformat

    try:
        cells = nbformat.read(output_path, as_version=4).cells  # type: ignore[no-untyped-call]
    except Exception:
        return executed_index
    executed = original = -1  # papermill's index ignores the error banners it adds later
    for cell in cells:
        tags = cell.get("metadata", {}).get("tags", [])
        if any(t in tags for t in ERROR_TAGS):
            continue
        executed += 1
        if INJECTED_TAG not in tags:
            original += 1
        if executed == executed_index:
            return original
    return executed_index


def failure(kind: str, message: str, **extra: Any) -> dict[str, Any]:
    return {"ok": False, "error_type": kind, "error": message, **extra}


def execute(spec: dict[str, Any]) -> dict[str, Any]:
    import papermill
    from papermill.exceptions import PapermillExecutionError

    out_dir = spec["output_dir"]
    os.makedirs(out_dir, exist_ok=True)
    output = os.path.join(out_dir, "executed.ipynb")
    try:
        papermill.execute_notebook(
            spec["input"],
            output,
            parameters=spec["parameters"],
            kernel_name="python3",
            language="python",
            execution_timeout=spec["cell_timeout"],
            progress_bar=False,
            log_output=False,
            cwd=out_dir,
            report_mode=False,
        )
    except PapermillExecutionError as exc:
        index = deposit_cell_index(output, exc.cell_index)
        return failure(
            "cell-error",
            f"cell {index} raised {exc.ename}: {exc.evalue}",
            cell_index=index,
            ename=exc.ename,
            evalue=exc.evalue,
            traceback=[_ANSI.sub("", line) for line in exc.traceback],
        )
    except Exception as exc:
        return classify(exc)
    return read_metrics(spec, out_dir)


def classify(exc: Exception) -> dict[str, Any]:
    name = type(exc).__name__
    lines = _ANSI.sub("", str(exc)).strip().splitlines()
    words = [line.strip() for line in lines if any(ch.isalnum() for ch in line)]
    detail = words[0] if words else name  # the first line that says something
    if name == "DeadKernelError":
        return failure("kernel-died", f"the kernel died (out of memory or crashed): {detail}")
    if name in ("CellTimeoutError", "TimeoutError"):
        return failure("cell-timeout", f"a cell ran past the per-cell timeout: {detail}")
    return failure("setup", f"{name}: {detail}")


def read_metrics(spec: dict[str, Any], out_dir: str) -> dict[str, Any]:
    path = os.path.join(out_dir, spec["metrics"])
    if not os.path.isfile(path) or os.path.islink(path):
        return failure("metrics-missing", f"the notebook wrote no metrics file {spec['metrics']}")
    try:
        with open(path, encoding="utf-8") as fh:
            metrics = json.load(fh)
    except (OSError, ValueError) as exc:
        return failure("metrics-missing", f"unreadable metrics file {spec['metrics']}: {exc}")
    if not isinstance(metrics, dict):
        return failure("metrics-missing", f"{spec['metrics']} is not a JSON object")
    return {"ok": True, "metrics": metrics}


#: a kernel whose random ports collided with another kernel's dies before its first reply;
#: nothing of the notebook ran then, so starting again is safe
STARTUP_RACE = "Kernel died before replying to kernel_info"
STARTUP_ATTEMPTS = 3


def execute_with_retries(spec: dict[str, Any]) -> dict[str, Any]:
    for attempt in range(1, STARTUP_ATTEMPTS + 1):
        result = execute(spec)
        if result.get("error_type") != "setup" or STARTUP_RACE not in result["error"]:
            break
        time.sleep(0.2 * attempt + random.random())
    result["kernel_start_attempts"] = attempt
    return result


def main(argv: list[str]) -> int:
    harden()
    channel = open_result(argv[2])
    with open(argv[1], encoding="utf-8") as fh:
        spec = json.load(fh)
    start = time.perf_counter()
    result = execute_with_retries(spec)
    result["wall_s"] = time.perf_counter() - start
    with channel:
        json.dump(result, channel)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
