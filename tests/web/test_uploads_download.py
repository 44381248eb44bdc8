"""Downloads (docs/architecture.md "Security": downloads) and cross-provider access (no cross-tenant access) to
documents and files."""
from urllib.parse import quote

import pytest
from sqlalchemy import select

from registry.audit.models import AuditLog
from registry.providers import services as providers
from registry.providers.models import ProviderDocument
from tests.fixtures.providers import document_form, pdf_bytes

FILENAME = "安全管理制度及应急预案（2026版）.pdf"


@pytest.fixture
def owner(login_as, db):
    """Provider A (registered in 南昌 红谷滩区 360113) with one uploaded document."""
    client, user = login_as("provider_admin")
    data = pdf_bytes("A")
    doc = providers.upload_document(user.provider, actor=user, doc_type="safety_plan", number="A-1", issuer="A",
                                    issue_date=providers.clock.today(), filename=FILENAME, data=data)
    db.session.flush()
    return {"client": client, "user": user, "doc": doc, "data": data}


def test_owner_downloads_an_attachment_with_the_chinese_name(owner):
    response = owner["client"].get(f"/files/{owner['doc'].file_id}")
    assert response.status_code == 200
    assert response.data == owner["data"]
    assert response.mimetype == "application/pdf"
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment")
    assert f"filename*=UTF-8''{quote(FILENAME)}" in disposition
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "no-store" in response.headers["Cache-Control"]


@pytest.mark.parametrize("role, region_code, allowed", [
    ("county_reviewer", "360113", True),    # the provider's county
    ("county_reviewer", "360102", False),   # another county of the same city
    ("city_reviewer", "360100", True),      # the provider's city
    ("city_reviewer", "360700", False),     # another city (赣州)
    ("inspector", "360113", True),
    ("inspector", "360111", False),
])
def test_reviewers_download_only_inside_their_jurisdiction(owner, login_as, db, role, region_code, allowed):
    client, user = login_as(role, region_code=region_code)
    response = client.get(f"/files/{owner['doc'].file_id}")
    if allowed:
        assert response.status_code == 200 and response.data == owner["data"]
    else:
        assert response.status_code == 404  # not 403: the file's existence is not revealed
        assert FILENAME not in response.get_data(as_text=True)
        denial = db.session.scalars(select(AuditLog).where(
            AuditLog.action == "file.download", AuditLog.actor_id == user.id)).one()
        assert denial.result == "denied" and denial.object_id == str(owner["doc"].file_id)


@pytest.mark.parametrize("role", ["school_admin", "sys_admin", "auditor"])
def test_other_roles_are_refused_by_the_table(owner, login_as, role):
    client, _user = login_as(role)
    assert client.get(f"/files/{owner['doc'].file_id}").status_code == 403


def test_anonymous_is_sent_to_login(owner, app):
    response = app.test_client().get(f"/files/{owner['doc'].file_id}")
    assert response.status_code == 302 and "/login?next=" in response.headers["Location"]


def test_download_is_audited(owner, db):
    owner["client"].get(f"/files/{owner['doc'].file_id}")
    row = db.session.scalars(select(AuditLog).where(AuditLog.action == "file.download",
                                                    AuditLog.actor_id == owner["user"].id)).one()
    assert row.result == "success" and row.details["sha256"] == owner["doc"].sha256


def test_missing_file_is_404(owner):
    assert owner["client"].get("/files/999999").status_code == 404


# ---------------------------------------------------------------- IDOR: provider B against provider A

@pytest.fixture
def intruder(login_as, create_user, bearer):
    client, user = login_as("provider_admin")
    return {"client": client, "user": user, "headers": bearer(user)}


def test_provider_b_cannot_download_a_file_of_provider_a(owner, intruder, db):
    response = intruder["client"].get(f"/files/{owner['doc'].file_id}")
    assert response.status_code == 404
    assert response.data != owner["data"]


def test_provider_b_cannot_see_or_replace_a_document_of_provider_a(owner, intruder, db):
    doc = owner["doc"]
    client = intruder["client"]
    assert client.get(f"/provider/documents/{doc.id}").status_code == 404
    response = client.post(f"/provider/documents/{doc.id}/replace", content_type="multipart/form-data",
                           data=document_form(None, number="HIJACK"))
    assert response.status_code == 404
    listing = client.get("/provider/documents").get_data(as_text=True)
    assert "A-1" not in listing and FILENAME not in listing
    db.session.expire_all()
    assert db.session.get(ProviderDocument, doc.id).superseded_at is None
    assert db.session.scalar(select(ProviderDocument).where(ProviderDocument.number == "HIJACK")) is None
    denied = db.session.scalars(select(AuditLog).where(AuditLog.action == "provider_document.denied",
                                                       AuditLog.actor_id == intruder["user"].id)).all()
    assert len(denied) == 2 and all(row.object_id == str(doc.id) for row in denied)


def test_provider_b_cannot_reach_a_document_of_provider_a_through_the_api(owner, intruder, client, db):
    doc = owner["doc"]
    headers = intruder["headers"]
    assert client.get(f"/api/v1/providers/me/documents/{doc.id}/history", headers=headers).status_code == 404
    response = client.post(f"/api/v1/providers/me/documents/{doc.id}/replace", headers=headers,
                           content_type="multipart/form-data", data=document_form(None, number="HIJACK"))
    assert response.status_code == 404 and response.get_json()["code"] == "not_found"
    listed = client.get("/api/v1/providers/me/documents", headers=headers).get_json()
    assert listed == []
    db.session.expire_all()
    assert db.session.get(ProviderDocument, doc.id).superseded_at is None
