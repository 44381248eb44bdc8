"""Issue 19 (everyday use, part B): setup links follow PORT, the order form (unfit grades, sessions that do
not fit the term, the live total), list exports (review queue, orders, change feed), the admin's user list,
the login page's help, public search by category and partial credit code, wording (tense, region names,
no repeated labels in errors)."""
import csv
import io
import re
from datetime import date

import pytest
from openpyxl import load_workbook

from registry.cli import format_logins
from registry.config import load_config
from registry.orders import services as orders
from registry.regions import services as regions
from registry.schools.models import SchoolType
from tests.fixtures.accounts import login
from tests.fixtures.orders import order_fields
from tests.fixtures.reviews import at, client_as
from tests.fixtures.schools import make_school_row

# ---------------------------------------------------------------- setup: PORT

def test_links_follow_port_unless_base_url_is_set(monkeypatch, app):
    monkeypatch.delenv("REGISTRY_BASE_URL", raising=False)
    monkeypatch.setenv("PORT", "5101")
    monkeypatch.delenv("HOST", raising=False)
    assert load_config()["BASE_URL"] == "http://127.0.0.1:5101"
    monkeypatch.setenv("REGISTRY_BASE_URL", "https://kehou.example.gov.cn")
    assert load_config()["BASE_URL"] == "https://kehou.example.gov.cn"
    with app.app_context():
        old = app.config["BASE_URL"]
        app.config["BASE_URL"] = "http://127.0.0.1:5101"
        try:
            assert "http://127.0.0.1:5101/login" in format_logins([("admin", "pw", "系统管理员")])
        finally:
            app.config["BASE_URL"] = old


def test_makefile_passes_port_to_the_app():
    from pathlib import Path
    makefile = (Path(__file__).resolve().parents[2] / "Makefile").read_text()
    assert re.search(r"^export HOST PORT$", makefile, re.M)


def test_certificate_verify_link_uses_base_url(app, db, whitelisted):
    from registry.whitelist.models import Certificate
    from registry.whitelist.queries import verify_url
    cert = db.session.query(Certificate).first()
    old = app.config["BASE_URL"]
    app.config["BASE_URL"] = "http://127.0.0.1:5101"
    try:
        with app.test_request_context():
            assert verify_url(cert).startswith("http://127.0.0.1:5101/verify/")
    finally:
        app.config["BASE_URL"] = old


# ---------------------------------------------------------------- the order form

@pytest.fixture
def nine_year(db, create_user, ordering_school):
    school = make_school_row(db, school_type=SchoolType.nine_year, name="南昌市红谷滩区九年一贯制示范学校")
    admin = create_user("school_admin", school_id=school.id)
    return {"school": school, "admin": admin, "term": ordering_school["term"]}


def test_unfit_grades_cannot_be_ticked(app, db, whitelisted, nine_year):
    page = client_as(app, nine_year["admin"]).get(f"/school/orders/new?entry_id={whitelisted['entry'].id}")
    html = page.get_data(as_text=True)
    boxes = dict(re.findall(r'<input type="checkbox" name="grades" value="(\d)"([^>]*)>', html))
    assert set(boxes) == {str(g) for g in range(1, 10)}
    for grade in "789":
        assert "disabled" in boxes[grade], grade
    for grade in "123456":
        assert "disabled" not in boxes[grade], grade


def test_sessions_that_cannot_fit_the_term_are_warned_and_total_is_computed(app, db, whitelisted, ordering_school):
    browser = client_as(app, ordering_school["admin"])
    at(date(2026, 6, 29))  # two weeks before the term ends on 2026-07-10
    browser = client_as(app, ordering_school["admin"])
    form = {k: v for k, v in order_fields(whitelisted["entry"], ordering_school["term"], weekdays=[1]).items()}
    response = browser.post("/school/orders", data={**form, "preview": "1"})
    html = response.get_data(as_text=True)
    assert "只有 2 个周二，排不下 16 次服务" in html
    assert "1800.00 元" in html  # 3.00 × 25 × 16 sessions × 1.5 class hours (60 of 40 minutes), on the server
    assert 'src="/static/order_form.js"' in html and 'id="order-total"' in html
    fitting = browser.post("/school/orders", data={**form, "weekdays": [0, 1, 2, 3, 4], "sessions": 8,
                                                   "preview": "1"}).get_data(as_text=True)
    assert "排不下" not in fitting
    assert app.test_client().get("/static/order_form.js").status_code == 200


def test_weekday_slots_counts_the_days():
    # 2026-06-29 is a Monday; to 2026-07-10 (a Friday): two Mondays, two Tuesdays.
    assert orders.weekday_slots(date(2026, 6, 29), date(2026, 7, 10), {0}) == 2
    assert orders.weekday_slots(date(2026, 6, 29), date(2026, 7, 10), {0, 1, 2, 3, 4}) == 10
    assert orders.weekday_slots(date(2026, 7, 11), date(2026, 7, 10), {0}) == 0


def test_form_errors_do_not_repeat_the_label(app, db, whitelisted, ordering_school):
    browser = client_as(app, ordering_school["admin"])
    form = order_fields(whitelisted["entry"], ordering_school["term"], expected_students=99)
    html = browser.post("/school/orders", data=form).get_data(as_text=True)
    assert "预计人数须在项目班额" in html
    assert "预计人数：预计人数" not in html and "预计人数:预计人数" not in html


# ---------------------------------------------------------------- exports

def _csv(response):
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    assert response.mimetype == "text/csv"
    text = response.get_data().decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text)))


def _xlsx(response):
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.data)).active
    return [[c.value for c in row] for row in sheet.iter_rows()]


def test_order_lists_export_csv_and_xlsx(app, db, whitelisted, ordering_school):
    order = orders.create_order(ordering_school["school"], actor=ordering_school["admin"],
                                **order_fields(whitelisted["entry"], ordering_school["term"]))
    db.session.flush()
    school = client_as(app, ordering_school["admin"])
    rows = _csv(school.get("/school/orders/export.csv"))
    assert rows[0][0] == "订单号" and rows[1][0] == str(order.id) and "花样跳绳" in rows[1]
    assert "/school/orders/export.csv" in school.get("/school/orders").get_data(as_text=True)
    sheet = _xlsx(school.get("/school/orders/export.xlsx?status=requested"))
    assert sheet[1][0] == str(order.id)
    assert len(_csv(school.get("/school/orders/export.csv?status=cancelled"))) == 1
    provider = client_as(app, whitelisted["admin"])
    rows = _csv(provider.get("/provider/orders/export.csv?status=requested"))
    assert rows[1][0] == str(order.id) and ordering_school["school"].name in rows[1]
    assert school.get("/school/orders/export.pdf").status_code == 422
    assert provider.get("/school/orders/export.csv").status_code == 403


def test_review_queue_and_change_feed_export(app, db, submitted, reviewers, whitelisted):
    browser = client_as(app, reviewers["city"])
    rows = _csv(browser.get("/review/applications/export.csv"))
    assert rows[0][:2] == ["编号", "机构"]
    page = browser.get("/review/applications").get_data(as_text=True)
    assert "/review/applications/export.csv" in page
    sheet = _xlsx(browser.get("/review/applications/export.xlsx?state=published"))
    assert sheet[0][0] == "编号"
    public = app.test_client()
    rows = _csv(public.get("/whitelist/changes/export.csv"))
    assert rows[0][0] == "日期" and any(whitelisted["provider"].name in r for r in rows[1:])
    assert "/whitelist/changes/export.csv" in public.get("/whitelist/changes").get_data(as_text=True)
    assert not any(re.search(r"1[3-9]\d{9}", cell) for r in rows for cell in r)  # no phone in public output


# ---------------------------------------------------------------- admin users, login page

def test_admin_user_list_shows_organisation_and_last_login(app, db, login_as, whitelisted):
    client, _admin = login_as("sys_admin")
    html = client.get("/admin/users?per_page=100").get_data(as_text=True)
    assert "所属单位" in html and "最近登录" in html
    assert whitelisted["provider"].name in html
    assert "从未登录" in html  # the provider's admin has never logged in here
    assert re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d", html)  # the sys_admin just did


def test_login_page_explains_forgotten_passwords(client):
    html = client.get("/login").get_data(as_text=True)
    assert "忘记密码" in html and "重置" in html and "使用帮助：" in html


# ---------------------------------------------------------------- public search

def test_public_search_matches_category_names_and_partial_credit_codes(app, db, whitelisted, publish_provider):
    publish_provider(name="南昌美美艺术有限公司", projects=[{"title": "儿童创意画", "category": "arts"}])
    client = app.test_client()
    html = client.get("/whitelist?q=美育").get_data(as_text=True)
    assert "儿童创意画" in html and "花样跳绳" not in html
    assert "儿童创意画" in client.get("/whitelist?q=美").get_data(as_text=True)
    uscc = whitelisted["provider"].uscc
    html = client.get(f"/whitelist?q={uscc[10:].lower()}").get_data(as_text=True)
    assert whitelisted["provider"].name in html and "儿童创意画" not in html
    assert "花样跳绳" not in client.get("/whitelist?q=ZZZZ9").get_data(as_text=True)


# ---------------------------------------------------------------- wording

def test_region_names_are_not_doubled(db, seeded_regions):
    rulake = regions.get_by_code("36X101")
    assert rulake.full_name == "赣江新区儒乐湖新城"
    assert regions.get_by_code("360113").full_name == "南昌市红谷滩区"


def test_tense_follows_the_date(db, whitelisted, frozen_clock):
    from registry.people import services as people
    person = whitelisted["person"]
    today = date(2026, 3, 10)
    at(today)
    ahead = people.clearance(person, date(2028, 1, 1))
    assert ahead.reasons and not any("已于" in r for r in ahead.reasons), ahead.reasons
    assert any("将于" in r for r in ahead.reasons), ahead.reasons
    at(date(2028, 1, 1))
    past = people.clearance(person, date(2028, 1, 1))
    assert any("已于" in r or "已超过" in r for r in past.reasons), past.reasons


def test_login_still_works_for_demo_style_accounts(client, create_user):
    user = create_user("auditor")
    assert login(client, user.username).status_code == 302
