"""Ordering and acceptance: each reason an order can be refused, with its message; the third-party share."""
from datetime import date, timedelta
from decimal import Decimal

import pytest

from registry.core.errors import ValidationFailed
from registry.orders import services as orders
from registry.orders.models import OrderStatus
from registry.providers import services as providers
from registry.whitelist.services import ENTRY
from tests.fixtures.orders import order_fields
from tests.fixtures.reviews import at
from tests.fixtures.schools import make_school_row


def _order(school_ctx, entry, **overrides):
    return orders.create_order(school_ctx["school"], actor=school_ctx["admin"],
                               **order_fields(entry, school_ctx["term"], **overrides))


def test_order_copies_published_price_and_total(db, whitelisted, ordering_school):
    order = _order(ordering_school, whitelisted["entry"])
    assert order.status == OrderStatus.requested
    # 16 sessions of 60 minutes are 24 class hours of 40 minutes (the city's primary class hour, issue 15)
    assert order.price == Decimal("3.00") and order.class_hours == Decimal("24.00")
    assert order.total == Decimal("3.00") * 25 * 24
    assert order.batch_id == whitelisted["batch"].id


def test_higher_price_is_refused(db, whitelisted, ordering_school):
    with pytest.raises(ValidationFailed) as err:
        _order(ordering_school, whitelisted["entry"], price="3.50")
    assert "不能高于公布价格 3.00" in err.value.errors["price"][0]


def test_class_size_and_grades(db, whitelisted, ordering_school):
    with pytest.raises(ValidationFailed) as err:
        _order(ordering_school, whitelisted["entry"], expected_students=40, grades=[8])
    assert "10–30" in err.value.errors["expected_students"][0]
    assert "8年级" in err.value.errors["grades"][0]


def test_suspended_entry_cannot_be_ordered(db, whitelisted, ordering_school):
    ENTRY.transition(whitelisted["entry"], "suspend", changes={"status_reason": "测试"})
    with pytest.raises(ValidationFailed) as err:
        _order(ordering_school, whitelisted["entry"])
    assert "暂停" in err.value.errors["entry_id"][0]


def test_expired_insurance_blocks_order_without_any_job(db, whitelisted, ordering_school):
    from tests.fixtures.providers import pdf_bytes
    old = next(d for d in providers.current_documents(whitelisted["provider"].id)
               if d.doc_type.value == "liability_insurance")
    insurance = providers.upload_document(
        whitelisted["provider"], actor=whitelisted["admin"], doc_type="liability_insurance", number="PICC-2025",
        issuer="中国人保南昌分公司", issue_date=date(2025, 3, 1), expiry_date=date(2026, 3, 15),
        filename="保单.pdf", data=pdf_bytes(), replaces_id=old.id)
    at(date(2026, 3, 16))  # no sweep has run: the order is refused from the records alone
    with pytest.raises(ValidationFailed) as err:
        _order(ordering_school, whitelisted["entry"])
    assert any(f"公众责任保险（编号 {insurance.number}）已于{insurance.expiry_date.isoformat()}过期" in r
               for r in err.value.errors["entry_id"])


@pytest.mark.parametrize("dossier_check_age", [330])
def test_check_older_than_a_year_blocks_order(db, whitelisted, ordering_school):
    person = whitelisted["person"]
    last = max(c.check_date for c in person.checks if c.check_type.value == "criminal")
    at(last + timedelta(days=365))
    assert _order(ordering_school, whitelisted["entry"]).status == OrderStatus.requested
    at(last + timedelta(days=366))  # docs/domain.md "People, checks and clearance": last check + 366 days
    with pytest.raises(ValidationFailed) as err:
        _order(ordering_school, whitelisted["entry"])
    assert any("暂无准入合格的授课人员" in r for r in err.value.errors["entry_id"])


def test_region_and_stage_must_fit(db, whitelisted, ordering_school, create_user):
    far = make_school_row(db, county_code="360702")
    admin = create_user("school_admin", school_id=far.id)
    with pytest.raises(ValidationFailed) as err:
        orders.create_order(far, actor=admin, **order_fields(whitelisted["entry"], ordering_school["term"]))
    assert any("服务区域不包括章贡区" in r for r in err.value.errors["entry_id"])
    junior = make_school_row(db, school_type="junior")
    admin = create_user("school_admin", school_id=junior.id)
    with pytest.raises(ValidationFailed) as err:
        orders.create_order(junior, actor=admin,
                            **order_fields(whitelisted["entry"], ordering_school["term"], grades=[7]))
    assert any("与初中不符" in r for r in err.value.errors["entry_id"])


def test_third_party_share_limit(db, whitelisted, ordering_school):
    from registry.schools.models import SchoolProject
    for p in db.session.query(SchoolProject).filter_by(school_id=ordering_school["school"].id).all()[1:]:
        db.session.delete(p)  # 1 own project: a first third-party project would be 50%
    db.session.flush()
    with pytest.raises(ValidationFailed) as err:
        _order(ordering_school, whitelisted["entry"])
    assert "50%（1/2）" in err.value.errors["entry_id"][0] and "30%" in err.value.errors["entry_id"][0]


def test_accept_assigns_cleared_staff_and_warns_about_lapses(db, whitelisted, ordering_school):
    order = _order(ordering_school, whitelisted["entry"])
    result = orders.accept_order(order, actor=whitelisted["admin"], person_ids=[whitelisted["person"].id])
    assert order.status == OrderStatus.accepted
    assert result.warnings == []  # checks are 30 days old on 2026-03-10; the term ends 2026-07-10
    assert order.effective_status(date(2026, 3, 10)) == OrderStatus.active  # the term has begun


def test_accept_refuses_uncleared_person(db, whitelisted, ordering_school):
    from tests.fixtures.providers import add_cleared_person
    order = _order(ordering_school, whitelisted["entry"])
    stale = add_cleared_person(whitelisted["provider"], whitelisted["admin"], n=7, check_age_days=400)
    with pytest.raises(ValidationFailed) as err:
        orders.accept_order(order, actor=whitelisted["admin"], person_ids=[stale.id])
    assert "今天未准入" in err.value.errors["person_ids"][0] and "超过 365 天" in err.value.errors["person_ids"][0]


def test_second_class_of_an_ordered_project_does_not_count_twice(db, whitelisted, ordering_school):
    from registry.schools.models import SchoolProject
    # 3 own projects: one third-party project is 25%, a second distinct one would be 40%.
    first = _order(ordering_school, whitelisted["entry"])
    again = _order(ordering_school, whitelisted["entry"], classes="五（3）班", grades=[5])
    assert first.id != again.id and again.status == OrderStatus.requested
    assert orders.share(ordering_school["school"], ordering_school["term"]).third_party == 1
    assert db.session.query(SchoolProject).filter_by(school_id=ordering_school["school"].id).count() == 3
