"""Reading an author's notebooks: their cells, their Python, and the parameters cell.

Cells are numbered from 1 over all cells (markdown included), as a person counts them
top-down in Jupyter. IPython magics (``%time``, ``%%capture``) and shell escapes (``!pip``)
are blanked before parsing, so line numbers stay those of the cell; a cell that still does
not parse (``%%bash``) is not Python and is skipped.
"""

from __future__ import annotations

import ast
import re
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.errors import AuthoringError

PARAMETERS_TAG = "parameters"
#: names qrepro injects into the parameters cell (docs/notebooks.md)
INJECTED = ("seed", "shots", "device", "noise_model_path", "output_dir")
#: folders whose notebooks are copies, not the author's (Jupyter's autosaves)
SKIPPED_DIRS = frozenset({".ipynb_checkpoints"})
#: notebook names that are executed copies (papermill output), not sources
_EXECUTED = re.compile(r"[._-](executed|output|out|nbconvert)\.ipynb$", re.IGNORECASE)
_MAGIC = re.compile(r"^\s*[%!]")


@dataclass(frozen=True)
class Cell:
    notebook: str
    number: int
    kind: str
    source: str
    tags: tuple[str, ...] = ()

    def tree(self) -> ast.Module | None:
        """The cell's Python (magics blanked), or None for a cell that is not Python."""
        if self.kind != "code":
            return None
        text = "\n".join("" if _MAGIC.match(line) else line for line in self.source.split("\n"))
        try:
            return ast.parse(text)
        except SyntaxError:
            return None

    @property
    def where(self) -> str:
        return f"cell {self.number} of {self.notebook}"


def is_source_notebook(rel: str) -> bool:
    """A notebook the author wrote: not a checkpoint, not an executed copy."""
    parts = rel.split("/")
    return (rel.endswith(".ipynb") and not SKIPPED_DIRS.intersection(parts[:-1])
            and not _EXECUTED.search(parts[-1]))


def read_cells(root: Path, rel: str) -> list[Cell]:
    """Every cell of the notebook ``root / rel``; AuthoringError when it is no notebook."""
    import nbformat

    try:
        with warnings.catch_warnings():  # nbformat's notes on old notebooks (cell ids)
            warnings.simplefilter("ignore")
            nb: Any = nbformat.read(root / rel, as_version=4)  # type: ignore[no-untyped-call]
    except (OSError, ValueError, KeyError) as exc:  # unreadable, not JSON, not a notebook
        raise AuthoringError(f"not a readable notebook: {exc}", file=rel) from exc
    return [
        Cell(rel, i, str(cell.get("cell_type", "")), _text(cell.get("source", "")),
             tuple(str(t) for t in cell.get("metadata", {}).get("tags", ())))
        for i, cell in enumerate(nb.cells, start=1)
    ]


def _text(source: str | list[str]) -> str:
    return source if isinstance(source, str) else "".join(source)


def first_heading(cells: list[Cell]) -> str | None:
    """The text of the first markdown heading (``# Title``), if any."""
    for cell in cells:
        if cell.kind != "markdown":
            continue
        for line in cell.source.splitlines():
            match = re.match(r"^\s*#{1,6}\s+(.+?)\s*#*\s*$", line)
            if match:
                return match.group(1)
    return None


def literal_assignments(tree: ast.Module) -> dict[str, Any] | None:
    """``name -> value`` when every statement assigns a literal to a plain name (seed = 11,
    shots = 1024, name = "x", layers = [2, 3]); None when any statement does more."""
    values: dict[str, Any] = {}
    for stmt in tree.body:
        targets = (stmt.targets if isinstance(stmt, ast.Assign)
                   else [stmt.target] if isinstance(stmt, ast.AnnAssign) else [])
        value = stmt.value if isinstance(stmt, ast.Assign | ast.AnnAssign) else None
        if value is None or not targets or not all(isinstance(t, ast.Name) for t in targets):
            return None
        try:
            literal = ast.literal_eval(value)
        except ValueError:
            return None
        values.update({t.id: literal for t in targets if isinstance(t, ast.Name)})
    return values or None


@dataclass(frozen=True)
class ParametersCell:
    cell: Cell
    tagged: bool
    values: dict[str, Any]


def parameters_cell(cells: list[Cell]) -> ParametersCell | None:
    """The cell tagged ``parameters``; else the one to tag: the first code cell that only
    assigns literals. Values: that cell's literal assignments."""
    for cell in cells:
        if PARAMETERS_TAG in cell.tags:
            tree = cell.tree()
            return ParametersCell(cell, True, _literals(tree) if tree else {})
    for cell, tree in code_trees(cells):
        values = literal_assignments(tree)
        if values is not None:
            return ParametersCell(cell, False, values)
    return None


def _literals(tree: ast.Module) -> dict[str, Any]:
    """The literal assignments of a cell that may also do other things."""
    single = (literal_assignments(ast.Module(body=[stmt], type_ignores=[]))
              for stmt in tree.body)
    return {k: v for values in single if values for k, v in values.items()}


def code_trees(cells: list[Cell]) -> Iterator[tuple[Cell, ast.Module]]:
    """Each code cell that parses as Python, with its tree."""
    for cell in cells:
        tree = cell.tree()
        if tree is not None:
            yield cell, tree
