"""All PDF rendering happens here.

- The URL fetcher serves only data: URLs. file:, http(s): and every other scheme is refused,
  so an <img src="file:///etc/passwd"> typed into a user field renders nothing (WeasyPrint
  logs the refusal and carries on).
- Rendering runs in forked child processes under one time bound for the whole document; their
  memory goes back to the system when they exit. Before its first fork the parent imports WeasyPrint
  and renders one fixed line (no user data), so a renderer starts warm instead of paying the ~1 s
  import and the font set-up each time.
- Long documents (the batch announcement) are cut into parts of whole pages, rendered in parallel
  (one renderer per CPU) and merged with pypdf in another child: WeasyPrint's time and memory grow
  with the boxes of one document, and each part is small. Every part is rendered with its page
  numbers set ("第 n 页 / 共 m 页" counts over the whole document, see templates/pdf/_base.html),
  predicted from its page-sized blocks; the real page counts are checked, and a wrong prediction
  renders the parts once more with the real numbers (footers sit in the page margin, so the
  numbers never change where pages break).
- Long tables (the announcement's rows) are text grids (TextGrid): each row one block of preformatted
  lines in a monospaced CJK font, its cells wrapped here in Python, rules drawn by borders. WeasyPrint
  then lays out and draws a text box per line instead of a box per table cell.
- A paged document may be kept in PDF_CACHE_DIR under a digest of the HTML of its parts (and the
  WeasyPrint version): the same digest means the same document, so a kept file is never stale and
  needs no invalidation; a new digest replaces the document's older file.
- Fonts come from fontconfig: Debian's fonts-noto-cjk; subsetting uses libharfbuzz-subset.
"""
import ctypes
import functools
import gc
import glob
import hashlib
import io
import logging
import multiprocessing
import os
import time
import unicodedata
from dataclasses import dataclass
from multiprocessing.connection import wait

from flask import current_app, render_template
from markupsafe import Markup, escape

log = logging.getLogger(__name__)

# Pages of one part of a long document. Smaller parts use less memory each but pay more fixed
# cost (a fork, the font file WeasyPrint copies and subsets per document, the page set-up). With the
# announcement's text grid (TextGrid below) a page is a few dozen boxes: 16 pages instead of 8 took 18 %
# less renderer CPU for 2,000 rows, made the PDF 40 % smaller (one font subset per part) and raised a
# renderer's peak by ~6 MB; its peak is mostly the font file WeasyPrint copies for each face.
PAGES_PER_PART = 16


class PdfError(RuntimeError):
    pass


class PdfTimeout(PdfError):
    pass


def safe_url_fetcher():
    """A WeasyPrint fetcher that serves data: URLs only (WeasyPrint 70 takes a URLFetcher object)."""
    from weasyprint.urls import URLFetcher

    class DataOnlyFetcher(URLFetcher):
        def fetch(self, url, headers=None):
            if not url.startswith("data:"):
                log.warning("PDF renderer refused to fetch a %s URL", url.split(":", 1)[0][:10])
                raise ValueError("external resources are not allowed in PDFs")
            return super().fetch(url, headers)

    return DataOnlyFetcher(allowed_protocols={"data"}, allow_redirects=False, fail_on_errors=False)


# ---------------------------------------------------------------- what the children run

def _render(html):
    """HTML → (PDF bytes, page count)."""
    from weasyprint import HTML
    document = HTML(string=html, base_url="data:,", url_fetcher=safe_url_fetcher()).render()
    return document.write_pdf(), len(document.pages)


def _merge(parts):
    """PDFs → one PDF with their pages in order (the first part's metadata)."""
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter()
    for index, data in enumerate(parts):
        reader = PdfReader(io.BytesIO(data))
        if index == 0 and reader.metadata:
            writer.add_metadata(reader.metadata)
        writer.append(reader)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _child(conn, function, args):
    # The parent's objects stay where fork() left them: the collector must not touch (and so copy)
    # every page of them. And a renderer lives for one document: reference counting frees WeasyPrint's
    # boxes, and cyclic collection cost 4.6 % of a part's instructions for no lower peak (measured on the
    # table layout the announcement had before its text grid).
    gc.freeze()
    gc.disable()
    try:
        conn.send(("ok", function(*args)))
    except Exception as exc:  # noqa: BLE001 - report any failure to the parent
        conn.send(("error", f"{type(exc).__name__}: {exc}"))
    finally:
        conn.close()


# ---------------------------------------------------------------- the parent

_WARM_UP = ('<html><head><style>html { font-family: "Noto Sans CJK SC" }</style></head>'
            '<body><p>白名单 第 1 页</p></body></html>')
_warm = False


def _preload():
    """Import what the children run and render one fixed line, once per process: every fork inherits the
    imports (~1 s), fontconfig's and Pango's caches and cffi's parsed types (~60 ms a renderer)."""
    global _warm
    if not _warm:
        import pypdf  # noqa: F401
        try:
            _render(_WARM_UP)
        except Exception:  # noqa: BLE001 - the renderers will report what is wrong
            log.exception("PDF warm-up failed")
        _warm = True


def cpu_count():
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def _run(tasks, deadline, workers=1):
    """Run each (function, args) in its own forked child, at most `workers` at a time; their results
    in order. Past `deadline` (time.monotonic()) every child still running is killed."""
    _preload()
    ctx = multiprocessing.get_context("fork")
    results = [None] * len(tasks)
    waiting = list(enumerate(tasks))
    running = {}   # reading end -> (index, process)
    try:
        while waiting or running:
            while waiting and len(running) < workers:
                index, (function, args) = waiting.pop(0)
                reader, writer = ctx.Pipe(duplex=False)
                process = ctx.Process(target=_child, args=(writer, function, args), daemon=True)
                process.start()
                writer.close()
                running[reader] = (index, process)
            remaining = deadline - time.monotonic()
            ready = wait(list(running), timeout=remaining) if remaining > 0 else []
            if not ready:
                raise PdfTimeout("PDF rendering exceeded its time bound")
            for reader in ready:
                index, process = running.pop(reader)
                try:
                    status, payload = reader.recv()
                except EOFError as exc:
                    raise PdfError("PDF renderer exited without a result") from exc
                finally:
                    reader.close()
                    process.join(5)
                if status != "ok":
                    raise PdfError(payload)
                results[index] = payload
    finally:
        for reader, (_index, process) in running.items():
            reader.close()
            if process.is_alive():
                process.kill()
            process.join(5)
    return results


def _deadline(timeout):
    return time.monotonic() + (timeout or current_app.config["PDF_TIMEOUT_SECONDS"])


def html_to_pdf(html, timeout=None):
    """Render HTML to PDF bytes in a child process, killed after `timeout` seconds."""
    data, _pages = _run([(_render, (html,))], _deadline(timeout))[0]
    return data


def render_pdf(template, timeout=None, **context):
    """Render templates/pdf/<template> with Jinja (autoescaped) and turn it into PDF bytes."""
    html = render_template(f"pdf/{template}", **context)
    return html_to_pdf(html, timeout=timeout)


@dataclass(frozen=True)
class Part:
    """What a template needs to render one part of a paged document (`part` in its context)."""
    index: int
    count: int
    first_page: int     # the number of this part's first page in the whole document
    total_pages: int

    @property
    def first(self):
        return self.index == 0

    @property
    def last(self):
        return self.index == self.count - 1


def split_parts(blocks, workers, pages_per_part):
    """Cut page-sized blocks into consecutive parts of at most `pages_per_part`, as even as can be, in a
    multiple of `workers` parts when there are enough blocks (so no renderer idles at the end)."""
    if not blocks:
        return [[]]
    rounds = -(-len(blocks) // (pages_per_part * workers))
    count = min(len(blocks), rounds * workers)
    size, extra = divmod(len(blocks), count)
    parts, start = [], 0
    for i in range(count):
        end = start + size + (1 if i < extra else 0)
        parts.append(blocks[start:end])
        start = end
    return parts


def render_paged_pdf(template, blocks, timeout=None, workers=None, pages_per_part=None, cache_name=None,
                     **context):
    """Render templates/pdf/<template> for a document whose body is `blocks`, each meant to fill one
    page: in parts rendered in parallel, merged in order. The template gets `blocks` (its part's) and
    `part` (a Part) besides `context`; it prints the title when part.first and the closing text when
    part.last, and each part ends with the end of a page. Returns the PDF bytes.
    With `cache_name` (e.g. "announcement-12"), the document is kept in PDF_CACHE_DIR by content digest."""
    try:
        return _render_paged(template, blocks, _deadline(timeout), workers or cpu_count(),
                             pages_per_part or PAGES_PER_PART, cache_name, context)
    finally:
        _give_back_memory()


def _give_back_memory():
    """Hand the heap that a long document's part PDFs and pickles used back to the system. glibc keeps
    freed memory above its (growing) mmap threshold in the heap: ~30 MB of a web worker after a
    5,000-row announcement. Best effort, glibc only."""
    try:
        ctypes.CDLL(None).malloc_trim(0)
    except (OSError, AttributeError):
        pass


def _render_paged(template, blocks, deadline, workers, pages_per_part, cache_name, context):
    parts = split_parts(blocks, workers, pages_per_part)
    pages = [max(1, len(p)) for p in parts]
    cached = None
    for _attempt in range(2):
        htmls = [render_template(f"pdf/{template}", blocks=part_blocks,
                                 part=Part(i, len(parts), 1 + sum(pages[:i]), sum(pages)), **context)
                 for i, part_blocks in enumerate(parts)]
        if cache_name and cached is None:
            cached = _CachedPdf(cache_name, htmls)
            data = cached.read()
            if data is not None:
                return data
        rendered = _run([(_render, (html,)) for html in htmls], deadline, workers)
        actual = [count for _data, count in rendered]
        if actual == pages:
            pdfs = [data for data, _count in rendered]
            data = pdfs[0] if len(pdfs) == 1 else _run([(_merge, (pdfs,))], deadline)[0]
            if cached:
                cached.write(data)
            return data
        log.info("PDF %s: parts have %s pages, not the %s predicted; rendering them again", template, actual, pages)
        pages = actual
    raise PdfError("PDF page numbering did not settle")


class _CachedPdf:
    """<PDF_CACHE_DIR>/<name>-<digest>.pdf, the digest over the HTML of every part as first predicted
    and the WeasyPrint version. An empty PDF_CACHE_DIR turns the cache off."""

    def __init__(self, name, htmls):
        import weasyprint

        self.directory = current_app.config.get("PDF_CACHE_DIR")
        self.name = name
        digest = hashlib.sha256(weasyprint.__version__.encode())
        for html in htmls:
            digest.update(b"\0" + html.encode())
        self.path = self.directory and os.path.join(self.directory, f"{name}-{digest.hexdigest()[:40]}.pdf")

    def __bool__(self):
        return bool(self.path)

    def read(self):
        if not self.path:
            return None
        try:
            with open(self.path, "rb") as f:
                return f.read()
        except FileNotFoundError:
            return None

    def write(self, data):
        """Keep `data` (written to a temporary name, then renamed) and drop this document's older files."""
        try:
            os.makedirs(self.directory, exist_ok=True)
            temporary = f"{self.path}.{os.getpid()}.tmp"
            with open(temporary, "wb") as f:
                f.write(data)
            os.replace(temporary, self.path)
            for old in glob.glob(os.path.join(glob.escape(self.directory), f"{glob.escape(self.name)}-*.pdf")):
                if old != self.path:
                    os.remove(old)
        except OSError as exc:  # a full or read-only disk costs the next request a rendering, nothing more
            log.warning("PDF cache %s not written: %s", self.path, exc)


# ---------------------------------------------------------------- ruled tables as text grids

# The font of text grids: Noto Sans Mono CJK SC draws the same CJK glyphs as Noto Sans CJK SC, at one em
# for each ideograph and full-width sign and half an em for ASCII, so a line of text places each column
# where its character count says.
GRID_FONT = "Noto Sans Mono CJK SC"
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
    or three text boxes a row (one per line), and an 8-page part renders in ~40 % of the table's CPU time. The text stays in
    reading order: each line of the PDF holds that line of every cell of the row, left to right, so
    copied or extracted text (pdftotext -layout) has each row's cells on the row's own lines.

    Widths come from char_units(); a character the grid font lacks (drawn from a fallback font) can
    shift the rest of its line by a fraction of an em, never cut or hide text."""

    font = GRID_FONT

    def __init__(self, columns, font_size_pt):
        self.columns = tuple(columns)
        self.font_size_pt = font_size_pt
        self.units = sum(c.units for c in self.columns)

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

    def lines(self, cells):
        """The text lines of one row: each cell wrapped to its column, side by side."""
        wrapped = [[line for part in str(cell).split("\n") for line in wrap_units(part, column.units - 2)]
                   for cell, column in zip(cells, self.columns, strict=True)]
        out = []
        for i in range(max(map(len, wrapped))):
            line, at, start = [], 0, 0          # at: where the text so far ends, in half-ems
            for cell_lines, column in zip(wrapped, self.columns):
                text = cell_lines[i].translate(_DROP) if i < len(cell_lines) else ""
                if text:
                    used = text_units(text)
                    offset = 1 + ((column.units - 2 - used) // 2 if column.center else 0)
                    gap = start + offset - at
                    # Full-width spaces halve the glyphs that WeasyPrint draws for the padding.
                    line.append("\u3000" * (gap // 2) + " " * (gap % 2) + text)
                    at = start + offset + used
                start += column.units
            out.append("".join(line))
        return out

    def row(self, cells):
        """One row's lines for a white-space: pre block, escaped."""
        return Markup("\n".join(map(str, map(escape, self.lines(cells)))))

    @property
    def header(self):
        return self.row(column.title for column in self.columns)


def pdf_response(data, filename):
    from urllib.parse import quote

    response = current_app.response_class(data, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f"inline; filename*=UTF-8''{quote(filename)}"
    response.headers["Cache-Control"] = "no-store"
    return response


def embedded_fonts(pdf_bytes):
    """The /BaseFont names a PDF embeds (tests check they are CJK fonts)."""
    from pypdf import PdfReader

    names = set()
    for page in PdfReader(io.BytesIO(pdf_bytes)).pages:
        fonts = page.get("/Resources", {}).get("/Font", {})
        for ref in fonts.values():
            names.add(str(ref.get_object().get("/BaseFont")))
    return names
