"""An evaluation attempt as plain data: its states, the moves between them, and :class:`Row`,
what the ledger returns (never an ORM object) and the summary, the table and the CSV read.

An attempt only moves forward, and a final state (done, error, interrupted) never changes::

    queued --> building --> running --> done
      |           |            |
      +-----------+------------+------> error         (deposit unreadable, build or run failed)
      +-----------+------------+------> interrupted   (Ctrl-C, or found by recover())
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any, Final, Literal, get_args

State = Literal["queued", "building", "running", "done", "error", "interrupted"]
STATES: Final[tuple[str, ...]] = get_args(State)
ACTIVE: Final = ("queued", "building", "running")
FINAL: Final = frozenset({"done", "error", "interrupted"})
NEXT: Final[Mapping[str, frozenset[str]]] = {
    "queued": frozenset({"building", "error", "interrupted"}),
    "building": frozenset({"running", "error", "interrupted"}),
    "running": frozenset({"done", "error", "interrupted"}),
}
#: what ``mark`` may set besides the state (times, owner and ids are the ledger's own)


@dataclass(frozen=True)
class Row:
    """One evaluation attempt as plain data, detached from the database."""

    id: int
    submission: str
    title: str | None
    source: str
    deposit_digest: str | None
    options_digest: str
    harness_version: str
    state: str
    badges_requested: tuple[str, ...]
    badges_awarded: Mapping[str, bool] | None
    report_dir: str | None
    error_kind: str | None
    error_message: str | None
    queued_at: dt.datetime
    started_at: dt.datetime | None
    finished_at: dt.datetime | None
    wall_s: float | None
    owner: str

    @property
    def final(self) -> bool:
        return self.state in FINAL

    def reason(self) -> str:
        """``kind: message`` on one line (empty when the attempt recorded none)."""
        message = " ".join((self.error_message or "").split())
        return ": ".join(p for p in (self.error_kind, message) if p)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready: times in ISO 8601, badges as a list and a dict."""
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, dt.datetime):
                value = value.isoformat()
            elif isinstance(value, tuple):
                value = list(value)
            elif isinstance(value, Mapping):
                value = dict(value)
            out[f.name] = value
        return out


COLUMNS: Final = tuple(f.name for f in fields(Row))
