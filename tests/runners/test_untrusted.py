"""The work directory is untrusted after the agent ran: links are never followed."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from harness.errors import AgentError
from runners.untrusted import fresh_dir, read_text, write_text


def test_write_replaces_a_planted_link_instead_of_following_it(tmp_path: Path) -> None:
    target = tmp_path / "host-file"
    target.write_text("precious")
    link = tmp_path / "agent.log"
    os.symlink(target, link)
    write_text(link, "log")
    assert target.read_text() == "precious"
    assert not link.is_symlink() and link.read_text() == "log"


def test_read_refuses_links_and_oversized_files(tmp_path: Path) -> None:
    (tmp_path / "secret").write_text("s")
    os.symlink(tmp_path / "secret", tmp_path / "result.json")
    with pytest.raises(AgentError, match="safely"):
        read_text(tmp_path / "result.json")
    (tmp_path / "big").write_bytes(b"x" * 11)
    with pytest.raises(AgentError, match="larger than 10 bytes"):
        read_text(tmp_path / "big", limit=10)


def test_fresh_dir_removes_links_without_touching_targets(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "keep").write_text("k")
    work = tmp_path / "work"
    os.symlink(outside, work)
    fresh_dir(work)
    assert work.is_dir() and not work.is_symlink() and not any(work.iterdir())
    assert (outside / "keep").read_text() == "k"
    os.symlink(outside / "keep", work / "planted")
    fresh_dir(work)
    assert (outside / "keep").read_text() == "k" and not any(work.iterdir())
