"""Text sizes without drawing: a font's line metrics and each character's advance, read
with FreeType through matplotlib, as matplotlib.text.Text lays text out, and the line box a
browser gives the font. The plots use them to set their margins before drawing, the counts
charts to lay themselves out, the SVG badges to size their two halves."""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass, field
from pathlib import Path


def matplotlib_in_qrepro_cache() -> None:
    """matplotlib keeps its font cache and config under qrepro's cache, not the user's home:
    an evaluation writes nothing outside --out but qrepro's own cache. Called when this
    module is imported: every report module that uses matplotlib imports this one first
    (and the warm-up imports it before matplotlib)."""
    if "MPLCONFIGDIR" not in os.environ:
        from harness import cache_root

        os.environ["MPLCONFIGDIR"] = str(cache_root() / "matplotlib")


matplotlib_in_qrepro_cache()


@functools.cache
def bundled_font(name: str = "DejaVuSans.ttf") -> str:
    """The path of a font matplotlib ships."""
    from matplotlib import get_data_path

    return str(Path(get_data_path()) / "fonts" / "ttf" / name)


def text_width(text: str, size: float, path: str | None = None) -> float:
    """The advance of one line of ``text`` at ``size`` (points or pixels alike)."""
    metrics = font_metrics(path or bundled_font())
    return sum(metrics.glyph(c)[0] for c in text) * size


@dataclass
class FontMetrics:
    """One font's metrics at 1 pt: line ascent, descent and gap as matplotlib lays out
    text, and per character its advance, ascent and descent (loaded on first use)."""

    path: str
    ascent: float = 0.0
    descent: float = 0.0
    gap: float = 0.0
    glyphs: dict[str, tuple[float, float, float]] = field(default_factory=dict)

    #: the size glyphs are loaded at (FreeType's metrics are in 1/64 of a pixel)
    LOAD = 100.0

    def glyph(self, char: str) -> tuple[float, float, float]:
        found = self.glyphs.get(char)
        if found is None:
            from matplotlib.font_manager import get_font
            from matplotlib.ft2font import LoadFlags

            font = get_font(self.path)
            if font.get_char_index(ord(char)) == 0:  # drawn in a fallback font: allow 1 em
                found = (1.0, self.ascent, self.descent)
            else:
                font.set_size(self.LOAD, 72)
                g = font.load_char(ord(char), flags=LoadFlags.NO_HINTING)
                found = (g.linearHoriAdvance / 65536 / self.LOAD, g.horiBearingY / 64 / self.LOAD,
                         (g.height - g.horiBearingY) / 64 / self.LOAD)
            self.glyphs[char] = found
        return found


@functools.cache
def browser_line(path: str) -> tuple[float, float]:
    """The font's ascent and descent (in em) as a browser's text box has them: from its
    hhea table (taller than the OS/2 line matplotlib lays text out with)."""
    from matplotlib.font_manager import get_font

    font = get_font(path)
    head, hhea = font.get_sfnt_table("head"), font.get_sfnt_table("hhea")
    if not (head and hhea):
        metrics = font_metrics(path)
        return metrics.ascent, metrics.descent
    em = float(head["unitsPerEm"])
    return hhea["ascent"] / em, -hhea["descent"] / em


@functools.cache
def font_metrics(path: str) -> FontMetrics:
    """The font's line metrics as matplotlib.text.Text takes them: from its OS/2 table, else
    its hhea table (in em)."""
    from matplotlib.font_manager import get_font

    font = get_font(path)
    head, os2, hhea = (font.get_sfnt_table("head"), font.get_sfnt_table("OS/2"),
                       font.get_sfnt_table("hhea"))
    em = float(head["unitsPerEm"]) if head else 1.0
    if os2:
        return FontMetrics(path, os2["sTypoAscender"] / em, -os2["sTypoDescender"] / em,
                            os2["sTypoLineGap"] / em)
    if hhea:
        return FontMetrics(path, hhea["ascent"] / em, -hhea["descent"] / em,
                            hhea["lineGap"] / em)
    return FontMetrics(path, 0.95, 0.25, 0.0)
