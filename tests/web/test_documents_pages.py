"""Documents (资质材料): upload, list, checklist, replace with history, expiry warnings (issue 3 item 2)."""
import hashlib
import re
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from registry.files.models import StoredFile
from registry.providers import services as providers
from registry.providers.models import ProviderDocument
from tests.fixtures.providers import document_form, jpeg_bytes, pdf_bytes, png_bytes


def documents_of(db, provider_id):
    return db.session.scalars(select(ProviderDocument).where(ProviderDocument.provider_id == provider_id)
                              .order_by(ProviderDocument.id)).all()


@pytest.mark.parametrize("filename, data, content_type", [
    ("安全管理制度.pdf", pdf_bytes(), "application/pdf"),
    ("安全管理制度扫描件.PNG", png_bytes(), "image/png"),
    ("安全管理制度扫描件.jpg", jpeg_bytes(), "image/jpeg"),
])
def test_clean_files_are_accepted_and_stored_safely(login_as, app, db, filename, data, content_type):
    client, user = login_as("provider_admin")
    response = client.post("/provider/documents", data=document_form(data=data, filename=filename),
                           content_type="multipart/form-data")
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    [doc] = documents_of(db, user.provider_id)
    stored = doc.file
    assert stored.original_name == filename and stored.content_type == content_type
    assert stored.sha256 == hashlib.sha256(data).hexdigest() == doc.sha256
    assert stored.provider_id == user.provider_id and stored.size == len(data)
    # Random storage name, outside static/, holding exactly the bytes uploaded.
    assert re.fullmatch(r"[0-9a-f]{40}", stored.storage_key)
    paths = [p for p in Path(app.config["UPLOAD_DIR"]).rglob(stored.storage_key)]
    assert len(paths) == 1 and paths[0].read_bytes() == data
    static = Path(app.static_folder).resolve()
    assert static not in paths[0].resolve().parents
    assert filename not in str(paths[0])


def test_documents_page_lists_metadata_and_checklist(login_as, db):
    client, user = login_as("provider_admin")
    page = client.get("/provider/documents").get_data(as_text=True)
    # An enterprise needs 营业执照, insurance and a safety plan; none uploaded yet.
    for missing in ("缺少营业执照", "缺少公众责任保险", "缺少安全管理制度及应急预案"):
        assert missing in page
    assert "还有 3 项必备材料未齐备" in page
    client.post("/provider/documents", content_type="multipart/form-data",
                data=document_form(number="AQ-0001", issuer="青禾科技教育中心", issue_date="2026-02-01"))
    page = client.get("/provider/documents").get_data(as_text=True)
    assert "缺少安全管理制度及应急预案" not in page and "还有 2 项必备材料未齐备" in page
    for text in ("安全管理制度及应急预案", "AQ-0001", "青禾科技教育中心", "2026-02-01", "长期", "待核验", "历史版本"):
        assert text in page


def test_checklist_follows_the_org_type(login_as, db, create_provider):
    from registry.providers.models import OrgType
    provider = create_provider(org_type=OrgType.private_non_enterprise)
    client, _user = login_as("provider_admin", provider_id=provider.id)
    page = client.get("/provider/documents").get_data(as_text=True)
    assert "缺少民办非企业单位登记证书" in page and "缺少营业执照" not in page


def test_insurance_needs_an_expiry_date_and_nothing_is_stored(login_as, db):
    client, user = login_as("provider_admin")
    files_before = db.session.scalar(select(func.count()).select_from(StoredFile))
    response = client.post("/provider/documents", content_type="multipart/form-data",
                           data=document_form("liability_insurance", number="PICC-1", expiry_date=""))
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "公众责任保险必须填写有效期截止日期" in page
    assert 'value="PICC-1"' in page  # typed metadata survives
    assert documents_of(db, user.provider_id) == []
    assert db.session.scalar(select(func.count()).select_from(StoredFile)) == files_before


def test_missing_metadata_and_file_are_reported_together(login_as, db):
    client, _user = login_as("provider_admin")
    response = client.post("/provider/documents", content_type="multipart/form-data",
                           data={"doc_type": "safety_plan", "number": "", "issuer": "", "issue_date": "2026-13-01"})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "此项为必填项" in page and "日期格式" in page and "请选择要上传的文件" in page


def test_replace_keeps_the_earlier_version(login_as, db):
    client, user = login_as("provider_admin")
    first = pdf_bytes("v1")
    client.post("/provider/documents", content_type="multipart/form-data",
                data=document_form("liability_insurance", data=first, filename="保单2026.pdf", number="PICC-2026",
                                   issue_date="2026-01-01", expiry_date="2026-12-31"))
    [old] = documents_of(db, user.provider_id)
    old_values = (old.number, old.file_id, old.sha256, old.expiry_date)
    second = pdf_bytes("v2")
    response = client.post(f"/provider/documents/{old.id}/replace", content_type="multipart/form-data",
                           data=document_form(None, data=second, filename="保单2027.pdf", number="PICC-2027",
                                              issue_date="2026-11-01", expiry_date="2027-12-31"))
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    db.session.expire_all()
    old_row, new_row = documents_of(db, user.provider_id)
    assert (old_row.number, old_row.file_id, old_row.sha256, old_row.expiry_date) == old_values
    assert old_row.superseded_at is not None and new_row.superseded_at is None
    assert new_row.replaces_id == old_row.id and new_row.doc_type == old_row.doc_type
    assert new_row.sha256 == hashlib.sha256(second).hexdigest() != old_row.sha256
    assert [d.id for d in providers.current_documents(user.provider_id)] == [new_row.id]
    # The history (reached from either version) shows both, newest first.
    for doc_id in (old_row.id, new_row.id):
        page = client.get(f"/provider/documents/{doc_id}").get_data(as_text=True)
        assert page.index("PICC-2027") < page.index("PICC-2026")
        assert "已替换" in page and "现行" in page and old_row.sha256 in page
    # Only the current version can be replaced.
    response = client.post(f"/provider/documents/{old_row.id}/replace", content_type="multipart/form-data",
                           data=document_form(None, number="X", expiry_date="2028-01-01"))
    assert response.status_code == 409
    assert "该材料已被新版本替换" in response.get_data(as_text=True)
    assert len(documents_of(db, user.provider_id)) == 2


def test_a_failed_replacement_keeps_the_current_version(login_as, db):
    client, user = login_as("provider_admin")
    client.post("/provider/documents", content_type="multipart/form-data", data=document_form())
    [doc] = documents_of(db, user.provider_id)
    response = client.post(f"/provider/documents/{doc.id}/replace", content_type="multipart/form-data",
                           data=document_form(None, data=png_bytes(), filename="新版.pdf"))
    assert response.status_code == 422
    assert "与文件实际内容不符" in response.get_data(as_text=True)
    db.session.expire_all()
    assert [d.id for d in documents_of(db, user.provider_id)] == [doc.id]
    assert doc.superseded_at is None
    assert client.get(f"/files/{doc.file_id}").status_code == 200


# ---------------------------------------------------------------- expiry warnings
# (docs/domain.md "Providers and documents")

@pytest.mark.parametrize("days_left, flag, label", [
    (-1, "expired", "已过期"),
    (0, "within_7", "7天内到期"),
    (7, "within_7", "7天内到期"),
    (8, "within_30", "30天内到期"),
    (30, "within_30", "30天内到期"),
    (31, None, None),
])
def test_expiry_flags_at_30_and_7_days(frozen_clock, login_as, db, days_left, flag, label):
    frozen_clock(datetime(2026, 6, 1, 4, 0))  # 2026-06-01 12:00 in Beijing
    today = date(2026, 6, 1)
    client, user = login_as("provider_admin")
    expiry = today + timedelta(days=days_left)
    providers.upload_document(user.provider, actor=user, doc_type="liability_insurance", number="PICC-9",
                              issuer="中国人保", issue_date=date(2025, 6, 1), expiry_date=expiry,
                              filename="保单.pdf", data=pdf_bytes())
    assert providers.expiry_flag(expiry, today) == flag
    documents_page = client.get("/provider/documents").get_data(as_text=True)
    dashboard = client.get("/provider").get_data(as_text=True)
    labels = ("已过期", "7天内到期", "30天内到期")
    if label is None:
        assert not any(text in documents_page for text in labels)
        assert "没有 30 天内到期或已过期的材料" in dashboard
    else:
        assert label in documents_page and label in dashboard
        assert expiry.isoformat() in dashboard
    if flag == "expired":
        assert f"公众责任保险（编号 PICC-9）已于{expiry.isoformat()}过期" in documents_page


def test_expiry_flag_without_expiry_date_is_none():
    assert providers.expiry_flag(None, date(2026, 6, 1)) is None


# ---------------------------------------------------------------- JSON

def test_api_upload_list_replace_history(create_user, bearer, client, db):
    user = create_user("provider_admin")
    headers = bearer(user)
    response = client.post("/api/v1/providers/me/documents", headers=headers, content_type="multipart/form-data",
                           data=document_form("business_license", number="91360100", issuer="南昌市市场监督管理局",
                                              filename="营业执照.pdf"))
    assert response.status_code == 201, response.get_json()
    created = response.get_json()
    assert created["doc_type"] == "business_license" and created["doc_type_label"] == "营业执照"
    assert created["expiry_date"] is None and created["verification_status"] == "pending"
    assert created["file"]["name"] == "营业执照.pdf"
    assert created["file"]["download_url"] == f"/files/{created['file']['id']}"
    listed = client.get("/api/v1/providers/me/documents", headers=headers).get_json()
    assert [d["id"] for d in listed] == [created["id"]]
    response = client.post(f"/api/v1/providers/me/documents/{created['id']}/replace", headers=headers,
                           content_type="multipart/form-data",
                           data=document_form(None, number="91360100-2", issuer="南昌市市场监督管理局",
                                              data=png_bytes(), filename="营业执照.png"))
    assert response.status_code == 201, response.get_json()
    newer = response.get_json()
    assert newer["replaces_id"] == created["id"]
    history = client.get(f"/api/v1/providers/me/documents/{created['id']}/history", headers=headers).get_json()
    assert [d["id"] for d in history] == [newer["id"], created["id"]]
    assert history[1]["superseded_at"] is not None


def test_api_upload_errors_name_the_field(create_user, bearer, client, db):
    user = create_user("provider_admin")
    headers = bearer(user)
    response = client.post("/api/v1/providers/me/documents", headers=headers, content_type="multipart/form-data",
                           data=document_form("nonsense"))
    assert response.status_code == 422 and response.get_json()["field"] == "doc_type"
    body = document_form()
    body.pop("file")
    response = client.post("/api/v1/providers/me/documents", headers=headers, content_type="multipart/form-data",
                           data=body)
    assert response.status_code == 422 and response.get_json()["field"] == "file"
    response = client.post("/api/v1/providers/me/documents", headers=headers, content_type="multipart/form-data",
                           data=document_form(verification_status="verified"))
    assert response.status_code == 400 and response.get_json()["field"] == "verification_status"
    assert documents_of(db, user.provider_id) == []


def test_api_spec_documents_the_multipart_body(client, db):
    spec = client.get("/api/v1/openapi.json").get_json()
    for path, name in (("/api/v1/providers/me/documents", "DocumentUploadIn"),
                       ("/api/v1/providers/me/documents/{document_id}/replace", "DocumentReplaceIn")):
        operation = spec["paths"][path]["post"]
        assert "parameters" not in operation or all(p["in"] == "path" for p in operation["parameters"])
        ref = operation["requestBody"]["content"]["multipart/form-data"]["schema"]["$ref"]
        assert ref.endswith("/" + name)
        schema = spec["components"]["schemas"][name]
        assert schema["properties"]["file"] == {**schema["properties"]["file"], "type": "string", "format": "binary"}
        assert {"file", "number", "issuer", "issue_date"} <= set(schema["required"])
        assert "expiry_date" in schema["properties"]


def test_document_upload_is_audited(login_as, db):
    from registry.audit.models import AuditLog
    client, user = login_as("provider_admin")
    client.post("/provider/documents", content_type="multipart/form-data", data=document_form())
    [doc] = documents_of(db, user.provider_id)
    row = db.session.scalars(select(AuditLog).where(AuditLog.action == "document.upload",
                                                    AuditLog.object_id == str(doc.id))).one()
    assert row.actor_id == user.id and row.details["sha256"] == doc.sha256
