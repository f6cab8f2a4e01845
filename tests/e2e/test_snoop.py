"""The snooping notebook under the runners that need no Docker engine (bwrap, local).

Driven through the console script as a user runs it; the Docker variants are in
tests/docker/test_snoop_docker.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from runners.bwrap import bwrap_problem
from tests.snoop import SECRET_VAR, SnoopRun

pytestmark = pytest.mark.e2e


def test_bwrap_lets_the_notebook_see_nothing_of_the_host(tmp_path: Path) -> None:
    problem = bwrap_problem()
    if problem is not None:
        pytest.skip(problem)
    run = SnoopRun(tmp_path, ["--runner", "bwrap"])
    assert run.report["environment"]["runner"] == "bwrap", run.proc.stderr[-2000:]
    run.assert_host_untouched()
    run.assert_child_gone()
    assert "not-sandboxed" not in run.finding_codes()
    assert run.proc.returncode in (0, 1), run.proc.stderr[-2000:]


def test_local_scrubs_the_environment_kills_the_child_and_says_not_sandboxed(
        tmp_path: Path) -> None:
    run = SnoopRun(tmp_path, ["--runner", "local"])
    m = run.metrics()
    assert m["secret_env"] == 0.0, f"{SECRET_VAR} reached the notebook"
    import os

    ours = {"PATH", "LANG", "HOME", "TMPDIR", "PYTHONHASHSEED", "PYTHONDONTWRITEBYTECODE",
            "PYTHONNOUSERSITE", "MPLCONFIGDIR", "CUDA_VISIBLE_DEVICES", "LD_LIBRARY_PATH",
            "TERM"}  # TERM: set by the Jupyter kernel manager itself
    leaked = {n for n in m["env_names"] if n in os.environ and n not in ours}
    assert not leaked, f"the caller's environment reached the notebook: {sorted(leaked)}"
    run.assert_child_gone()
    assert "not-sandboxed" in run.finding_codes()
    assert "not sandboxed" in run.proc.stderr
    confinement = run.report["environment"]["details"]["confinement"]
    assert SECRET_VAR not in confinement["environment_passed"]
    assert confinement["limits"]["wall_clock_s"] > 0
    # the local runner cannot stop a caller-rights write to the original deposit; the
    # end-of-run check must catch it and take Available away
    if m["readme_appended"]:
        assert run.deposit_changed()
        assert "deposit-changed" in run.finding_codes()
        assert not run.report["badges"]["available"]
