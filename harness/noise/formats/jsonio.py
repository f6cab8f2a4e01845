"""Reading noise-model JSON strictly, and the canonical serialisation and digest.

:func:`read_json` rejects NaN/Infinity and duplicate keys; :func:`noise_digest` is the
sha256 of :func:`canonical_json` (sorted keys, no spaces) of a normalised spec.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from harness.errors import NoiseModelError
from harness.noise.formats.fields import ROOT, Json


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not allowed: numbers must be finite")


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> Json:
    out: Json = {}
    for key, value in pairs:
        if key in out:
            raise ValueError(f"key '{key}' appears twice in one JSON object")
        out[key] = value
    return out


#: larger than any device's calibration: a 50 MB model took 42 s and 1.7 GB to validate
MAX_BYTES = 16 * 1024 * 1024


def read_json(path: Path, display: str) -> Any:
    try:
        if path.stat().st_size > MAX_BYTES:
            raise NoiseModelError(f"larger than {MAX_BYTES} bytes: not a noise model we load",
                                  file=display, field=ROOT)
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise NoiseModelError(
            f"cannot read the noise-model file: {exc}", file=display, field=ROOT
        ) from exc
    try:
        return json.loads(
            text, parse_constant=_reject_constant, object_pairs_hook=_no_duplicate_keys
        )
    except json.JSONDecodeError as exc:
        raise NoiseModelError(
            f"not valid JSON: {exc.msg}",
            file=display,
            field=f"line {exc.lineno} column {exc.colno}",
        ) from exc
    except ValueError as exc:
        raise NoiseModelError(f"not valid JSON: {exc}", file=display, field=ROOT) from exc
    except RecursionError:
        raise NoiseModelError("nested too deeply", file=display, field=ROOT) from None


def canonical_json(spec: Json) -> str:
    """The canonical serialisation: sorted keys, no spaces, finite numbers only."""
    return json.dumps(spec, sort_keys=True, separators=(",", ":"), allow_nan=False)


def noise_digest(spec: Json) -> str:
    """sha256 (hex) of :func:`canonical_json` of a normalised spec."""
    return hashlib.sha256(canonical_json(spec).encode("utf-8")).hexdigest()
