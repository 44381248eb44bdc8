"""Complaints on the web and the JSON API (issue 17): the public files on a phone with a photo and follows the
complaint by tracking code; schools file from their account; handlers work the queue; providers answer and
appeal; the public sees monthly counts only. The privacy test: the complainant's name and phone appear in
no page or API answer a provider or the public can reach (they are stored encrypted)."""
import io
import re
from datetime import date

import pytest
from sqlalchemy import select

from registry.complaints import services as complaints
from registry.complaints.models import Complaint
from registry.orders import services as orders
from tests.fixtures.orders import order_fields
from tests.fixtures.providers import pdf_bytes, png_bytes
from tests.fixtures.reviews import at, client_as

NAME, PHONE = "李秀英", "13912345678"


@pytest.fixture
def world(db, whitelisted, ordering_school):
    order = orders.create_order(ordering_school["school"], actor=ordering_school["admin"],
                                **order_fields(whitelisted["entry"], ordering_school["term"]))
    orders.accept_order(order, actor=whitelisted["admin"], person_ids=[whitelisted["person"].id])
    return {**whitelisted, "school": ordering_school["school"], "school_admin": ordering_school["admin"],
            "order": order, "county": whitelisted["reviewers"]["county"], "city": whitelisted["reviewers"]["city"]}


def _xlsx_text(data):
    from openpyxl import load_workbook
    book = load_workbook(io.BytesIO(data))
    return "\n".join(str(cell.value) for sheet in book for row in sheet.iter_rows() for cell in row
                     if cell.value is not None)


def text(response):
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.get_data(as_text=True)))


def _file_public(client, world, **extra):
    data = {"category": "illegal_fees", "school_id": str(world["school"].id),
            "provider_id": str(world["provider"].id), "summary": "机构在课后服务时向每名学生收取材料费50元",
            "name": NAME, "phone": PHONE, **extra}
    return client.post("/complaints/new", data=data, content_type="multipart/form-data")


def test_public_files_with_a_photo_and_follows_it_by_tracking_code(client, db, world):
    assert "您的真实姓名" in text(client.get("/complaints/new"))
    response = _file_public(client, world, evidence=(io.BytesIO(png_bytes()), "收费照片.png"))
    assert response.status_code == 302
    code = re.search(r"code=(TS-[A-Z0-9]+)", response.headers["Location"]).group(1)
    page = text(client.get(response.headers["Location"]))
    assert code in page and "已受理" in page and "红谷滩区教育局" in page
    case = db.session.scalar(select(Complaint).where(Complaint.tracking_code == code))
    assert len(case.evidence) == 1 and case.complainant_name_enc and NAME.encode() not in case.complainant_name_enc
    assert complaints.complainant(case) == (NAME, PHONE)
    assert client.get("/complaints/track?code=TS-NOPE").status_code == 404


def test_public_form_refuses_missing_phone_and_a_fake_photo(client, world):
    response = _file_public(client, world, phone="12345")
    assert response.status_code == 422 and "手机号码" in text(response)
    response = _file_public(client, world, evidence=(io.BytesIO(b"not an image"), "x.png"))
    assert response.status_code == 422 and "文件内容不是" in text(response)


def test_public_form_is_rate_limited(ratelimited_app, db, world):
    client = ratelimited_app.test_client()
    codes = [_file_public(client, world).status_code for _ in range(6)]
    assert codes[:5] == [302] * 5 and codes[5] == 429


def test_handler_flow_on_pages_and_the_provider_never_sees_the_complainant(app, client, db, world, bearer):
    _file_public(client, world, evidence=(io.BytesIO(pdf_bytes()), "收据.pdf"))
    case = db.session.scalar(select(Complaint))
    county = client_as(app, world["county"])
    queue = text(county.get("/complaints/queue"))
    assert f"#{case.id}" in queue
    detail = text(county.get(f"/complaints/{case.id}"))
    assert NAME in detail and PHONE in detail  # the handling bureau sees the contact
    assert county.get(f"/complaints/{case.id}/evidence/{case.evidence[0]}").status_code == 200
    assert county.post(f"/complaints/{case.id}/acknowledge").status_code == 302
    assert county.post(f"/complaints/{case.id}/request-response", data={"request": "请说明材料费"}).status_code == 302
    provider = client_as(app, world["admin"])
    assert provider.post(f"/provider/complaints/{case.id}/respond", data={"response": "系自愿"}).status_code == 302
    assert county.post(f"/complaints/{case.id}/decide",
                       data={"outcome": "upheld", "reason": "违规收取材料费"}).status_code == 302
    city = client_as(app, world["city"])
    assert "处理建议待确认" in text(city.get("/complaints/queue"))
    assert city.post(f"/complaints/{case.id}/sanction", data={"confirm": "true"}).status_code == 302
    # the provider's pages and API, the public pages and API: never the name, the phone or the evidence
    token = bearer(world["admin"])
    reachable = [provider.get("/provider/complaints"), client.get("/api/v1/provider/complaints", headers=token),
                 client.get("/api/v1/provider/appeals/appealable", headers=token),
                 provider.get("/provider/adjustments"), provider.get("/inbox"),
                 client.get(f"/complaints/track?code={case.tracking_code}"),
                 client.get(f"/api/v1/complaints/track/{case.tracking_code}"),
                 client.get("/complaints/stats"), client.get("/api/v1/complaints/stats"),
                 client.get("/whitelist/changes"), client.get("/api/v1/whitelist/changes"),
                 client.get("/api/v1/whitelist"), client.get("/whitelist/export.csv"),
                 client.get("/whitelist/export.json"), client.get("/whitelist/export.xlsx")]
    for response in reachable:
        body = response.get_data(as_text=True) if response.mimetype != "application/vnd.openxmlformats-officedocument" \
            ".spreadsheetml.sheet" else _xlsx_text(response.get_data())
        assert response.status_code == 200, response.request.path
        assert NAME not in body and PHONE not in body, response.request.path
        assert "收据.pdf" not in body, response.request.path
    assert "违规收取材料费" in text(reachable[0])  # the decision and its reasons are shown to the provider
    assert provider.get(f"/complaints/{case.id}/evidence/{case.evidence[0]}").status_code == 403
    assert provider.get(f"/files/{case.evidence[0]}").status_code == 404
    assert "违规收费" in text(client.get("/whitelist/changes"))


def test_public_stats_show_counts_never_content(client, db, world):
    _file_public(client, world)
    page = text(client.get("/complaints/stats"))
    assert "南昌市" in page and "材料费" not in page
    rows = client.get("/api/v1/complaints/stats").get_json()
    assert rows[0]["counts"]["illegal_fees"] == 1 and rows[0]["total"] == 1
    assert set(rows[0]) == {"city", "month", "counts", "total", "median_days"}


def test_school_files_from_its_account_naming_a_person_of_its_orders(app, db, world):
    school = client_as(app, world["school_admin"])
    form = text(school.get("/complaints/file"))
    assert world["person"].name in form
    response = school.post("/complaints/file", data={
        "category": "staff_conduct", "provider_id": str(world["provider"].id), "person_id": str(world["person"].id),
        "summary": "教练言语粗暴", "pass_code": "P-001"})
    assert response.status_code == 302
    case = db.session.scalar(select(Complaint))
    assert (case.source.value, case.subject_kind.value, case.school_id) == ("school", "person", world["school"].id)
    assert case.pass_code == "P-001" and case.region_id == world["school"].county_id


def test_api_flow_and_appeal_refused_for_the_original_decider(app, db, world, bearer, create_user):
    client = app.test_client()
    response = client.post("/api/v1/complaints/public", json={
        "category": "illegal_fees", "summary": "收取材料费", "school_id": world["school"].id,
        "provider_id": world["provider"].id, "name": NAME, "phone": PHONE})
    assert response.status_code == 201
    code = response.get_json()["tracking_code"]
    assert client.post(f"/api/v1/complaints/track/{code}/evidence",
                       data={"file": (io.BytesIO(png_bytes()), "a.png")},
                       content_type="multipart/form-data").status_code == 201
    bad = client.post("/api/v1/complaints/public", json={"category": "nope", "summary": "x", "name": NAME,
                                                         "phone": PHONE})
    assert bad.status_code == 422 and bad.get_json()["field"] == "category"
    county = bearer(world["county"])
    city = bearer(world["city"])
    queue = client.get("/api/v1/complaints/queue", headers=county).get_json()
    assert queue[0]["complainant_phone"] == PHONE
    cid = queue[0]["id"]
    assert client.post(f"/api/v1/complaints/{cid}/acknowledgement", headers=county).status_code == 200
    assert client.post(f"/api/v1/complaints/{cid}/response-request", json={"request": "请说明"},
                       headers=county).status_code == 200
    early = client.post(f"/api/v1/complaints/{cid}/decision", json={"outcome": "upheld", "reason": "属实"},
                        headers=county)
    assert early.status_code == 409 and early.get_json()["code"] == "awaiting_response"
    provider = bearer(world["admin"])
    listed = client.get("/api/v1/provider/complaints", headers=provider).get_json()
    assert listed[0]["response_request"] == "请说明" and "complainant_name" not in listed[0]
    assert client.post(f"/api/v1/provider/complaints/{cid}/response", json={"response": "自愿"},
                       headers=provider).status_code == 200
    assert client.post(f"/api/v1/complaints/{cid}/decision", json={"outcome": "upheld", "reason": "属实"},
                       headers=city).status_code == 200  # the city may decide its county's complaint
    assert client.post(f"/api/v1/complaints/{cid}/sanction", json={"confirm": True},
                       headers=city).status_code == 200
    options = client.get("/api/v1/provider/appeals/appealable", headers=provider).get_json()
    ban = next(o for o in options if o["subject"] == "ban")
    appeal = client.post("/api/v1/provider/appeals", json={"subject": "ban", "action_id": ban["record_id"],
                                                           "reasons": "有收据"}, headers=provider)
    assert appeal.status_code == 201
    aid = appeal.get_json()["id"]
    refused = client.post(f"/api/v1/appeals/{aid}/decision", json={"outcome": "change", "reason": "x"}, headers=city)
    assert refused.status_code == 403 and refused.get_json()["code"] == "original_decider"
    other = bearer(create_user("city_reviewer", region_code="360100"))
    done = client.post(f"/api/v1/appeals/{aid}/decision", json={"outcome": "confirm", "reason": "维持"}, headers=other)
    assert done.status_code == 200 and done.get_json()["status"] == "confirmed"
    status = client.get(f"/api/v1/complaints/track/{code}").get_json()
    assert status["outcome"] == "upheld" and "complainant_name" not in status
    rated = client.post(f"/api/v1/complaints/track/{code}/rating", json={"rating": 4})
    assert rated.status_code == 200 and rated.get_json()["status"] == "closed"


def test_other_county_cannot_see_the_complaint(app, db, world):
    at(date(2026, 3, 10))
    case = complaints.open_case(source="school", category="other", summary="x", order_id=world["order"].id)
    other = client_as(app, world["reviewers"]["other_county"])
    assert other.get(f"/complaints/{case.id}").status_code == 404
    assert f"#{case.id}" not in text(other.get("/complaints/queue"))


def test_school_answers_a_complaint_against_it_and_rates_its_own(app, db, world):
    against = complaints.open_case(source="public", category="forced_participation", summary="强制报名",
                                          school_id=world["school"].id, complainant_name=NAME,
                                          complainant_phone=PHONE)
    complaints.acknowledge(against, actor=world["county"])
    complaints.request_response(against, actor=world["county"], request="请学校说明报名方式")
    school = client_as(app, world["school_admin"])
    page = text(school.get("/school/complaints"))
    assert "请学校说明报名方式" in page and NAME not in page and PHONE not in page and "强制报名" not in page
    answer = school.post(f"/school/complaints/{against.id}/respond", data={"response": "自愿报名"})
    assert answer.status_code == 302
    assert against.response == "自愿报名"
    own = complaints.open_case(source="school", category="other", summary="x", order_id=world["order"].id,
                               actor=world["school_admin"])
    complaints.acknowledge(own, actor=world["county"])
    complaints.request_response(own, actor=world["county"], request="请说明")
    complaints.respond(own, actor=world["admin"], response="说明")
    complaints.decide(own, actor=world["county"], outcome="dismissed", reason="不属实")
    anonymous = app.test_client()
    assert anonymous.post("/complaints/track/rate", data={"code": own.tracking_code, "rating": "5"}).status_code == 404
    assert school.post("/complaints/track/rate", data={"code": own.tracking_code, "rating": "3"}).status_code == 302
    assert own.rating == 3 and own.status.value == "closed"


def test_appeal_pages_refuse_the_original_decider_and_reinstate(app, db, world, create_user):
    case = complaints.open_case(source="school", category="illegal_fees", summary="材料费", order_id=world["order"].id)
    complaints.acknowledge(case, actor=world["county"])
    complaints.request_response(case, actor=world["county"], request="请说明")
    complaints.respond(case, actor=world["admin"], response="说明")
    complaints.decide(case, actor=world["county"], outcome="upheld", reason="属实")
    complaints.confirm_sanction(case, actor=world["city"], confirm=True)
    provider = client_as(app, world["admin"])
    page = provider.get("/provider/complaints").get_data(as_text=True)
    option = re.search(r'value="(delisting:action_id:\d+)"', page).group(1)
    response = provider.post("/provider/appeals", data={"decision": option, "reasons": "有收据为证"},
                             content_type="multipart/form-data")
    assert response.status_code == 302
    assert "申诉复核中" in text(app.test_client().get("/whitelist/changes"))
    city = client_as(app, world["city"])
    listing = text(city.get("/review/appeals"))
    assert world["provider"].name in listing
    appeal_id = int(re.search(r"/review/appeals/(\d+)", city.get("/review/appeals").get_data(as_text=True)).group(1))
    assert "您是原决定人" in text(city.get(f"/review/appeals/{appeal_id}"))
    refused = city.post(f"/review/appeals/{appeal_id}/decide", data={"outcome": "change", "reason": "x"})
    assert refused.status_code == 403
    other = client_as(app, create_user("city_reviewer", region_code="360100"))
    assert other.post(f"/review/appeals/{appeal_id}/decide",
                      data={"outcome": "change", "reason": "收费属代购"}).status_code == 302
    assert "撤销或变更原决定" in text(provider.get("/provider/complaints"))
    assert "申诉复核中" not in text(app.test_client().get("/whitelist/changes"))


def test_api_evidence_for_an_account_complaint_and_an_appeal(app, db, world, bearer):
    client = app.test_client()
    school, provider = bearer(world["school_admin"]), bearer(world["admin"])
    filed = client.post("/api/v1/complaints/filed", json={"category": "illegal_fees", "summary": "材料费",
                                                           "provider_id": world["provider"].id}, headers=school)
    assert filed.status_code == 201
    code = filed.get_json()["tracking_code"]
    upload = client.post(f"/api/v1/complaints/filed/{code}/evidence", headers=school,
                         data={"file": (io.BytesIO(pdf_bytes()), "收据.pdf")}, content_type="multipart/form-data")
    assert upload.status_code == 201
    assert client.post(f"/api/v1/complaints/filed/{code}/evidence", headers=provider,
                       data={"file": (io.BytesIO(pdf_bytes()), "x.pdf")},
                       content_type="multipart/form-data").status_code == 403
    case = db.session.scalar(select(Complaint).where(Complaint.tracking_code == code))
    assert len(case.evidence) == 1
    complaints.acknowledge(case, actor=world["county"])
    complaints.request_response(case, actor=world["county"], request="请说明")
    complaints.respond(case, actor=world["admin"], response="说明")
    complaints.decide(case, actor=world["county"], outcome="upheld", reason="属实")
    appeal = client.post("/api/v1/provider/appeals", json={"subject": "complaint", "complaint_id": case.id,
                                                           "reasons": "不服"}, headers=provider).get_json()
    added = client.post(f"/api/v1/provider/appeals/{appeal['id']}/evidence", headers=provider,
                        data={"file": (io.BytesIO(png_bytes()), "发票.png")}, content_type="multipart/form-data")
    assert added.status_code == 201
    fake = client.post(f"/api/v1/provider/appeals/{appeal['id']}/evidence", headers=provider,
                       data={"file": (io.BytesIO(b"%PDF-no"), "x.png")}, content_type="multipart/form-data")
    assert fake.status_code == 422 and fake.get_json()["field"] == "file"
