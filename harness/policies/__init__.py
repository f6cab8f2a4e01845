"""Venue badge policies (``--policy``): which badges a venue awards, their names and colours,
and which of qrepro's four decisions (available, functional, reusable, reproduced) each
needs. The policies shipped live in ``harness/policies/*.yaml``; a venue can pass its own
file. Format: docs/badges.md, Venue policies."""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from harness.errors import PolicyError
from harness.models import BADGE_KEYS, BadgeDecision, BadgeKey, PolicyResult, VenueBadge

POLICY_DIR = Path(__file__).parent
DEFAULT_POLICY = "acm-v1.1"
#: short names a committee types
ALIASES = {"acm": "acm-v1.1", "sysartifacts": "usenix", "niso": "niso-rp-31"}
_COLOR = re.compile(r"^#[0-9A-Fa-f]{6}$")
_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,39}$")


class BadgeRule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    name: str = Field(min_length=1, max_length=80)
    #: abbreviation in results tables (A, F, R, RR); the id when absent
    short: str | None = Field(default=None, min_length=1, max_length=8)
    color: str = "#44cc11"
    requires: tuple[BadgeKey, ...]
    #: set for a badge no rerun can decide: why (it is then never awarded)
    undecided: str | None = None

    @field_validator("id")
    @classmethod
    def _id(cls, v: str) -> str:
        if not _ID.match(v):
            raise ValueError("lower-case letters, digits and '-', at most 40 characters")
        return v

    @field_validator("color")
    @classmethod
    def _color(cls, v: str) -> str:
        if not _COLOR.match(v):
            raise ValueError("a colour is #RRGGBB")
        return v


    @property
    def abbreviation(self) -> str:
        return self.short or self.id

    def missing(self, decisions: Mapping[str, bool]) -> list[BadgeKey]:
        """The qrepro decisions this badge needs that were not awarded."""
        return [k for k in self.requires if not decisions.get(k)]


class Policy(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    title: str
    url: str | None = None
    badges: tuple[BadgeRule, ...] = Field(min_length=1)

    @field_validator("badges")
    @classmethod
    def _unique(cls, v: tuple[BadgeRule, ...]) -> tuple[BadgeRule, ...]:
        ids = [b.id for b in v]
        if len(set(ids)) != len(ids):
            raise ValueError(f"badge ids repeat: {', '.join(sorted(ids))}")
        for b in v:
            if not b.requires and b.undecided is None:
                raise ValueError(f"badge {b.id} requires nothing: list qrepro decisions "
                                 f"({', '.join(BADGE_KEYS)}) or say why it is undecided")
        return v

    def apply(self, decision: BadgeDecision) -> PolicyResult:
        return PolicyResult(name=self.name, title=self.title, url=self.url,
                            badges=tuple(_decide(rule, decision) for rule in self.badges))


def _decide(rule: BadgeRule, decision: BadgeDecision) -> VenueBadge:
    if rule.undecided is not None:
        return VenueBadge(id=rule.id, name=rule.name, color=rule.color, requires=rule.requires,
                          decided=False, awarded=False, reasons=(f"not decided: {rule.undecided}",))
    missing = rule.missing({k: getattr(decision, k) for k in BADGE_KEYS})
    awarded = not missing
    keys = rule.requires if awarded else tuple(missing)
    reasons: list[str] = []
    for key in keys:
        for reason in decision.reasons.get(key, []):
            if reason not in reasons:
                reasons.append(reason)
    return VenueBadge(id=rule.id, name=rule.name, color=rule.color, requires=rule.requires,
                      awarded=awarded, reasons=tuple(reasons))


def shipped() -> list[str]:
    """Names of the policies shipped with qrepro."""
    return sorted(p.stem for p in POLICY_DIR.glob("*.yaml"))


def load_policy(name_or_path: str | Path = DEFAULT_POLICY) -> Policy:
    """A shipped policy by name (acm-v1.1, usenix, ndss, ieee, niso-rp-31, or an alias),
    or a venue's own YAML file."""
    text = str(name_or_path)
    name = ALIASES.get(text, text)
    path = POLICY_DIR / f"{name}.yaml"
    if not path.is_file():
        path = Path(text)
        if not path.is_file():
            raise PolicyError(f"no policy named '{text}' (shipped: {', '.join(shipped())}) and "
                              "no such file", field="--policy")
    try:
        data: Any = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise PolicyError(f"cannot be read: {' '.join(str(exc).split())}",
                          file=str(path)) from exc
    if not isinstance(data, dict):
        raise PolicyError("a policy is a mapping with name, title and badges", file=str(path))
    try:
        return Policy.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = ".".join(str(p) for p in err["loc"]) or None
        raise PolicyError(err["msg"], file=str(path), field=loc) from exc
