"""What the notebooks need and where they seed: imports -> exactly pinned distributions, and
the calls that take a seed.

Imports are read with :mod:`ast` from the code cells. Top-level modules are mapped to the
distributions that provide them with ``importlib.metadata.packages_distributions()`` in the
author's environment: the Python running qrepro, or another interpreter (``--python``), asked
once in a subprocess so that both are read the same way.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from harness.authoring.notebooks import Cell, code_trees
from harness.errors import AuthoringError
from harness.intake.versions import canonical_name

#: run in the author's interpreter: its minor version, module -> distributions, versions
_PROBE = """
import importlib.metadata as m, json, sys
versions = {}
for d in m.distributions():
    name = d.metadata["Name"]
    if name:
        versions.setdefault(name, d.version)
print(json.dumps({"python": "%d.%d" % sys.version_info[:2],
                  "modules": m.packages_distributions(), "versions": versions,
                  "stdlib": sorted(getattr(sys, "stdlib_module_names", ()))}))
"""


@dataclass(frozen=True)
class Interpreter:
    """The author's environment as qrepro init sees it."""

    executable: str
    python: str
    modules: dict[str, list[str]]
    versions: dict[str, str]
    stdlib: frozenset[str]

    def version(self, distribution: str) -> str | None:
        return self.versions.get(canonical_name(distribution))

    def pin(self, distribution: str) -> str | None:
        """``name==version`` of an installed distribution (canonical name), else None."""
        version = self.version(distribution)
        return f"{canonical_name(distribution)}=={version}" if version else None


def probe(executable: str | None = None) -> Interpreter:
    """Ask ``executable`` (default: the Python running qrepro) what it has installed."""
    exe = executable or sys.executable
    try:
        with tempfile.TemporaryDirectory() as cwd:  # no local module shadows a distribution
            proc = subprocess.run([exe, "-c", _PROBE], capture_output=True, text=True,
                                  timeout=120, cwd=cwd, check=False)
        data = json.loads(proc.stdout) if proc.returncode == 0 else None
    except (OSError, subprocess.TimeoutExpired, json.JSONDecodeError) as exc:
        raise AuthoringError(f"cannot ask {exe} for its packages: {exc}",
                             field="--python") from exc
    if data is None:
        last = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        raise AuthoringError(f"cannot ask {exe} for its packages (Python >= 3.10 needed): "
                             f"{last}", field="--python")
    return Interpreter(
        executable=exe, python=data["python"],
        modules={k: list(v) for k, v in data["modules"].items()},
        versions={canonical_name(k): v for k, v in data["versions"].items()},
        stdlib=frozenset(data["stdlib"]))


# --- imports ---------------------------------------------------------------------------


def imported_modules(cells: Iterable[Cell]) -> dict[str, Cell]:
    """Top-level modules the cells import (absolute imports and the modules of magics such
    as ``%matplotlib``), each with its first cell."""
    cells = list(cells)
    found: dict[str, Cell] = {}
    for cell, tree in code_trees(list(cells)):
        for node in ast.walk(tree):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module] if isinstance(node, ast.ImportFrom)
                     and node.module and node.level == 0 else [])
            for name in names:
                found.setdefault(name.split(".")[0], cell)
    for cell in cells:  # modules that IPython magics import (``%matplotlib inline``)
        for line in cell.source.splitlines():
            module = MAGIC_MODULES.get(line.strip().lstrip("%").split(" ")[0])
            if cell.kind == "code" and line.lstrip().startswith("%") and module:
                found.setdefault(module, cell)
    return found


#: line magics that import a module of their own
MAGIC_MODULES = {"matplotlib": "matplotlib", "pylab": "matplotlib"}


def local_modules(files: Iterable[str]) -> set[str]:
    """Modules the folder itself provides (``helpers.py``, ``mylib/__init__.py``)."""
    names: set[str] = set()
    for rel in files:
        path = Path(rel)
        if path.suffix == ".py":
            names.add(path.parent.name if path.name == "__init__.py" else path.stem)
    return names


@dataclass
class Pins:
    """Exact pins, and what could not be pinned (module -> the cell that imports it)."""

    requirements: list[str] = field(default_factory=list)
    unresolved: dict[str, str] = field(default_factory=dict)

    def add(self, pin: str) -> None:
        if pin not in self.requirements:
            self.requirements.append(pin)


def pins_for(modules: dict[str, Cell], interp: Interpreter, local: set[str]) -> Pins:
    """``name==version`` for every distribution providing an imported third-party module."""
    pins = Pins()
    for module in sorted(modules):
        if module in interp.stdlib or module in local or module == "__future__":
            continue
        distributions = interp.modules.get(module, [])
        resolved = [p for p in (interp.pin(d) for d in distributions) if p]
        if not resolved:
            pins.unresolved[module] = modules[module].where
        for pin in resolved:
            pins.add(pin)
    return pins


# --- seeds -----------------------------------------------------------------------------

#: keyword arguments that take a seed
SEED_KEYWORDS = frozenset({"seed_simulator", "seed_transpiler", "random_state"})
#: calls whose first argument is the seed: default_rng(, torch.manual_seed(
SEED_FUNCTIONS = frozenset({"default_rng", "manual_seed"})
SeedState = Literal["from a variable", "hard-coded", "unseeded"]


@dataclass(frozen=True)
class SeedUse:
    cell: Cell
    line: int
    text: str
    state: SeedState

    def describe(self) -> str:
        advice = {"hard-coded": " (hard-coded: derive it from `seed`)",
                  "unseeded": " (no seed: pass one derived from `seed`)"}.get(self.state, "")
        return f"{self.cell.notebook} cell {self.cell.number} line {self.line}: {self.text}{advice}"


def _dotted(node: ast.expr) -> str:
    if isinstance(node, ast.Attribute):
        return f"{_dotted(node.value)}.{node.attr}"
    return node.id if isinstance(node, ast.Name) else ""


def _seed_state(call: ast.Call) -> SeedState | None:
    """How a call is seeded, or None when it takes no seed."""
    parts = _dotted(call.func).split(".")
    for kw in call.keywords:
        if kw.arg in SEED_KEYWORDS or (kw.arg == "seed" and parts[-1] == "device"):
            return "hard-coded" if isinstance(kw.value, ast.Constant) else "from a variable"
    if parts[-1] in SEED_FUNCTIONS or parts[-2:] == ["random", "seed"]:
        if not call.args:
            return "unseeded"
        return "hard-coded" if isinstance(call.args[0], ast.Constant) else "from a variable"
    return None


def seed_uses(cells: Iterable[Cell]) -> list[SeedUse]:
    """Every call that takes a seed: ``seed_simulator=``, ``seed_transpiler=``,
    ``random_state=``, ``np.random.seed(``, ``default_rng(``, ``torch.manual_seed(`` and a
    PennyLane ``qml.device(..., seed=)``."""
    uses: list[SeedUse] = []
    for cell, tree in code_trees(list(cells)):
        for node in ast.walk(tree):
            state = _seed_state(node) if isinstance(node, ast.Call) else None
            if state is None:
                continue
            assert isinstance(node, ast.Call)
            segment = ast.get_source_segment(cell.source, node) or _dotted(node.func)
            uses.append(SeedUse(cell, node.lineno, " ".join(segment.split())[:100], state))
    return sorted(uses, key=lambda u: (u.cell.notebook, u.cell.number, u.line))
