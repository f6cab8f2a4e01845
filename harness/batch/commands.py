"""``qrepro batch`` and ``qrepro ledger`` (registered by harness.cli)."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

import click

from harness.console.extras import require
from harness.console.failing import EXIT_DENIED, EXIT_INTERRUPTED, fail, terminate_as_interrupt
from harness.console.options import runner_options
from harness.errors import QreproError
from harness.wording import plural

#: evaluate options a batch forwards to every evaluation (when not at their default)
FORWARD = ("runner", "device", "base_image", "forward_ca", "no_forward_ca", "installer",
           "rebuild", "network", "user", "writable_root", "keep_capabilities", "memory",
           "cpus", "pids_limit", "timeout_s", "disk", "seed", "fresh_seeds", "seed_policy",
           "smoke", "policy")
#: of those, what changes a result (the options digest; a change means a new evaluation)
DECISIVE = ("runner", "device", "seed", "fresh_seeds", "seed_policy", "smoke", "policy")


def forwarded(ctx: click.Context, values: dict[str, Any]) -> tuple[str, ...]:
    """The command-line arguments that give an evaluation these option values."""
    args: list[str] = []
    for param in ctx.command.params:
        if not isinstance(param, click.Option) or param.name not in FORWARD:
            continue
        value = values.get(param.name)
        if value == param.default or value is None:
            continue
        if param.is_flag:
            if value:
                args.append(param.opts[0])
        else:
            args += [param.opts[0], str(value)]
    return tuple(args)


def batch_command() -> click.Command:
    @click.command("batch")
    @click.argument("submissions", type=click.Path(exists=True, path_type=Path))
    @click.option("--out", required=True, type=click.Path(path_type=Path),
                  help="Output folder: one folder per submission, summary.*, ledger.sqlite.")
    @click.option("--jobs", default=1, show_default=True, type=click.IntRange(1, 256),
                  help="Evaluations at once (lowered when the host's CPUs or memory cannot "
                  "hold that many sandboxes of --cpus and --memory).")
    @click.option("--budget", default=None,
                  help="Wall-clock budget per submission (90s, 30m, 2h); past it the "
                  "evaluation is stopped with error.kind timeout and the batch goes on.")
    @click.option("--retry", type=click.Choice(["failed"]), default=None,
                  help="Also evaluate again the submissions whose last evaluation erred.")
    @click.option("--ledger", "ledger_url", default=None,
                  help="SQLAlchemy URL of the ledger (default sqlite:///OUT/ledger.sqlite).")
    @click.option("--cluster", default=None,
                  help="Dask: tcp://SCHEDULER:8786, or local:N for a LocalCluster of N "
                  "workers on this machine.")
    @click.option("--progress", type=click.Choice(["auto", "rich", "plain", "none"]),
                  default="auto", show_default=True,
                  help="auto: bars on a terminal, nothing otherwise; plain: one line per "
                  "finished submission (CI logs).")
    @runner_options
    @click.option("--seed", default=0, show_default=True, help="Seed of the statistical tests.")
    @click.option("--fresh-seeds", default=0, show_default=True, type=click.IntRange(0, 1000),
                  help="As for evaluate.")
    @click.option("--seed-policy", type=click.Choice(["strict", "report"]), default="strict",
                  show_default=True, help="As for evaluate.")
    @click.option("--smoke", is_flag=True,
                  help="Kick the tires (as for evaluate): Available and Functional only.")
    @click.option("--policy", default="acm-v1.1", show_default=True,
                  help="The venue's badges, as for evaluate; a list's badges column may "
                  "name them.")
    @click.pass_context
    def batch_cmd(ctx: click.Context, /, submissions: Path, out: Path, jobs: int,
                  budget: str | None, retry: str | None, ledger_url: str | None,
                  cluster: str | None, progress: str, **kw: Any) -> None:
        """Evaluate every deposit of SUBMISSIONS (a folder of deposits and archives, or a
        .csv / .yaml list: id, path, badges, runner, device, budget, fresh_seeds, seed)."""
        try:
            require_extras("qrepro batch", ledger_url, cluster)
        except QreproError as exc:
            fail(exc)
            return
        from harness.batch.ledger import Ledger
        from harness.batch.run import BatchOptions, LocalExecutor, run_batch, slots_for
        from harness.batch.submissions import load_submissions, parse_duration
        from harness.console.progress import Reporter
        from harness.policies import load_policy
        from reports.summary import write_summary

        try:
            venue = load_policy(kw["policy"])
            subs = load_submissions(submissions, venue)
            options = BatchOptions(
                out=out, evaluate_args=forwarded(ctx, kw),
                decisive={k: kw.get(k) for k in DECISIVE},  # + harness version: plan()
                jobs=jobs, cpus=kw["cpus"], memory=kw["memory"],
                budget_s=parse_duration(budget) if budget else None,
                retry_failed=retry == "failed")
            ledger = (Ledger(ledger_url) if ledger_url else Ledger.for_dir(out))
            if cluster:
                from harness.batch.cluster import DaskExecutor
                executor: Any = DaskExecutor(cluster)
            else:
                slots, why = slots_for(jobs, kw["cpus"], kw["memory"])
                if why:
                    click.echo(f"qrepro: {why}", err=True)
                executor = LocalExecutor(slots)
        except QreproError as exc:
            fail(exc)
            return
        start = time.monotonic()
        reporter = Reporter(progress, total=len(subs))
        try:
            with ledger, reporter, terminate_as_interrupt():
                rows = run_batch(subs, options, ledger, executor, on_done=reporter.done)
                write_summary(rows, out, smoke=kw["smoke"], policy=venue)
        except KeyboardInterrupt:
            click.echo("qrepro: batch interrupted; run the same command again to finish it",
                       err=True)
            sys.exit(EXIT_INTERRUPTED)
        except QreproError as exc:
            fail(exc)
            return
        finally:
            executor.close()
        states = [r.state for r in rows]
        click.echo(f"{plural(len(rows), 'submission')} in {time.monotonic() - start:.0f} s: "
                   + ", ".join(f"{states.count(s)} {s}" for s in sorted(set(states))))
        click.echo(f"summary: {out / 'summary.md'}")
        if any(s != "done" for s in states):
            sys.exit(EXIT_DENIED)

    return batch_cmd


@click.command("ledger")
@click.argument("out", type=click.Path(path_type=Path))
@click.option("--ledger", "ledger_url", default=None, help="SQLAlchemy URL (default: OUT's).")
@click.option("--csv", "csv_path", type=click.Path(path_type=Path), default=None,
              help="Also export every evaluation to this CSV file.")
def ledger_cmd(out: Path, ledger_url: str | None, csv_path: Path | None) -> None:
    """Print the batch ledger of OUT: state counts, the slowest, the failed with reasons."""
    try:
        require_extras("qrepro ledger", ledger_url, None)
    except QreproError as exc:
        fail(exc)
        return
    from harness.batch.ledger import LEDGER_NAME, Ledger

    if ledger_url is None and not (out / LEDGER_NAME).is_file():
        raise click.UsageError(f"no ledger at {out / LEDGER_NAME}")
    with (Ledger(ledger_url) if ledger_url else Ledger.for_dir(out)) as ledger:
        click.echo(ledger.table())
        if csv_path is not None:
            click.echo(f"csv: {ledger.to_csv(csv_path)}")


def require_extras(command: str, ledger_url: str | None, cluster: str | None) -> None:
    """The extras a batch command needs: batch (the ledger) always, cluster for --cluster,
    postgres for a PostgreSQL ledger; MissingExtra names the first one missing."""
    require("batch", command)
    if cluster:
        require("cluster", f"{command} --cluster")
    if ledger_url and ledger_url.lower().startswith("postgresql"):
        require("postgres", f"{command} --ledger {ledger_url.split(':', 1)[0]}://...")
