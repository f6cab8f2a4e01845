"""Runner names -> classes, with the helpful error for unknown names."""

from __future__ import annotations

from typing import Any

from harness.errors import not_found
from runners.base import Runner
from runners.local import LocalRunner

RUNNERS: dict[str, type[Runner]] = {"local": LocalRunner}


def get_runner(name: str, **options: Any) -> Runner:
    try:
        cls = RUNNERS[name]
    except KeyError:
        raise not_found("runner", name, list(RUNNERS)) from None
    return cls(**options)
