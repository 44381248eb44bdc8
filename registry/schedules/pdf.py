"""The published schedule as a printable A4 landscape PDF (晒课表), with the QR code of its public page for the
letter to parents (致家长一封信)."""
from registry.auth.views import qr_data_uri
from registry.core import pdf


def render_public(school, term, schedule, rows, notice, url):
    return pdf.render_pdf("schedule.html", school=school, term=term, schedule=schedule, rows=rows, notice=notice,
                          url=url, qr=qr_data_uri(url))


def filename(school, term):
    return f"{school.name}{term.name}课后服务安排表.pdf"
