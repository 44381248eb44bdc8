"""The provider's side of orders, HTML and JSON: incoming orders, the order page, accepting with staff cleared
today (each refusal reason with its Chinese message), lapse warnings, declining, and 404 for other providers."""
import re
from datetime import date

import pytest
from sqlalchemy import select

from registry.adjustments import services as adjustments
from registry.notifications.models import Notification
from registry.orders import services as orders
from registry.orders.models import OrderStatus
from tests.fixtures.orders import order_fields
from tests.fixtures.providers import add_cleared_person
from tests.fixtures.reviews import client_as


@pytest.fixture
def requested_order(db, whitelisted, ordering_school):
    """The ordering school's order of the whitelisted project, waiting for the provider (clock at 2026-03-10)."""
    return orders.create_order(ordering_school["school"], actor=ordering_school["admin"],
                               **order_fields(whitelisted["entry"], ordering_school["term"]))


@pytest.fixture
def provider_client(app, whitelisted):
    return client_as(app, whitelisted["admin"])


def text(response):
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.get_data(as_text=True)))


def _status(db, order):
    db.session.expire_all()
    return db.session.get(type(order), order.id).status


# ---------------------------------------------------------------- pages

def test_incoming_orders_by_status(provider_client, requested_order, ordering_school):
    page = text(provider_client.get("/provider/orders"))
    assert f"#{requested_order.id}" in page and ordering_school["school"].name in page
    assert "待机构确认（1）" in page and "服务中（0）" in page
    assert "3.00 元/人·课时" in page and "1800.00 元" in page  # 3.00 × 25 students × 24 class hours
    assert "订单管理" in page  # in the navigation
    assert f"#{requested_order.id}" not in text(provider_client.get("/provider/orders?status=active"))


def test_order_page_shows_school_schedule_price_entry_batch_and_candidates(
        provider_client, requested_order, whitelisted, ordering_school):
    stale = add_cleared_person(whitelisted["provider"], whitelisted["admin"], n=7, check_age_days=400, name="赵过期")
    page = text(provider_client.get(f"/provider/orders/{requested_order.id}"))
    school = ordering_school["school"]
    assert f"{school.name}（学校标识码 {school.code}，红谷滩区）" in page
    assert "花样跳绳" in page and "2025—2026学年第二学期" in page
    assert "每周周二、周四 16:30-17:30，共 16 次" in page
    assert "3.00 元/人·课时" in page and "1800.00 元（3.00 元 × 25 人 × 24 课时（16 次））" in page
    assert f"#{whitelisted['entry'].id}" in page and f"南昌市{whitelisted['batch'].name}" in page
    # Each candidate with today's clearance for the project's qualification, and why not.
    assert whitelisted["person"].name in page and whitelisted["person"].id_masked in page
    assert "赵过期" in page and "未准入，不能指派" in page and "已超过 365 天" in page
    html = provider_client.get(f"/provider/orders/{requested_order.id}").get_data(as_text=True)
    assert re.search(rf'value="{stale.id}"\s+disabled', html)


def test_accept_assigns_staff_and_warns_about_lapse_before_term_end(
        db, provider_client, requested_order, whitelisted, ordering_school):
    # Checks 300 days old on 2026-03-10 lapse on 2026-05-11, before the term ends on 2026-07-10.
    lapsing = add_cleared_person(whitelisted["provider"], whitelisted["admin"], n=8, check_age_days=300,
                                 name="钱将过期")
    response = provider_client.post(f"/provider/orders/{requested_order.id}/accept",
                                    data={"person_ids": [str(whitelisted["person"].id), str(lapsing.id)]},
                                    follow_redirects=True)
    assert response.status_code == 200
    page = text(response)
    assert "已接单" in page
    assert "提醒：钱将过期在学期结束（2026-07-10）前将不再符合条件" in page
    assert _status(db, requested_order) == OrderStatus.accepted
    school_inbox = db.session.scalars(select(Notification.title).where(
        Notification.user_id == ordering_school["admin"].id)).all()
    assert any("机构已接单" in t for t in school_inbox)
    # The page shows the assigned staff with masked IDs only.
    detail = text(provider_client.get(f"/provider/orders/{requested_order.id}"))
    assert lapsing.id_masked in detail and "授课人员" in detail


def test_accept_refuses_uncleared_person(db, provider_client, requested_order, whitelisted):
    stale = add_cleared_person(whitelisted["provider"], whitelisted["admin"], n=7, check_age_days=400, name="赵过期")
    response = provider_client.post(f"/provider/orders/{requested_order.id}/accept",
                                    data={"person_ids": [str(whitelisted["person"].id), str(stale.id)]})
    assert response.status_code == 422
    page = text(response)
    assert "赵过期今天未准入：违法犯罪记录查询已超过 365 天（查询日期 2025-02-03），须重新查询" in page
    # What was ticked is kept.
    assert re.search(rf'value="{whitelisted["person"].id}"\s+checked', response.get_data(as_text=True))
    assert _status(db, requested_order) == OrderStatus.requested


def test_accept_refuses_person_of_another_provider(db, provider_client, requested_order, create_user):
    other = create_user("provider_admin")
    stranger = add_cleared_person(other.provider, other, n=9, name="孙他人")
    response = provider_client.post(f"/provider/orders/{requested_order.id}/accept",
                                    data={"person_ids": [str(stranger.id)]})
    assert response.status_code == 422
    assert "只能指派本机构在册人员" in text(response)
    assert _status(db, requested_order) == OrderStatus.requested


def test_accept_refuses_when_entry_is_no_longer_eligible(db, provider_client, requested_order, whitelisted):
    adjustments.suspend(whitelisted["provider"], actor=whitelisted["reviewers"]["city"],
                        reason_category="safety_incident", reason="场地安全整改")
    page = text(provider_client.get(f"/provider/orders/{requested_order.id}"))
    assert "该项目今天不能接单" in page  # said before trying
    response = provider_client.post(f"/provider/orders/{requested_order.id}/accept",
                                    data={"person_ids": [str(whitelisted["person"].id)]})
    assert response.status_code == 422
    assert "白名单条目状态为“暂停”（原因：发生安全事故）" in text(response)
    assert _status(db, requested_order) == OrderStatus.requested


def test_accept_without_staff(provider_client, requested_order):
    response = provider_client.post(f"/provider/orders/{requested_order.id}/accept", data={})
    assert response.status_code == 422
    assert "接单时须指派至少一名授课人员" in text(response)


def test_decline_needs_a_reason_and_tells_the_school(db, provider_client, requested_order, ordering_school):
    response = provider_client.post(f"/provider/orders/{requested_order.id}/decline",
                                    data={"confirmed": "1", "reason": "  "})
    assert response.status_code == 422 and "拒绝点单时须填写原因" in text(response)
    response = provider_client.post(f"/provider/orders/{requested_order.id}/decline",
                                    data={"confirmed": "1", "reason": "周二教练已排满，可改约周三"},
                                    follow_redirects=True)
    assert response.status_code == 200
    assert _status(db, requested_order) == OrderStatus.declined
    assert "原因：周二教练已排满，可改约周三" in text(response)
    inbox = db.session.scalars(select(Notification).where(Notification.user_id == ordering_school["admin"].id,
                                                          Notification.title.contains("机构未接单"))).all()
    assert inbox and inbox[0].body == "周二教练已排满，可改约周三"


def test_accepting_twice_is_a_conflict(db, provider_client, requested_order, whitelisted):
    orders.accept_order(requested_order, actor=whitelisted["admin"], person_ids=[whitelisted["person"].id])
    response = provider_client.post(f"/provider/orders/{requested_order.id}/accept",
                                    data={"person_ids": [str(whitelisted["person"].id)]})
    assert response.status_code == 409
    assert "当前状态为“已接单”" in text(response)


def test_other_providers_orders_are_not_found(app, db, requested_order, login_as, bearer, create_user):
    client, other = login_as("provider_admin")
    for path in (f"/provider/orders/{requested_order.id}",):
        assert client.get(path).status_code == 404
    assert client.post(f"/provider/orders/{requested_order.id}/accept", data={"person_ids": ["1"]}).status_code == 404
    assert client.post(f"/provider/orders/{requested_order.id}/decline",
                       data={"confirmed": "1", "reason": "x"}).status_code == 404
    assert f"#{requested_order.id}" not in text(client.get("/provider/orders"))
    api = app.test_client()
    headers = bearer(other)
    assert api.get(f"/api/v1/provider-orders/{requested_order.id}", headers=headers).status_code == 404
    assert api.get(f"/api/v1/provider-orders/{requested_order.id}/candidates", headers=headers).status_code == 404
    assert api.post(f"/api/v1/provider-orders/{requested_order.id}/accept", json={"person_ids": [1]},
                    headers=headers).status_code == 404
    assert api.get("/api/v1/provider-orders", headers=headers).get_json()["total"] == 0
    assert _status(db, requested_order) == OrderStatus.requested


# ---------------------------------------------------------------- JSON

@pytest.fixture
def api(app, whitelisted, bearer):
    return app.test_client(), bearer(whitelisted["admin"])


def test_api_lists_and_reads_orders(api, requested_order, whitelisted):
    client, headers = api
    listed = client.get("/api/v1/provider-orders?status=requested", headers=headers).get_json()
    assert listed["total"] == 1 and listed["items"][0]["id"] == requested_order.id
    body = client.get(f"/api/v1/provider-orders/{requested_order.id}", headers=headers).get_json()
    assert body["price"] == "3.00" and body["total"] == "1800.00" and body["status"] == "requested"
    assert body["entry_id"] == whitelisted["entry"].id and body["batch"]["name"] == whitelisted["batch"].name
    assert body["weekdays"] == [1, 3] and body["time_slot"] == "16:30-17:30"


def test_api_candidates_and_accept_with_warnings(db, api, requested_order, whitelisted):
    client, headers = api
    lapsing = add_cleared_person(whitelisted["provider"], whitelisted["admin"], n=8, check_age_days=300,
                                 name="钱将过期")
    candidates = {c["name"]: c for c in client.get(f"/api/v1/provider-orders/{requested_order.id}/candidates",
                                                   headers=headers).get_json()}
    assert candidates[whitelisted["person"].name]["cleared"] is True
    assert candidates[whitelisted["person"].name]["on_project"] is True
    assert candidates["钱将过期"]["cleared"] is True and candidates["钱将过期"]["lapses"]
    assert re.fullmatch(r"\d{6}\*{8}\d{3}[\dX]", candidates["钱将过期"]["id_masked"])
    response = client.post(f"/api/v1/provider-orders/{requested_order.id}/accept",
                           json={"person_ids": [whitelisted["person"].id, lapsing.id]}, headers=headers)
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["order"]["status"] == "active"  # accepted, and the term began on 2026-02-24
    assert [s["name"] for s in body["order"]["staff"]] == [whitelisted["person"].name, "钱将过期"]
    assert len(body["warnings"]) == 1 and body["warnings"][0].startswith("钱将过期在学期结束（2026-07-10）前")


def test_api_accept_refusals_name_the_reason(db, api, requested_order, whitelisted, create_user):
    client, headers = api
    url = f"/api/v1/provider-orders/{requested_order.id}/accept"
    stale = add_cleared_person(whitelisted["provider"], whitelisted["admin"], n=7, check_age_days=400, name="赵过期")
    body = client.post(url, json={"person_ids": [stale.id]}, headers=headers).get_json()
    assert body["code"] == "invalid" and body["field"] == "person_ids"
    assert body["errors"]["person_ids"] == [
        "赵过期今天未准入：违法犯罪记录查询已超过 365 天（查询日期 2025-02-03），须重新查询；"
        "性侵违法犯罪信息查询已超过 365 天（查询日期 2025-02-03），须重新查询；健康证明已于2026-02-03过期"]
    other = create_user("provider_admin")
    stranger = add_cleared_person(other.provider, other, n=9)
    response = client.post(url, json={"person_ids": [stranger.id]}, headers=headers)
    assert response.status_code == 422 and response.get_json()["message"] == "只能指派本机构在册人员"
    response = client.post(url, json={"person_ids": []}, headers=headers)
    assert response.status_code == 422 and "接单时须指派至少一名授课人员" in response.get_json()["message"]
    adjustments.suspend(whitelisted["provider"], actor=whitelisted["reviewers"]["city"],
                        reason_category="safety_incident", reason="场地安全整改")
    response = client.post(url, json={"person_ids": [whitelisted["person"].id]}, headers=headers)
    body = response.get_json()
    assert response.status_code == 422 and body["field"] == "order"
    assert body["message"] == "该项目今天不能接单：白名单条目状态为“暂停”（原因：发生安全事故）"
    assert _status(db, requested_order) == OrderStatus.requested


def test_api_expired_insurance_refuses_acceptance_without_any_job(db, api, requested_order, whitelisted):
    from registry.providers import services as providers
    from tests.fixtures.providers import pdf_bytes
    from tests.fixtures.reviews import at
    client, headers = api
    old = next(d for d in providers.current_documents(whitelisted["provider"].id)
               if d.doc_type.value == "liability_insurance")
    providers.upload_document(whitelisted["provider"], actor=whitelisted["admin"], doc_type="liability_insurance",
                              number="PICC-SHORT", issuer="中国人保南昌分公司", issue_date=date(2025, 3, 1),
                              expiry_date=date(2026, 3, 11), filename="保单.pdf", data=pdf_bytes(), replaces_id=old.id)
    at(date(2026, 3, 12))
    response = client.post(f"/api/v1/provider-orders/{requested_order.id}/accept",
                           json={"person_ids": [whitelisted["person"].id]}, headers=headers)
    assert response.status_code == 422
    assert "公众责任保险（编号 PICC-SHORT）已于2026-03-11过期" in response.get_json()["message"]


def test_api_decline(db, api, requested_order):
    client, headers = api
    url = f"/api/v1/provider-orders/{requested_order.id}/decline"
    response = client.post(url, json={}, headers=headers)
    assert response.status_code == 422 and "拒绝点单时须填写原因" in response.get_json()["message"]
    response = client.post(url, json={"reason": "教练已排满", "status": "accepted"}, headers=headers)
    assert response.status_code == 400 and response.get_json()["code"] == "unknown_field"  # no mass assignment
    response = client.post(url, json={"reason": "教练已排满"}, headers=headers)
    assert response.status_code == 200
    assert response.get_json()["status"] == "declined" and response.get_json()["status_reason"] == "教练已排满"
