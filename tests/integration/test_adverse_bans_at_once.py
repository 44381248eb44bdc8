"""An adverse check bans at once (domain.md rule 5): by blind index, whoever recorded it, before any sweep or
reviewer writes a ban row. Registration of the same ID number anywhere is refused; a person with that ID
already at another provider stops being cleared the same moment, and their order cannot go ahead; the
sweep then only records the ban the live rule already enforced (same dates, same verdicts)."""
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from registry.adjustments import sweep
from registry.core import clock
from registry.core.errors import Conflict, DomainError
from registry.extensions import db as _db
from registry.orders import services as orders
from registry.orders.models import OrderStatus
from registry.people import importer
from registry.people import services as people
from registry.people.models import Person, PersonBan
from registry.whitelist import eligibility
from tests.fixtures.orders import order_fields
from tests.fixtures.providers import add_cleared_person, id_number_for

SAME_ID = id_number_for(1)  # the id number of the dossier's (and `whitelisted`'s) person 王老师1


@pytest.fixture
def provider_a(create_user):
    """Another provider in 南昌 (provider A), with its own admin."""
    return create_user("provider_admin")


def _record_adverse(admin, person, check_type="sexual_offence", check_date=None):
    return people.add_check(person, actor=admin, check_type=check_type, result="adverse",
                            check_date=check_date or clock.today(), authority="南昌市公安局")


def _bans():
    return _db.session.scalars(select(PersonBan)).all()


def _register(admin, number=SAME_ID, name="李老师"):
    return people.create_person(admin.provider, actor=admin, name=name, id_number=number, gender="male",
                                phone="13900000001", staff_role="teacher")


# ---------------------------------------------------------------- registration anywhere is refused at once

def test_adverse_sexual_offence_check_at_provider_a_refuses_the_same_id_at_provider_b(db, provider_a, create_user):
    """The reported case: provider A records an adverse 性侵 check; the same ID registered at provider B the
    same minute is refused, naming no provider, with no ban row written yet."""
    person = add_cleared_person(provider_a.provider, provider_a, n=1)
    _record_adverse(provider_a, person)
    assert _bans() == []  # no reviewer, no sweep
    provider_b = create_user("provider_admin")
    with pytest.raises(Conflict) as refused:
        _register(provider_b)
    assert refused.value.field == "id_number" and refused.value.code == "banned_person"
    assert refused.value.message == "该身份证号码对应人员存在禁入记录，不能登记"
    assert provider_a.provider.name not in refused.value.message
    _register(provider_b, number=id_number_for(2))  # anyone else registers as before


def test_a_ban_row_refuses_registration_and_a_lifted_one_does_not(db, provider_a, create_user):
    person = add_cleared_person(provider_a.provider, provider_a, n=1)
    _record_adverse(provider_a, person, check_type="criminal")
    sweep.run()
    ban = _bans()[0]
    provider_b = create_user("provider_admin")
    with pytest.raises(Conflict, match="存在禁入记录"):
        _register(provider_b)
    ban.lifted_at = clock.utcnow()  # e.g. after an appeal: the recorded ban decides from now on
    db.session.flush()
    assert _register(provider_b).id_bidx == person.id_bidx


def test_the_importer_refuses_a_banned_id_number_naming_the_row(db, provider_a, create_user):
    from tests.web.test_people_import import good_row, xlsx
    person = add_cleared_person(provider_a.provider, provider_a, n=1)
    _record_adverse(provider_a, person, check_type="criminal")
    provider_b = create_user("provider_admin")
    with pytest.raises(importer.ImportRejected) as refused:
        importer.import_people(provider_b.provider, actor=provider_b, data=xlsx([good_row(2), good_row(1)]))
    assert refused.value.errors == {"row3.id_number": ["该身份证号码对应人员存在禁入记录，不能登记"]}
    assert people.list_people(provider_b.provider.id) == []


# ---------------------------------------------------------------- a person already registered elsewhere

def test_person_already_at_provider_b_is_not_cleared_at_once_and_their_order_cannot_go_ahead(
        db, whitelisted, ordering_school, provider_a):
    """B (`whitelisted`) has 王老师1 on its published project and a school's order waiting. A registered the
    same ID earlier; now A records an adverse 性侵 check. Before any sweep: B's person is not cleared (in
    Python and in the sweep's SQL), B's entry is not eligible, and B cannot accept the order with them."""
    b_person = whitelisted["person"]
    order = orders.create_order(ordering_school["school"], actor=ordering_school["admin"],
                                **order_fields(whitelisted["entry"], ordering_school["term"]))
    a_person = add_cleared_person(provider_a.provider, provider_a, n=1)
    assert a_person.id_bidx == b_person.id_bidx and people.clearance(b_person).cleared
    _record_adverse(provider_a, a_person)
    assert _bans() == []
    day = clock.today()
    result = people.clearance(b_person, day)
    assert not result.cleared and result.reasons == ["该人员已被列入禁入名单（永久）"]
    assert whitelisted["project"].id not in set(db.session.scalars(sweep.projects_with_cleared_staff(day)))
    verdict = eligibility.evaluate_one(whitelisted["entry"], day)
    assert not verdict.ok and "staff" in verdict.causes
    with pytest.raises(DomainError):
        orders.accept_order(order, actor=whitelisted["admin"], person_ids=[b_person.id])
    assert order.status == OrderStatus.requested
    # The sweep records what was already enforced: nothing changes in the verdicts.
    sweep.run()
    db.session.expire_all()
    ban = db.session.scalars(select(PersonBan)).one()
    assert ban.id_bidx == b_person.id_bidx and ban.ends_on is None
    assert people.clearance(b_person, day).reasons == result.reasons


def test_an_earlier_adverse_check_still_bans_after_a_newer_clear_one(db, whitelisted):
    """Only the latest check of a type counts for clearance, but an adverse result bans whatever follows it:
    a fresh clear check cannot wash out the ban before the sweep runs."""
    person, admin = whitelisted["person"], whitelisted["admin"]
    day = clock.today()
    _record_adverse(admin, person, check_type="criminal", check_date=day - timedelta(days=2))
    people.add_check(person, actor=admin, check_type="criminal", result="clear", check_date=day - timedelta(days=1),
                     authority="南昌市公安局")
    db.session.expire(person)
    result = people.clearance(person, day)
    assert not result.cleared and result.reasons == [
        f"该人员已被列入禁入名单（至{people.add_years(day - timedelta(days=2), 3) - timedelta(days=1)}）"]
    assert whitelisted["project"].id not in set(db.session.scalars(sweep.projects_with_cleared_staff(day)))


@pytest.mark.parametrize("check_type", ["criminal", "sexual_offence"])
def test_live_ban_and_the_swept_row_agree_on_their_dates(db, whitelisted, provider_a, check_type):
    """The ban the live rule applies (AdverseBan) is exactly the row the sweep writes later: from the check's
    date, permanent for a sexual-offence hit, the city's ban years otherwise; on the days around its end the
    Python and SQL clearances agree before and after the sweep."""
    b_person = whitelisted["person"]
    a_person = add_cleared_person(provider_a.provider, provider_a, n=1)
    checked = clock.today() - timedelta(days=3)
    _record_adverse(provider_a, a_person, check_type=check_type, check_date=checked)
    live = people.bans_by_index([b_person.id_bidx])[b_person.id_bidx]
    assert [(b.starts_on, b.ends_on) for b in live] == [
        (checked, None if check_type == "sexual_offence" else date(2029, 3, 6))]
    days = [checked - timedelta(days=1), checked, date(2029, 3, 6), date(2029, 3, 7)]

    def verdicts():
        out = []
        for day in days:
            banned = bool(people.bans_by_index([b_person.id_bidx], day)[b_person.id_bidx])
            in_sql = db.session.scalar(select(Person.id).where(Person.id == b_person.id,
                                                               sweep.adverse_ban_in_force(day))) is not None
            row = db.session.scalars(select(PersonBan).where(PersonBan.id_bidx == b_person.id_bidx)).all()
            out.append(banned)
            if not row:
                assert in_sql == banned, (day, in_sql, banned)
        return out

    before = verdicts()
    assert before == [False, True, True, check_type == "sexual_offence"]
    sweep.run()
    row = db.session.scalars(select(PersonBan)).one()
    assert (row.starts_on, row.ends_on) == (live[0].starts_on, live[0].ends_on)
    assert verdicts() == before
