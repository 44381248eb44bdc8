"""The whitelist's PDF: the admission certificate (准入证明). It is issued only while the provider has an
active entry; its QR code points at /verify/<token>, which tells the live status. (A published batch's
announcement is registry.batches.pdf.)
"""
from registry.auth.views import qr_data_uri
from registry.core import pdf
from registry.core.errors import Conflict
from registry.whitelist import queries

# ---------------------------------------------------------------- the admission certificate

def certificate_of(provider_id):
    """(the provider's page, its certificate): NotFound for an unknown provider or one without a
    certificate, Conflict while it has no active entry."""
    view = queries.provider_page(provider_id)
    cert = queries.certificate_for(provider_id)
    if not view.has_active:
        raise Conflict("该机构目前没有有效的白名单项目，不出具准入证明；可扫描原证明二维码或在白名单中查询其状态",
                       code="no_active_entry")
    return view, cert


def render_certificate(view, cert):
    """The certificate PDF: the provider's active entries and a QR code of the certificate's verify URL."""
    url = queries.verify_url(cert)
    active = [e for e in view.current if e.effective_status(view.day).value == "active"]
    return pdf.render_pdf("certificate.html", view=view, cert=cert, entries=active, verify_url=url,
                          qr=qr_data_uri(url), issued_on=view.day)


def certificate_filename(view):
    return f"{view.provider.name}准入证明.pdf"
