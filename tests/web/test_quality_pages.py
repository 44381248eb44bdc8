"""Quality on the pages and in JSON (issue 16): the parents' survey with no login (HTML and API), the school's
evaluation and printable code sheet, the dashboard reminder, the warning in the school catalog, the provider's
panel with anonymised comments, the public rate only from 10 answers, the bureaus' standings and XLSX."""
import io
import re
from datetime import date

from sqlalchemy import func, select

from registry.orders.models import OrderStatus
from registry.quality import services as quality
from registry.quality.models import SchoolEvaluation, SurveyCode, SurveyResponse
from tests.fixtures.quality import answer_all, served_order, term_end
from tests.fixtures.reviews import at, client_as

FORM = {"satisfaction": "basic", "interest": "some", "safety": "safe", "extra_fee": "false", "voluntary": "true",
        "comment": "孩子很喜欢"}


def _responses(db):
    return db.session.scalar(select(func.count()).select_from(SurveyResponse))


def _codes(db, w, expected=12, day=date(2026, 6, 20)):
    order = served_order(db, w["entry"], w["school"], w["term"], expected=expected)
    at(day)
    return order, quality.issue_codes(order, actor=None)


def test_a_parent_answers_on_the_phone_page_with_no_login(app, db, quality_world):
    order, codes = _codes(db, quality_world)
    client = app.test_client()
    page = client.get(f"/s/{codes[0]}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    for part in ("家长满意度问卷", "花样跳绳", "共 6 题", "满意", "基本满意", "不满意", "很感兴趣", "是否有人向您收取",
                 "自愿"):
        assert part in html, part
    assert quality_world["school"].name not in html   # nothing about the school or the class
    response = client.post(f"/s/{codes[0]}", data=FORM)
    assert response.status_code == 200 and "提交成功" in response.get_data(as_text=True)
    assert _responses(db) == 1
    again = client.post(f"/s/{codes[0]}", data=FORM)
    assert again.status_code == 409 and "只能使用一次" in again.get_data(as_text=True)
    # The code typed by hand, with dashes and lower case, leads to the same survey.
    typed = client.post("/s", data={"code": quality.format_code(codes[1]).lower()})
    assert typed.status_code == 302 and typed.headers["Location"].endswith(f"/s/{codes[1]}")


def test_a_missing_answer_keeps_what_was_chosen(app, db, quality_world):
    _order, codes = _codes(db, quality_world)
    response = app.test_client().post(f"/s/{codes[0]}", data={**FORM, "voluntary": ""})
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and "请回答：孩子是否自愿参加" in html
    assert 'value="basic" checked' in html and _responses(db) == 0


def test_a_guessed_code_gets_the_same_answer_as_a_malformed_one(app, db, quality_world):
    _codes(db, quality_world)
    client = app.test_client()
    guessed = client.get("/s/ABCDEFGHJKMNPQRS")
    malformed = client.get("/s/nonsense")
    assert guessed.status_code == malformed.status_code == 404
    assert quality.UNKNOWN_CODE in guessed.get_data(as_text=True)
    api = client.post("/api/v1/survey/ABCDEFGHJKMNPQRS", json={
        "satisfaction": "satisfied", "interest": "high", "safety": "safe", "extra_fee": False, "voluntary": True})
    assert api.status_code == 404 and api.json["code"] == "unknown_code" and api.json["field"] == "code"


def test_the_survey_api_answers_once_and_refuses_an_expired_code(app, db, quality_world):
    _order, codes = _codes(db, quality_world)
    client = app.test_client()
    info = client.get(f"/api/v1/survey/{quality.format_code(codes[0])}")
    assert info.status_code == 200 and info.json["project"] == "花样跳绳" and "school" not in info.json
    body = {"satisfaction": "dissatisfied", "interest": "none", "safety": "concerned", "extra_fee": False,
            "voluntary": True, "comment": ""}
    assert client.post(f"/api/v1/survey/{codes[0]}", json=body).status_code == 201
    second = client.post(f"/api/v1/survey/{codes[0]}", json=body)
    assert second.status_code == 409 and second.json["code"] == "code_used"
    bad = client.post(f"/api/v1/survey/{codes[1]}", json={**body, "satisfaction": "great"})
    assert bad.status_code == 422 and bad.json["field"] == "satisfaction" and "满意" in bad.json["message"]
    at(date(2026, 7, 11))
    expired = client.post(f"/api/v1/survey/{codes[1]}", json=body)
    assert expired.status_code == 409 and expired.json["code"] == "code_expired"


def test_the_survey_is_rate_limited_per_address(ratelimited_app, db, quality_world):
    ratelimited_app.config["SURVEY_RATE_LIMIT"] = "3 per minute"
    client = ratelimited_app.test_client()
    statuses = [client.get(f"/s/{'A' * 15}{i}").status_code for i in range(4)]
    assert statuses == [404, 404, 404, 429]
    assert client.post("/api/v1/survey/AAAA", json={}).status_code == 429


def test_the_school_prints_a_sheet_of_codes_with_qr_codes(app, db, quality_world):
    w = quality_world
    order = served_order(db, w["entry"], w["school"], w["term"], expected=12)
    at(date(2026, 6, 20))
    browser = client_as(app, w["school_admin"])
    page = browser.get(f"/school/quality/orders/{order.id}").get_data(as_text=True)
    assert "生成问卷码表（PDF）" in page and "提交评价" in page
    response = browser.post(f"/school/quality/orders/{order.id}/survey-sheet")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    from pypdf import PdfReader
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(response.data)).pages)
    printed = re.findall(r"[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}", text)
    assert len(set(printed)) == 12
    stored = set(db.session.scalars(select(SurveyCode.code_hash).where(SurveyCode.order_id == order.id)))
    assert {quality.hash_code(c.replace("-", "")) for c in printed} == stored
    assert "第 12 / 12 张" in text and "花样跳绳" in text
    other = served_order(db, w["entry"], w["school"], w["term"])
    from tests.fixtures.schools import make_school_row
    other.school_id = make_school_row(db).id
    db.session.flush()
    assert browser.post(f"/school/quality/orders/{other.id}/survey-sheet").status_code == 404


def test_the_school_evaluates_in_the_window_and_the_dashboard_reminds_it(app, db, quality_world):
    w = quality_world
    order = served_order(db, w["entry"], w["school"], w["term"])
    at(date(2026, 6, 1))
    browser = client_as(app, w["school_admin"])
    assert "学期评价已开放" not in browser.get("/dashboard").get_data(as_text=True)
    assert "2026-06-13 开放" in browser.get("/school/quality").get_data(as_text=True)
    at(date(2026, 6, 15))
    browser = client_as(app, w["school_admin"])
    dashboard = browser.get("/dashboard").get_data(as_text=True)
    assert "学期评价已开放：本校有 1 个第三方服务订单待评价（2026-07-10 截止）" in dashboard
    missing = browser.post(f"/school/quality/orders/{order.id}/evaluation", data={"content": "good"})
    assert missing.status_code == 422 and "请选择总体满意度" in missing.get_data(as_text=True)
    saved = browser.post(f"/school/quality/orders/{order.id}/evaluation", data={
        "content": "good", "punctuality": "fair", "safety": "good", "engagement": "good", "overall": "satisfied",
        "comment": "教练认真"})
    assert saved.status_code == 302
    assert db.session.scalar(select(SchoolEvaluation)).punctuality.value == "fair"
    assert "学期评价已开放" not in browser.get("/dashboard").get_data(as_text=True)


def test_the_school_api_evaluates_and_issues_codes(app, db, quality_world, bearer):
    w = quality_world
    order = served_order(db, w["entry"], w["school"], w["term"], expected=10)
    at(date(2026, 6, 20))
    headers = bearer(w["school_admin"])
    client = app.test_client()
    listing = client.get("/api/v1/school/quality/orders", headers=headers)
    assert listing.status_code == 200 and listing.json[0]["evaluation_open"] is True
    put = client.put(f"/api/v1/school/quality/orders/{order.id}/evaluation", headers=headers, json={
        "content": "good", "punctuality": "good", "safety": "good", "engagement": "fair", "overall": "basic"})
    assert put.status_code == 200 and put.json["overall"] == {"value": "basic", "label": "基本满意"}
    codes = client.post(f"/api/v1/school/quality/orders/{order.id}/survey-codes", headers=headers)
    assert codes.status_code == 201 and len(codes.json["codes"]) == 10
    assert codes.json["links"][0].endswith("/s/" + codes.json["codes"][0].replace("-", ""))
    unknown = client.put("/api/v1/school/quality/orders/999999/evaluation", headers=headers, json={
        "content": "good", "punctuality": "good", "safety": "good", "engagement": "fair", "overall": "basic"})
    assert unknown.status_code == 404


def test_a_warned_project_shows_its_warning_in_the_catalog(app, db, quality_world, bearer):
    w = quality_world
    order = served_order(db, w["entry"], w["school"], w["autumn"], expected=12, status=OrderStatus.completed)
    answer_all(order, satisfied=9, dissatisfied=3, day=date(2026, 1, 10))
    term_end(date(2026, 1, 21))
    at(date(2026, 3, 13))
    browser = client_as(app, w["school_admin"])
    page = browser.get("/school/catalog").get_data(as_text=True)
    assert "质量预警" in page and "2025—2026学年第一学期满意率 75.0%（12 份评价），低于本市标准 80%" in page
    project = browser.get(f"/school/catalog/{w['entry'].id}").get_data(as_text=True)
    assert "质量预警" in project
    form = browser.get(f"/school/orders/new?entry_id={w['entry'].id}").get_data(as_text=True)
    assert "质量预警：" in form and "请慎重点单" in form
    item = app.test_client().get("/api/v1/school/catalog", headers=bearer(w["school_admin"])).json["items"][0]
    assert item["standing"]["below_threshold"] is True and item["standing"]["rate"] == "0.7500"
    assert item["standing"]["responses"] == 12


def test_the_public_whitelist_shows_the_rate_only_from_ten_answers(app, db, quality_world):
    w = quality_world
    order = served_order(db, w["entry"], w["school"], w["autumn"], expected=12, status=OrderStatus.completed)
    answer_all(order, satisfied=9, dissatisfied=0, day=date(2026, 1, 10))
    term_end(date(2026, 1, 21))
    at(date(2026, 3, 13))
    client = app.test_client()
    assert client.get("/api/v1/whitelist").json["items"][0]["satisfaction_rate"] is None
    assert "100.0%" not in client.get("/whitelist").get_data(as_text=True)
    spring = served_order(db, w["entry"], w["school"], w["term"], expected=12)
    answer_all(spring, satisfied=10, dissatisfied=2, day=date(2026, 7, 1))
    term_end(date(2026, 7, 11))
    at(date(2026, 7, 12))
    assert client.get("/api/v1/whitelist").json["items"][0]["satisfaction_rate"] == "0.8333"
    assert "83.3%" in client.get("/whitelist").get_data(as_text=True)


def test_the_provider_sees_standings_and_anonymised_comments(app, db, quality_world, bearer):
    w = quality_world
    order = served_order(db, w["entry"], w["school"], w["autumn"], expected=12, status=OrderStatus.completed)
    answer_all(order, satisfied=11, dissatisfied=1, day=date(2026, 1, 10), comment="老师很好，电话 13912345678")
    term_end(date(2026, 1, 21))
    at(date(2026, 3, 13))
    browser = client_as(app, w["admin"])
    page = browser.get("/provider").get_data(as_text=True)
    assert "服务质量评估" in page and "91.7%" in page and "达标" in page
    assert "老师很好，电话 ＊＊＊" in page and "13912345678" not in page
    assert w["school"].name not in page
    api = app.test_client().get("/api/v1/provider/quality", headers=bearer(w["admin"])).json
    assert api["standings"][0]["rate"] == "0.9167" and api["comments"][0]["source"] == "家长"
    assert "13912345678" not in str(api)


def test_the_bureaus_see_and_export_standings_of_their_region(app, db, quality_world, create_user, bearer):
    w = quality_world
    order = served_order(db, w["entry"], w["school"], w["autumn"], expected=12, status=OrderStatus.completed)
    answer_all(order, satisfied=9, dissatisfied=3, day=date(2026, 1, 10))
    term_end(date(2026, 1, 21))
    county = w["reviewers"]["county"]
    browser = client_as(app, county)
    page = browser.get("/quality/standings").get_data(as_text=True)
    assert "红谷滩区课后服务质量评估" in page and "花样跳绳" in page and "低于满意度标准" in page
    export = browser.get("/quality/standings.xlsx")
    assert export.status_code == 200
    from openpyxl import load_workbook
    rows = list(load_workbook(io.BytesIO(export.data)).active.iter_rows(values_only=True))
    assert rows[1][:3] == ("学期", "机构", "服务项目") and rows[2][2] == "花样跳绳" and rows[2][8] == 0.75
    city = app.test_client().get("/api/v1/quality/standings", headers=bearer(w["reviewers"]["city"])).json
    assert city["total"] == 1 and city["items"][0]["level"]["value"] == "below"
    other = app.test_client().get("/api/v1/quality/standings", headers=bearer(w["reviewers"]["other_county"])).json
    assert other["total"] == 0
