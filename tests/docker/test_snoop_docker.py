"""The snooping notebook under Docker, through the console script with no options."""

from __future__ import annotations

from pathlib import Path

from tests.snoop import SnoopRun


def test_default_runner_is_docker_and_the_notebook_sees_nothing_of_the_host(
        tmp_path: Path, base_image: str) -> None:
    run = SnoopRun(tmp_path, [])  # no --runner: what a new user gets
    env = run.report["environment"]
    assert env is not None and env["runner"] == "docker", run.proc.stderr[-3000:]
    run.assert_host_untouched()
    run.assert_child_gone()
    assert "not-sandboxed" not in run.finding_codes()
    sandbox = env["details"]["sandbox"]
    assert sandbox["network"] == "none" and sandbox["read_only_root"]
    assert sandbox["cap_drop"] == ["ALL"] and sandbox["user"] != "0:0"
