"""Dynamic adjustment through /api/v1/adjustments: the city's providers, a provider with its history, the five
manual actions with the same schemas and services as the pages, refusals as {code, message, field}, jurisdiction
(other city -> 404) and the provider's own record."""
from datetime import date

import pytest
from sqlalchemy import select

from registry.adjustments import sweep
from registry.adjustments.models import ActionKind, ProviderAction
from registry.orders import services as orders
from registry.orders.models import Order, OrderStatus
from registry.whitelist.models import EntryStatus, WhitelistEntry
from tests.fixtures.orders import order_fields
from tests.fixtures.reviews import at

REASON = {"reason_category": "safety_incident", "reason": "活动场地护栏松动，整改前停止服务"}


@pytest.fixture
def world(db, whitelisted, ordering_school):
    order = orders.create_order(ordering_school["school"], actor=ordering_school["admin"],
                                **order_fields(whitelisted["entry"], ordering_school["term"]))
    orders.accept_order(order, actor=whitelisted["admin"], person_ids=[whitelisted["person"].id])
    return {**whitelisted, "order": order, "city": whitelisted["reviewers"]["city"]}


@pytest.fixture
def api(app, world, bearer):
    return app.test_client(), bearer(world["city"])


def _url(world, action=""):
    return f"/api/v1/adjustments/providers/{world['provider'].id}" + (f"/{action}" if action else "")


def test_providers_and_detail(db, api, world):
    client, headers = api
    listed = client.get("/api/v1/adjustments/providers", headers=headers).get_json()
    assert listed["total"] == 1
    item = listed["items"][0]
    assert item["provider"]["name"] == world["provider"].name and item["banned_until"] is None
    assert item["entries"][0]["status"] == "active" and item["entries"][0]["project"] == "花样跳绳"
    detail = client.get(_url(world), headers=headers).get_json()
    assert [o["id"] for o in detail["orders"]] == [world["order"].id]
    assert detail["orders"][0]["status"] == "active" and detail["default_ban_end"] == "2029-03-10"
    assert client.get("/api/v1/adjustments/providers?status=suspended", headers=headers).get_json()["total"] == 0


def test_suspension_then_automatic_history_with_evidence(db, api, world):
    client, headers = api
    response = client.post(_url(world, "suspension"), json={**REASON, "lift_on": "2026-03-20"}, headers=headers)
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["kind"] == "suspension" and body["kind_label"] == "暂停" and body["reason_label"] == "发生安全事故"
    assert body["lift_on"] == "2026-03-20" and body["effective_on"] == "2026-03-10" and body["rule"] is None
    assert body["projects"] == ["花样跳绳"] and body["actor"] == world["city"].display_name
    db.session.expire_all()
    assert db.session.get(Order, world["order"].id).status == OrderStatus.suspended
    at(date(2026, 3, 21))
    sweep.run()
    history = client.get(_url(world), headers=headers).get_json()["actions"]
    assert [a["kind"] for a in history] == ["lift", "suspension"]
    assert history[0]["rule"] == "lift" and history[0]["rule_label"] == "自动规则：暂停原因已消除"
    assert history[0]["actor"] is None


def test_each_action_kind(db, api, world):
    client, headers = api
    assert client.post(_url(world, "warning"), json=REASON, headers=headers).status_code == 201
    response = client.post(_url(world, "delisting"), json={**REASON, "ban_until": "2027-03-10"}, headers=headers)
    assert response.status_code == 201 and response.get_json()["kind"] == "delisting"
    db.session.expire_all()
    assert db.session.get(WhitelistEntry, world["entry"].id).status == EntryStatus.delisted
    response = client.post(_url(world, "reinstatement"), json={"reason": "复核后恢复"}, headers=headers)
    assert response.status_code == 201 and response.get_json()["reason_category"] == "other"
    db.session.expire_all()
    assert db.session.get(Order, world["order"].id).status == OrderStatus.active
    response = client.post(_url(world, "ban"), json=REASON, headers=headers)
    assert response.status_code == 201 and response.get_json()["ends_on"] == "2029-03-10"  # the city's default
    kinds = db.session.scalars(select(ProviderAction.kind).order_by(ProviderAction.id)).all()
    assert kinds == [ActionKind.warning, ActionKind.delisting, ActionKind.ban, ActionKind.reinstatement, ActionKind.ban]
    assert client.get(_url(world), headers=headers).get_json()["banned_until"] == "2029-03-10"


def test_refusals_are_json_with_the_field(db, api, world):
    client, headers = api
    response = client.post(_url(world, "suspension"), json={**REASON, "effective_on": "2026-03-11"}, headers=headers)
    assert response.status_code == 422
    assert response.get_json() == {"code": "invalid", "message": "生效日期不能晚于今天", "field": "effective_on",
                                   "errors": {"effective_on": ["生效日期不能晚于今天"]}}
    response = client.post(_url(world, "warning"), json={"reason_category": "nonsense", "reason": "x"},
                           headers=headers)
    assert response.status_code == 422 and "请选择原因类别" in response.get_json()["message"]
    response = client.post(_url(world, "warning"), json={**REASON, "rule": "document_expired"}, headers=headers)
    assert response.status_code == 400 and response.get_json()["code"] == "unknown_field"
    response = client.post(_url(world, "suspension"), json={**REASON, "project_ids": [999999]}, headers=headers)
    assert response.status_code == 422 and response.get_json()["field"] == "project_ids"
    assert db.session.scalars(select(ProviderAction)).all() == []


def test_other_city_gets_404_and_provider_gets_403(app, db, world, bearer):
    client = app.test_client()
    other = bearer(world["reviewers"]["other_city"])
    assert client.get(_url(world), headers=other).status_code == 404
    assert client.post(_url(world, "suspension"), json=REASON, headers=other).status_code == 404
    assert client.get("/api/v1/adjustments/providers", headers=other).get_json()["total"] == 0
    mine = bearer(world["admin"])
    assert client.post(_url(world, "warning"), json=REASON, headers=mine).status_code == 403
    db.session.expire_all()
    assert db.session.get(WhitelistEntry, world["entry"].id).status == EntryStatus.active


def test_provider_reads_its_own_actions(app, db, api, world, bearer):
    client, headers = api
    client.post(_url(world, "suspension"), json=REASON, headers=headers)
    body = app.test_client().get("/api/v1/adjustments/mine", headers=bearer(world["admin"])).get_json()
    assert body["entries"][0]["status"] == "suspended" and body["entries"][0]["status_reason"] == "发生安全事故"
    assert body["actions"][0]["reason"] == "活动场地护栏松动，整改前停止服务"
    assert body["actions"][0]["reason_label"] == "发生安全事故"
    assert "actor" not in body["actions"][0]  # the bureau acts, not a named reviewer
