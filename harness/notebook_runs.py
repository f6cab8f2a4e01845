"""Per-seed results of notebook executions: the values a claim is tested on, and the
check that a notebook honours its seed (two runs with the same seed must agree).

Pure functions of the Execution; no I/O.
"""

from __future__ import annotations

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
        if isinstance(value, bool) or not isinstance(value, int | float):
            what = "is missing" if value is None else f"is not a number ({type(value).__name__})"
            raise MissingMetric(
                f"notebook '{notebook_id}', seed {run.seed}: metric '{name}' "
                f"{what} in its metrics file"
            )
        values.append(float(value))
    return values


def _differences(a: dict[str, object], b: dict[str, object]) -> list[str]:
    return [
        f"{key} {a.get(key)!r} vs {b.get(key)!r}"
        for key in sorted(set(a) | set(b))
        if a.get(key) != b.get(key)
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
