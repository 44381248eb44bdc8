"""Dynamic adjustment through the city reviewer's pages: the city's providers, a provider's page with its history,
and the five manual actions. Each action writes a ProviderAction, goes through the lifecycle (status changes,
audit rows), updates the public change feed and tells the provider, and the schools of affected orders in the
same request. The provider reads the reasons at /provider/adjustments."""
import re
from datetime import date

import pytest
from sqlalchemy import func, select

from registry.adjustments import services as adjustments
from registry.adjustments import sweep
from registry.adjustments.models import ActionKind, ProviderAction
from registry.applications import services as applications
from registry.audit.models import AuditLog
from registry.core.errors import DomainError
from registry.core.lifecycle import StatusChange
from registry.notifications.models import Notification
from registry.orders import services as orders
from registry.orders.models import Order, OrderStatus
from registry.whitelist.models import ChangeFeedItem, EntryStatus, WhitelistEntry
from tests.fixtures.orders import order_fields
from tests.fixtures.reviews import at, client_as


@pytest.fixture
def world(db, whitelisted, ordering_school):
    """The whitelisted provider with an order accepted by it (active: the term began), on 2026-03-10."""
    order = orders.create_order(ordering_school["school"], actor=ordering_school["admin"],
                                **order_fields(whitelisted["entry"], ordering_school["term"]))
    orders.accept_order(order, actor=whitelisted["admin"], person_ids=[whitelisted["person"].id])
    return {**whitelisted, "school": ordering_school["school"], "term": ordering_school["term"],
            "school_admin": ordering_school["admin"], "order": order, "city": whitelisted["reviewers"]["city"]}


@pytest.fixture
def city(app, world):
    return client_as(app, world["city"])


def text(response):
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.get_data(as_text=True)))


def _count(db, model, *where):
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def _inbox(db, user, contains=""):
    return db.session.scalars(select(Notification).where(Notification.user_id == user.id,
                                                         Notification.title.contains(contains))).all()


def _fresh(db, world):
    db.session.expire_all()
    return db.session.get(WhitelistEntry, world["entry"].id), db.session.get(Order, world["order"].id)


def _base(**fields):
    return {"reason_category": "safety_incident", "reason": "活动场地护栏松动，整改前停止服务",
            "effective_on": "2026-03-10", "confirmed": "1", **fields}


# ---------------------------------------------------------------- access

def test_city_reviewer_sees_city_providers_with_statuses_and_recent_actions(city, world):
    adjustments.warn(world["provider"], actor=world["city"], reason_category="low_satisfaction", reason="满意度偏低")
    page = text(city.get("/review/providers"))
    assert world["provider"].name in page and "花样跳绳 有效" in page
    assert "2026-03-10 警告 满意度不达标" in page
    assert "动态调整" in page  # navigation
    assert world["provider"].name not in text(city.get("/review/providers?status=delisted"))
    assert world["provider"].name in text(city.get(f"/review/providers?q={world['provider'].uscc}"))


def test_reviewers_of_other_cities_and_counties_are_kept_out(app, db, world, login_as):
    other_city = client_as(app, world["reviewers"]["other_city"])
    assert world["provider"].name not in text(other_city.get("/review/providers"))
    assert other_city.get(f"/review/providers/{world['provider'].id}").status_code == 404
    response = other_city.post(f"/review/providers/{world['provider'].id}/suspend", data=_base())
    assert response.status_code == 404
    county = client_as(app, world["reviewers"]["county"])
    assert county.get("/review/providers").status_code == 403
    provider_client = client_as(app, world["admin"])
    assert provider_client.get(f"/review/providers/{world['provider'].id}").status_code == 403
    assert _fresh(db, world)[0].status == EntryStatus.active


def test_provider_page_shows_entries_orders_and_history_with_rule_and_evidence(city, world):
    from registry.providers import services as providers
    from tests.fixtures.providers import pdf_bytes
    old = next(d for d in providers.current_documents(world["provider"].id)
               if d.doc_type.value == "liability_insurance")
    providers.upload_document(world["provider"], actor=world["admin"], doc_type="liability_insurance",
                              number="PICC-SHORT", issuer="中国人保南昌分公司", issue_date=date(2025, 3, 1),
                              expiry_date=date(2026, 3, 15), filename="保单.pdf", data=pdf_bytes(), replaces_id=old.id)
    at(date(2026, 3, 16))
    sweep.run()
    city = client_as(city.application, world["city"])  # sessions age with the frozen clock
    page = text(city.get(f"/review/providers/{world['provider'].id}"))
    assert "花样跳绳 暂停 原因消除后自动解除 资质材料过期 自动规则" in page
    assert f"#{world['order'].id} {world['school'].name} 花样跳绳" in page and "白名单暂停：资质材料过期" in page
    assert "自动规则：必备资质材料过期" in page
    assert "公众责任保险（编号 PICC-SHORT）已于2026-03-15过期" in page  # the reason
    assert "公众责任保险有效期至 2026-03-15" in page  # the evidence
    for label in ("警告", "暂停", "移出", "禁入", "恢复"):
        assert f"{label} ：" in page


# ---------------------------------------------------------------- forms: refusals keep what was typed

def test_action_forms_refuse_with_chinese_reasons_and_keep_input(db, city, world):
    url = f"/review/providers/{world['provider'].id}"
    response = city.post(f"{url}/warn", data={"reason_category": "", "reason": "", "effective_on": "2026-03-10"})
    assert response.status_code == 422
    page = text(response)
    assert "请选择原因类别" in page and "请填写具体原因，机构将看到这段说明" in page
    response = city.post(f"{url}/suspend", data=_base(effective_on="2026-03-11"))
    assert response.status_code == 422 and "生效日期不能晚于今天" in text(response)
    assert "活动场地护栏松动，整改前停止服务" in response.get_data(as_text=True)  # kept
    response = city.post(f"{url}/suspend", data=_base(lift_on="2026-03-10"))
    assert response.status_code == 422 and "自动解除日期须晚于今天" in text(response)
    response = city.post(f"{url}/ban", data=_base(ends_on="2026-03-01"))
    assert response.status_code == 422 and "禁入截止日期须晚于今天" in text(response)
    response = city.post(f"{url}/delist", data=_base(ban_until="2026-03-01"))
    assert response.status_code == 422 and "禁入截止日期须晚于今天" in text(response)
    response = city.post(f"{url}/suspend", data=_base(effective_on="10/03/2026"))
    assert response.status_code == 422 and "生效日期格式应为 YYYY-MM-DD" in text(response)
    assert _count(db, ProviderAction) == 0
    assert _fresh(db, world)[0].status == EntryStatus.active


# ---------------------------------------------------------------- the five actions and their effects

def _effects(db, world, kind, entry_action=None, order_action=None, feed=None):
    action = db.session.scalars(select(ProviderAction).where(ProviderAction.kind == kind)).one()
    assert action.actor_id == world["city"].id and action.rule is None
    if entry_action:
        assert _count(db, StatusChange, StatusChange.object_type == "whitelist_entry",
                      StatusChange.action == entry_action, StatusChange.actor_id == world["city"].id) == 1
        assert _count(db, AuditLog, AuditLog.action == f"whitelist_entry.{entry_action}",
                      AuditLog.object_id == str(world["entry"].id)) == 1
    if order_action:
        assert _count(db, StatusChange, StatusChange.object_type == "order", StatusChange.action == order_action,
                      StatusChange.object_id == world["order"].id) == 1
        assert _count(db, AuditLog, AuditLog.action == f"order.{order_action}",
                      AuditLog.object_id == str(world["order"].id)) == 1
    if feed:
        item = db.session.scalars(select(ChangeFeedItem).where(ChangeFeedItem.kind == feed)).one()
        assert item.entry_id == world["entry"].id and item.happened_on == action.effective_on
    return action


def test_warning(db, city, world):
    response = city.post(f"/review/providers/{world['provider'].id}/warn",
                         data=_base(reason_category="low_satisfaction", reason="本学期满意度 76%，请整改"),
                         follow_redirects=True)
    assert response.status_code == 200 and "已对该机构作出警告" in text(response)
    action = _effects(db, world, ActionKind.warning)
    assert action.reason == "本学期满意度 76%，请整改"
    assert _count(db, AuditLog, AuditLog.action == "provider.warning") == 1
    assert _count(db, StatusChange, StatusChange.object_type == "whitelist_entry") == 0  # a warning moves nothing
    assert [n.body for n in _inbox(db, world["admin"], "警告：满意度不达标")] == ["本学期满意度 76%，请整改"]
    assert _fresh(db, world)[0].status == EntryStatus.active


def test_suspension_with_lift_date_then_the_sweep_lifts_it(db, city, world):
    response = city.post(f"/review/providers/{world['provider'].id}/suspend",
                         data=_base(lift_on="2026-03-20", project_ids=[str(world["project"].id)]),
                         follow_redirects=True)
    assert response.status_code == 200
    assert "已暂停 1 个白名单条目；受影响的订单已暂停" in text(response)
    entry, order = _fresh(db, world)
    assert entry.status == EntryStatus.suspended and entry.suspended_until == date(2026, 3, 20)
    assert order.status == OrderStatus.suspended and order.status_reason == "白名单暂停：发生安全事故"
    action = _effects(db, world, ActionKind.suspension, "suspend", "suspend", "suspended")
    assert action.lift_on == date(2026, 3, 20)
    # The school and the provider were told in the same request.
    [body] = [n.body for n in _inbox(db, world["admin"], "白名单暂停：发生安全事故")]
    assert "原因：活动场地护栏松动，整改前停止服务。" in body and "暂停至2026-03-20" in body
    assert "1 个已接单或服务中的订单同时暂停" in body
    assert any("白名单暂停：发生安全事故" in n.body for n in _inbox(db, world["school_admin"], "订单服务已暂停"))
    at(date(2026, 3, 20))
    assert sweep.run()["lifted"] == 0
    at(date(2026, 3, 21))
    assert sweep.run()["lifted"] == 1
    entry, order = _fresh(db, world)
    assert entry.status == EntryStatus.active and order.status == OrderStatus.active
    assert db.session.scalars(select(ProviderAction).where(ProviderAction.kind == ActionKind.lift)).one().rule == "lift"


def test_delisting_suspends_orders_and_tells_schools_in_the_same_request(db, city, world):
    response = city.post(f"/review/providers/{world['provider'].id}/delist",
                         data=_base(reason_category="illegal_fees", reason="以“材料费”名义另行收费"),
                         follow_redirects=True)
    assert response.status_code == 200 and "已移出 1 个白名单条目" in text(response)
    entry, order = _fresh(db, world)
    assert entry.status == EntryStatus.delisted and entry.status_reason == "违规收费"
    assert order.status == OrderStatus.suspended and order.status_reason == "白名单移出：违规收费"
    _effects(db, world, ActionKind.delisting, "delist", "suspend", "delisted")
    assert any("白名单移出：违规收费" in n.body for n in _inbox(db, world["school_admin"], "订单服务已终止"))
    assert [n.body for n in _inbox(db, world["admin"], "移出白名单：违规收费")] == ["以“材料费”名义另行收费"]
    assert adjustments.active_ban(world["provider"].id) is None  # no ban without a date


def test_delisting_with_a_ban(db, city, world):
    city.post(f"/review/providers/{world['provider'].id}/delist",
              data=_base(reason_category="illegal_fees", reason="违规收费", ban_until="2029-03-10"))
    ban = db.session.scalars(select(ProviderAction).where(ProviderAction.kind == ActionKind.ban)).one()
    assert ban.ends_on == date(2029, 3, 10) and adjustments.active_ban(world["provider"].id) == ban


def test_ban_with_default_end_blocks_applying_until_reinstated(db, city, world):
    page = text(city.get(f"/review/providers/{world['provider'].id}"))
    default_end = adjustments.default_ban_end(world["provider"])
    assert default_end == date(2029, 3, 10)
    assert "本市默认禁入期至 2029-03-10" in page
    response = city.post(f"/review/providers/{world['provider'].id}/ban",
                         data=_base(reason_category="safety_incident", reason="发生学生受伤事故且隐瞒不报"),
                         follow_redirects=True)
    assert response.status_code == 200 and "已禁入至 2029-03-10" in text(response)
    action = _effects(db, world, ActionKind.ban, "delist", "suspend", "delisted")
    assert action.ends_on == default_end
    assert [n.title for n in _inbox(db, world["admin"], "禁入")] == ["禁入至2029-03-10"]
    # A banned provider cannot apply (domain: "A banned provider cannot apply until its ban ends").
    with pytest.raises(DomainError) as err:
        applications.create_application(world["provider"], actor=world["admin"], project_ids=[world["project"].id])
    assert "禁入" in err.value.message


def test_reinstatement_brings_entries_and_orders_back_and_ends_the_ban(db, city, world):
    url = f"/review/providers/{world['provider'].id}"
    city.post(f"{url}/delist", data=_base(reason_category="illegal_fees", reason="违规收费", ban_until="2029-03-10"))
    at(date(2026, 3, 12))
    city = client_as(city.application, world["city"])
    response = city.post(f"{url}/reinstate",
                         data={"confirmed": "1", "reason": "复核后收费问题不成立，恢复", "effective_on": "2026-03-12"},
                         follow_redirects=True)
    assert response.status_code == 200 and "已恢复 1 个白名单条目" in text(response)
    entry, order = _fresh(db, world)
    assert entry.status == EntryStatus.active and entry.status_reason is None
    assert order.status == OrderStatus.active
    action = _effects(db, world, ActionKind.reinstatement, "reinstate", "resume", "reinstated")
    assert action.reason_category.value == "other" and action.effective_on == date(2026, 3, 12)
    assert adjustments.active_ban(world["provider"].id) is None
    assert any(n.title == "订单服务已恢复" for n in _inbox(db, world["school_admin"]))
    assert [n.body for n in _inbox(db, world["admin"], "白名单已恢复")] == ["复核后收费问题不成立，恢复"]


def test_provider_reads_every_action_with_its_reasons(app, db, world, login_as):
    adjustments.warn(world["provider"], actor=world["city"], reason_category="low_satisfaction",
                     reason="本学期满意度 76%，请整改")
    adjustments.suspend(world["provider"], actor=world["city"], reason_category="safety_incident",
                        reason="活动场地护栏松动", lift_on=date(2026, 3, 20))
    page = text(client_as(app, world["admin"]).get("/provider/adjustments"))
    assert "花样跳绳 暂停 2026-03-20 后若无其他暂停原因自动解除 发生安全事故" in page
    assert "警告 满意度不达标 本学期满意度 76%，请整改" in page
    assert "暂停 2026-03-20 后可自动解除 发生安全事故 活动场地护栏松动" in page
    assert "人工处理" in page and world["city"].display_name not in page  # the reviewer's name is not shown
    other, _user = login_as("provider_admin")
    assert "本学期满意度" not in text(other.get("/provider/adjustments"))
