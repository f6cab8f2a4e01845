"""harness.escaping: each escaper on its own, against what an attacker writes."""

from __future__ import annotations

import pytest
from markdown_it import MarkdownIt

from harness.escaping import (
    csv_cell,
    identifier_href,
    local_href,
    markdown_inline,
    safe_href,
    terminal,
)

#: a raw control character (C0 but newline, DEL, C1) or a bidi control
RAW = [chr(c) for c in (*range(0x20), 0x7F, *range(0x80, 0xA0))] + [
    "\u061c", "\u200e", "\u200f", "\u2028", "\u2029", *map(chr, range(0x202A, 0x202F)),
    *map(chr, range(0x2066, 0x206A))]
ESCAPES = "\x1b[2K\r\x1b]52;c;ZXZpbA==\x07\x1b[8m\u202e\x9b31m\x7f\x00"


def _tokens(text: str) -> list[str]:
    """Every token type markdown-it (CommonMark and tables) reads, inline ones included."""
    parser = MarkdownIt("commonmark").enable("table")
    out: list[str] = []
    for token in parser.parse(text):
        out.append(token.type)
        out += [child.type for child in token.children or ()]
    return out


def test_terminal_shows_every_control_character_as_an_escape() -> None:
    shown = terminal(ESCAPES + "".join(RAW))
    assert not any(c in shown for c in RAW)
    assert shown.startswith("\\x1b[2K\\r\\x1b]52;c;ZXZpbA==\\x07\\x1b[8m\\u202e\\x9b31m\\x7f")
    assert terminal("a\nb\tc") == "a\\nb\\tc"
    assert terminal("ümlaut café 量子 ok") == "ümlaut café 量子 ok"
    assert terminal(3) == "3"


@pytest.mark.parametrize("hostile", [
    "x\n## Badges\n\n| badge | decision |\n|---|---|\n| Results Reproduced | **awarded** |",
    "<script>alert(1)</script>", "<img src=x onerror=alert(1)>", "![](https://evil/x.png)",
    "[click](javascript:alert(1))", "<https://evil>", "see https://evil.example/x or www.evil.org",
    "`code` *em* _em_ __strong__ ~~del~~ &lt;b&gt; \\", "# heading", "- item", "> quote",
    "```\nfence\n```", ESCAPES, "a | b \\| c",
])
def test_markdown_inline_stays_one_text_run(hostile: str) -> None:
    """In a paragraph and in a table cell, the text is one plain text token: no heading,
    row, link, image, HTML, emphasis or code."""
    escaped = markdown_inline(hostile)
    assert "\n" not in escaped and not any(c in escaped for c in RAW)
    assert _tokens(f"lead: {escaped}") == ["paragraph_open", "inline", "text", "paragraph_close"]
    table = f"| a | b |\n|---|---|\n| {escaped} | x |\n"
    assert _tokens(table).count("td_open") == 2
    assert {"link_open", "image", "html_inline", "html_block", "em_open", "strong_open",
            "code_inline", "s_open"}.isdisjoint(_tokens(table))


def test_markdown_inline_renders_the_text_itself() -> None:
    parser = MarkdownIt("commonmark").enable("table")
    html = parser.render(markdown_inline("[a](b) <i>x</i> ghz_8 *s* \\ 1|2"))
    assert html == "<p>[a](b) &lt;i&gt;x&lt;/i&gt; ghz_8 *s* \\ 1|2</p>\n"
    assert markdown_inline("ghz_8-fidelity") == "ghz_8-fidelity"
    assert markdown_inline("a\r\n\tb") == "a b"


@pytest.mark.parametrize(("url", "href"), [
    ("https://example.org/a b", "https://example.org/a%20b"),
    ("HTTP://example.org/x?q=1", "HTTP://example.org/x?q=1"),
    ('https://e.org/"><script>', "https://e.org/%22%3E%3Cscript%3E"),
    ("https://e.org/a)b(c", "https://e.org/a%29b%28c"),
    ("doi:10.1234/x<y", "https://doi.org/10.1234/x%3Cy"),
    ("javascript:alert(1)", None), ("JavaScript:alert(1)", None), (" javascript:x", None),
    ("java\nscript:x", None), ("data:text/html,<script>", None), ("file:///etc/passwd", None),
    ("vbscript:x", None), ("//evil.example/x", None), ("https:evil", None),
    ("relative/path.html", None), ("", None), (None, None),
])
def test_safe_href_links_only_web_addresses_and_dois(url: str | None, href: str | None) -> None:
    assert safe_href(url) == href


def test_identifier_href_and_local_href() -> None:
    assert identifier_href("doi:10.1/x") == "https://doi.org/10.1/x"
    assert identifier_href("url:https://e.org") == "https://e.org"
    assert identifier_href("url:javascript:alert(1)") is None
    assert identifier_href("handle:11/22") is None and identifier_href(None) is None
    assert local_href("work/nb seed 1/executed.ipynb") == "work/nb%20seed%201/executed.ipynb"
    assert local_href("javascript:alert(1)") == "javascript%3Aalert%281%29"


@pytest.mark.parametrize("value", ['=HYPERLINK("http://evil","x")', "+1+1", "-2+3", "@SUM(A1)",
                                   "\t=1", "\r=1"])
def test_csv_cell_keeps_formulas_text(value: str) -> None:
    assert csv_cell(value) == "'" + value


def test_csv_cell_leaves_other_text() -> None:
    assert csv_cell("Paper 1: =x") == "Paper 1: =x" and csv_cell("") == ""
