"""The batch learns that an evaluation left its build phase from its progress log, reading
only what the log gained since it last looked."""

from __future__ import annotations

from pathlib import Path

from harness.batch.worker import RunningWatch, log_path


def test_found_once_the_execute_phase_is_logged_even_split_across_reads(tmp_path: Path) -> None:
    watch = RunningWatch(tmp_path)
    assert not watch.started()  # no log yet
    log = log_path(tmp_path)
    log.write_text("[   0.1 s] load deposit\n[   0.2 s] build environment " + "x" * 10_000 + "\n")
    assert not watch.started()
    with log.open("a") as fh:
        fh.write("[   3.0 s] exe")
    assert not watch.started()
    assert watch.offset == log.stat().st_size  # what was read is not read again
    with log.open("a") as fh:
        fh.write("cute 6 circuit runs\n")
    assert watch.started()


def test_a_later_phase_counts_too(tmp_path: Path) -> None:
    log_path(tmp_path).write_text("[   0.1 s] load\n[   9.0 s] compare 13 claims\n")
    assert RunningWatch(tmp_path).started()
