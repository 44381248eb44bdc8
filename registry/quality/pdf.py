"""The parent survey sheet (家长满意度问卷码): one slip per code, each with its QR code of the survey link. The
codes exist only in this document (the database keeps their hashes), so the sheet is rendered from the codes a
new issue returned and is never cached."""
from flask import current_app, url_for

from registry.auth.views import qr_data_uri
from registry.core import pdf
from registry.quality.services import format_code


def survey_url(code):
    return current_app.config["BASE_URL"].rstrip("/") + url_for("survey.survey", code=code)


def entry_url():
    return current_app.config["BASE_URL"].rstrip("/") + url_for("survey.start")


def render_sheet(order, codes):
    slips = [{"n": n, "code": format_code(c), "qr": qr_data_uri(survey_url(c))} for n, c in enumerate(codes, 1)]
    return pdf.render_pdf("survey_sheet.html", order=order, slips=slips, entry_url=entry_url())


def filename(order):
    return f"家长问卷码-{order.school.name}-{order.project.title}-{order.id}.pdf"
