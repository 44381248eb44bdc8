"""Ruled tables as text grids: long tables (the announcement's rows) are set as TextGrid rows, each one
block of preformatted lines, its cells wrapped here in Python, rules drawn by borders. WeasyPrint then lays
out and draws a text box per line instead of a box per table cell.

A grid is set in the monospaced CJK font (GRID_FONT, widths counted in half-ems by char_units) or in a
proportional one (issue 19: the announcement uses the certificate's Noto Sans CJK SC): then FontMetrics
reads each character's real advance width from the installed font file with fontTools, and the padding
before each cell is made of the font's ideographic, en and plain spaces so that the cell starts within
a fraction of a space of its column's edge.
"""
import functools
import subprocess
import unicodedata
from dataclasses import dataclass

from markupsafe import Markup, escape

# The font of text grids: Noto Sans Mono CJK SC draws the same CJK glyphs as Noto Sans CJK SC, at one em
# for each ideograph and full-width sign and half an em for ASCII, so a line of text places each column
# where its character count says.
GRID_FONT = "Noto Sans Mono CJK SC"
# The proportional face of the certificate and the service confirmation (templates/pdf/_base.html).
PROPORTIONAL_FONT = "Noto Sans CJK SC"
MILLI = 1000     # widths below the half-em API are in thousandths of an em
_HALF_WIDTH = frozenset("\u00a0\u2002\u2011\u2012\u2013")   # no-break space, – (the en dash of grade ranges) …
_FULL_WIDTH_LATIN = frozenset("§©±¶·¼½¾Æ×æ÷")
_ZERO_WIDTH = frozenset("\u200b\u2060\ufeff\u00ad")               # never printed in a grid line
_DROP = dict.fromkeys(map(ord, _ZERO_WIDTH))
_GLUE = frozenset("\u2060\u00a0")                                # no line break on either side
# Line breaking (禁则): no line starts with closing or separating punctuation, none ends with opening.
_NO_LINE_START = frozenset("、。，．,.：:；;！!？?）)]｝}〕〉》」』】〙〗〟’”｠»·・…‥—–-～~%％/／")
_NO_LINE_END = frozenset("（([｛{〔〈《「『【〘〖〝‘“｟«")


def char_units(ch):
    """Advance of one character in the grid font, in half-ems (checked against the installed font by
    tests/web/test_pdfs.py): 1 for ASCII and half-width forms, 2 for ideographs and full-width signs,
    0 for format characters (word joiner, zero-width space). Not exact for a few: accented Latin letters
    are 0.5–0.6 em, the em dash 0.9 em; the rest of such a line then sits a little right of its column."""
    code = ord(ch)
    if 0x20 <= code < 0x7F:
        return 1
    if ch in _ZERO_WIDTH or unicodedata.category(ch) in ("Mn", "Me", "Cf"):
        return 0
    width = unicodedata.east_asian_width(ch)
    if width in ("Na", "H"):
        return 1
    if width in ("W", "F"):
        return 2
    if ch in _HALF_WIDTH:
        return 1
    # Ambiguous and neutral: the font draws Latin, Greek and Cyrillic letters and most Latin-1 signs
    # half-width, some of those signs (· § ± ×) and general punctuation and symbols (… “ ” ※) full-width.
    if code < 0x2000:
        return 2 if ch in _FULL_WIDTH_LATIN else 1
    return 2


class _Units(dict):
    def __missing__(self, ch):
        units = self[ch] = char_units(ch)
        return units


_UNITS = _Units()


def text_units(text):
    return sum(map(_UNITS.__getitem__, text))


def _may_break(before, after):
    """May a line break between these two characters? After a space; between two characters of which
    one is wide (CJK), unless punctuation or a word joiner forbids it; never inside a run of narrow
    characters (a Latin word, a USCC, a date) nor before a space."""
    if after == " " or before in _GLUE or after in _GLUE or after in _NO_LINE_START:
        return False
    if before == " ":
        return True
    if before in _NO_LINE_END:
        return False
    return _UNITS[before] == 2 or _UNITS[after] == 2


@functools.lru_cache(maxsize=8192)
def wrap_units(text, width):
    """`text` cut into lines of at most `width` half-ems (greedy, at the break opportunities of
    _may_break; a word longer than a line is cut anywhere, like CSS overflow-wrap: anywhere), as a tuple.
    Cached: an announcement repeats its providers' names and codes, categories and dates."""
    # Runs of spaces collapse (not str.split(): a no-break space is no place to break).
    text = " ".join(word for word in text.replace("\t", " ").split(" ") if word)
    if not text:
        return ("",)
    pieces, start = [], 0      # unbreakable pieces, each with its trailing space
    for i in range(1, len(text)):
        if _may_break(text[i - 1], text[i]):
            pieces.append(text[start:i])
            start = i
    pieces.append(text[start:])
    lines, line, used = [], "", 0
    for piece in pieces:
        word = piece.rstrip(" ")
        size = text_units(word)
        if line and used + size > width:
            lines.append(line.rstrip(" "))
            line, used = "", 0
        while size > width:            # longer than a whole line: cut it anywhere
            cut, taken = 0, 0
            while cut < len(word) and taken + _UNITS[word[cut]] <= width:
                taken += _UNITS[word[cut]]
                cut += 1
            cut = max(cut, 1)
            lines.append(word[:cut].rstrip(" "))
            piece, word = piece[cut:].lstrip(" "), word[cut:].lstrip(" ")
            size = text_units(word)
        line += piece
        used += size + len(piece) - len(word)
    lines.append(line.rstrip(" "))
    return tuple(lines)


class FontMetrics:
    """Advance widths of one font, in thousandths of an em: from the installed font file (fontTools) for a
    proportional font, from char_units for the monospaced grid font. `spaces` are the blank characters
    (with their widths) that padding may use, widest first; the font must draw them all."""

    def __init__(self, family, advances=None, spaces=(("\u3000", MILLI), (" ", MILLI // 2))):
        self.family = family
        self._advances = advances          # {code point: width}, None for the monospaced font
        self.spaces = spaces
        self.width = functools.lru_cache(maxsize=None)(self._width)
        self.wrap = functools.lru_cache(maxsize=16384)(self._wrap)

    @classmethod
    def monospaced(cls, family=GRID_FONT):
        return cls(family)

    @classmethod
    def installed(cls, family):
        """The metrics of the font fontconfig picks for `family` (the file WeasyPrint will draw with)."""
        from fontTools.ttLib import TTFont

        found = subprocess.run(["fc-match", "-f", "%{file}:%{index}", family], capture_output=True, text=True,
                               check=True).stdout
        path, _, index = found.rpartition(":")
        font = TTFont(path, fontNumber=int(index or 0), lazy=True) if path.endswith((".ttc", ".otc")) \
            else TTFont(path, lazy=True)
        em = font["head"].unitsPerEm
        metrics = font["hmtx"].metrics
        advances = {code: round(metrics[glyph][0] * MILLI / em) for code, glyph in font.getBestCmap().items()}
        spaces = tuple((ch, advances[ord(ch)]) for ch in ("\u3000", "\u2002", " ") if ord(ch) in advances)
        return cls(family, advances, spaces)

    def _width(self, ch):
        if ch in _ZERO_WIDTH:
            return 0
        if self._advances is None:
            return char_units(ch) * (MILLI // 2)
        width = self._advances.get(ord(ch))
        return char_units(ch) * (MILLI // 2) if width is None else width   # drawn by a fallback font

    def text_width(self, text):
        return sum(map(self.width, text))

    def _wrap(self, text, width):
        """`text` cut into lines of at most `width` thousandths of an em, as wrap_units does in half-ems."""
        text = " ".join(word for word in text.replace("\t", " ").split(" ") if word)
        if not text:
            return ("",)
        pieces, start = [], 0
        for i in range(1, len(text)):
            if _may_break(text[i - 1], text[i]):
                pieces.append(text[start:i])
                start = i
        pieces.append(text[start:])
        space = self.width(" ")
        lines, line, used = [], "", 0
        for piece in pieces:
            word = piece.rstrip(" ")
            size = self.text_width(word)
            if line and used + size > width:
                lines.append(line.rstrip(" "))
                line, used = "", 0
            while size > width:
                cut, taken = 0, 0
                while cut < len(word) and taken + self.width(word[cut]) <= width:
                    taken += self.width(word[cut])
                    cut += 1
                cut = max(cut, 1)
                lines.append(word[:cut].rstrip(" "))
                piece, word = piece[cut:].lstrip(" "), word[cut:].lstrip(" ")
                size = self.text_width(word)
            line += piece
            used += size + (len(piece) - len(word)) * space
        lines.append(line.rstrip(" "))
        return tuple(lines)

    def padding(self, gap):
        """Blank characters as wide as `gap` thousandths of an em or up to one narrowest blank less (a cell
        starts at most that far left of its place, inside its column's padding), and their width."""
        out, used = [], 0
        for ch, width in self.spaces:
            count = max(0, (gap - used) // width)
            out.append(ch * count)
            used += count * width
        return "".join(out), used


@functools.lru_cache(maxsize=8)
def metrics_for(family):
    """FontMetrics of a grid font: counted for the monospaced GRID_FONT, read from the font file otherwise.
    Cached for the process (a web worker reads the file once; forked renderers never need it)."""
    return FontMetrics.monospaced(family) if family == GRID_FONT else FontMetrics.installed(family)


@dataclass(frozen=True)
class GridColumn:
    title: str          # the header; "\n" forces a line break
    units: int          # width in half-ems of the grid font, one half-em of padding on each side included
    center: bool = False


class TextGrid:
    """A ruled table whose every row is one block of preformatted text in the grid font: the view wraps
    each cell to its column here, and the template prints each row's lines (white-space: pre) and draws
    the rules (a border above each row, one vertical rule per column edge for the whole block).

    Why not table cells: WeasyPrint's cost is per box and per text box it lays out and draws. A 2,000-row
    announcement as a fixed-layout table is 14,000 cells of ~1.3 lines each; as text grid rows it is two
    or three text boxes a row (one per line), and an 8-page part renders in ~40 % of the table's CPU time.
    The text stays in reading order: each line of the PDF holds that line of every cell of the row, left to
    right, so copied or extracted text (pdftotext -layout) has each row's cells on the row's own lines.

    Widths come from the font's metrics (FontMetrics); a character the font lacks (drawn from a fallback
    font) can shift the rest of its line by a fraction of an em, never cut or hide text. Column widths are
    given in half-ems of the font size whatever the font."""

    def __init__(self, columns, font_size_pt, font=GRID_FONT):
        self.columns = tuple(columns)
        self.font_size_pt = font_size_pt
        self.units = sum(c.units for c in self.columns)
        self.font = font

    @property
    def metrics(self):
        return metrics_for(self.font)

    @property
    def unit_pt(self):
        return self.font_size_pt / 2

    @property
    def width_pt(self):
        return self.units * self.unit_pt

    @property
    def rule_positions_pt(self):
        """The x of each vertical rule (column edges, both outer edges included)."""
        edges, x = [0], 0
        for column in self.columns:
            x += column.units
            edges.append(x)
        return [edge * self.unit_pt for edge in edges]

    def wrap(self, text, column):
        """One cell's text wrapped to its column (one half-em of padding on each side)."""
        return self.metrics.wrap(text, (column.units - 2) * (MILLI // 2))

    def lines(self, cells):
        """The text lines of one row: each cell wrapped to its column, side by side."""
        metrics, half = self.metrics, MILLI // 2
        wrapped = [[line for part in str(cell).split("\n") for line in metrics.wrap(part, (column.units - 2) * half)]
                   for cell, column in zip(cells, self.columns, strict=True)]
        out = []
        for i in range(max(map(len, wrapped))):
            line, at, start = [], 0, 0          # at: where the text so far ends, in thousandths of an em
            for cell_lines, column in zip(wrapped, self.columns, strict=True):
                text = cell_lines[i].translate(_DROP) if i < len(cell_lines) else ""
                if text:
                    used = metrics.text_width(text)
                    room = (column.units - 2) * half
                    offset = half + ((room - used) // 2 if column.center else 0)
                    blank, blank_width = metrics.padding(start + offset - at)
                    line.append(blank + text)
                    at += blank_width + used
                start += column.units * half
            out.append("".join(line))
        return out

    def row(self, cells):
        """One row's lines for a white-space: pre block, escaped."""
        return Markup("\n".join(map(str, map(escape, self.lines(cells)))))

    @property
    def header(self):
        return self.row(column.title for column in self.columns)
