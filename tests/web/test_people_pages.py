"""Staff pages (从业人员) for a provider admin: list, create, detail forms, reveal, and cross-provider isolation."""
import io
import re
from datetime import timedelta

import pytest
from sqlalchemy import event, func, select

from registry.audit.models import AuditLog
from registry.core import clock
from registry.files.models import StoredFile
from registry.people import services
from registry.people.models import Consent, Person, PersonCheck, Qualification
from tests.fixtures.providers import add_cleared_person, id_number_for, pdf_bytes, png_bytes

FULL_ID = re.compile(r"\d{17}[\dXx]")
VALID = "360102199003071236"


@pytest.fixture
def admin(login_as):
    return login_as("provider_admin")


def _page(response):
    return response.get_data(as_text=True)


def _form(**over):
    data = {"name": "王老师", "id_number": VALID, "gender": "female", "phone": "13900000000", "staff_role": "teacher",
            "specialties": "花样跳绳"}
    data.update(over)
    return data


def _count(db, model, **where):
    stmt = select(func.count()).select_from(model)
    for key, value in where.items():
        stmt = stmt.where(getattr(model, key) == value)
    return db.session.scalar(stmt)


# ---------------------------------------------------------------- list

def test_list_shows_masked_ids_clearance_consent_and_expiry(db, admin):
    client, user = admin
    cleared = add_cleared_person(user.provider, user, n=1, name="甲老师")
    blocked = services.create_person(user.provider, actor=user, name="乙老师", id_number=id_number_for(2),
                                     gender="male", phone="13900000001", staff_role="assistant", specialties="围棋")
    services.add_check(blocked, actor=user, check_type="health", result="clear",
                       check_date=clock.today() - timedelta(days=350), authority="南昌市第一医院")
    response = client.get("/provider/people")
    page = _page(response)
    assert response.status_code == 200
    assert "甲老师" in page and "乙老师" in page
    assert cleared.id_masked in page and blocked.id_masked in page
    assert not FULL_ID.search(page)
    assert "已准入" in page and "未准入" in page
    assert "未登记违法犯罪记录查询" in page and "无有效的资格证书" in page
    assert "助教" in page and "围棋" in page
    assert "已签署" in page and "未登记" in page
    expiry = (clock.today() + timedelta(days=15)).isoformat()  # 350-day-old health certificate, 365 days valid
    assert f"健康证明 {expiry} 到期" in page


def _statements(db, client, url):
    seen = []

    def count(_conn, _cursor, statement, *_args):
        seen.append(statement)

    db.session.expunge_all()
    event.listen(db.engine, "before_cursor_execute", count)
    try:
        assert client.get(url).status_code == 200
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    return len(seen)


def test_list_query_count_does_not_grow_with_people(db, admin):
    client, user = admin
    add_cleared_person(user.provider, user, n=1)
    one = _statements(db, client, "/provider/people")
    for n in range(2, 7):
        add_cleared_person(user.provider, user, n=n)
    six = _statements(db, client, "/provider/people")
    assert six == one


def test_list_shows_only_own_provider(db, admin, login_as):
    client, user = admin
    _other_client, other = login_as("provider_admin")
    add_cleared_person(other.provider, other, n=5, name="别家老师")
    page = _page(client.get("/provider/people"))
    assert "别家老师" not in page


# ---------------------------------------------------------------- create

def test_create_person_redirects_to_detail_with_masked_id(db, admin):
    client, user = admin
    response = client.post("/provider/people/new", data=_form())
    assert response.status_code == 302
    person = db.session.scalar(select(Person).where(Person.provider_id == user.provider_id))
    assert response.headers["Location"].endswith(f"/provider/people/{person.id}")
    assert person.name == "王老师" and person.id_masked == "360102********1236"
    page = _page(client.get(f"/provider/people/{person.id}"))
    assert "360102********1236" in page and not FULL_ID.search(page)
    assert "未登记违法犯罪记录查询" in page


@pytest.mark.parametrize("value, message", [
    ("360102199003071235", "身份证号码校验位不正确"),
    ("360102199002301239", "身份证号码中的出生日期或地区码无效"),
    ("36010219900307123", "身份证号码应为 18 位"),
])
def test_bad_id_number_is_refused_in_chinese_and_input_kept(db, admin, value, message):
    client, user = admin
    response = client.post("/provider/people/new", data=_form(id_number=value, name="赵老师"))
    page = _page(response)
    assert response.status_code == 422
    assert message in page
    assert 'value="赵老师"' in page  # nothing typed is lost
    assert _count(db, Person, provider_id=user.provider_id) == 0


def test_every_field_error_is_named(db, admin):
    client, _user = admin
    response = client.post("/provider/people/new", data=_form(name="", phone="123", gender="x", staff_role="boss"))
    page = _page(response)
    assert response.status_code == 422
    for message in ("此项为必填项", "手机号应为 11 位手机号码", "性别应为：男、女",
                    "岗位应为：授课教师、助教、管理人员"):
        assert message in page


def test_duplicate_person_in_same_provider_is_refused(db, admin):
    client, user = admin
    add_cleared_person(user.provider, user, n=1, id_number=VALID)
    response = client.post("/provider/people/new", data=_form())
    assert response.status_code == 422
    assert "本机构已登记过该身份证号码的人员" in _page(response)
    assert _count(db, Person, provider_id=user.provider_id) == 1


# ---------------------------------------------------------------- detail forms

@pytest.fixture
def person(db, admin):
    _client, user = admin
    p = services.create_person(user.provider, actor=user, name="王老师", id_number=VALID, gender="female",
                               phone="13900000000", staff_role="teacher")
    db.session.flush()
    return p


def test_add_check_with_evidence_file(db, admin, person):
    client, _user = admin
    day = clock.today() - timedelta(days=10)
    response = client.post(f"/provider/people/{person.id}/checks", data={
        "check_type": "criminal", "result": "clear", "check_date": day.isoformat(), "authority": "南昌市公安局东湖分局",
        "reference_no": "NC-2026-001", "file": (io.BytesIO(pdf_bytes()), "无犯罪记录证明.pdf")},
        content_type="multipart/form-data")
    assert response.status_code == 302
    check = db.session.scalar(select(PersonCheck).where(PersonCheck.person_id == person.id))
    assert check.check_type.value == "criminal" and check.file.original_name == "无犯罪记录证明.pdf"
    page = _page(client.get(f"/provider/people/{person.id}"))
    assert "违法犯罪记录查询" in page and "NC-2026-001" in page and day.isoformat() in page
    assert f'href="/files/{check.file_id}"' in page
    assert "未登记违法犯罪记录查询" not in page


def test_add_check_errors_keep_input(db, admin, person):
    client, _user = admin
    future = (clock.today() + timedelta(days=3)).isoformat()
    response = client.post(f"/provider/people/{person.id}/checks", data={
        "check_type": "health", "result": "clear", "check_date": future, "authority": "南昌市第一医院"})
    page = _page(response)
    assert response.status_code == 422
    assert "查询/体检日期不能晚于今天" in page and 'value="南昌市第一医院"' in page
    response = client.post(f"/provider/people/{person.id}/checks", data={
        "check_type": "health", "result": "clear", "check_date": "2026-13-01", "authority": "x",
        "file": (io.BytesIO(b"MZ\x90\x00"), "evil.pdf")}, content_type="multipart/form-data")
    assert response.status_code == 422
    assert "日期格式应为 YYYY-MM-DD" in _page(response)
    assert _count(db, PersonCheck, person_id=person.id) == 0


def test_bad_evidence_file_is_refused(db, admin, person):
    client, _user = admin
    response = client.post(f"/provider/people/{person.id}/checks", data={
        "check_type": "moral", "result": "clear", "check_date": clock.today().isoformat(), "authority": "社区居委会",
        "file": (io.BytesIO(b"MZ\x90\x00not a pdf"), "证明.pdf")}, content_type="multipart/form-data")
    assert response.status_code == 422
    assert "文件内容不是 PDF、JPG 或 PNG" in _page(response)
    assert _count(db, PersonCheck, person_id=person.id) == 0


def test_add_qualification_with_file(db, admin, person):
    client, _user = admin
    response = client.post(f"/provider/people/{person.id}/qualifications", data={
        "qual_type": "coach", "name": "社会体育指导员", "number": "TY-001", "issuer": "江西省体育局",
        "issue_date": "2024-05-01", "file": (io.BytesIO(png_bytes()), "证书.png")}, content_type="multipart/form-data")
    assert response.status_code == 302
    qual = db.session.scalar(select(Qualification).where(Qualification.person_id == person.id))
    assert qual.number == "TY-001" and qual.expiry_date is None and qual.file.content_type == "image/png"
    page = _page(client.get(f"/provider/people/{person.id}"))
    assert "教练员/社会体育指导员证书" in page and "TY-001" in page and "长期" in page


def test_consent_needs_the_signed_form(db, admin, person):
    client, _user = admin
    day = clock.today().isoformat()
    response = client.post(f"/provider/people/{person.id}/consent", data={"consent_date": day})
    assert response.status_code == 422
    assert "请上传本人签署的授权同意书" in _page(response)
    assert _count(db, Consent, person_id=person.id) == 0
    response = client.post(f"/provider/people/{person.id}/consent",
                           data={"consent_date": day, "file": (io.BytesIO(pdf_bytes()), "授权同意书.pdf")},
                           content_type="multipart/form-data")
    assert response.status_code == 302
    consent = db.session.scalar(select(Consent).where(Consent.person_id == person.id))
    assert consent.file.original_name == "授权同意书.pdf"
    assert "已签署" in _page(client.get(f"/provider/people/{person.id}"))


def test_update_person(db, admin, person):
    client, _user = admin
    response = client.post(f"/provider/people/{person.id}/edit", data={
        "name": "王老师", "gender": "female", "phone": "13911112222", "staff_role": "manager", "specialties": ""})
    assert response.status_code == 302
    db.session.expire_all()
    person = db.session.get(Person, person.id)
    assert person.phone == "13911112222" and person.staff_role.value == "manager" and person.specialties == ""
    response = client.post(f"/provider/people/{person.id}/edit", data={
        "name": "  ", "gender": "female", "phone": "13911112222", "staff_role": "manager", "specialties": ""})
    assert response.status_code == 422 and "姓名不能为空" in _page(response)
    db.session.expire_all()
    assert db.session.get(Person, person.id).name == "王老师"


def test_unknown_form_field_is_refused(db, admin, person):
    client, _user = admin
    response = client.post(f"/provider/people/{person.id}/edit", data={"name": "王老师", "id_number": VALID})
    assert response.status_code == 422
    assert "未知字段" in _page(response)


# ---------------------------------------------------------------- reveal

def _reveals(db, person_id):
    return db.session.scalars(select(AuditLog).where(AuditLog.action == "person.reveal_id",
                                                     AuditLog.object_id == str(person_id))).all()


def test_reveal_requires_a_reason_and_is_audited(db, admin, person):
    client, user = admin
    response = client.post(f"/provider/people/{person.id}/reveal", data={})
    assert response.status_code == 422
    assert VALID not in _page(response) and _reveals(db, person.id) == []
    response = client.post(f"/provider/people/{person.id}/reveal", data={"reason": "短"})
    assert response.status_code == 422 and "理由" in _page(response)
    assert _reveals(db, person.id) == []

    response = client.post(f"/provider/people/{person.id}/reveal", data={"reason": "核对健康证明上的身份证号"})
    assert response.status_code == 200
    assert VALID in _page(response)
    assert response.headers["Cache-Control"] == "no-store"
    [row] = _reveals(db, person.id)
    assert row.actor_id == user.id and row.result == "success"
    assert row.details == {"reason": "核对健康证明上的身份证号"}
    # shown once: the next page view is masked again
    assert VALID not in _page(client.get(f"/provider/people/{person.id}"))


def test_reveal_of_tampered_number_fails_clearly_and_is_audited(db, admin, person):
    from sqlalchemy import text
    client, _user = admin
    blob = bytearray(db.session.execute(text("SELECT id_enc FROM person WHERE id = :id"), {"id": person.id}).scalar())
    blob[-3] ^= 0xFF
    db.session.execute(text("UPDATE person SET id_enc = :b WHERE id = :id"), {"b": bytes(blob), "id": person.id})
    db.session.expire_all()
    response = client.post(f"/provider/people/{person.id}/reveal", data={"reason": "核对身份信息"})
    assert response.status_code == 500
    assert "无法解密" in _page(response)
    [row] = _reveals(db, person.id)
    assert row.result == "failure" and row.details["error"] == "decryption_failed"
    assert "身份证号码无效或无法核验" in _page(client.get(f"/provider/people/{person.id}"))


# ---------------------------------------------------------------- another provider's people

def test_other_provider_gets_404_everywhere(db, admin, person, login_as):
    intruder, _other = login_as("provider_admin")
    base = f"/provider/people/{person.id}"
    assert intruder.get(base).status_code == 404
    day = clock.today().isoformat()
    posts = {
        "/edit": {"name": "改名", "gender": "male", "phone": "13900000000", "staff_role": "teacher"},
        "/checks": {"check_type": "criminal", "result": "clear", "check_date": day, "authority": "x"},
        "/qualifications": {"qual_type": "coach", "number": "1", "issuer": "x", "issue_date": day},
        "/consent": {"consent_date": day, "file": (io.BytesIO(pdf_bytes()), "c.pdf")},
        "/reveal": {"reason": "想看看别家的人"},
    }
    for suffix, data in posts.items():
        response = intruder.post(base + suffix, data=data, content_type="multipart/form-data")
        assert response.status_code == 404, suffix
        assert VALID not in _page(response)
    db.session.expire_all()
    assert db.session.get(Person, person.id).name == "王老师"
    assert _count(db, PersonCheck, person_id=person.id) == 0
    assert _count(db, Qualification, person_id=person.id) == 0
    assert _count(db, Consent, person_id=person.id) == 0
    assert _reveals(db, person.id) == []
    assert db.session.scalar(select(func.count()).select_from(StoredFile)) == 0


def test_reviewers_cannot_open_provider_staff_pages(db, person, login_as):
    client, _user = login_as("county_reviewer")
    assert client.get("/provider/people").status_code == 403
    assert client.get(f"/provider/people/{person.id}").status_code == 403
