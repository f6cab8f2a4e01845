"""What a module imports when it is loaded: the imports at its top level (not inside a
function, not under ``if TYPE_CHECKING:``), followed through qrepro's own modules. A static
contract for what must stay lazy (heavy packages imported only by the functions that use
them), read from the source instead of a fresh interpreter per question."""

from __future__ import annotations

import ast
from collections.abc import Iterable
from functools import cache
from pathlib import Path

from tests.conftest import ROOT

OWN = ("harness", "runners", "reports")


def source_of(module: str) -> Path | None:
    """The file of one of qrepro's modules (None for anything else)."""
    if module.split(".")[0] not in OWN:
        return None
    base = ROOT.joinpath(*module.split("."))
    for path in (base.with_suffix(".py"), base / "__init__.py"):
        if path.is_file():
            return path
    return None


def _top_level(body: Iterable[ast.stmt]) -> Iterable[ast.Import | ast.ImportFrom]:
    for node in body:
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node
        elif isinstance(node, ast.If):
            if "TYPE_CHECKING" not in ast.unparse(node.test):
                yield from _top_level(node.body)
            yield from _top_level(node.orelse)
        elif isinstance(node, ast.Try):
            for block in (node.body, node.orelse, node.finalbody,
                          *(h.body for h in node.handlers)):
                yield from _top_level(block)
        elif isinstance(node, ast.With):
            yield from _top_level(node.body)


@cache
def direct(module: str) -> frozenset[str]:
    """Modules ``module`` imports at load time: each dotted name and its parents."""
    path = source_of(module)
    if path is None:
        return frozenset()
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()
    for node in _top_level(ast.parse(path.read_text(encoding="utf-8")).body):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        else:
            base = node.module or ""
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parts, *([base] if base else [])])
            names = [base, *(f"{base}.{a.name}" for a in node.names)]
        for name in names:
            parts = name.split(".")
            found.update(".".join(parts[:i]) for i in range(1, len(parts) + 1))
    return frozenset(found)


def loaded_by(*modules: str) -> set[str]:
    """Every module loading ``modules`` imports, through qrepro's own modules (a third-party
    package's own imports are not followed: the start-up test covers those)."""
    seen: set[str] = set()
    pending = list(modules)
    while pending:
        module = pending.pop()
        if module in seen:
            continue
        seen.add(module)
        pending.extend(direct(module) - seen)
    return seen
