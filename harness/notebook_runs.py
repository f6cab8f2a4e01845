"""Per-seed results of notebook executions: the values a claim is tested on, and the
check that a notebook honours its seed (two runs with the same seed must agree).

Pure functions of the Execution; no I/O.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from harness.intake.manifest import Manifest
from harness.models import Finding, NotebookRun

REPEAT_SUFFIX = "-repeat"
FRESH_INFIX = "-fresh-"


def seed_runs(runs: Sequence[NotebookRun], notebook_id: str) -> list[NotebookRun]:
    """The runs of one notebook, one per recorded seed (repeat and fresh-seed runs excluded)."""
    return [
        r
        for r in runs
        if r.id == notebook_id and not r.run.endswith(REPEAT_SUFFIX) and FRESH_INFIX not in r.run
    ]


def fresh_runs(runs: Sequence[NotebookRun], notebook_id: str) -> list[NotebookRun]:
    """The runs of one notebook with fresh seeds (--fresh-seeds)."""
    return [r for r in runs if r.id == notebook_id and FRESH_INFIX in r.run]


class MissingMetric(Exception):
    """A run did not produce the metric a claim needs (names notebook, seed, metric)."""


def metric_values(
    runs: Sequence[NotebookRun], notebook_id: str, name: str, fresh: bool = False
) -> list[float]:
    values: list[float] = []
    for run in (fresh_runs if fresh else seed_runs)(runs, notebook_id):
        value = run.metrics.get(name)
        number = _finite(value)
        if number is None:
            what = (
                "is missing" if value is None
                else f"is not finite ({value})" if isinstance(value, float)
                else f"is not a number ({type(value).__name__})"
            )
            raise MissingMetric(
                f"notebook '{notebook_id}', seed {run.seed}: metric '{name}' "
                f"{what} in its metrics file"
            )
        values.append(number)
    return values


def _finite(value: object) -> float | None:
    """The value as a float when it is a finite number (not a bool), else None."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def _same(x: object, y: object) -> bool:
    """Equal, counting NaN equal to NaN (a NaN metric is judged by the claim, not here)."""
    if isinstance(x, float) and isinstance(y, float) and math.isnan(x) and math.isnan(y):
        return True
    return x == y


def _differences(a: dict[str, object], b: dict[str, object]) -> list[str]:
    return [
        f"{key} {a.get(key)!r} vs {b.get(key)!r}"
        for key in sorted(set(a) | set(b))
        if not _same(a.get(key), b.get(key))
    ]


def determinism_findings(m: Manifest, runs: Sequence[NotebookRun]) -> list[Finding]:
    """A notebook whose repeat run (same seed) gives other metrics ignores its seed."""
    out: list[Finding] = []
    by_run = {r.run: r for r in runs}
    for i, nb in enumerate(m.notebooks):
        for run in runs:
            if run.id != nb.id or not run.run.endswith(REPEAT_SUFFIX):
                continue
            first = by_run.get(run.run.removesuffix(REPEAT_SUFFIX))
            if first is None or not (first.ok and run.ok):
                continue
            diff = _differences(first.metrics, run.metrics)
            if diff:
                out.append(
                    Finding(
                        code="nondeterministic-notebook",
                        severity="error",
                        file=nb.path,
                        field=f"notebooks[{i}].seeds",
                        blocks=("reusable",),
                        message=f"two runs with the same seed {run.seed} gave different metrics "
                        f"({'; '.join(diff[:3])}): the notebook does not honour the "
                        "injected seed",
                    )
                )
    return out
