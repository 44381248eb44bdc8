"""A rendered PDF as the HTTP response: shown inline under its (UTF-8) file name, never stored."""
from urllib.parse import quote

from flask import current_app


def pdf_response(data, filename):
    response = current_app.response_class(data, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f"inline; filename*=UTF-8''{quote(filename)}"
    response.headers["Cache-Control"] = "no-store"
    return response
