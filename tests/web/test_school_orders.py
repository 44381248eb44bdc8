"""Ordering from the school's side: the form (published price, class size, total, entry and batch, share),
every refusal reason on the form (nothing typed lost) and as {code, message, field} in JSON, my orders,
cancelling, and another school's order answering 404."""
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from registry.orders import services as orders
from registry.orders.models import Order, OrderStatus
from registry.schools.models import SchoolProject
from tests.fixtures.orders import order_fields
from tests.fixtures.reviews import at, client_as
from tests.fixtures.schools import make_school_row, make_term


def _form(entry, term, **overrides):
    fields = order_fields(entry, term, **overrides)
    return {k: v for k, v in fields.items() if v is not None}


def _orders(db):
    return db.session.scalar(select(func.count()).select_from(Order))


def test_order_form_shows_price_class_size_entry_batch_and_share(app, db, whitelisted, ordering_school):
    browser = client_as(app, ordering_school["admin"])
    entry = whitelisted["entry"]
    page = browser.get(f"/school/orders/new?entry_id={entry.id}").get_data(as_text=True)
    for part in ("3.00 元/人·课时", "订单按公布价格计价，不会更高", "10–30 人", f"第 {entry.id} 号",
                 "南昌市教育局2026年第1批", "2025—2026学年第二学期", "本校自有课后服务项目 3 个，第三方项目 0 个",
                 "再点单一个第三方项目后占比为 25%", 'value="16"'):
        assert part in page, part
    # Grades of a primary school, those outside the project's stages marked.
    assert "六年级" in page and "七年级" not in page


def test_check_before_submitting_runs_every_rule_and_saves_nothing(app, db, whitelisted, ordering_school):
    from registry.notifications.models import Notification

    browser = client_as(app, ordering_school["admin"])
    fields = _form(whitelisted["entry"], ordering_school["term"])
    before = (_orders(db), db.session.scalar(select(func.count()).select_from(Notification)))
    response = browser.post("/school/orders", data={**fields, "preview": "1"})
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "已检查：按填写内容可以点单，总价 1800.00 元" in page
    assert "1800.00 元</strong> = 3.00 元 × 25 人 × 16 次 × 每次 60 分钟折合的课时" in page
    response = browser.post("/school/orders", data={**fields, "expected_students": "45", "preview": "1"})
    assert response.status_code == 422
    assert "预计人数须在项目班额 10–30 人之间" in response.get_data(as_text=True)
    assert (_orders(db), db.session.scalar(select(func.count()).select_from(Notification))) == before


def test_order_copies_the_published_price_and_shows_the_total(app, db, whitelisted, ordering_school):
    browser = client_as(app, ordering_school["admin"])
    response = browser.post("/school/orders", data=_form(whitelisted["entry"], ordering_school["term"]))
    assert response.status_code == 302, response.get_data(as_text=True)[:3000]
    order = db.session.scalars(select(Order).order_by(Order.id.desc())).first()
    assert order.price == Decimal("3.00") and order.total == Decimal("1800.00")
    assert order.batch_id == whitelisted["batch"].id and order.status == OrderStatus.requested
    page = browser.get(response.headers["Location"]).get_data(as_text=True)
    for part in ("待机构确认", "1800.00 元</strong> = 3.00 元 × 25 人 × 24 课时（16 次）", "三（1）班、四（2）班",
                 "周二、周四", "16:30-17:30", "学校操场", "三年级、四年级", "南昌市教育局2026年第1批"):
        assert part in page, part
    listing = browser.get("/school/orders").get_data(as_text=True)
    assert "花样跳绳" in listing and "1800.00 元" in listing


# ---------------------------------------------------------------- every refusal, on the form and in JSON

def _suspend(ctx):
    from registry.whitelist.services import ENTRY
    ENTRY.transition(ctx["entry"], "suspend", changes={"status_reason": "安全隐患整改"})


def _expire_insurance(ctx):
    from registry.providers import services as providers
    from tests.fixtures.providers import pdf_bytes
    old = next(d for d in providers.current_documents(ctx["provider"].id) if d.doc_type.value == "liability_insurance")
    providers.upload_document(ctx["provider"], actor=ctx["admin"], doc_type="liability_insurance", number="PICC-2025",
                              issuer="中国人保南昌分公司", issue_date=date(2025, 3, 1), expiry_date=date(2026, 3, 15),
                              filename="保单.pdf", data=pdf_bytes(), replaces_id=old.id)
    at(date(2026, 3, 16))


def _stale_checks(ctx):
    for check in ctx["person"].checks:  # the records aged: every check is now 374 days old
        check.check_date = date(2025, 3, 1)
    ctx["db"].session.flush()


def _ban(ctx):
    from registry.adjustments import services as adjustments
    adjustments.ban(ctx["provider"], actor=ctx["reviewers"]["city"], reason_category="safety_incident",
                    reason="发生安全事故", ends_on=date(2029, 3, 9))


def _share(ctx):
    for project in ctx["db"].session.scalars(select(SchoolProject).where(
            SchoolProject.school_id == ctx["school"].id)).all()[1:]:
        ctx["db"].session.delete(project)
    ctx["db"].session.flush()


def _ended_term(ctx):
    ctx["overrides"]["term_id"] = make_term(ctx["db"], name="2025—2026学年第一学期", starts_on=date(2025, 9, 1),
                                            ends_on=date(2026, 1, 20)).id


def _other_county(ctx):
    ctx["use_school"] = make_school_row(ctx["db"], county_code="360102", name="南昌市东湖区第一小学")


def _junior(ctx):
    ctx["use_school"] = make_school_row(ctx["db"], school_type="junior", name="南昌市红谷滩区第一初级中学")
    ctx["overrides"]["grades"] = [7]


REFUSALS = [
    # (id, setup, form overrides, field, reasons expected)
    ("suspended", _suspend, {}, "entry_id", ["白名单条目状态为“暂停”（原因：安全隐患整改）"]),
    ("document", _expire_insurance, {}, "entry_id", ["机构公众责任保险（编号 PICC-2025）已于2026-03-15过期"]),
    ("person", _stale_checks, {}, "entry_id",
     ["项目暂无准入合格的授课人员（王老师1：违法犯罪记录查询已超过 365 天（查询日期 2025-03-01），"
      "须重新查询）"]),
    ("ban", _ban, {}, "entry_id", ["机构处于禁入期，至2029-03-09", "白名单条目状态为“已移出”（原因：禁入）"]),
    ("region", _other_county, {}, "entry_id", ["该项目的服务区域不包括东湖区"]),
    ("stage", _junior, {}, "entry_id", ["项目适用学段为小学低年级（1–3年级）、小学高年级（4–6年级），与初中不符"]),
    ("share", _share, {}, "entry_id", ["本学期第三方项目将占课后服务项目的 50%（1/2），超过本市上限 30%"]),
    ("class_size", None, {"expected_students": 40}, "expected_students", ["预计人数须在项目班额 10–30 人之间"]),
    ("grades", None, {"grades": [3, 7]}, "grades", ["7年级不在项目适用学段或本校学段内"]),
    ("term", _ended_term, {}, "term_id", ["请选择尚未结束的学期"]),
]


@pytest.fixture
def refusal(db, whitelisted, ordering_school, create_user, request):
    name, setup, overrides, field, reasons = request.param
    ctx = {**whitelisted, **ordering_school, "db": db, "overrides": dict(overrides), "use_school": None}
    if setup is not None:
        setup(ctx)
    school = ctx["use_school"] or ordering_school["school"]
    admin = ordering_school["admin"] if ctx["use_school"] is None else create_user("school_admin", school_id=school.id)
    db.session.flush()
    fields = _form(whitelisted["entry"], ordering_school["term"], **ctx["overrides"])
    return {"admin": admin, "fields": fields, "field": field, "reasons": reasons}


@pytest.mark.parametrize("refusal", REFUSALS, ids=[r[0] for r in REFUSALS], indirect=True)
def test_refusal_on_the_form_keeps_what_was_typed(app, db, refusal):
    before = _orders(db)
    browser = client_as(app, refusal["admin"])
    response = browser.post("/school/orders", data=refusal["fields"])
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    for reason in refusal["reasons"]:
        assert reason in page, reason
    for typed in ("三（1）班、四（2）班", "16:30-17:30", "学校操场",
                  f'value="{refusal["fields"]["expected_students"]}"'):
        assert typed in page, typed
    assert 'name="weekdays" value="1" checked' in page and 'name="weekdays" value="3" checked' in page
    assert _orders(db) == before


@pytest.mark.parametrize("refusal", REFUSALS, ids=[r[0] for r in REFUSALS], indirect=True)
def test_refusal_in_json(app, db, client, bearer, refusal):
    response = client.post("/api/v1/school/orders", json=refusal["fields"], headers=bearer(refusal["admin"]))
    body = response.json
    assert response.status_code == 422, body
    assert body["code"] == "invalid" and body["field"] == refusal["field"]
    for reason in refusal["reasons"]:
        assert reason in body["message"] or any(reason in m for m in body["errors"][refusal["field"]]), reason


def test_a_higher_price_is_refused_and_a_lower_one_never_lowers_the_copy(app, db, client, bearer, whitelisted,
                                                                          ordering_school):
    headers = bearer(ordering_school["admin"])
    fields = _form(whitelisted["entry"], ordering_school["term"])
    response = client.post("/api/v1/school/orders", json={**fields, "price": "3.50"}, headers=headers)
    assert response.status_code == 422 and response.json["field"] == "price"
    assert "订单价格不能高于公布价格 3.00 元/人·课时" in response.json["message"]
    response = client.post("/api/v1/school/orders", json=fields, headers=headers)
    assert response.status_code == 201
    body = response.json
    assert body["price"] == "3.00" and body["total"] == "1800.00" and body["status"] == "requested"
    assert body["batch"]["name"] == "2026年第1批" and body["entry_id"] == whitelisted["entry"].id
    assert body["weekday_labels"] == ["周二", "周四"] and body["staff"] == []


def test_schema_errors_name_the_field(app, db, client, bearer, whitelisted, ordering_school):
    headers = bearer(ordering_school["admin"])
    fields = _form(whitelisted["entry"], ordering_school["term"], time_slot="17:30-16:30")
    response = client.post("/api/v1/school/orders", json=fields, headers=headers)
    assert response.status_code == 422 and response.json["field"] == "time_slot"
    assert "结束时间须晚于开始时间" in response.json["message"]
    response = client.post("/api/v1/school/orders", json={**fields, "time_slot": "16:30-17:30", "discount": 1},
                           headers=headers)
    assert response.status_code == 400 and response.json["field"] == "discount"
    browser = client_as(app, ordering_school["admin"])
    data = {k: v for k, v in _form(whitelisted["entry"], ordering_school["term"]).items() if k != "weekdays"}
    response = browser.post("/school/orders", data=data)
    assert response.status_code == 422 and "请选择周一至周五中的服务日" in response.get_data(as_text=True)


# ---------------------------------------------------------------- my orders, cancelling, 404 for others

def _order(ctx, entry):
    return orders.create_order(ctx["school"], actor=ctx["admin"], **order_fields(entry, ctx["term"]))


def test_another_schools_order_is_not_found(app, db, client, bearer, whitelisted, ordering_school, create_user):
    order = _order(ordering_school, whitelisted["entry"])
    stranger = create_user("school_admin", school_id=make_school_row(db).id)
    browser = client_as(app, stranger)
    assert browser.get(f"/school/orders/{order.id}").status_code == 404
    assert browser.post(f"/school/orders/{order.id}/cancel").status_code == 404
    assert browser.get(f"/orders/{order.id}/confirmation.pdf").status_code == 404
    assert str(order.id) not in browser.get("/school/orders").get_data(as_text=True).split("<tbody>")[1]
    headers = bearer(stranger)
    assert client.get(f"/api/v1/school/orders/{order.id}", headers=headers).status_code == 404
    assert client.post(f"/api/v1/school/orders/{order.id}/cancel", json={}, headers=headers).status_code == 404
    assert client.get("/api/v1/school/orders", headers=headers).json["total"] == 0
    db.session.refresh(order)
    assert order.status == OrderStatus.requested


def test_cancel_and_status_reasons(app, db, client, bearer, whitelisted, ordering_school):
    order = _order(ordering_school, whitelisted["entry"])
    browser = client_as(app, ordering_school["admin"])
    response = browser.post(f"/school/orders/{order.id}/cancel", data={"confirmed": "1", "reason": "课程安排调整"})
    assert response.status_code == 302
    db.session.refresh(order)
    assert order.status == OrderStatus.cancelled and order.status_reason == "课程安排调整"
    page = browser.get(f"/school/orders/{order.id}").get_data(as_text=True)
    assert "已取消原因：课程安排调整" in page and "取消订单</button>" not in page
    response = browser.post(f"/school/orders/{order.id}/cancel", data={"confirmed": "1", "reason": "再取消"})
    assert response.status_code == 409 and "当前状态为“已取消”，不能执行该操作" in response.get_data(as_text=True)
    response = client.post(f"/api/v1/school/orders/{order.id}/cancel", json={"reason": "x"},
                           headers=bearer(ordering_school["admin"]))
    assert response.status_code == 409 and response.json["code"] == "invalid_transition"


def test_declined_and_suspended_orders_show_their_reasons(app, db, client, bearer, whitelisted, ordering_school):
    from registry.adjustments import services as adjustments
    declined = _order(ordering_school, whitelisted["entry"])
    orders.decline_order(declined, actor=whitelisted["admin"], reason="该时段教练已排满")
    accepted = _order(ordering_school, whitelisted["entry"])
    orders.accept_order(accepted, actor=whitelisted["admin"], person_ids=[whitelisted["person"].id])
    adjustments.suspend(whitelisted["provider"], actor=whitelisted["reviewers"]["city"],
                        reason_category="safety_incident", reason="发生安全事故，停业整顿")
    browser = client_as(app, ordering_school["admin"])
    listing = browser.get("/school/orders").get_data(as_text=True)
    assert "机构已拒绝" in listing and "该时段教练已排满" in listing and "已暂停" in listing
    page = browser.get(f"/school/orders/{accepted.id}").get_data(as_text=True)
    db.session.refresh(accepted)
    # issue 19: what happened, what it means and what to do, without the chain "已暂停原因：白名单暂停：…"
    assert "在白名单中被暂停（原因：发生安全事故）" in page and "暂停解除后订单自动恢复" in page
    assert "下一步：" in page and "另选项目" in page and "已暂停原因：" not in page
    assert whitelisted["person"].id_masked in page
    body = client.get("/api/v1/school/orders?status=declined", headers=bearer(ordering_school["admin"])).json
    assert [o["id"] for o in body["items"]] == [declined.id]
    assert body["items"][0]["status_reason"] == "该时段教练已排满"


def test_accepted_order_is_listed_as_active_once_the_term_has_begun(app, db, client, bearer, whitelisted,
                                                                    ordering_school):
    order = _order(ordering_school, whitelisted["entry"])
    orders.accept_order(order, actor=whitelisted["admin"], person_ids=[whitelisted["person"].id])
    headers = bearer(ordering_school["admin"])
    body = client.get(f"/api/v1/school/orders/{order.id}", headers=headers).json
    assert body["status"] == "active" and body["status_label"] == "服务中"  # the term began on 2026-02-24
    assert body["staff"] == [{"name": whitelisted["person"].name, "id_masked": whitelisted["person"].id_masked,
                              "removed": False, "removed_reason": None}]
    assert [o["id"] for o in client.get("/api/v1/school/orders?status=active", headers=headers).json["items"]] \
        == [order.id]
    assert client.get("/api/v1/school/orders?status=accepted", headers=headers).json["total"] == 0


def test_share_and_own_projects_api(app, db, client, bearer, whitelisted, ordering_school):
    headers = bearer(ordering_school["admin"])
    term = ordering_school["term"]
    body = client.get(f"/api/v1/school/share?term_id={term.id}", headers=headers).json
    assert body["own"] == 3 and body["third_party"] == 0 and body["limit"] == "0.3000" and body["allows_one_more"]
    response = client.post("/api/v1/school/projects", json={"term_id": term.id, "name": "围棋社", "category": "clubs",
                                                            "teacher": "李老师"}, headers=headers)
    assert response.status_code == 201 and response.json["category_label"] == "社团拓展"
    names = [p["name"] for p in client.get(f"/api/v1/school/projects?term_id={term.id}", headers=headers).json]
    assert names == ["合唱团", "书法社", "篮球社", "围棋社"]
    assert client.delete(f"/api/v1/school/projects/{response.json['id']}", headers=headers).status_code == 204
    _order(ordering_school, whitelisted["entry"])
    body = client.get(f"/api/v1/school/share?term_id={term.id}", headers=headers).json
    assert body["third_party"] == 1 and body["ratio"] == "0.2500"
    assert "第三方占比 25%，本市上限 30%" in body["message"]
