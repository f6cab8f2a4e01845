"""Exit codes are the error classes' own (``QreproError.exit_code``): harness.console.failing is
the one place that maps them, and docs/cli.md's table of error kinds is made from them."""

from __future__ import annotations

import pytest

from harness.console.failing import EXIT_OK, exit_code_of
from harness.errors import (
    AgentError,
    ArchiveError,
    Interrupted,
    MemoryPlanError,
    QreproError,
    error_class,
)
from tests.conftest import ROOT


def error_classes() -> list[type[QreproError]]:
    """QreproError and every subclass harness/errors.py defines, a parent before its own."""
    found: list[type[QreproError]] = [QreproError]
    for cls in found:
        found += [c for c in cls.__subclasses__() if c.__module__ == "harness.errors"]
    return found


def kinds_table() -> str:
    """The table of docs/cli.md#exit-codes: which report ``error.kind`` exits with what."""
    codes: dict[int, list[str]] = {}
    for cls in error_classes():
        codes.setdefault(cls.exit_code, []).append(f"`{cls.kind}`")
    rows = [f"| {code} | {', '.join(kinds)} |" for code, kinds in sorted(codes.items())]
    return "\n".join(["| exit code | `error.kind` |", "|---|---|", *rows])


def test_docs_list_the_exit_code_of_every_error_kind() -> None:
    docs = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    assert kinds_table() in docs, f"docs/cli.md#exit-codes should hold:\n{kinds_table()}"


@pytest.mark.parametrize(("kind", "code"), [
    ("deposit", 3), ("archive", 3), ("manifest", 3),
    ("runner", 4), ("runner-unavailable", 4), ("build", 4), ("agent", 4),
    ("noise-model", 5), ("circuit", 5), ("memory", 5), ("attestation", 5), ("error", 5),
    ("timeout", 5), ("interrupted", 130),
])
def test_a_report_error_kind_exits_as_its_class(kind: str, code: int) -> None:
    assert exit_code_of(kind) == code


def test_an_error_exits_with_its_class_code() -> None:
    assert exit_code_of(None) == EXIT_OK
    assert exit_code_of(ArchiveError("x")) == 3
    assert exit_code_of(AgentError("x")) == 4
    assert exit_code_of(MemoryPlanError("x")) == 5
    assert exit_code_of(Interrupted("x")) == 130
    assert error_class("timeout") is QreproError  # a batch's kind: no class of its own
