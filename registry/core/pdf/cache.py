"""A paged document may be kept in PDF_CACHE_DIR under a digest of the HTML of its parts (and the
WeasyPrint version): the same digest means the same document, so a kept file is never stale and needs
no invalidation; a new digest replaces the document's older file.
"""
import glob
import hashlib
import logging
import os

from flask import current_app

log = logging.getLogger(__name__)


class CachedPdf:
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
