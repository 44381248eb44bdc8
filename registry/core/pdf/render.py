"""HTML and templates/pdf/<template> to PDF bytes, in the renderers of pool.py.

Long documents (the batch announcement) are cut into parts of whole pages, rendered in parallel (one
renderer per CPU) and merged with pypdf in another child: WeasyPrint's time and memory grow with the
boxes of one document, and each part is small. Every part is rendered with its page numbers set
("第 n 页 / 共 m 页" counts over the whole document, see templates/pdf/_base.html), predicted from its
page-sized blocks; the real page counts are checked, and a wrong prediction renders the parts once more
with the real numbers (footers sit in the page margin, so the numbers never change where pages break).
"""
import logging
import time
from dataclasses import dataclass

from flask import current_app, render_template

from registry.core.pdf import engine, pool
from registry.core.pdf.cache import CachedPdf

log = logging.getLogger(__name__)

# Pages of one part of a long document. Smaller parts use less memory each but pay more fixed
# cost (a fork, the font file WeasyPrint copies and subsets per document, the page set-up). With the
# announcement's text grid (textgrid.TextGrid) a page is a few dozen boxes: 16 pages instead of 8 took 18 %
# less renderer CPU for 2,000 rows, made the PDF 40 % smaller (one font subset per part) and raised a
# renderer's peak by ~6 MB; its peak is mostly the font file WeasyPrint copies for each face.
PAGES_PER_PART = 16


def _deadline(timeout):
    return time.monotonic() + (timeout or current_app.config["PDF_TIMEOUT_SECONDS"])


def html_to_pdf(html, timeout=None):
    """Render HTML to PDF bytes in a child process, killed after `timeout` seconds."""
    data, _pages = pool.run([(engine.render_html, (html,))], _deadline(timeout))[0]
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
    With `cache_name` (e.g. "announcement-12"), the document is kept in PDF_CACHE_DIR by content digest
    (cache.py)."""
    try:
        return _render_paged(template, blocks, _deadline(timeout), workers or pool.cpu_count(),
                             pages_per_part or PAGES_PER_PART, cache_name, context)
    finally:
        pool.give_back_memory()


def _render_paged(template, blocks, deadline, workers, pages_per_part, cache_name, context):
    parts = split_parts(blocks, workers, pages_per_part)
    pages = [max(1, len(p)) for p in parts]
    cached = None
    for _attempt in range(2):
        htmls = [render_template(f"pdf/{template}", blocks=part_blocks,
                                 part=Part(i, len(parts), 1 + sum(pages[:i]), sum(pages)), **context)
                 for i, part_blocks in enumerate(parts)]
        if cache_name and cached is None:
            cached = CachedPdf(cache_name, htmls)
            data = cached.read()
            if data is not None:
                return data
        rendered = pool.run([(engine.render_html, (html,)) for html in htmls], deadline, workers)
        actual = [count for _data, count in rendered]
        if actual == pages:
            pdfs = [data for data, _count in rendered]
            data = pdfs[0] if len(pdfs) == 1 else pool.run([(engine.merge, (pdfs,))], deadline)[0]
            if cached:
                cached.write(data)
            return data
        log.info("PDF %s: parts have %s pages, not the %s predicted; rendering them again", template, actual, pages)
        pages = actual
    raise pool.PdfError("PDF page numbering did not settle")
