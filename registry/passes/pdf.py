"""The printable badge of an entry pass: a card (85.6 × 54 mm) with the QR code, the short code, the name,
the masked ID number, the provider or school, the project, the school, weekdays, window and validity, and the
photo when one was uploaded with consent. Rendered on the shared renderer (core/pdf) with the CJK font."""
import base64

from registry.auth.views import qr_data_uri
from registry.core import pdf
from registry.files import services as files
from registry.passes import services


def render_badge(entry_pass):
    photo = services.photo_of(entry_pass.person_id)
    photo_uri = None
    if photo is not None:
        try:
            photo_uri = (f"data:{photo.file.content_type};base64,"
                         + base64.b64encode(files.read_bytes(photo.file)).decode())
        except OSError:
            photo_uri = None
    return pdf.render_pdf("pass_badge.html", p=entry_pass, qr=qr_data_uri(services.qr_text(entry_pass)),
                          code=services.format_code(entry_pass.code), photo=photo_uri,
                          weekdays=services.weekdays_text(entry_pass.weekdays))


def badge_filename(entry_pass):
    return f"入校通行证-{entry_pass.person.name}-{services.format_code(entry_pass.code)}.pdf"
