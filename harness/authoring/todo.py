"""What is left for the author to do, ordered by badge impact.

Each to-do names the field to change, the fix (:mod:`harness.authoring.fixes`) and the badges
it blocks. The list is ordered by the first badge each item blocks, Available first, since
Functional builds on nothing, Reusable and Reproduced on Functional; items that block no
badge come last ("worth fixing").
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from harness.authoring.fixes import fix_sentence
from harness.intake.manifest import MANIFEST_NAME
from harness.intake.versions import installed_version
from harness.models import BADGE_KEYS, BadgeKey, Finding

#: how a to-do list names the badges
BADGE_WORDS: dict[BadgeKey, str] = {
    "available": "Available",
    "functional": "Functional",
    "reusable": "Reusable",
    "reproduced": "Reproduced",
}
ADVICE = "Worth fixing"


@dataclass(frozen=True)
class Todo:
    code: str
    fix: str
    blocks: tuple[BadgeKey, ...] = ()
    field: str | None = None
    file: str | None = None

    @property
    def rank(self) -> int:
        """Position of the first badge it blocks (len(BADGE_KEYS): blocks none)."""
        return min((BADGE_KEYS.index(b) for b in self.blocks), default=len(BADGE_KEYS))

    @property
    def heading(self) -> str:
        return BADGE_WORDS[BADGE_KEYS[self.rank]] if self.blocks else ADVICE

    def where(self) -> str:
        """``field F in qdata.yaml``, ``field F (file P)`` or ``file P``."""
        if self.field and self.file == MANIFEST_NAME:
            return f"field {self.field} in {MANIFEST_NAME}"
        if self.field:
            return f"field {self.field}" + (f" (file {self.file})" if self.file else "")
        return f"file {self.file}" if self.file else ""

    def lines(self, number: int) -> list[str]:
        also = [BADGE_WORDS[b] for b in BADGE_KEYS if b in self.blocks][1:]
        where = "; ".join(p for p in (self.where(), "also blocks " + ", ".join(also) if also
                                      else "") if p)
        return [f"{number:>2}. {self.heading}: {self.fix}", *([f"    {where}"] if where else [])]


def todo(code: str, blocks: Iterable[str] = (), *, field: str | None = None,
         file: str | None = None, **context: str) -> Todo | None:
    """A to-do from its code's fix sentence; None when the code leaves nothing to do."""
    fix = fix_sentence(code, {"file": file or "", "field": field or "", **context})
    keys = tuple(b for b in BADGE_KEYS if b in set(blocks))
    return Todo(code, fix, keys, field, file) if fix is not None else None


def ordered(todos: Iterable[Todo | None]) -> list[Todo]:
    """Blocking items by badge (Available first), then the rest; duplicates dropped."""
    unique = list(dict.fromkeys(t for t in todos if t is not None))
    return sorted(unique, key=lambda t: t.rank)


def render(todos: Sequence[Todo]) -> list[str]:
    """The numbered list, as printed."""
    return [line for i, t in enumerate(todos, start=1) for line in t.lines(i)]


# --- from findings ---------------------------------------------------------------------

_STEP = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def field_value(data: Any, path: str | None) -> Any:
    """The value at ``environment.requirements[3]`` in the raw manifest, or None."""
    node = data
    for name, index in _STEP.findall(path or ""):
        try:
            node = node[int(index)] if index else node[name]
        except (KeyError, IndexError, TypeError, ValueError):
            return None
    return node if path else None


def requirement_context(value: str) -> dict[str, str]:
    """``package`` and ``installed`` of a requirement line (for unpinned-requirement)."""
    from packaging.requirements import InvalidRequirement, Requirement

    try:
        name = Requirement(value).name
    except InvalidRequirement:
        return {}
    version = installed_version(name)
    installed = (f" ({name}=={version} is installed here)" if version is not None
                 else " (name==version, the version you ran)")
    return {"package": name, "installed": installed}


def finding_todo(f: Finding, manifest_data: Mapping[str, Any] | None = None) -> Todo | None:
    """The to-do of one finding: its fix sentence, field and blocked badges."""
    value = field_value(manifest_data, f.field) if manifest_data is not None else None
    context = {"message": f.message, "value": "" if value is None else str(value)}
    if f.code == "unpinned-requirement" and isinstance(value, str):
        context.update(requirement_context(value))
    return todo(f.code, f.blocks, field=f.field, file=f.file, **context)


def from_findings(findings: Iterable[Finding], manifest_data: Mapping[str, Any] | None = None,
                  severities: tuple[str, ...] = ("error", "warning")) -> list[Todo | None]:
    """A to-do for each finding of these severities (info findings are notes, not to-dos)."""
    return [finding_todo(f, manifest_data) for f in findings if f.severity in severities]
