"""Each automatic rule of the sweep under a frozen clock; a second sweep changes nothing."""
from datetime import date, timedelta

import pytest
from sqlalchemy import event, select

from registry.adjustments import services as adjustments
from registry.adjustments import sweep
from registry.adjustments.models import ActionKind, ProviderAction
from registry.notifications.models import Notification
from registry.orders import services as orders
from registry.orders.models import OrderStaff, OrderStatus
from registry.people import services as people
from registry.people.models import PersonBan
from registry.projects.models import ProjectStaff
from registry.providers import services as providers
from registry.reviews import services as reviews
from registry.whitelist.models import ChangeFeedItem, EntryStatus
from tests.fixtures.orders import order_fields
from tests.fixtures.providers import pdf_bytes
from tests.fixtures.reviews import at


def _nothing_changes(summary):
    return all(v == 0 for v in summary.values())


@pytest.fixture
def accepted_order(db, whitelisted, ordering_school):
    order = orders.create_order(ordering_school["school"], actor=ordering_school["admin"],
                                **order_fields(whitelisted["entry"], ordering_school["term"]))
    orders.accept_order(order, actor=whitelisted["admin"], person_ids=[whitelisted["person"].id])
    return order


def _short_insurance(whitelisted, expiry):
    old = next(d for d in providers.current_documents(whitelisted["provider"].id)
               if d.doc_type.value == "liability_insurance")
    return providers.upload_document(
        whitelisted["provider"], actor=whitelisted["admin"], doc_type="liability_insurance", number="PICC-2025",
        issuer="中国人保南昌分公司", issue_date=date(2025, 3, 1), expiry_date=expiry, filename="保单.pdf",
        data=pdf_bytes(), replaces_id=old.id)


def test_expired_document_suspends_until_renewal_is_verified(db, whitelisted, accepted_order, ordering_school):
    entry = whitelisted["entry"]
    _short_insurance(whitelisted, date(2026, 3, 15))
    at(date(2026, 3, 16))
    summary = sweep.run()
    assert summary["document_expired"] == 1
    assert entry.status == EntryStatus.suspended and entry.suspended_by_rule == "document_expired"
    db.session.refresh(accepted_order)
    assert accepted_order.status == OrderStatus.suspended and "资质材料过期" in accepted_order.status_reason
    school_inbox = db.session.scalars(select(Notification).where(
        Notification.user_id == ordering_school["admin"].id)).all()
    assert any("暂停" in n.title for n in school_inbox)  # the school is told in the same run
    action = db.session.scalars(select(ProviderAction).where(ProviderAction.rule == "document_expired")).one()
    assert action.evidence["documents"][0]["expiry"] == "2026-03-15"
    assert _nothing_changes(sweep.run())  # a second sweep changes nothing

    renewed = _short_insurance(whitelisted, date(2027, 3, 15))
    assert sweep.run()["lifted"] == 0  # uploaded but not yet verified
    reviews.verify_document(renewed, actor=whitelisted["reviewers"]["city"], ok=True)
    assert sweep.run()["lifted"] == 1
    db.session.refresh(accepted_order)
    assert entry.status == EntryStatus.active and accepted_order.status == OrderStatus.active


@pytest.mark.parametrize("dossier_check_age", [330])
def test_expired_check_unclears_person_flags_orders_and_suspends_project(db, whitelisted, accepted_order):
    person = whitelisted["person"]
    last = max(c.check_date for c in person.checks if c.check_type.value == "criminal")
    at(last + timedelta(days=366))
    summary = sweep.run()
    assert summary["staff_not_cleared"] == 1 and summary["orders_flagged"] == 1
    db.session.refresh(accepted_order)
    assert accepted_order.staff_flagged_at is not None
    assert accepted_order.status == OrderStatus.suspended
    assert _nothing_changes(sweep.run())


def test_an_assignment_is_flagged_when_the_project_qualification_lapses(db, whitelisted, accepted_order):
    """Clearance is judged per person and the qualification the order's project needs: the checks are
    fine, but the coach certificate has expired."""
    from registry.people.models import Qualification
    person = whitelisted["person"]
    for qual in db.session.scalars(select(Qualification).where(Qualification.person_id == person.id)):
        qual.expiry_date = date(2026, 3, 1)
    db.session.flush()
    assert sweep.run()["orders_flagged"] == 1
    db.session.refresh(accepted_order)
    assert accepted_order.staff_flagged_at is not None


def test_a_cleared_assignment_is_not_flagged(db, whitelisted, accepted_order):
    assert sweep.run()["orders_flagged"] == 0
    db.session.refresh(accepted_order)
    assert accepted_order.staff_flagged_at is None


def test_adverse_check_bans_and_removes_from_assignments(db, whitelisted, accepted_order):
    person = whitelisted["person"]
    people.add_check(person, actor=whitelisted["admin"], check_type="sexual_offence", result="adverse",
                     check_date=date(2026, 3, 10), authority="南昌市公安局")
    summary = sweep.run()
    assert summary["adverse_check"] == 1
    ban = db.session.scalars(select(PersonBan)).one()
    assert ban.ends_on is None  # a sexual-offence hit is permanent
    assert db.session.scalars(select(ProjectStaff).where(ProjectStaff.person_id == person.id)).all() == []
    staff = db.session.scalars(select(OrderStaff).where(OrderStaff.person_id == person.id)).one()
    assert staff.removed_at is not None
    referral = db.session.scalars(select(ProviderAction).where(ProviderAction.kind == ActionKind.referral)).one()
    assert "deadline" in referral.evidence
    reviewer_inbox = db.session.scalars(select(Notification).where(
        Notification.user_id == whitelisted["reviewers"]["city"].id, Notification.category == "referral")).all()
    assert len(reviewer_inbox) == 1
    assert sweep.run()["adverse_check"] == 0


def test_validity_end_expires_entry(db, whitelisted, accepted_order):
    at(date(2026, 9, 1))
    assert whitelisted["entry"].effective_status(date(2026, 9, 1)) == EntryStatus.expired  # before any sweep
    summary = sweep.run()
    assert summary["validity_ended"] == 1
    assert whitelisted["entry"].status == EntryStatus.expired
    assert db.session.scalars(select(ChangeFeedItem).where(ChangeFeedItem.kind == "expired")).one()
    assert _nothing_changes(sweep.run())


def test_manual_suspension_lifts_itself_on_its_date(db, whitelisted, accepted_order):
    entry = whitelisted["entry"]
    adjustments.suspend(whitelisted["provider"], actor=whitelisted["reviewers"]["city"],
                        reason_category="safety_incident", reason="场地安全整改", lift_on=date(2026, 3, 20))
    assert entry.status == EntryStatus.suspended
    at(date(2026, 3, 20))
    assert sweep.run()["lifted"] == 0
    at(date(2026, 3, 21))
    assert sweep.run()["lifted"] == 1
    db.session.refresh(accepted_order)
    assert entry.status == EntryStatus.active and accepted_order.status == OrderStatus.active


def test_manual_suspension_without_date_is_not_lifted(db, whitelisted):
    adjustments.suspend(whitelisted["provider"], actor=whitelisted["reviewers"]["city"],
                        reason_category="other", reason="待核查")
    at(date(2026, 4, 1))
    assert sweep.run()["lifted"] == 0
    assert whitelisted["entry"].status == EntryStatus.suspended


def test_expiry_warnings_at_30_and_7_days_once_each(db, whitelisted):
    _short_insurance(whitelisted, date(2026, 4, 30))
    at(date(2026, 3, 30))  # 31 days before
    assert sweep.run()["expiry_warnings"] == 0
    at(date(2026, 4, 1))  # 29 days before
    first = sweep.run()["expiry_warnings"]
    assert first >= 1
    assert sweep.run()["expiry_warnings"] == 0
    at(date(2026, 4, 24))  # 6 days before
    assert sweep.run()["expiry_warnings"] >= 1
    titles = [n.title for n in db.session.scalars(select(Notification).where(Notification.category == "expiry"))]
    assert "到期提醒（30天内）" in titles and "到期提醒（7天内）" in titles


def test_sql_clearance_matches_python_clearance(db, whitelisted):
    from registry.people.models import Person
    from tests.fixtures.providers import add_cleared_person
    provider, admin = whitelisted["provider"], whitelisted["admin"]
    add_cleared_person(provider, admin, n=11, check_age_days=10)
    add_cleared_person(provider, admin, n=12, check_age_days=364)
    add_cleared_person(provider, admin, n=13, check_age_days=366)
    add_cleared_person(provider, admin, n=14, check_age_days=10, qual_type="teacher")
    for day in (date(2026, 3, 10), date(2026, 3, 12), date(2026, 9, 1)):
        at(day)
        sql = set(db.session.scalars(select(Person.id).where(
            Person.provider_id == provider.id, sweep.cleared_condition(day))))
        python = {p.id for p in people.list_people(provider.id) if not people.clearance(p, day).reasons
                  or people.clearance(p, day).reasons == ["无有效的资格证书"]}
        assert sql == python, day


def _statements(db, fn):
    count = 0
    engine = db.session.get_bind().engine

    def counter(*_args, **_kwargs):
        nonlocal count
        count += 1
    event.listen(engine, "before_cursor_execute", counter)
    try:
        fn()
    finally:
        event.remove(engine, "before_cursor_execute", counter)
    return count


def test_sweep_statements_do_not_grow_with_data(db, whitelisted, create_user):
    from registry.applications import services as applications
    from tests.fixtures.orders import publish_application
    from tests.fixtures.providers import add_cleared_person, add_documents, add_project
    at(date(2026, 9, 1))
    small = _statements(db, sweep.run)
    # Two more whitelisted providers whose entries will all expire on the same day.
    for n in (21, 22):
        at(date(2026, 2, 20))
        admin = create_user("provider_admin")
        add_documents(admin.provider, admin)
        person = add_cleared_person(admin.provider, admin, n=n)
        project = add_project(admin.provider, admin, staff=[person])
        app = applications.create_application(admin.provider, actor=admin, project_ids=[project.id])
        applications.submit(app, actor=admin)
        publish_application(app, whitelisted["reviewers"])
    at(date(2026, 9, 2))
    large = _statements(db, sweep.run)
    assert large == small


def test_lift_date_counts_before_the_sweep_records_it(db, whitelisted, ordering_school):
    """Public status and ordering agree as soon as the lift date has passed; the sweep only records it."""
    from registry.whitelist import eligibility
    entry = whitelisted["entry"]
    adjustments.suspend(whitelisted["provider"], actor=whitelisted["reviewers"]["city"],
                        reason_category="safety_incident", reason="场地安全整改", lift_on=date(2026, 3, 20))
    at(date(2026, 3, 20))
    assert entry.effective_status(date(2026, 3, 20)) == EntryStatus.suspended
    assert not eligibility.evaluate_one(entry, date(2026, 3, 20), ordering_school["school"]).ok
    at(date(2026, 3, 21))
    assert entry.status == EntryStatus.suspended  # nothing recorded yet
    assert entry.effective_status(date(2026, 3, 21)) == EntryStatus.active
    assert eligibility.evaluate_one(entry, date(2026, 3, 21), ordering_school["school"]).ok


def test_sweep_respects_a_city_policy_row(db, whitelisted):
    """With a per-city policy the check-age rule is evaluated per provider's city (a correlated subquery)."""
    from registry.people.models import Person
    from registry.policy.models import CityPolicy
    city = whitelisted["provider"].city
    db.session.add(CityPolicy(city_id=city.id, check_max_age_days=20))
    db.session.flush()
    day = date(2026, 3, 10)  # the dossier's checks are 30 days old then: too old for this city's 20 days
    sql = set(db.session.scalars(select(Person.id).where(sweep.cleared_condition(day))))
    assert whitelisted["person"].id not in sql
    assert not people.clearance(whitelisted["person"], day).cleared
    summary = sweep.run()
    assert summary["staff_not_cleared"] == 1


def test_a_city_policy_elsewhere_leaves_the_default_age(db, whitelisted):
    """The per-city CASE falls back to the default check age for providers of other cities."""
    from registry.people.models import Person
    from registry.policy.models import CityPolicy
    from registry.regions.models import Region, RegionLevel
    home = whitelisted["provider"].city
    other = db.session.scalar(select(Region).where(Region.level == RegionLevel.city, Region.id != home.id))
    db.session.add(CityPolicy(city_id=other.id, check_max_age_days=20))
    db.session.flush()
    day = date(2026, 3, 10)
    assert whitelisted["person"].id in set(db.session.scalars(select(Person.id).where(sweep.cleared_condition(day))))
    assert people.clearance(whitelisted["person"], day).cleared


def test_check_warnings_only_for_checks_lapsing_inside_the_window(db, whitelisted):
    """A criminal-record check lapses check_max_age_days after its date: 20 days left is warned (30-day
    window), 200 days left is not; the SQL window and the Python end date must agree."""
    from registry.people.models import PersonCheck
    from registry.policy import services as policy
    from tests.fixtures.providers import add_cleared_person
    provider, admin = whitelisted["provider"], whitelisted["admin"]
    age = policy.defaults().check_max_age_days
    soon = add_cleared_person(provider, admin, n=21, check_age_days=age - 20)
    later = add_cleared_person(provider, admin, n=22, check_age_days=age - 200)
    db.session.flush()
    sweep.run()
    keys = set(db.session.scalars(select(Notification.dedupe_key).where(Notification.category == "expiry")))
    checks = {p.id: {c.id: c.check_type.value for c in db.session.scalars(
        select(PersonCheck).where(PersonCheck.person_id == p.id))} for p in (soon, later)}
    warned = {ctype for cid, ctype in checks[soon.id].items() if f"expiry:check:{cid}:30" in keys}
    assert warned >= {"criminal", "sexual_offence"}
    assert not any(f"expiry:check:{cid}:30" in keys or f"expiry:check:{cid}:7" in keys for cid in checks[later.id])


def test_a_run_sets_the_existing_heap_aside_and_gives_it_back(db, monkeypatch):
    """During a run the heap that existed before it is frozen (the collector's full collections skip it);
    afterwards the process is as it was, and a caller's own frozen heap stays frozen."""
    import gc
    seen = []
    monkeypatch.setattr(sweep, "_run", lambda day, actor: seen.append(gc.get_freeze_count()) or {})
    gc.unfreeze()
    sweep.run(date(2026, 9, 1))
    assert seen[-1] > 0 and gc.get_freeze_count() == 0
    gc.freeze()
    try:
        frozen = gc.get_freeze_count()
        sweep.run(date(2026, 9, 1))
        assert seen[-1] >= frozen and gc.get_freeze_count() >= frozen
    finally:
        gc.unfreeze()
