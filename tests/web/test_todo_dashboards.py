"""Issue 19, to-do dashboards: every role's home page lists its to-do counts, each linking to the filtered list;
the counts come from set-based queries (the same number of statements for one order as for five); 消息 carries
an unread badge; a listed provider is not told to apply for admission."""
import re
from datetime import timedelta

import pytest
from sqlalchemy import event

from registry.core import clock
from registry.extensions import db as _db
from registry.orders import services as orders
from registry.orders.models import Order
from registry.reviews.services import decide
from tests.fixtures.orders import order_fields
from tests.fixtures.reviews import at, client_as


def _todo(page, label):
    """(count, href) of the to-do item labelled `label`."""
    found = re.search(r'<a href="([^"]*)">\s*<span class="count">(\d+)</span>\s*<span><strong>'
                      + re.escape(label) + "</strong>", page)
    assert found, f"no to-do item {label}"
    return int(found.group(2)), found.group(1).replace("&amp;", "&")


class Statements:
    def __init__(self):
        self.count = 0

    def __call__(self, *_args, **_kwargs):
        self.count += 1


def _statements(client, path):
    counter = Statements()
    event.listen(_db.engine, "before_cursor_execute", counter)
    try:
        assert client.get(path).status_code == 200
    finally:
        event.remove(_db.engine, "before_cursor_execute", counter)
    return counter.count


@pytest.fixture
def ordered(app, db, whitelisted, ordering_school):
    order = orders.create_order(ordering_school["school"], actor=ordering_school["admin"],
                                **order_fields(whitelisted["entry"], ordering_school["term"]))
    return {**whitelisted, **{f"school_{k}": v for k, v in ordering_school.items()}, "order": order}


def _more_orders(db, order, n):
    """n more orders like `order` (rows written directly: only the counts matter here)."""
    columns = [c.key for c in Order.__table__.columns if c.key not in ("id", "created_at", "updated_at")]
    for _ in range(n):
        db.session.add(Order(**{k: getattr(order, k) for k in columns}))
    db.session.flush()


def test_provider_and_school_home_pages_count_orders_with_links_in_constant_statements(app, db, ordered):
    provider = client_as(app, ordered["admin"])
    school = client_as(app, ordered["school_admin"])
    page = provider.get("/provider").get_data(as_text=True)
    assert _todo(page, "待确认的点单") == (1, "/provider/orders?status=requested")
    assert _todo(page, "退回待修改的审核项")[0] == 0
    listed = provider.get("/provider/orders?status=requested").get_data(as_text=True)
    assert f"/provider/orders/{ordered['order'].id}" in listed
    page = school.get("/dashboard").get_data(as_text=True)
    assert _todo(page, "待机构确认的点单") == (1, "/school/orders?status=requested")
    assert _todo(page, "已暂停的点单") == (0, "/school/orders?status=suspended")
    assert "暂停期间机构不得进校" in page

    few = (_statements(provider, "/provider"), _statements(school, "/dashboard"))
    _more_orders(db, ordered["order"], 4)
    assert _todo(provider.get("/provider").get_data(as_text=True), "待确认的点单")[0] == 5
    assert _todo(school.get("/dashboard").get_data(as_text=True), "待机构确认的点单")[0] == 5
    assert (_statements(provider, "/provider"), _statements(school, "/dashboard")) == few


def test_a_listed_provider_is_not_told_to_apply_for_admission(app, db, whitelisted):
    page = client_as(app, whitelisted["admin"]).get("/provider").get_data(as_text=True)
    steps = page.split("<h2>下一步</h2>", 1)[1].split("</section>", 1)[0]
    assert "准入申报" not in steps


def test_reviewers_see_applications_per_stage_and_those_waiting_too_long(app, db, frozen_clock, submitted,
                                                                         reviewers):
    county = client_as(app, reviewers["county"])
    page = county.get("/dashboard").get_data(as_text=True)
    assert _todo(page, "县级初审中") == (1, "/review/applications?stage=county_review")
    assert _todo(page, "等待超过 5 个工作日") == (0, "/review/applications?over=5")
    city_page = client_as(app, reviewers["city"]).get("/dashboard").get_data(as_text=True)
    assert _todo(city_page, "县级初审中") == (1, "/review/applications?state=open")
    assert _todo(city_page, "市级复审中")[0] == 0

    at(clock.today() + timedelta(days=14))
    county = client_as(app, reviewers["county"])  # a new session: the old one timed out meanwhile
    page = county.get("/dashboard").get_data(as_text=True)
    assert _todo(page, "等待超过 5 个工作日")[0] == 1
    listed = county.get("/review/applications?over=5").get_data(as_text=True)
    assert "只显示已等待超过 5 个工作日的申报" in listed and submitted["provider"].name in listed
    assert county.get("/review/applications?over=500").status_code in (200, 422)


def test_unread_badge_on_messages_and_returned_count(app, db, submitted, reviewers):
    application = submitted["application"]
    decide(application, "return", {"version": application.version, "general": "请补充",
                                   "comments": {f"project:{submitted['project'].id}": "收费依据不足"}},
           reviewers["county"])
    client = client_as(app, submitted["admin"])
    page = client.get("/provider").get_data(as_text=True)
    assert re.search(r'消息<span class="badge badge-count" title="未读消息">1</span>', page)
    assert _todo(page, "退回待修改的审核项") == (1, "/provider/application#review-comments")
    client.post("/inbox/read-all")
    page = client.get("/provider").get_data(as_text=True)
    assert 'title="未读消息"' not in page
    reviewer = client_as(app, reviewers["county"]).get("/dashboard").get_data(as_text=True)
    assert _todo(reviewer, "已退回、待机构修改")[0] == 1


def test_auditor_and_admin_home_pages_have_their_lists(app, db, login_as):
    auditor, _ = login_as("auditor")
    page = auditor.get("/dashboard").get_data(as_text=True)
    count, href = _todo(page, "今日失败的操作")
    assert href.startswith("/audit/?result=failure")
    admin, _ = login_as("sys_admin")
    assert _todo(admin.get("/dashboard").get_data(as_text=True), "当前被锁定的账户")[1] == "/admin/users"
