"""All PDF rendering happens here, on one renderer that every domain's own pdf.py calls
(registry/orders/pdf.py, registry/whitelist/pdf.py): the domain gathers its rows and picks its template
under templates/pdf/, this package turns it into bytes.

- engine.py: what a renderer runs — WeasyPrint with a URL fetcher that serves data: URLs only, and
  the pypdf merge.
- pool.py: the renderers — forked child processes under one time bound, warm from their parent.
- render.py: the entry points — html_to_pdf, render_pdf and render_paged_pdf (a long document cut
  into parts rendered in parallel and merged).
- cache.py: a paged document kept on disk under a digest of its HTML.
- textgrid.py: long ruled tables typeset as text grids (TextGrid).
- response.py: the PDF as an HTTP response.

Fonts come from fontconfig: Debian's fonts-noto-cjk; subsetting uses libharfbuzz-subset.
"""
from registry.core.pdf.engine import embedded_fonts, safe_url_fetcher
from registry.core.pdf.pool import PdfError, PdfTimeout, cpu_count
from registry.core.pdf.render import Part, html_to_pdf, render_paged_pdf, render_pdf, split_parts
from registry.core.pdf.response import pdf_response
from registry.core.pdf.textgrid import (
    GRID_FONT,
    PROPORTIONAL_FONT,
    FontMetrics,
    GridColumn,
    TextGrid,
    char_units,
    metrics_for,
    text_units,
    wrap_units,
)

__all__ = [
    "GRID_FONT", "PROPORTIONAL_FONT", "FontMetrics", "GridColumn", "Part", "PdfError", "PdfTimeout", "TextGrid",
    "char_units", "cpu_count", "embedded_fonts", "html_to_pdf", "metrics_for", "pdf_response", "render_paged_pdf",
    "render_pdf", "safe_url_fetcher", "split_parts", "text_units", "wrap_units",
]
