"""Issue 19 (suspension): messages say what happened, what it means for the reader and what to do; the
verify page does not show a green 有效 while a project is suspended; an order of a delisted provider reads
as ended; every destructive or public action asks for confirmation on a second page first."""
import re
from datetime import date

import pytest
from sqlalchemy import select

from registry.adjustments import services as adjustments
from registry.batches.models import BatchStatus, ReleaseBatch
from registry.notifications.models import Notification
from registry.orders import services as orders
from registry.orders.models import Order, OrderStatus
from registry.whitelist import services as whitelist
from registry.whitelist.models import EntryStatus, WhitelistEntry
from tests.fixtures.orders import order_fields
from tests.fixtures.reviews import at, client_as


def text(response):
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.get_data(as_text=True)))


@pytest.fixture
def world(db, whitelisted, ordering_school):
    order = orders.create_order(ordering_school["school"], actor=ordering_school["admin"],
                                **order_fields(whitelisted["entry"], ordering_school["term"]))
    orders.accept_order(order, actor=whitelisted["admin"], person_ids=[whitelisted["person"].id])
    return {**whitelisted, "school_admin": ordering_school["admin"], "school": ordering_school["school"],
            "order": order, "city": whitelisted["reviewers"]["city"]}


def _inbox(db, user, title):
    return db.session.scalars(select(Notification).where(Notification.user_id == user.id,
                                                         Notification.title.contains(title))).all()


# ---------------------------------------------------------------- verify page

def test_verify_is_not_green_while_one_project_is_suspended(client, publish_provider):
    published = publish_provider(projects=[{"title": "花样跳绳"}, {"title": "趣味足球"}])
    whitelist.ENTRY.transition(published["entries"][0], "suspend", reason="测试")
    token = published["certificate"].token
    html = client.get(f"/verify/{token}").get_data(as_text=True)
    head = html.split("</h1>")[0]
    assert "badge-ok" not in head and "部分项目暂停" in head
    assert "部分服务项目暂停" in html and "其余项目有效" in html
    body = client.get(f"/api/v1/whitelist/verify/{token}").get_json()
    assert (body["status"], body["status_label"]) == ("partly_suspended", "部分项目暂停")


# ---------------------------------------------------------------- the provider's message

def test_manual_suspension_without_lift_date_does_not_promise_to_restore_itself(db, world):
    adjustments.suspend(world["provider"], actor=world["city"], reason_category="safety_incident",
                        reason="活动场地护栏松动")
    [note] = _inbox(db, world["admin"], "白名单暂停")
    assert "不会自动解除" in note.body and "联系市教育局" in note.body
    assert "自动解除。" not in note.body.replace("不会自动解除", "")
    assert "“花样跳绳”" in note.body and "学校不能点单" in note.body


def test_suspension_with_lift_date_and_by_rule_say_when_it_ends(db, world):
    text_with_date = adjustments.suspension_message(world["entries"] if "entries" in world else [world["entry"]],
                                                    "护栏松动", date(2026, 3, 10), lift_on=date(2026, 3, 20))
    assert "暂停至2026-03-20" in text_with_date and "自动解除" in text_with_date
    by_rule = adjustments.suspension_message([world["entry"]], "保险过期", date(2026, 3, 10), rule="document_expired")
    assert "原因消除后" in by_rule and "不会自动解除" not in by_rule


def test_provider_page_says_who_restores_a_manual_suspension(app, db, world):
    adjustments.suspend(world["provider"], actor=world["city"], reason_category="safety_incident", reason="整改")
    page = text(client_as(app, world["admin"]).get("/provider/adjustments"))
    assert "不会自动解除，须整改后由市教育局恢复" in page


# ---------------------------------------------------------------- the school's order

def test_school_reads_a_suspended_order_with_what_to_do(app, db, world):
    adjustments.suspend(world["provider"], actor=world["city"], reason_category="safety_incident", reason="整改")
    browser = client_as(app, world["school_admin"])
    page = text(browser.get(f"/school/orders/{world['order'].id}"))
    assert "在白名单中被暂停（原因：发生安全事故）" in page
    assert "暂停解除后订单自动恢复" in page and "下一步：" in page
    assert "白名单暂停：" not in page and "已暂停原因" not in page
    [note] = _inbox(db, world["school_admin"], "订单服务已暂停")
    assert "请暂停安排学生参加" in note.body


def test_order_of_a_delisted_provider_reads_as_ended(app, db, world):
    adjustments.delist(world["provider"], actor=world["city"], reason_category="illegal_fees", reason="违规收费")
    browser = client_as(app, world["school_admin"])
    page = text(browser.get(f"/school/orders/{world['order'].id}"))
    head = page.split("机构")[0]
    assert "已终止（项目已移出白名单）" in page and "已被移出白名单" in page and "也不会自动恢复" in page
    assert "已暂停" not in head
    listing = text(browser.get("/school/orders"))
    assert "已终止（项目已移出白名单）" in listing
    provider_page = text(client_as(app, world["admin"]).get(f"/provider/orders/{world['order'].id}"))
    assert "已终止（项目已移出白名单）" in provider_page and "请停止本订单的服务" in provider_page
    [note] = _inbox(db, world["school_admin"], "订单服务已终止")
    assert "不会自动恢复" in note.body


# ---------------------------------------------------------------- confirmation steps

def _status(db, model, obj_id):
    db.session.expire_all()
    return db.session.get(model, obj_id).status


@pytest.mark.parametrize("action, fields, heading", [
    ("suspend", {}, "确认暂停"),
    ("delist", {}, "确认移出白名单"),
    ("ban", {"ends_on": "2029-03-10"}, "确认禁入"),
])
def test_adjustments_ask_for_confirmation_first(app, db, world, action, fields, heading):
    city = client_as(app, world["city"])
    url = f"/review/providers/{world['provider'].id}/{action}"
    data = {"reason_category": "safety_incident", "reason": "护栏松动", **fields}
    first = city.post(url, data=data)
    assert first.status_code == 200
    html = first.get_data(as_text=True)
    assert heading in html and "确认后将会" in html and "花样跳绳" in html and world["school"].name in html
    assert '<input type="hidden" name="confirmed" value="1">' in html
    assert not re.search(r"<script(?![^>]*\bsrc=)", html)  # no inline script
    assert _status(db, WhitelistEntry, world["entry"].id) == EntryStatus.active  # nothing happened yet
    second = city.post(url, data={**data, "confirmed": "1"})
    assert second.status_code == 302
    assert _status(db, WhitelistEntry, world["entry"].id) != EntryStatus.active


def test_invalid_adjustment_input_is_refused_before_the_confirmation(app, db, world):
    city = client_as(app, world["city"])
    response = city.post(f"/review/providers/{world['provider'].id}/suspend", data={"reason": ""})
    assert response.status_code == 422 and "确认后将会" not in response.get_data(as_text=True)


def test_order_cancel_and_decline_ask_for_confirmation(app, db, whitelisted, ordering_school):
    order = orders.create_order(ordering_school["school"], actor=ordering_school["admin"],
                                **order_fields(whitelisted["entry"], ordering_school["term"]))
    db.session.flush()
    school = client_as(app, ordering_school["admin"])
    html = school.post(f"/school/orders/{order.id}/cancel", data={"reason": "调整"}).get_data(as_text=True)
    assert "确认取消订单" in html and "不能恢复" in html
    assert _status(db, Order, order.id) == OrderStatus.requested
    provider = client_as(app, whitelisted["admin"])
    html = provider.post(f"/provider/orders/{order.id}/decline", data={"reason": "排满"}).get_data(as_text=True)
    assert "确认拒绝订单" in html and _status(db, Order, order.id) == OrderStatus.requested


def test_start_publicity_and_publish_ask_for_confirmation(app, db, submitted, reviewers, frozen_clock):
    from registry.batches import services as batches
    from registry.reviews import services as reviews
    from tests.fixtures.reviews import verify_all
    at(date(2026, 3, 2))
    verify_all(submitted["application"], reviewers["county"])
    reviews.pass_to_city(submitted["application"], actor=reviewers["county"])
    batch = batches.create_batch(actor=reviewers["city"])
    batches.add_to_batch(batch, submitted["application"], actor=reviewers["city"])
    db.session.flush()
    city = client_as(app, reviewers["city"])
    html = city.post(f"/review/batches/{batch.id}/publicity").get_data(as_text=True)
    assert "确认开始公示" in html and "公示期 2026-03-02 至" in html and "1 家机构" in html
    assert _status(db, ReleaseBatch, batch.id) == BatchStatus.draft
    assert city.post(f"/review/batches/{batch.id}/publicity", data={"confirmed": "1"}).status_code == 302
    assert _status(db, ReleaseBatch, batch.id) == BatchStatus.publicity
    at(date(2026, 3, 10))
    city = client_as(app, reviewers["city"])
    html = city.post(f"/review/batches/{batch.id}/publish").get_data(as_text=True)
    assert "确认发布白名单" in html and _status(db, ReleaseBatch, batch.id) == BatchStatus.publicity
