"""Schedule notebook executions inside the environment (standard library only).

Each execution is a separate worker process (nb_worker.py) in its own process group, so a
whole-notebook timeout kills the worker and its kernel together, and a kernel that dies
can never hang the agent. Independent executions run in parallel, up to ``jobs``.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from exits import ExitWatch

HERE = os.path.dirname(os.path.abspath(__file__))
WORKER = os.path.join(HERE, "nb_worker.py")


def kernel_environment(scratch: str) -> dict[str, str]:
    """The kernel's environment: seeded hashing, writable Jupyter dirs, aer_noise importable."""
    env = dict(os.environ)
    env.update(
        PYTHONHASHSEED="0",
        PYTHONPATH=HERE,
        JUPYTER_RUNTIME_DIR=os.path.join(scratch, "runtime"),
        JUPYTER_DATA_DIR=os.path.join(scratch, "data"),
        IPYTHONDIR=os.path.join(scratch, "ipython"),
        MPLCONFIGDIR=os.path.join(scratch, "mpl"),
    )
    return env


def worker_spec(
    job: dict[str, Any], deposit_root: str, work_dir: str, device: str
) -> dict[str, Any]:
    out_dir = os.path.join(work_dir, "notebooks", job["run"])
    noise = job.get("noise_model")
    parameters = {
        **job.get("parameters", {}),
        "seed": job["seed"],
        "shots": job.get("shots"),
        "device": device,
        "noise_model_path": os.path.join(work_dir, noise) if noise else None,
        "output_dir": out_dir,
    }
    return {
        "input": os.path.join(deposit_root, job["path"]),
        "output_dir": out_dir,
        "parameters": parameters,
        "cell_timeout": job["cell_timeout"],
        "metrics": job["metrics"],
    }


def run_worker(spec: dict[str, Any], timeout: float, scratch: str) -> dict[str, Any]:
    os.makedirs(spec["output_dir"], exist_ok=True)
    spec_path = os.path.join(scratch, "spec.json")
    with open(spec_path, "w", encoding="utf-8") as fh:
        json.dump(spec, fh)
    log_path = os.path.join(spec["output_dir"], "worker.log")
    # the worker's result comes back through an unlinked file only it and we hold
    with open(log_path, "w", encoding="utf-8") as log, tempfile.TemporaryFile() as channel:
        proc = subprocess.Popen(
            [sys.executable, "-E", "-s", "-S", WORKER, spec_path, f"fd:{channel.fileno()}"],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=kernel_environment(scratch),
            start_new_session=True,
            pass_fds=(channel.fileno(),),
        )
        with ExitWatch(proc) as exits:
            ended = exits.wait(timeout) is not None
        if not ended:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            return {
                "ok": False,
                "error_type": "timeout",
                "error": f"the notebook ran past its {timeout:g} s timeout and was killed",
                "wall_s": float(timeout),
            }
        channel.seek(0)
        text = channel.read().decode("utf-8", errors="replace")
    notebooks_dir = os.path.dirname(spec["output_dir"])
    where = os.path.join("notebooks", os.path.relpath(log_path, notebooks_dir))
    if proc.returncode != 0 or not text.strip():
        return {
            "ok": False,
            "error_type": "setup",
            "error": f"the notebook worker exited with status {proc.returncode} and its "
            f"result is not trusted (see {where})",
        }
    try:
        result: dict[str, Any] = json.loads(text)
    except ValueError:
        return {"ok": False, "error_type": "setup",
                "error": f"the notebook worker's result is unreadable (see {where})"}
    return result


def run_one(job: dict[str, Any], deposit_root: str, work_dir: str, device: str) -> dict[str, Any]:
    spec = worker_spec(job, deposit_root, work_dir, device)
    with tempfile.TemporaryDirectory(prefix="qrepro-nb-") as scratch:
        result = run_worker(spec, float(job["timeout"]), scratch)
    executed = os.path.join(spec["output_dir"], "executed.ipynb")
    return {
        "id": job["id"],
        "run": job["run"],
        "seed": job["seed"],
        **result,
        "executed": os.path.relpath(executed, work_dir) if os.path.isfile(executed) else None,
    }


def run_notebooks(
    jobs: list[dict[str, Any]], deposit_root: str, work_dir: str, device: str, parallel: int
) -> list[dict[str, Any]]:
    if not jobs:
        return []
    done = [0]
    lock = threading.Lock()

    def one(job: dict[str, Any]) -> dict[str, Any]:
        result = run_one(job, deposit_root, work_dir, device)
        with lock:
            done[0] += 1
            print(f"qrepro-progress: notebook runs {done[0]}/{len(jobs)}", file=sys.stderr,
                  flush=True)
        return result

    with ThreadPoolExecutor(max_workers=max(1, parallel)) as pool:
        return list(pool.map(one, jobs))
