"""The batch executor for a Dask distributed cluster (``qrepro batch --cluster``): not a
Runner (it runs whole evaluations, each with its own runner, on the workers).

The deposit travels to the worker as a tar archive and the attempt folder comes back as one;
the worker runs the same ``qrepro evaluate`` (harness.batch.worker) and needs its own qrepro
and Docker engine. The ledger stays with the batch process. ``local:N`` starts a
LocalCluster of N single-threaded worker processes on this machine; any other value is a
scheduler address (``tcp://host:8786``).
"""

from __future__ import annotations

import io
import tarfile
import tempfile
from concurrent.futures import Future
from dataclasses import replace
from pathlib import Path
from typing import Any

from harness.batch.worker import Result, Task, run_task
from harness.errors import RunnerUnavailable


def pack(path: Path) -> bytes:
    """``path`` (a folder or a file) as a gzip'd tar, its top entry named ``path.name``."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        tar.add(path, arcname=path.name)
    return buffer.getvalue()


def unpack(data: bytes, dest: Path) -> Path:
    """Extract what :func:`pack` made into ``dest``; the top entry's path."""
    dest.mkdir(parents=True, exist_ok=True)
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
        tar.extractall(dest, filter="data")
        top = tar.getnames()[0].split("/", 1)[0]
    return dest / top


def run_shipped(task: Task, deposit: bytes) -> tuple[Result, bytes]:
    """On the worker: unpack the deposit, evaluate, pack the attempt folder (and its log)."""
    with tempfile.TemporaryDirectory(prefix="qrepro-worker-") as tmp:
        source = unpack(deposit, Path(tmp) / "in")
        out = Path(tmp) / "out" / Path(task.out).name
        result = run_task(replace(task, source=str(source), out=str(out)))
        log = out.parent / f"{out.name}.evaluate.log"
        if log.exists():
            (out / "evaluate.log").write_bytes(log.read_bytes())
        return result, pack(out)


class DaskExecutor:
    """submit(task) -> Future[Result]; the attempt folder is unpacked where task.out says."""

    client: Any

    def __init__(self, address: str) -> None:
        try:
            import distributed
        except ImportError as exc:  # pragma: no cover - a dependency
            raise RunnerUnavailable("dask distributed is not installed") from exc
        dask: Any = distributed  # untyped library
        Client, LocalCluster = dask.Client, dask.LocalCluster
        self.cluster: Any = None
        try:
            if address.startswith("local:"):
                workers = int(address.removeprefix("local:") or "2")
                self.cluster = LocalCluster(n_workers=workers, threads_per_worker=1,
                                            processes=True, dashboard_address=None)
                self.client = Client(self.cluster)
            else:
                self.client = Client(address, timeout="30s")
        except (OSError, ValueError, TimeoutError) as exc:
            raise RunnerUnavailable(f"cannot reach the Dask cluster {address}: {exc}") from exc
        self.slots = max(1, sum(self.client.nthreads().values()))

    def submit(self, task: Task) -> Future[Result]:
        done: Future[Result] = Future()
        remote: Any = self.client.submit(run_shipped, task, pack(Path(task.source)), pure=False,
                                    key=f"qrepro-{task.submission}-{Path(task.out).name}")

        def fetched(f: Any) -> None:
            try:
                result, folder = f.result()
                out = Path(task.out)
                unpack(folder, out.parent)
                done.set_result(replace(result, out=str(out)))
            except BaseException as exc:
                done.set_exception(exc)

        remote.add_done_callback(fetched)
        return done

    def close(self) -> None:
        self.client.close()
        if self.cluster is not None:
            self.cluster.close()
