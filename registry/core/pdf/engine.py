"""What a renderer runs: WeasyPrint, and pypdf to merge the parts of a long document.

The URL fetcher serves only data: URLs. file:, http(s): and every other scheme is refused, so an
<img src="file:///etc/passwd"> typed into a user field renders nothing (WeasyPrint logs the refusal
and carries on).
"""
import io
import logging

log = logging.getLogger(__name__)


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


def render_html(html):
    """HTML → (PDF bytes, page count)."""
    from weasyprint import HTML
    document = HTML(string=html, base_url="data:,", url_fetcher=safe_url_fetcher()).render()
    return document.write_pdf(), len(document.pages)


def merge(parts):
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


def embedded_fonts(pdf_bytes):
    """The /BaseFont names a PDF embeds (tests check they are CJK fonts)."""
    from pypdf import PdfReader

    names = set()
    for page in PdfReader(io.BytesIO(pdf_bytes)).pages:
        fonts = page.get("/Resources", {}).get("/Font", {})
        for ref in fonts.values():
            names.add(str(ref.get_object().get("/BaseFont")))
    return names
