"""Hypothesis: over random sequences of uploads, expiries, checks, manual actions, sweeps and dates, the set
of entries a school can order always equals the set whose eligibility, computed from the records, holds.

Three views must agree after every step, for each of two published entries:
* orders.services.create_order succeeds (tried in a savepoint and rolled back);
* registry.whitelist.eligibility.evaluate(...).ok;
* an oracle written here from the records: the entry is in force on the day, the provider is not banned,
  its required documents are present, not rejected and not expired, and the project has staff cleared by the
  SQL clearance of the sweep (a second implementation of rule 4, independent of the Python one).
And nothing orderable ever has a status other than active, unless a suspension has lifted itself on its
date (the request-time rule; the sweep records the lift later).

"adverse_elsewhere" registers the same ID number as a provider's person at the OTHER provider and records an
adverse check there: the ban follows the blind index at once (before any sweep), in all three views.

Each example runs inside a savepoint of the rolled-back `db` fixture and is rolled back afterwards.
"""
from datetime import date, timedelta

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from registry.adjustments import services as adjustments
from registry.adjustments import sweep
from registry.core import clock, crypto
from registry.core.errors import DomainError
from registry.extensions import db as _db
from registry.orders import services as orders
from registry.people import services as people
from registry.people.models import Person
from registry.providers import services as providers
from registry.providers.models import VerificationStatus
from registry.reviews import services as reviews
from registry.schools.models import SchoolProject
from registry.whitelist import eligibility
from registry.whitelist.models import EntryStatus, WhitelistEntry
from tests.fixtures.orders import order_fields
from tests.fixtures.providers import pdf_bytes
from tests.fixtures.reviews import at
from tests.fixtures.schools import make_term

START = date(2026, 3, 10)
LAST_DAY = date(2026, 9, 15)  # beyond the entries' validity (2026-08-31)
REQUIRED_EXTRA = ("liability_insurance", "safety_plan")

provider_index = st.integers(min_value=0, max_value=1)
operation = st.one_of(
    st.tuples(st.just("age"), st.sampled_from([1, 6, 30, 90, 200])),
    st.tuples(st.just("insurance"), provider_index, st.sampled_from(["expired", "renewed"])),
    st.tuples(st.just("verify"), provider_index),
    st.tuples(st.just("adverse"), provider_index),
    st.tuples(st.just("adverse_elsewhere"), provider_index, st.sampled_from(["criminal", "sexual_offence"])),
    st.tuples(st.just("recheck"), provider_index),
    st.tuples(st.just("suspend"), provider_index, st.sampled_from([None, 3, 10])),
    st.tuples(st.just("delist"), provider_index),
    st.tuples(st.just("reinstate"), provider_index),
    st.tuples(st.just("sweep"),),
)


@pytest.fixture(name="dataset")
def dataset_fixture(db, whitelisted, ordering_school, publish_provider):
    """Two published providers (one entry each) in 红谷滩区 and a primary school there with a term that runs
    past the entries' validity; the clock frozen on 2026-03-10."""
    second = publish_provider(name="南昌第二测试体育有限公司")
    term = make_term(db, name="2026年性质测试学期", starts_on=date(2026, 2, 24), ends_on=date(2027, 1, 22))
    for i, name in enumerate(("合唱团", "书法社", "篮球社")):
        db.session.add(SchoolProject(school_id=ordering_school["school"].id, term_id=term.id, name=name,
                                     category="arts", teacher=f"教师{i}"))
    at(START)
    db.session.flush()
    return {
        "providers": [whitelisted["provider"], second["provider"]],
        "admins": [whitelisted["admin"], second["admin"]],
        "people": [whitelisted["person"], second["person"]],
        "entries": [whitelisted["entry"].id, second["entries"][0].id],
        "city": whitelisted["reviewers"]["city"],
        "school": ordering_school["school"], "school_admin": ordering_school["admin"], "term": term,
    }


# ---------------------------------------------------------------- the operations

def _insurance(provider_id):
    return next(d for d in providers.current_documents(provider_id) if d.doc_type.value == "liability_insurance")


def _apply(d, op):
    kind, args = op[0], op[1:]
    today = clock.today()
    if kind == "age":
        at(min(today + timedelta(days=args[0]), LAST_DAY))
        return
    if kind == "sweep":
        sweep.run()
        return
    i = args[0]
    provider, admin, person, city = d["providers"][i], d["admins"][i], d["people"][i], d["city"]
    if kind == "insurance":
        expiry = today - timedelta(days=1) if args[1] == "expired" else today + timedelta(days=365)
        providers.upload_document(provider, actor=admin, doc_type="liability_insurance", number=f"P-{today}",
                                  issuer="中国人保南昌分公司", issue_date=today - timedelta(days=400),
                                  expiry_date=expiry, filename="保单.pdf", data=pdf_bytes(),
                                  replaces_id=_insurance(provider.id).id)
    elif kind == "verify":
        doc = _insurance(provider.id)
        if doc.verification_status == VerificationStatus.pending:
            reviews.verify_document(doc, actor=city, ok=True)
    elif kind == "adverse":
        people.add_check(person, actor=admin, check_type="criminal", result="adverse", check_date=today,
                         authority="南昌市公安局")
    elif kind == "adverse_elsewhere":
        other, other_admin = d["providers"][1 - i], d["admins"][1 - i]
        twin = _db.session.scalar(select(Person).where(Person.provider_id == other.id,
                                                       Person.id_bidx == person.id_bidx))
        if twin is None:  # refused (DomainError) when the ID number is banned already
            twin = people.create_person(other, actor=other_admin, name=f"{person.name}（兼职）",
                                        id_number=crypto.decrypt(person.id_enc, people.ID_CONTEXT), gender="female",
                                        phone="13900000009", staff_role="teacher")
        people.add_check(twin, actor=other_admin, check_type=args[1], result="adverse", check_date=today,
                         authority="南昌市公安局")
    elif kind == "recheck":
        for check_type in ("criminal", "sexual_offence", "health", "moral"):
            people.add_check(person, actor=admin, check_type=check_type, result="clear", check_date=today,
                             authority="南昌市公安局")
    elif kind == "suspend":
        lift_on = today + timedelta(days=args[1]) if args[1] else None
        adjustments.suspend(provider, actor=city, reason_category="other", reason="性质测试暂停", lift_on=lift_on)
    elif kind == "delist":
        adjustments.delist(provider, actor=city, reason_category="other", reason="性质测试移出")
    elif kind == "reinstate":
        adjustments.reinstate(provider, actor=city, reason="性质测试恢复")


# ---------------------------------------------------------------- the three views

def _can_order(db, d, entry):
    savepoint = db.session.begin_nested()
    try:
        orders.create_order(d["school"], actor=d["school_admin"], **order_fields(entry, d["term"]))
        return True
    except DomainError:
        return False
    finally:
        savepoint.rollback()


def _oracle(db, d, entry, day):
    status = entry.effective_status(day)
    lifted_by_date = (status == EntryStatus.suspended and entry.suspended_until is not None
                      and entry.suspended_until < day)
    if status != EntryStatus.active and not lifted_by_date:
        return False
    if adjustments.active_ban(entry.provider_id, day) is not None:
        return False
    current = {doc.doc_type.value: doc for doc in providers.current_documents(entry.provider_id)}
    for doc_type in (entry.provider.registration_doc_type.value, *REQUIRED_EXTRA):
        doc = current.get(doc_type)
        if doc is None or doc.verification_status == VerificationStatus.rejected:
            return False
        if doc.expiry_date is not None and doc.expiry_date < day:
            return False
    staffed = set(db.session.scalars(sweep.projects_with_cleared_staff(day)))
    return entry.project_id in staffed  # region and stage fit the school by construction


def _check_invariant(db, d, trace, banned=()):
    """`banned`: indexes of the providers whose person's ID number has had an adverse check recorded anywhere;
    within the dates of the test that ban is in force (3 years, or for ever), so their entry is never orderable."""
    day = clock.today()
    banned_entries = {d["entries"][i] for i in banned}
    entries = db.session.scalars(select(WhitelistEntry).where(WhitelistEntry.id.in_(d["entries"]))).all()
    computed = eligibility.evaluate(entries, day, d["school"])
    for entry in entries:
        orderable = _can_order(db, d, entry)
        event(f"entry orderable: {orderable}")
        expected = _oracle(db, d, entry, day)
        assert orderable == computed[entry.id].ok == expected, (
            f"entry {entry.id} on {day}: create_order={orderable} evaluate={computed[entry.id].ok} "
            f"records={expected}; reasons={computed[entry.id].reasons}; steps={trace}")
        assert not (orderable and entry.id in banned_entries), (
            f"entry {entry.id} orderable on {day} although its only person's ID number has an adverse check; "
            f"steps={trace}")
        if orderable:
            status = entry.effective_status(day)
            assert status == EntryStatus.active or (
                status == EntryStatus.suspended and entry.suspended_until is not None and entry.suspended_until < day
            ), f"entry {entry.id} orderable with status {status.value} on {day}; steps={trace}"


@settings(max_examples=25, deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(steps=st.lists(operation, min_size=1, max_size=6))
def test_orderable_equals_computed_eligibility(db, dataset, steps):
    example = db.session.begin_nested()
    try:
        at(START)
        _check_invariant(db, dataset, [])
        done, banned = [], set()
        for op in steps:
            step = db.session.begin_nested()
            try:
                _apply(dataset, op)
                step.commit()
                event(f"{op[0]}: applied")
                if op[0] in ("adverse", "adverse_elsewhere"):
                    banned.add(op[1])
            except DomainError:
                step.rollback()  # a refused action changes nothing
                event(f"{op[0]}: refused")
            done.append(op)
            db.session.expire_all()
            _check_invariant(db, dataset, done, banned)
    finally:
        example.rollback()
        db.session.expire_all()
        at(START)
