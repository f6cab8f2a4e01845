"""The submissions of a call for artifacts: a folder of deposits and archives, or a CSV or
YAML list of them with per-submission options."""

from __future__ import annotations

import csv
import hashlib
import json
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from harness.errors import SubmissionError
from harness.intake.deposit_digest import deposit_digest
from harness.intake.extraction import ARCHIVE_SUFFIXES
from harness.intake.manifest import MANIFEST_NAME
from harness.intake.safe_yaml import load_yaml
from harness.models import BADGE_KEYS
from harness.policies import Policy

#: per-submission options a list may set (anything else is an error naming the field)
OPTION_FIELDS = ("runner", "device", "budget", "fresh_seeds", "seed")
#: a submission id: a file name of its own in --out, and a key the ledger holds (255 chars)
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$")
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smh]?)\s*$")


@dataclass(frozen=True)
class Submission:
    id: str
    source: Path
    badges: tuple[str, ...] = BADGE_KEYS
    options: dict[str, Any] = field(default_factory=dict)

    def digest(self, workdir: Path | None = None) -> str:
        """The deposit digest of what was submitted, the one its report carries
        (``deposit_sha256``): of a folder's files, or of the files an archive extracts to
        (extracted under ``workdir`` and removed again), never of the archive's bytes."""
        return deposit_digest(self.source, workdir)

    def options_digest(self, common: dict[str, Any]) -> str:
        """What decides the result besides the deposit: the batch's options and this
        submission's own (a change means a new evaluation)."""
        data = json.dumps({**common, **self.options, "badges": list(self.badges)},
                          sort_keys=True, default=str)
        return hashlib.sha256(data.encode()).hexdigest()

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["source"] = str(self.source)
        return out


def parse_duration(text: str | float | int, where: str = "--budget") -> float:
    """``90``, ``90s``, ``30m``, ``2h`` -> seconds."""
    if isinstance(text, int | float):
        seconds = float(text)
    else:
        m = _DURATION.match(str(text))
        if not m:
            raise SubmissionError(f"'{text}' is not a duration (e.g. 90s, 30m, 2h)", field=where)
        seconds = float(m.group(1)) * {"": 1, "s": 1, "m": 60, "h": 3600}[m.group(2)]
    if seconds <= 0:
        raise SubmissionError(f"a duration must be positive, not {text}", field=where)
    return seconds


def load_submissions(path: Path, policy: Policy | None = None) -> list[Submission]:
    """Every submission named by ``path`` (folder, .csv, .yaml/.yml), ids unique; badges
    named as qrepro or the venue ``policy`` names them."""
    if path.is_dir():
        subs = _folder(path)
    elif path.suffix == ".csv":
        subs = _table(_csv_rows(path), path, policy)
    elif path.suffix in (".yaml", ".yml"):
        data = load_yaml(path.read_text(encoding="utf-8"), str(path))
        if isinstance(data, dict):
            data = data.get("submissions")
        if not isinstance(data, list):
            raise SubmissionError("a list of submissions (or submissions: [...]) is expected",
                                  file=str(path))
        subs = _table(data, path, policy)
    else:
        raise SubmissionError("not a folder, .csv or .yaml list of submissions", file=str(path))
    seen: set[str] = set()
    for s in subs:
        if s.id in seen:
            raise SubmissionError(f"duplicate submission id '{s.id}'", file=str(path))
        seen.add(s.id)
    if not subs:
        raise SubmissionError("no submissions found", file=str(path))
    return subs


def _folder(root: Path) -> list[Submission]:
    out = []
    for entry in sorted(root.iterdir()):
        if entry.name.startswith("."):
            continue
        if entry.is_dir() and (entry / MANIFEST_NAME).is_file():
            out.append(Submission(entry.name, entry))
        elif entry.is_file() and entry.name.endswith(ARCHIVE_SUFFIXES):
            name = next(entry.name[: -len(s)] for s in ARCHIVE_SUFFIXES
                        if entry.name.endswith(s))
            out.append(Submission(_safe_id(name), entry))
    return out


def _safe_id(name: str) -> str:
    cleaned = re.sub(r"[^A-Za-z0-9_.-]", "-", name).lstrip("-.")[:128] or "submission"
    return cleaned


def _csv_rows(path: Path) -> list[dict[str, Any]]:
    with path.open(newline="", encoding="utf-8") as fh:
        return [{k.strip(): (v or "").strip() for k, v in row.items() if k}
                for row in csv.DictReader(fh)]


def _table(rows: list[Any], path: Path, policy: Policy | None = None) -> list[Submission]:
    out = []
    for i, row in enumerate(rows):
        where = f"[{i}]"
        if not isinstance(row, dict):
            raise SubmissionError("each submission is a mapping", file=str(path), field=where)
        sid, src = str(row.get("id") or ""), row.get("path")
        if not _ID.match(sid):
            raise SubmissionError(f"submission id '{sid[:40]}' must be letters, digits, _ . - "
                                  "(at most 128)",
                                  file=str(path), field=f"{where}.id")
        if not src:
            raise SubmissionError("no path", file=str(path), field=f"{where}.path")
        source = (path.parent / str(src)).resolve()
        if not source.exists():
            raise SubmissionError(f"{source} does not exist", file=str(path),
                                  field=f"{where}.path")
        badges = _badges(row.get("badges"), path, f"{where}.badges", policy)
        unknown = sorted(set(row) - {"id", "path", "badges", "title", *OPTION_FIELDS})
        if unknown:
            raise SubmissionError(f"unknown field '{unknown[0]}'", file=str(path),
                                  field=f"{where}.{unknown[0]}")
        options = {k: row[k] for k in OPTION_FIELDS if row.get(k) not in (None, "")}
        try:
            out.append(Submission(sid, source, badges, _checked(options, where)))
        except SubmissionError as exc:
            raise SubmissionError(exc.message, file=str(path), field=exc.field) from exc
    return out


CHOICES = {"runner": ("auto", "docker", "bwrap", "local", "host"),
           "device": ("auto", "CPU", "GPU")}


def _checked(options: dict[str, Any], where: str) -> dict[str, Any]:
    """Per-submission options with their values checked (errors name the field)."""
    out = dict(options)
    if "budget" in out:
        out["budget"] = parse_duration(out["budget"], f"{where}.budget")
    for key, allowed in CHOICES.items():
        if key in out and str(out[key]) not in allowed:
            raise SubmissionError(f"{key} '{out[key]}' is not one of {', '.join(allowed)}",
                                  field=f"{where}.{key}")
    for key in ("fresh_seeds", "seed"):
        if key in out:
            value = out[key]
            text = str(value).strip()
            if isinstance(value, bool) or not text.isdigit():
                raise SubmissionError(f"{key} must be a whole number >= 0, not '{value}'",
                                      field=f"{where}.{key}")
            out[key] = int(text)
    if out.get("fresh_seeds", 0) > 1000:
        raise SubmissionError("fresh_seeds is at most 1000", field=f"{where}.fresh_seeds")
    return out


def _badges(value: Any, path: Path, where: str, policy: Policy | None = None
            ) -> tuple[str, ...]:
    """qrepro's decisions a submission asks for: qrepro's names (available, functional,
    reusable, reproduced) or the ids of the venue policy's badges (expanded to what each
    needs)."""
    if value in (None, "", []):
        return BADGE_KEYS
    items = value if isinstance(value, list) else re.split(r"[;,\s]+", str(value).strip())
    names = [str(b).strip().lower() for b in items if str(b).strip()]
    rules = {b.id: b.requires for b in policy.badges} if policy is not None else {}
    wanted: list[str] = []
    for name in names:
        if name in BADGE_KEYS:
            wanted.append(name)
        elif rules.get(name):
            wanted += rules[name]
        else:
            known = sorted({*BADGE_KEYS, *(k for k, v in rules.items() if v)})
            raise SubmissionError(f"unknown badge '{name}'; use: {', '.join(known)}",
                                  file=str(path), field=where)
    return tuple(k for k in BADGE_KEYS if k in wanted)
