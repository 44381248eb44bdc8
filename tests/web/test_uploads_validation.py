"""Bad uploads (docs/architecture.md "Security": uploads and downloads): refused with a Chinese reason, nothing stored,
nothing earlier lost."""
import io
import zipfile
from pathlib import Path

import pytest
from pypdf import PdfWriter
from pypdf.generic import ArrayObject, DictionaryObject, NameObject, NumberObject, TextStringObject
from sqlalchemy import func, select

from registry.files.models import StoredFile
from registry.providers.models import ProviderDocument
from tests.fixtures.providers import document_form, pdf_bytes, png_bytes

ACTIVE_CONTENT = "PDF 含有脚本、自动动作或嵌入文件"


def _written(writer):
    buf = io.BytesIO()
    writer.write(buf)
    return buf.getvalue()


def _name(value):
    return NameObject(value)


def pdf_with_javascript():
    """Document-level JavaScript in the catalog's /Names tree."""
    writer = PdfWriter()
    writer.add_blank_page(width=200, height=200)
    action = DictionaryObject({_name("/S"): _name("/JavaScript"), _name("/JS"): TextStringObject("app.alert(1)")})
    tree = DictionaryObject({_name("/Names"): ArrayObject([TextStringObject("x"), writer._add_object(action)])})
    writer._root_object[_name("/Names")] = DictionaryObject({_name("/JavaScript"): writer._add_object(tree)})
    return _written(writer)


def pdf_with_open_action():
    writer = PdfWriter()
    page = writer.add_blank_page(width=200, height=200)
    writer._root_object[_name("/OpenAction")] = ArrayObject([page.indirect_reference, _name("/Fit")])
    return _written(writer)


def pdf_with_launch():
    """A link annotation whose action launches a program."""
    writer = PdfWriter()
    page = writer.add_blank_page(width=200, height=200)
    launch = DictionaryObject({_name("/S"): _name("/Launch"), _name("/F"): TextStringObject("calc.exe")})
    annot = DictionaryObject({_name("/Type"): _name("/Annot"), _name("/Subtype"): _name("/Link"),
                              _name("/Rect"): ArrayObject([NumberObject(0)] * 4), _name("/A"): launch})
    page[_name("/Annots")] = ArrayObject([writer._add_object(annot)])
    return _written(writer)


def pdf_with_embedded_file():
    writer = PdfWriter()
    writer.add_blank_page(width=200, height=200)
    writer.add_attachment("payload.exe", b"MZ\x90\x00")
    return _written(writer)


def pdf_with_escaped_javascript():
    """/J#61vaScript is /JavaScript once parsed: a byte grep misses it, the parser does not."""
    data = pdf_with_javascript().replace(b"/JavaScript", b"/J#61vaScript")
    assert b"/JavaScript" not in data
    return data


def zip_bytes(name="word/document.xml"):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as archive:
        archive.writestr(name, "<w:document/>")
    return buf.getvalue()


BAD_UPLOADS = [
    pytest.param("营业执照.pdf", png_bytes(), "文件扩展名 .pdf 与文件实际内容不符", id="pdf-holding-png"),
    pytest.param("营业执照.png", pdf_bytes(), "文件扩展名 .png 与文件实际内容不符", id="png-holding-pdf"),
    pytest.param("x.pdf.exe", pdf_bytes(), "只接受 PDF、JPG、PNG 格式的文件", id="double-extension"),
    pytest.param("营业执照", pdf_bytes(), "只接受 PDF、JPG、PNG 格式的文件", id="no-extension"),
    pytest.param("资料.zip", zip_bytes("a.txt"), "只接受 PDF、JPG、PNG 格式的文件", id="zip"),
    pytest.param("资料.docx", zip_bytes(), "只接受 PDF、JPG、PNG 格式的文件", id="docx"),
    pytest.param("资料.pdf", zip_bytes(), "文件内容不是 PDF、JPG 或 PNG", id="docx-renamed-pdf"),
    pytest.param("资料.pdf", b"%PDF-1.7\nnot really a pdf", "PDF 文件已损坏或无法解析", id="broken-pdf"),
    pytest.param("资料.pdf", pdf_with_javascript(), ACTIVE_CONTENT, id="javascript"),
    pytest.param("资料.pdf", pdf_with_escaped_javascript(), ACTIVE_CONTENT, id="escaped-javascript"),
    pytest.param("资料.pdf", pdf_with_open_action(), ACTIVE_CONTENT, id="open-action"),
    pytest.param("资料.pdf", pdf_with_launch(), ACTIVE_CONTENT, id="launch"),
    pytest.param("资料.pdf", pdf_with_embedded_file(), ACTIVE_CONTENT, id="embedded-file"),
]


def files_on_disk(app):
    return {p for p in Path(app.config["UPLOAD_DIR"]).rglob("*") if p.is_file()}


def stored_count(db):
    return db.session.scalar(select(func.count()).select_from(StoredFile))


def document_count(db, provider_id):
    return db.session.scalar(select(func.count()).select_from(ProviderDocument)
                             .where(ProviderDocument.provider_id == provider_id))


@pytest.mark.parametrize("filename, data, reason", BAD_UPLOADS)
def test_bad_upload_is_refused_in_html_and_nothing_is_stored(login_as, app, db, filename, data, reason):
    client, user = login_as("provider_admin")
    disk, rows = files_on_disk(app), stored_count(db)
    response = client.post("/provider/documents", content_type="multipart/form-data",
                           data=document_form(data=data, filename=filename, number="AQ-77"))
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert reason in page and 'value="AQ-77"' in page
    assert stored_count(db) == rows and files_on_disk(app) == disk
    assert document_count(db, user.provider_id) == 0


@pytest.mark.parametrize("filename, data, reason", BAD_UPLOADS)
def test_bad_upload_is_refused_in_json_naming_the_file_field(create_user, bearer, client, app, db,
                                                              filename, data, reason):
    user = create_user("provider_admin")
    disk, rows = files_on_disk(app), stored_count(db)
    response = client.post("/api/v1/providers/me/documents", headers=bearer(user), content_type="multipart/form-data",
                           data=document_form(data=data, filename=filename))
    assert response.status_code == 422
    body = response.get_json()
    assert body["code"] == "invalid" and body["field"] == "file" and reason in body["message"]
    assert stored_count(db) == rows and files_on_disk(app) == disk


def test_active_content_is_found_by_parsing_not_by_grepping(login_as, db):
    """A clean PDF whose text mentions /JavaScript and /OpenAction is not active content."""
    client, user = login_as("provider_admin")
    writer = PdfWriter()
    writer.add_blank_page(width=200, height=200)
    writer.add_metadata({"/Title": "/JavaScript /OpenAction /Launch /EmbeddedFile"})
    data = _written(writer)
    response = client.post("/provider/documents", content_type="multipart/form-data",
                           data=document_form(data=data, filename="说明.pdf"))
    assert response.status_code == 302
    assert document_count(db, user.provider_id) == 1


# ---------------------------------------------------------------- size limit (docs/architecture.md "Security": uploads)

def test_file_over_the_per_file_limit_gets_413_with_a_clear_message(login_as, app, db, monkeypatch):
    monkeypatch.setitem(app.config, "MAX_UPLOAD_MB", 1)
    client, user = login_as("provider_admin")
    disk, rows = files_on_disk(app), stored_count(db)
    big = pdf_bytes() + b"%" + b"0" * (1024 * 1024)
    response = client.post("/provider/documents", content_type="multipart/form-data",
                           data=document_form(data=big, number="AQ-BIG"))
    assert response.status_code == 413
    page = response.get_data(as_text=True)
    assert "上传的文件过大：每个文件不能超过 1 MB" in page and 'value="AQ-BIG"' in page
    assert stored_count(db) == rows and files_on_disk(app) == disk
    assert document_count(db, user.provider_id) == 0


def test_body_over_the_request_limit_gets_413_in_html_and_json(login_as, create_user, bearer, app, db, monkeypatch):
    monkeypatch.setitem(app.config, "MAX_UPLOAD_MB", 1)
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 2 * 1024 * 1024)
    big = pdf_bytes() + b"%" + b"0" * (3 * 1024 * 1024)
    client, _user = login_as("provider_admin")
    rows = stored_count(db)
    response = client.post("/provider/documents", content_type="multipart/form-data", data=document_form(data=big))
    assert response.status_code == 413
    assert "上传的文件过大：每个文件不能超过 1 MB" in response.get_data(as_text=True)
    api_user = create_user("provider_admin")
    response = client.post("/api/v1/providers/me/documents", headers=bearer(api_user),
                           content_type="multipart/form-data", data=document_form(data=big))
    assert response.status_code == 413
    assert response.get_json() == {"code": "too_large", "field": "file",
                                   "message": "上传的文件过大：每个文件不能超过 1 MB"}
    assert stored_count(db) == rows


def test_api_file_over_the_per_file_limit_gets_413(create_user, bearer, client, app, db, monkeypatch):
    monkeypatch.setitem(app.config, "MAX_UPLOAD_MB", 1)
    user = create_user("provider_admin")
    big = pdf_bytes() + b"%" + b"0" * (1024 * 1024)
    response = client.post("/api/v1/providers/me/documents", headers=bearer(user),
                           content_type="multipart/form-data", data=document_form(data=big))
    assert response.status_code == 413
    body = response.get_json()
    assert body["code"] == "too_large" and body["field"] == "file" and "1 MB" in body["message"]


def test_a_failed_upload_does_not_lose_earlier_documents(login_as, app, db):
    client, user = login_as("provider_admin")
    good = pdf_bytes("good")
    assert client.post("/provider/documents", content_type="multipart/form-data",
                       data=document_form(data=good, filename="制度.pdf")).status_code == 302
    [doc] = db.session.scalars(select(ProviderDocument).where(ProviderDocument.provider_id == user.provider_id)).all()
    for filename, data in (("制度.pdf", pdf_with_javascript()), ("制度.pdf", png_bytes())):
        assert client.post("/provider/documents", content_type="multipart/form-data",
                           data=document_form(data=data, filename=filename)).status_code == 422
    db.session.expire_all()
    current = db.session.scalars(select(ProviderDocument).where(ProviderDocument.provider_id == user.provider_id)).all()
    assert [d.id for d in current] == [doc.id] and doc.superseded_at is None
    download = client.get(f"/files/{doc.file_id}")
    assert download.status_code == 200 and download.data == good
