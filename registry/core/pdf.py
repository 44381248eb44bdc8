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
- A paged document may be kept in PDF_CACHE_DIR under a digest of the HTML of its parts (and the
  WeasyPrint version): the same digest means the same document, so a kept file is never stale and
  needs no invalidation; a new digest replaces the document's older file.
- Fonts come from fontconfig: Debian's fonts-noto-cjk; subsetting uses libharfbuzz-subset.
"""
import ctypes
import gc
import glob
import hashlib
import io
import logging
import multiprocessing
import os
import time
from dataclasses import dataclass
from multiprocessing.connection import wait

from flask import current_app, render_template

log = logging.getLogger(__name__)

# Pages of one part of a long document. Smaller parts use less memory each but pay more fixed
# cost (a fork, the font file WeasyPrint copies and subsets per document, the page set-up).
PAGES_PER_PART = 8


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
    # boxes, and cyclic collection cost 4.6 % of an 8-page part's instructions for no lower peak (124 MB
    # Rss with or without it).
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
