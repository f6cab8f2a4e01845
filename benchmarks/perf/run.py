"""`make bench`: what the harness adds to the simulator, as ratios against anchors.

    python -m benchmarks.perf.run [--runs N] [--only NAME ...] [--wide] [--no-docker]

Each figure times a whole `qrepro` command against its anchor, the least that does the same
work, side by side in one run (benchmarks/perf/timing.py: interleaved, min/median/max):

  help, validate   `qrepro --help`, `qrepro validate`       vs  `python -c pass`
  tiny             evaluate ghz-noisy (6 noisy circuits,    vs  bare_aer.py: the same
                   13 claims, every report format)               circuits, seeds and noise
  compute          evaluate 20 noisy QV-4 circuits,          vs  bare_aer.py
                   2000 shots each (Aer-bound)
  compute-jobs1    the same with --jobs 1 (circuits one at   vs  bare_aer.py
                   a time: what parallel circuits give)
  many             evaluate 1000 small circuits              vs  bare_aer.py
  many-250         the same deposit's first 250 circuits     (scale: time per circuit)
  parallel-small   the 250 circuits, default (2 at a time)   vs  --jobs 1
  parallel-large   four 20-qubit circuits, --jobs 2          vs  the default (one at a time,
                                                                 Aer's own threads)
  notebook         evaluate qkernel-breast-cancer            vs  bare_papermill.py: the
                   (4 notebook executions)                       same executions, papermill
  docker-warm      evaluate ghz-noisy, --runner docker       vs  --runner local
                   (image built before)
  cold-build       evaluate ghz-noisy, --runner local with   vs  python -m venv + pip install
                   an empty qrepro cache (the venv built)        of the same requirements
  outcomes-2^20    evaluate one circuit of about a million   vs  bare_aer.py; the compare
                   outcomes (2^20 shots, 4 counts claims)        phase and report.html's size
  claims-10k       evaluate 10 000 claims on 4 circuits      vs  bare_aer.py; the same
  wide (--wide)    evaluate one 26-qubit circuit             vs  bare_aer.py; peak memory
                                                                 vs the planner's estimate
Every evaluation uses --runner local (the venv built from the deposit's pins) unless said.
Writes benchmarks/perf/results/latest.json and latest.md (the table); make bench then runs
the batch benchmark (benchmarks/perf/batch.py). The Docker image build, cold, with uv vs
pip: python -m benchmarks.perf.docker_build. Never a pass/fail in tests: the targets are checked
here, on the machine that runs it, and stated beside each figure.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from benchmarks.perf.timing import Command, paired  # noqa: E402
from benchmarks.perf.workloads import deposit  # noqa: E402

RESULTS = ROOT / "benchmarks" / "perf" / "results"
WORK = ROOT / "out" / "bench"
PY = sys.executable
QREPRO = str(Path(sys.executable).with_name("qrepro"))
BARE = str(ROOT / "benchmarks" / "perf" / "bare_aer.py")
GHZ = ROOT / "benchmarks" / "deposits" / "ghz-noisy"


@dataclass(frozen=True)
class Target:
    #: "wall": A's median wall time; "ratio": median A/B; "difference": median A - B;
    #: "per_circuit": median (A - B) / circuits; "compare": the compare phase's seconds,
    #: the most over the runs (timings.compare of each run's report.json)
    on: str
    at_most: float
    circuits: int = 1

    def value(self, fig: dict[str, Any]) -> float:
        if self.on == "wall":
            return float(fig["wall_s"]["median"])
        if self.on == "ratio":
            return float(fig["ratio"]["median"])
        if self.on == "compare":
            return float(fig["compare_s"]["max"])
        return float(fig["difference_s"]["median"]) / self.circuits


@dataclass(frozen=True)
class Figure:
    name: str
    measured: str
    anchor: str
    a: Callable[[], Command]
    b: Callable[[], Command | None]
    runs: int
    target: Target | None = None
    #: the run's output folder under out/bench/runs: its compare phase and report.html's
    #: size are recorded after each run
    reports: str | None = None


def evaluate(dep: Path, name: str, *extra: str) -> Command:
    out = WORK / "runs" / name
    return Command((QREPRO, "evaluate", str(dep), "--out", str(out), "--runner", "local",
                    *extra))


def bare(dep: Path) -> Command:
    return Command((PY, BARE, str(dep)))


def first_circuits(n: int) -> Path:
    """The `many` deposit cut to its first n circuits (and their claims)."""
    import yaml

    from harness.units import file_sha256

    src = deposit("many")
    dest = WORK / "deposits" / f"many-{n}"
    shutil.rmtree(dest, ignore_errors=True)
    shutil.copytree(src, dest)
    m = yaml.safe_load((dest / "qdata.yaml").read_text())
    keep = {c["id"] for c in m["circuits"][:n]}
    m["circuits"] = m["circuits"][:n]
    m["claims"] = [c for c in m["claims"] if c["source"]["circuit"] in keep]
    files = {c["file"] for c in m["circuits"]} | {c["counts"] for c in m["circuits"]}
    for f in m["files"]:
        if f["path"] not in files and f["path"] != "README.md":
            (dest / f["path"]).unlink()
    m["files"] = [f for f in m["files"] if f["path"] in files or f["path"] == "README.md"]
    for f in m["files"]:
        f["sha256"] = file_sha256(dest / f["path"])
    (dest / "qdata.yaml").write_text(yaml.safe_dump(m, sort_keys=False))
    return dest


def pip_build(requirements: list[str]) -> Command:
    venv = WORK / "pip-venv"
    reqs = WORK / "pip-requirements.txt"
    reqs.parent.mkdir(parents=True, exist_ok=True)
    reqs.write_text("\n".join(requirements) + "\n")
    python = shutil.which("python3.11") or sys.executable
    script = f"{python} -m venv {venv} && {venv}/bin/pip install --quiet -r {reqs}"
    return Command(("sh", "-c", script), before=("rm", "-rf", str(venv)))


def cold_local() -> Command:
    cache = WORK / "cold-cache"
    cmd = evaluate(GHZ, "cold-build")
    env = {**os.environ, "QREPRO_CACHE": str(cache)}
    return Command(cmd.argv, env=env, before=("rm", "-rf", str(cache)))


def docker_ready() -> str | None:
    """None when a Docker engine answers and a base image can be had, else why not."""
    try:
        from harness.errors import RunnerUnavailable
        from runners.docker import connect, docker_problem

        return docker_problem(connect(), None)
    except RunnerUnavailable as exc:
        return exc.message
    except Exception as exc:  # any failure: the figure is skipped, saying why
        return str(exc)


def figures(runs: int, wide: bool) -> list[Figure]:
    many = deposit("many")
    nb = ROOT / "benchmarks" / "deposits" / "qkernel-breast-cancer"
    ghz_reqs = _requirements(GHZ)
    out = [
        Figure("help", "qrepro --help", "python -c pass",
               lambda: Command((QREPRO, "--help")), lambda: Command((PY, "-c", "pass")),
               max(runs, 10), Target("wall", 0.5)),
        Figure("validate", "qrepro validate ghz-noisy", "python -c pass",
               lambda: Command((QREPRO, "validate", str(GHZ))),
               lambda: Command((PY, "-c", "pass")), max(runs, 10), Target("wall", 0.5)),
        Figure("tiny", "evaluate ghz-noisy (6 noisy circuits, 13 claims, all reports)",
               "bare Aer script", lambda: evaluate(GHZ, "tiny"), lambda: bare(GHZ), runs,
               Target("difference", 1.5)),
        Figure("compute", "evaluate 20 noisy QV-4 circuits, 2000 shots (Aer-bound)",
               "bare Aer script", lambda: evaluate(deposit("compute"), "compute"),
               lambda: bare(deposit("compute")), runs, Target("ratio", 1.05)),
        Figure("compute-jobs1", "the same, --jobs 1 (circuits one at a time)",
               "bare Aer script", lambda: evaluate(deposit("compute"), "compute1", "--jobs", "1"),
               lambda: bare(deposit("compute")), runs, Target("ratio", 1.05)),
        Figure("many", "evaluate 1000 small circuits (100 shots, 1000 claims)",
               "bare Aer script", lambda: evaluate(many, "many"), lambda: bare(many),
               max(2, runs // 2), Target("per_circuit", 0.010, 1000)),
        Figure("many-250", "evaluate the first 250 of those circuits", "bare Aer script",
               lambda: evaluate(first_circuits(250), "many250"),
               lambda: bare(WORK / "deposits" / "many-250"), max(2, runs // 2),
               Target("per_circuit", 0.010, 250)),
        Figure("parallel-small", "evaluate the 250 small circuits, circuits 2 at a time "
               "(the default on 2 cores)", "the same, --jobs 1",
               lambda: evaluate(WORK / "deposits" / "many-250", "par-small"),
               lambda: evaluate(WORK / "deposits" / "many-250", "par-small1", "--jobs", "1"),
               max(2, runs // 2)),
        Figure("parallel-large", "evaluate four 20-qubit circuits, --jobs 2 (1 Aer thread "
               "each)", "the default: one at a time, Aer's threads",
               lambda: evaluate(deposit("large"), "par-large", "--jobs", "2"),
               lambda: evaluate(deposit("large"), "par-large1"), max(2, runs // 2)),
        Figure("notebook", "evaluate qkernel-breast-cancer (4 notebook executions)",
               "papermill alone, same executions", lambda: evaluate(nb, "notebook"),
               lambda: Command((PY, str(ROOT / "benchmarks/perf/bare_papermill.py"), str(nb),
                                str(WORK / "runs" / "papermill"))), max(2, runs // 2)),
        Figure("cold-build", "evaluate ghz-noisy, local runner, empty qrepro cache",
               "python -m venv + pip install, same pins", cold_local,
               lambda: pip_build(ghz_reqs), 2),
    ]
    problem = docker_ready()
    if problem is None:
        out.append(Figure("docker-warm", "evaluate ghz-noisy, --runner docker (image built)",
                          "--runner local (venv built)",
                          lambda: Command((*evaluate(GHZ, "docker").argv[:-2],
                                           "--runner", "docker")),
                          lambda: evaluate(GHZ, "docker-local"), runs))
    else:
        print(f"docker-warm skipped: {problem}")
    for name, what in (("outcomes-2^20", "evaluate one circuit of ~2^20 outcomes, 4 counts "
                                          "claims"),
                       ("claims-10k", "evaluate 10 000 claims on 4 small circuits")):
        out.append(Figure(name, what, "bare Aer script",
                          lambda name=name: evaluate(deposit(name), name),
                          lambda name=name: bare(deposit(name)), max(2, runs // 2),
                          Target("compare", 60.0), reports=name))
    if wide:
        out.append(Figure("wide", "evaluate one 26-qubit statevector circuit, 1000 shots",
                          "bare Aer script", lambda: evaluate(deposit("wide"), "wide"),
                          lambda: bare(deposit("wide")), 2))
    return out


def _requirements(dep: Path) -> list[str]:
    import yaml

    return list(yaml.safe_load((dep / "qdata.yaml").read_text())["environment"]["requirements"])


def measure(fig: Figure) -> dict[str, Any]:
    log = WORK / "logs" / f"{fig.name}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    log.unlink(missing_ok=True)
    print(f"{fig.name}: {fig.measured} vs {fig.anchor} ({fig.runs} runs)", flush=True)
    outputs: list[tuple[float, int]] = []
    a = fig.a()
    if fig.reports is not None:  # read each run's report before the next one replaces it
        a = Command(a.argv, env=a.env, before=a.before, ok=(0, 1), after=lambda: outputs.append(
            _compare_and_html(WORK / "runs" / str(fig.reports))))
    result: dict[str, Any] = {"name": fig.name, "measured": fig.measured,
                              "anchor": fig.anchor, **paired(a, fig.b(), fig.runs, ROOT, log)}
    if outputs:
        counted = outputs[-fig.runs:]  # the warm-up's is left out
        result["compare_s"] = _spread([c for c, _ in counted])
        result["report_html_bytes"] = max(size for _, size in counted)
    if fig.target is not None:
        value = fig.target.value(result)
        result["target"] = {"on": fig.target.on, "at_most": fig.target.at_most,
                            "value": value, "met": value <= fig.target.at_most}
    if fig.name == "wide":
        report = json.loads((WORK / "runs" / "wide" / "report.json").read_text())
        result["memory_estimate_bytes"] = report["memory"]["largest_bytes"]
    return result


def _compare_and_html(out: Path) -> tuple[float, int]:
    """The compare phase's seconds and report.html's size of the run written to ``out``."""
    report = json.loads((out / "report.json").read_text())
    return float(report["timings"]["compare"]), (out / "report.html").stat().st_size


def _spread(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    return {"min": ordered[0], "median": ordered[len(ordered) // 2], "max": ordered[-1]}


def _fmt(s: dict[str, float], unit: str = "s", digits: int = 2) -> str:
    return " / ".join(f"{s[k]:.{digits}f}" for k in ("min", "median", "max")) + (
        f" {unit}" if unit else "")


def table(results: list[dict[str, Any]]) -> str:
    rows = ["| figure | measured | anchor | runs | wall min / median / max | anchor wall "
            "| ratio | difference | target |",
            "|---|---|---|---|---|---|---|---|---|"]
    for r in results:
        t = r.get("target")
        target = "" if t is None else (
            f"{t['on'].replace('_', ' ')} {t['value']:.3g} <= {t['at_most']:g}: "
            f"{'met' if t['met'] else 'NOT met'}")
        if "compare_s" in r:
            target += (f" (compare {_fmt(r['compare_s'])}; report.html "
                       f"{r['report_html_bytes'] / 1e6:.2f} MB)")
        rows.append("| " + " | ".join([
            r["name"], r["measured"], r["anchor"], str(r["runs"]), _fmt(r["wall_s"]),
            _fmt(r["anchor_wall_s"]) if "anchor_wall_s" in r else "",
            _fmt(r["ratio"], "x") if "ratio" in r else "",
            _fmt(r["difference_s"]) if "difference_s" in r else "", target]) + " |")
    return "\n".join(rows) + "\n"


def _merged(new: list[dict[str, Any]], order: list[str], machine: dict[str, Any]
            ) -> list[dict[str, Any]]:
    """``new`` figures in place of their earlier values in latest.json (same machine)."""
    try:
        earlier = json.loads((RESULTS / "latest.json").read_text())
    except (OSError, ValueError):
        return new
    if earlier.get("machine") != machine:
        return new
    by_name = {f["name"]: f for f in earlier.get("figures", [])} | {f["name"]: f for f in new}
    return sorted(by_name.values(), key=lambda f: order.index(f["name"])
                  if f["name"] in order else len(order))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="Counted runs of each figure.")
    parser.add_argument("--only", nargs="*", help="Figures to run (default: all).")
    parser.add_argument("--wide", action="store_true", help="Add the 26-qubit figure.")
    parser.add_argument("--no-docker", action="store_true", help="Skip the Docker figure.")
    args = parser.parse_args()
    chosen = [f for f in figures(args.runs, args.wide)
              if (not args.only or f.name in args.only)
              and not (args.no_docker and f.name == "docker-warm")]
    now = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    results = [{**measure(f), "date": now} for f in chosen]
    machine = {"cpus": len(os.sched_getaffinity(0)), "python": platform.python_version(),
               "platform": platform.platform()}
    RESULTS.mkdir(parents=True, exist_ok=True)
    if args.only:  # the figures not run keep their last values (each figure has its date)
        results = _merged(results, [f.name for f in figures(args.runs, True)], machine)
    doc = {"date": now, "machine": machine, "figures": results}
    (RESULTS / "latest.json").write_text(json.dumps(doc, indent=1) + "\n")
    md = (f"# make bench, {doc['date']}\n\n{machine['cpus']} cores, Python "
          f"{machine['python']}, {machine['platform']}. Wall times of whole processes, "
          "min / median / max over the runs; ratio and difference pair by pair (measured "
          "over anchor). Each figure's date is in latest.json.\n\n" + table(results))
    (RESULTS / "latest.md").write_text(md)
    print(md)
    print(f"results: {RESULTS / 'latest.json'}, {RESULTS / 'latest.md'}")


if __name__ == "__main__":
    main()
