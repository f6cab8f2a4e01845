"""The Jinja2 environment of the reports drawn from templates (report.html, the SVG badges):
templates under reports/templates/, autoescaped (HTML and SVG alike), strict about undefined
names, and compiled once per qrepro cache (60 ms a report otherwise)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup

from harness.escaping import terminal

TEMPLATES = Path(__file__).resolve().parent / "templates"


class _TemplateCache(jinja2.FileSystemBytecodeCache):
    """A cache that cannot be written is no cache, not an error."""

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        try:
            super().dump_bytecode(bucket)
        except OSError:
            pass


def _template_cache() -> jinja2.BytecodeCache | None:
    from harness import cache_root

    directory = cache_root() / "jinja"
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None
    return _TemplateCache(str(directory))


def visible(value: Any) -> Any:
    """Every string a template prints, before autoescaping: control characters and bidi
    controls a deposit wrote become visible escapes (a right-to-left override cannot turn the
    page's text around), line by line so that a ``<pre>`` keeps its lines. Markup the report
    made itself is left as it is."""
    if isinstance(value, str) and not isinstance(value, Markup):
        return "\n".join(terminal(line) for line in value.split("\n"))
    return value


def environment(filters: Mapping[str, Callable[..., Any]] | None = None) -> jinja2.Environment:
    """A new environment over reports/templates/ with ``filters`` added."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        bytecode_cache=_template_cache(),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        finalize=visible,
    )
    env.filters.update(filters or {})
    return env
