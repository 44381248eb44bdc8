"""All PDF rendering happens here.

- The URL fetcher serves only data: URLs. file:, http(s): and every other scheme is refused,
  so an <img src="file:///etc/passwd"> typed into a user field renders nothing (WeasyPrint
  logs the refusal and carries on).
- Rendering runs in a forked child process with a time bound; its memory goes back to the
  system when it exits.
- Fonts come from fontconfig: Debian's fonts-noto-cjk; subsetting uses libharfbuzz-subset.
"""
import logging
import multiprocessing
import os
import signal

from flask import current_app, render_template

log = logging.getLogger(__name__)


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


def _render(html):
    from weasyprint import HTML
    return HTML(string=html, base_url="data:,", url_fetcher=safe_url_fetcher()).write_pdf()


def _child(conn, html):
    try:
        conn.send(("ok", _render(html)))
    except Exception as exc:  # noqa: BLE001 - report any failure to the parent
        conn.send(("error", f"{type(exc).__name__}: {exc}"))
    finally:
        conn.close()


def html_to_pdf(html, timeout=None):
    """Render HTML to PDF bytes in a child process, killed after `timeout` seconds."""
    timeout = timeout or current_app.config["PDF_TIMEOUT_SECONDS"]
    ctx = multiprocessing.get_context("fork")
    parent, child = ctx.Pipe(duplex=False)
    process = ctx.Process(target=_child, args=(child, html), daemon=True)
    process.start()
    child.close()
    try:
        if not parent.poll(timeout):
            raise PdfTimeout(f"PDF rendering exceeded {timeout} s")
        status, payload = parent.recv()
    except EOFError as exc:
        raise PdfError("PDF renderer exited without a result") from exc
    finally:
        parent.close()
        if process.is_alive():
            os.kill(process.pid, signal.SIGKILL)
        process.join(5)
    if status != "ok":
        raise PdfError(payload)
    return payload


def render_pdf(template, timeout=None, **context):
    """Render templates/pdf/<template> with Jinja (autoescaped) and turn it into PDF bytes."""
    html = render_template(f"pdf/{template}", **context)
    return html_to_pdf(html, timeout=timeout)


def pdf_response(data, filename):
    from urllib.parse import quote

    response = current_app.response_class(data, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f"inline; filename*=UTF-8''{quote(filename)}"
    response.headers["Cache-Control"] = "no-store"
    return response


def embedded_fonts(pdf_bytes):
    """The /BaseFont names a PDF embeds (tests check they are CJK fonts)."""
    import io

    from pypdf import PdfReader

    names = set()
    for page in PdfReader(io.BytesIO(pdf_bytes)).pages:
        fonts = page.get("/Resources", {}).get("/Font", {})
        for ref in fonts.values():
            names.add(str(ref.get_object().get("/BaseFont")))
    return names
