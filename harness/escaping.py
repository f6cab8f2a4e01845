"""Deposit text escaped for where it is written (docs/report.md#deposit-text-in-reports).

Everything a deposit supplies (its title, ids, file names, messages that quote it, a
notebook's error text) is hostile: each output format escapes it with one function here, at
the place the text is written, and never anywhere else.

- :func:`markdown_inline`: Markdown (report.md, summary.md): the text stays inline text; it
  can never start a block, a heading, a table row or a cell, a link, an image or raw HTML.
- :func:`safe_href`, :func:`identifier_href`, :func:`local_href`: the only link targets a
  report writes: a web address, a DOI through its resolver, a file beside the report.
- :func:`terminal`: what a command prints: no control character, escape sequence or
  bidirectional override reaches the terminal raw.
- :func:`csv_cell`: a CSV cell a spreadsheet never runs as a formula.

HTML needs none of these for text: Jinja2 autoescapes every value (reports/templating.py).
JUnit XML and RO-Crate are written by an XML library and as JSON, well formed for any text.
A leaf of the core layer: the standard library only.
"""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import quote, urlsplit

#: Unicode bidirectional controls: embeddings, overrides, isolates and marks (Trojan Source)
BIDI = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
#: what Markdown could read as syntax in inline text (CommonMark escapes any of them)
_MARKDOWN = re.compile(r"([\\`*\[\]<>#!|~&])")
#: an underscore that could open or close emphasis: not between two letters or digits
#: (``ghz_8`` stays as it is)
_UNDERSCORE = re.compile(r"(?<![^\W_])_|_(?![^\W_])")
#: the starts of GitHub's bare autolinks (``https://``, ``www.``): a slash or dot escaped
_AUTOLINK = re.compile(r"(?i)(?<=:)/(?=/)|(?<=\bwww)\.")
#: characters a link target never holds raw (percent-encoded): they could end it or start
#: something else in Markdown or in an attribute
_HREF_UNSAFE = re.compile(r"""[\s"'<>()\[\]\\`{}|^]|[^\x21-\x7e]""")
#: the first characters a spreadsheet reads as a formula (OWASP's CSV injection list)
_FORMULA = ("=", "+", "-", "@", "\t", "\r")


def _unsafe(char: str) -> bool:
    """A control character (C0, DEL, C1), a line or paragraph separator, or a bidi control."""
    return unicodedata.category(char) in ("Cc", "Zl", "Zp") or char in BIDI


def _visible(char: str) -> str:
    if char in _NAMED:
        return _NAMED[char]
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def terminal(text: object) -> str:
    """``text`` for a terminal: every control character (C0 but none, DEL, C1, so every
    escape sequence: erase line, OSC 52 clipboard writes, conceal), line separator and bidi
    control shown as a visible escape (``\\n``, ``\\x1b``, ``\\u202e``). One line stays one
    line; join several lines with ``\\n`` after escaping each."""
    text = str(text)
    if not any(_unsafe(c) for c in text):
        return text
    return "".join(_visible(c) if _unsafe(c) else c for c in text)


def markdown_inline(text: object) -> str:
    """``text`` as inline Markdown text: whitespace runs (newlines too) folded to one space,
    control characters shown as escapes (:func:`terminal`), Markdown's syntax characters
    backslash-escaped, and bare ``https://`` or ``www.`` addresses kept from becoming links.
    Safe in a paragraph, a list item, a heading's text and a table cell."""
    folded = terminal(" ".join(str(text).split()))
    escaped = _UNDERSCORE.sub(r"\\_", _MARKDOWN.sub(r"\\\1", folded))
    return _AUTOLINK.sub(r"\\\g<0>", escaped)


def safe_href(url: str | None) -> str | None:
    """A link target for a web address: ``https:`` or ``http:`` with a host (unsafe
    characters percent-encoded), or ``doi:10.x/y`` through https://doi.org/; None for
    anything else (``javascript:``, ``data:``, ``file:``, a relative path, no scheme)."""
    if not url:
        return None
    scheme, _, rest = url.partition(":")
    if scheme.lower() == "doi" and rest:
        return "https://doi.org/" + quote(rest, safe="/")
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("https", "http") or not parts.netloc \
            or not url.lower().startswith(("https://", "http://")):
        return None
    return _HREF_UNSAFE.sub(lambda m: quote(m.group(0), safe=""), url)


def identifier_href(identifier: str | None) -> str | None:
    """A report's ``scheme:value`` identifier as a link: a DOI through its resolver, a URL
    identifier when it is a web address (:func:`safe_href`); other schemes are not linked."""
    scheme, _, value = (identifier or "").partition(":")
    if scheme.lower() == "doi":
        return safe_href(f"doi:{value}") if value else None
    return safe_href(value) if scheme.lower() == "url" else None


def local_href(path: str) -> str:
    """A relative link to a file beside the report: every character but ``/`` and the
    unreserved ones percent-encoded, so no scheme (``javascript:``) can appear in it."""
    return quote(path, safe="/")


def csv_cell(value: str) -> str:
    """A CSV cell a spreadsheet shows as text: a leading ``'`` when it starts like a formula
    (``=``, ``+``, ``-``, ``@``, tab, carriage return)."""
    return "'" + value if value.startswith(_FORMULA) else value
