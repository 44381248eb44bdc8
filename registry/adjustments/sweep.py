"""`flask registry sweep`: record and notify what the request-time computation already says.

Every rule is set-based: its number of SQL statements does not grow with the number of
providers. Running it twice changes nothing the second time; two copies at once do the work
once (a PostgreSQL advisory lock; on SQLite the write lock taken by the run row).
"""
import gc
from collections import defaultdict
from contextlib import contextmanager
from datetime import timedelta

from sqlalchemy import and_, case, delete, exists, func, not_, or_, select, text, update
from sqlalchemy.orm import aliased, joinedload, load_only

from registry.adjustments.models import REASON_LABELS, ActionKind, ProviderAction, ReasonCategory
from registry.adjustments.models_sweep import SweepRun
from registry.audit import services as audit
from registry.auth.models import User
from registry.auth.roles import Role
from registry.calendar import services as calendar
from registry.core import bulk, clock, signals
from registry.extensions import db
from registry.notifications import services as notifications
from registry.orders import services as orders
from registry.orders.models import Order, OrderStaff, OrderStatus
from registry.people import services as people
from registry.people.models import (
    CHECK_TYPE_LABELS,
    QUALIFICATION_LABELS,
    CheckResult,
    CheckType,
    Person,
    PersonBan,
    PersonCheck,
    Qualification,
)
from registry.policy import services as policy
from registry.policy.models import CityPolicy
from registry.projects.models import Project, ProjectStaff
from registry.providers.models import DOC_TYPE_LABELS, Provider, ProviderDocument, VerificationStatus
from registry.schools.models import School, Term
from registry.whitelist import eligibility
from registry.whitelist.models import ChangeFeedItem, ChangeKind, EntryStatus, WhitelistEntry
from registry.whitelist.services import ENTRY

LOCK_KEY = 0x5EEB  # pg_advisory_xact_lock key for the sweep
AUTO_RULES = ("document_expired", "staff_not_cleared")
WARN_WINDOWS = (7, 30)


# ---------------------------------------------------------------- clearance in SQL

def _latest(check):
    newer = aliased(PersonCheck)
    return not_(exists().where(
        newer.person_id == check.person_id, newer.check_type == check.check_type,
        or_(newer.check_date > check.check_date, and_(newer.check_date == check.check_date, newer.id > check.id))))


def _age_cutoffs(day):
    """Per-city cutoff dates for criminal/sexual-offence checks (policy numbers can differ by city)."""
    default = day - timedelta(days=policy.defaults().check_max_age_days)
    custom = {row.city_id: day - timedelta(days=row.check_max_age_days)
              for row in db.session.scalars(select(CityPolicy))}
    return default, custom


def _city_of(person):
    """The city of `person`'s provider, or of its school for a school-engaged person (issue 14), as a correlated
    scalar subquery."""
    return func.coalesce(
        select(Provider.city_id).where(Provider.id == person.provider_id).correlate_except(Provider).scalar_subquery(),
        select(School.city_id).where(School.id == person.school_id).correlate_except(School).scalar_subquery())


def cleared_condition(day, person=Person):
    """A SQL condition: `person` is cleared on `day` apart from the project's qualification
    (the same rules as people.services.clearance, except the ID check digit, validated on input)."""
    default_cutoff, custom = _age_cutoffs(day)
    conditions = [person.archived_at.is_(None)]
    for check_type in (CheckType.criminal, CheckType.sexual_offence, CheckType.health, CheckType.moral):
        c = aliased(PersonCheck)
        valid = [c.result == CheckResult.clear]
        if check_type in (CheckType.criminal, CheckType.sexual_offence):
            if custom:
                # One CASE on the person's city (its subquery evaluated once per row, not once per city).
                city_of = _city_of(person)
                age = c.check_date >= case(custom, value=city_of, else_=default_cutoff)
            else:
                age = c.check_date >= default_cutoff
            valid += [age, or_(c.valid_until.is_(None), c.valid_until >= day)]
        elif check_type == CheckType.health:
            valid.append(c.valid_until >= day)
        else:
            valid.append(or_(c.valid_until.is_(None), c.valid_until >= day))
        conditions.append(exists().where(c.person_id == person.id, c.check_type == check_type, _latest(c), *valid))
    ban = aliased(PersonBan)
    conditions.append(not_(exists().where(
        ban.id_bidx == person.id_bidx, ban.lifted_at.is_(None), ban.starts_on <= day,
        or_(ban.ends_on.is_(None), ban.ends_on >= day))))
    conditions.append(not_(adverse_ban_in_force(day, person)))
    return and_(*conditions)


def adverse_ban_in_force(day, person=Person):
    """A SQL condition: an adverse check recorded for `person`'s blind index at any provider, that no
    PersonBan row records yet, bans on `day` (people.services.AdverseBan: from the check's date, for ever
    after a sexual-offence hit, else for the recording provider's city's ban years)."""
    default_years = policy.defaults().ban_years
    default_cutoff = people.add_years(day, -default_years)
    custom = {row.city_id: people.add_years(day, -row.ban_years)
              for row in db.session.scalars(select(CityPolicy)) if row.ban_years != default_years}
    c, owner, row = aliased(PersonCheck), aliased(Person), aliased(PersonBan)
    where = [owner.id_bidx == person.id_bidx, c.person_id == owner.id, c.result == CheckResult.adverse,
             c.check_date <= day, not_(exists().where(row.source_check_id == c.id))]
    if custom:
        city_of = _city_of(owner)
        cutoff = case(custom, value=city_of, else_=default_cutoff)
    else:
        cutoff = default_cutoff
    # ends_on = add_years(check_date, years) - 1 day >= day  <=>  check_date > add_years(day, -years)
    where.append(or_(c.check_type == CheckType.sexual_offence, c.check_date > cutoff))
    return exists().where(*where)


def qualified_condition(day, person, qual_type_column):
    q = aliased(Qualification)
    return exists().where(q.person_id == person.id, q.qual_type == qual_type_column, q.issue_date <= day,
                          or_(q.expiry_date.is_(None), q.expiry_date >= day))


def projects_with_cleared_staff(day):
    """Select of project ids that have at least one person cleared for them on `day`."""
    person = aliased(Person)
    return (select(ProjectStaff.project_id)
            .join(Project, Project.id == ProjectStaff.project_id)
            .join(person, person.id == ProjectStaff.person_id)
            .where(cleared_condition(day, person), qualified_condition(day, person, Project.required_qualification)))


# ---------------------------------------------------------------- the run

def _lock():
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": LOCK_KEY})


@contextmanager
def _heap_set_aside():
    """A run loads tens of thousands of rows and instances that live until it ends, so the cyclic
    garbage collector runs several full collections during it, each walking the whole heap of the
    process (the app, SQLAlchemy's mappers, the caller's own data): about a quarter of a run on the
    provincial dataset. gc.freeze() sets what existed before the run aside until it ends (Python's
    `gc` documentation); what the run allocates is collected as usual."""
    already_frozen = gc.get_freeze_count()
    gc.freeze()
    try:
        yield
    finally:
        if not already_frozen:   # a caller that froze its own heap (a pre-fork server) keeps it frozen
            gc.unfreeze()


def run(day=None, actor=None):
    """Apply every rule for `day` (default today). Returns {rule: count}."""
    with _heap_set_aside():
        return _run(day or clock.today(), actor)


def _run(day, actor):
    _lock()
    run_row = SweepRun(as_of=day, started_at=clock.utcnow(), summary={})
    db.session.add(run_row)
    db.session.flush()
    summary = {}
    summary["validity_ended"] = _expire_entries(day, actor)
    # The documents of every provider with an entry in force, judged once: the sweep never changes a
    # document, so the suspensions and the lifts read the same verdicts.
    problems = _document_problems_by_provider(select(WhitelistEntry.provider_id).where(
        WhitelistEntry.status.in_([EntryStatus.active, EntryStatus.suspended])), day)
    summary["document_expired"] = _suspend_for_documents(day, actor, problems)
    summary["adverse_check"] = _ban_adverse(day, actor)
    summary["staff_not_cleared"] = _suspend_without_staff(day, actor)
    summary["orders_flagged"] = _flag_orders(day)
    summary["lifted"] = _lift(day, actor, problems)
    summary["orders_activated"], summary["orders_completed"] = _order_terms(day, actor)
    summary["expiry_warnings"] = _warn(day)
    run_row.finished_at, run_row.summary = clock.utcnow(), summary
    db.session.flush()
    return summary


def _feed(entries, kind, day, category):
    if entries:
        bulk.insert_rows(ChangeFeedItem, [
            {"kind": kind, "entry_id": e.id, "city_id": e.city_id, "happened_on": day,
             "reason_category": REASON_LABELS[category], "created_at": clock.utcnow()} for e in entries])


def _actions(rows):
    """Insert ProviderAction rows, skipping dedupe keys that exist (one select, one insert)."""
    keys = [r["dedupe_key"] for r in rows]
    if not keys:
        return 0
    existing = set(db.session.scalars(select(ProviderAction.dedupe_key).where(ProviderAction.dedupe_key.in_(keys))))
    fresh = [r for r in rows if r["dedupe_key"] not in existing]
    now = clock.utcnow()
    if fresh:
        bulk.insert_rows(ProviderAction, [{**r, "created_at": now} for r in fresh])
    return len(fresh)


def _provider_users(provider_ids):
    users = defaultdict(list)
    if provider_ids:
        for user in db.session.scalars(notifications.recipients().where(User.provider_id.in_(list(provider_ids)))):
            users[user.provider_id].append(user)
    return users


def _suspend_entries(entries, day, actor, rule, category, evidence_for, message_for):
    if not entries:
        return 0
    label = REASON_LABELS[category]
    moved = set(ENTRY.transition_many(entries, "suspend", actor=actor, reason=label, rule=rule,
                                      changes={"suspended_by_rule": rule, "status_reason": label}))
    moved_entries = [e for e in entries if e.id in moved]
    _feed(moved_entries, ChangeKind.suspended, day, category)
    _actions([{"provider_id": e.provider_id, "entry_id": e.id, "kind": ActionKind.suspension,
               "reason_category": ReasonCategory(category), "reason": message_for(e), "effective_on": day,
               "rule": rule, "evidence": evidence_for(e), "dedupe_key": f"{rule}:{e.id}:{day.isoformat()}"}
              for e in moved_entries])
    orders.suspend_for_entries(list(moved), actor=actor, reason=f"白名单暂停：{label}", rule=rule)
    users = _provider_users({e.provider_id for e in moved_entries})
    notifications.notify_many([(u, f"白名单暂停：{label}", message_for(e), "/provider", "adjustment", None)
                               for e in moved_entries for u in users[e.provider_id]])
    return len(moved_entries)


def _expire_entries(day, actor):
    entries = db.session.scalars(select(WhitelistEntry).where(
        WhitelistEntry.status.in_([EntryStatus.active, EntryStatus.suspended]), WhitelistEntry.valid_until < day)).all()
    if not entries:
        return 0
    moved = set(ENTRY.transition_many(entries, "expire", actor=actor, reason="有效期届满未年审", rule="validity_ended",
                                      changes={"status_reason": "有效期届满"}))
    expired = [e for e in entries if e.id in moved]
    _feed(expired, ChangeKind.expired, day, "validity_ended")
    _actions([{"provider_id": e.provider_id, "entry_id": e.id, "kind": ActionKind.expiry,
               "reason_category": ReasonCategory.validity_ended,
               "reason": f"有效期至{e.valid_until.isoformat()}，未完成年审",
               "effective_on": day, "rule": "validity_ended", "evidence": {"valid_until": e.valid_until.isoformat()},
               "dedupe_key": f"validity_ended:{e.id}:{e.valid_until.isoformat()}"} for e in expired])
    orders.suspend_for_entries(list(moved), actor=actor, reason="白名单条目已到期", rule="validity_ended")
    return len(expired)


class _ProviderKind:
    """What the required-document rule reads of a provider: its organisation type."""
    __slots__ = ("org_type",)
    registration_doc_type = Provider.registration_doc_type

    def __init__(self, org_type):
        self.org_type = org_type


def _document_problems_by_provider(provider_ids, day):
    """The required-document rule (providers.services) on every provider at once. `provider_ids` may be a
    list or a subquery."""
    docs = eligibility.required_documents_by_provider(provider_ids)
    return {pid: eligibility.document_problems(_ProviderKind(org_type), docs[pid], day)
            for pid, org_type in db.session.execute(select(Provider.id, Provider.org_type)
                                                    .where(Provider.id.in_(provider_ids)))}


def _suspend_for_documents(day, actor, problems):
    lacking = [pid for pid, found in problems.items() if found]
    hit = db.session.scalars(select(WhitelistEntry).where(
        WhitelistEntry.status == EntryStatus.active, WhitelistEntry.provider_id.in_(lacking)).options(
        load_only(WhitelistEntry.provider_id, WhitelistEntry.city_id, WhitelistEntry.status))).all() if lacking else []
    return _suspend_entries(
        hit, day, actor, "document_expired", "document_expired",
        evidence_for=lambda e: {"documents": [{"id": d.id, "type": d.doc_type.value,
                                               "expiry": d.expiry_date.isoformat() if d.expiry_date else None}
                                              if d else {"missing": True, "text": text}
                                              for d, text in problems[e.provider_id]]},
        message_for=lambda e: "；".join(t for _, t in problems[e.provider_id]) + "。更新材料并经审核核验后自动恢复。")


def _suspend_without_staff(day, actor):
    covered = projects_with_cleared_staff(day)
    entries = db.session.scalars(select(WhitelistEntry).where(
        WhitelistEntry.status == EntryStatus.active, WhitelistEntry.project_id.notin_(covered))
        .options(joinedload(WhitelistEntry.project))).all()
    return _suspend_entries(
        entries, day, actor, "staff_not_cleared", "staff_not_cleared",
        evidence_for=lambda e: {"project_id": e.project_id, "as_of": day.isoformat()},
        message_for=lambda e: f"项目“{e.project.title}”已没有准入合格的授课人员（查询记录或证书过期）。")


def _flag_orders(day):
    """Live orders with an assigned person who is not cleared today are flagged; both sides are told."""
    live = (Order.status.in_([OrderStatus.accepted, OrderStatus.active, OrderStatus.suspended]),
            OrderStaff.removed_at.is_(None), Order.staff_flagged_at.is_(None))
    # Clearance is judged once per (person, qualification the project needs), not once per assignment:
    # a teacher is assigned to many orders.
    pairs = (select(OrderStaff.person_id.label("person_id"), Project.required_qualification.label("qual"))
             .join(Order, Order.id == OrderStaff.order_id).join(Project, Project.id == Order.project_id)
             .where(*live).distinct().subquery())
    person = aliased(Person)
    failing = (select(pairs.c.person_id, pairs.c.qual).join(person, person.id == pairs.c.person_id)
               .where(not_(and_(cleared_condition(day, person), qualified_condition(day, person, pairs.c.qual))))
               .subquery())
    rows = db.session.execute(
        select(Order.id, Order.school_id, Order.provider_id, Person.name)
        .join(OrderStaff, OrderStaff.order_id == Order.id).join(Person, Person.id == OrderStaff.person_id)
        .join(Project, Project.id == Order.project_id)
        .join(failing, and_(failing.c.person_id == OrderStaff.person_id,
                            failing.c.qual == Project.required_qualification))
        .where(*live)
    ).all()
    if not rows:
        return 0
    order_ids = {r.id for r in rows}
    orders.flag_staff(order_ids)
    by_school, by_provider = orders.users_by_school_and_provider({r.school_id for r in rows},
                                                                 {r.provider_id for r in rows})
    items = []
    for r in rows:
        body = f"订单 {r.id} 指派的人员 {r.name} 今天已不符合准入条件，请更换人员。"
        items += [(u, "订单人员不再符合条件", body, None, "order", f"flag:{r.id}:{r.name}")
                  for u in by_school.get(r.school_id, []) + by_provider.get(r.provider_id, [])]
    notifications.notify_many(items)
    return len(order_ids)


def _ban_adverse(day, actor):
    """Adverse checks without a ban row: record the ban the live rule already enforces (people.services.AdverseBan,
    the same dates), remove the person from every assignment, refer the provider."""
    rows = db.session.execute(people.adverse_checks_without_ban()).all()
    if rows:
        bans = people.adverse_bans(rows)
        bulk.insert_rows(PersonBan, [{
            "id_bidx": ban.id_bidx, "reason": ban.reason, "source_check_id": ban.source_check_id,
            "starts_on": ban.starts_on, "ends_on": ban.ends_on, "created_at": clock.utcnow()} for ban in bans])
        # The same audit row as a ban set by hand (reviews.mark_adverse), in the same transaction.
        audit.record_many([{
            "action": "person.ban", "object_type": "person", "object_id": r.person_id,
            "details": {"check_id": r.id, "permanent": ban.ends_on is None, "rule": "adverse_check",
                        "ends_on": ban.ends_on.isoformat() if ban.ends_on else None}}
            for r, ban in zip(rows, bans, strict=True)], actor=actor)
        deadline = calendar.add_working_days(day, policy.defaults().referral_working_days).end
        _actions([{"provider_id": r.provider_id, "kind": ActionKind.referral,
                   "reason_category": ReasonCategory.adverse_check,
                   "reason": (f"{r.name}（{r.id_masked}）查询结果有不良记录，已列入禁入名单；"
                              f"请于{deadline.isoformat()}前完成核查"),
                   "effective_on": day, "rule": "adverse_check",
                   "evidence": {"check_id": r.id, "deadline": deadline.isoformat()},
                   "dedupe_key": f"adverse_check:{r.id}"} for r in rows if r.provider_id is not None])
        reviewers = db.session.scalars(select(User).where(User.role == Role.city_reviewer,
                                                          User.region_id.in_({r.city_id for r in rows}))).all()
        notifications.notify_many([(u, f"机构人员查询结果异常：{r.provider_name}",
                                    f"{r.name}（{r.id_masked}）已列入禁入名单，请于{deadline.isoformat()}前核查处理该机构。",
                                    None, "referral", f"referral:check:{r.id}")
                                   for r in rows for u in reviewers if u.region_id == r.city_id])
    # Anyone under an active ban leaves every assignment, whichever provider they are at now.
    banned = select(Person.id).where(exists().where(
        PersonBan.id_bidx == Person.id_bidx, PersonBan.lifted_at.is_(None), PersonBan.starts_on <= day,
        or_(PersonBan.ends_on.is_(None), PersonBan.ends_on >= day)))
    db.session.execute(update(OrderStaff).where(OrderStaff.person_id.in_(banned), OrderStaff.removed_at.is_(None))
                       .values(removed_at=clock.utcnow(), removed_reason="人员被列入禁入名单")
                       .execution_options(synchronize_session=False))
    db.session.execute(delete(ProjectStaff).where(ProjectStaff.person_id.in_(banned))
                       .execution_options(synchronize_session=False))
    return len(rows)


def _lift(day, actor, problems):
    """Suspensions whose lift date has passed, or whose automatic cause is gone, are lifted when
    nothing blocks the entry any more. A document suspension needs the renewed document verified."""
    candidate = and_(WhitelistEntry.status == EntryStatus.suspended, WhitelistEntry.valid_until >= day,
                     or_(WhitelistEntry.suspended_until < day, WhitelistEntry.suspended_by_rule.in_(AUTO_RULES)))
    # An entry whose provider still lacks a usable required document stays suspended whatever else holds
    # (evaluate() would name the document), so only the others are evaluated in full.
    entries = [e for e in db.session.scalars(select(WhitelistEntry).where(candidate).options(
        joinedload(WhitelistEntry.project), joinedload(WhitelistEntry.provider))) if not problems[e.provider_id]]
    if not entries:
        return 0
    results = eligibility.evaluate(entries, day)
    verified = set()
    doc_rule = [e for e in entries if e.suspended_by_rule == "document_expired"]
    if doc_rule:
        # The document types named in the suspension's evidence must now be current and verified.
        wanted = defaultdict(set)
        for action in db.session.scalars(select(ProviderAction).where(
                ProviderAction.entry_id.in_([e.id for e in doc_rule]), ProviderAction.rule == "document_expired")):
            wanted[action.entry_id] |= {d["type"] for d in action.evidence.get("documents", []) if "type" in d}
        verified_types = defaultdict(set)
        for provider_id, doc_type in db.session.execute(
                select(ProviderDocument.provider_id, ProviderDocument.doc_type).where(
                ProviderDocument.provider_id.in_({e.provider_id for e in doc_rule}),
                ProviderDocument.superseded_at.is_(None),
                ProviderDocument.verification_status == VerificationStatus.verified)):
            verified_types[provider_id].add(doc_type.value)
        verified = {e.id for e in doc_rule if wanted[e.id] <= verified_types[e.provider_id]}
    liftable = [e for e in entries
                if not (results[e.id].causes - {"status"})
                and (e.suspended_by_rule != "document_expired" or e.id in verified)]
    if not liftable:
        return 0
    moved = set(ENTRY.transition_many(liftable, "lift", actor=actor, reason="暂停原因已消除", rule="lift",
                                      changes={"suspended_until": None, "suspended_by_rule": None,
                                               "status_reason": None}))
    lifted = [e for e in liftable if e.id in moved]
    _feed(lifted, ChangeKind.reinstated, day, "other")
    _actions([{"provider_id": e.provider_id, "entry_id": e.id, "kind": ActionKind.lift,
               "reason_category": ReasonCategory.other, "reason": "暂停原因已消除，自动恢复", "effective_on": day,
               "rule": "lift", "evidence": {}, "dedupe_key": f"lift:{e.id}:{day.isoformat()}"} for e in lifted])
    orders.resume_for_entries(list(moved), actor=actor, reason="白名单暂停已解除", rule="lift")
    return len(lifted)


def _order_terms(day, actor):
    starting = db.session.scalars(select(Order).join(Term, Term.id == Order.term_id).where(
        Order.status == OrderStatus.accepted, Term.starts_on <= day, Term.ends_on >= day)).all()
    published = signals.fee_notices_published({(o.school_id, o.term_id) for o in starting}) if starting else set()
    activated = orders.LIFECYCLE.transition_many(starting, "activate", actor=actor, rule="term_started",
                                                 published=published)  # issue 15: fee notice first
    ending = db.session.scalars(select(Order).join(Term, Term.id == Order.term_id).where(
        Order.status.in_([OrderStatus.accepted, OrderStatus.active]), Term.ends_on < day)).all()
    completed = orders.LIFECYCLE.transition_many(ending, "complete", actor=actor, rule="term_ended")
    return len(activated), len(completed)


def _warn(day):
    """30 and 7 days before any document, check or qualification expires, warn the provider once per window."""
    horizon = day + timedelta(days=max(WARN_WINDOWS))
    items = []
    for doc in db.session.execute(select(
            ProviderDocument.id, ProviderDocument.provider_id, ProviderDocument.doc_type, ProviderDocument.number,
            ProviderDocument.expiry_date).where(
            ProviderDocument.superseded_at.is_(None), ProviderDocument.expiry_date > day,
            ProviderDocument.expiry_date <= horizon)):
        items.append((doc.provider_id, f"doc:{doc.id}", doc.expiry_date,
                      f"{DOC_TYPE_LABELS[doc.doc_type]}（编号 {doc.number}）将于{doc.expiry_date.isoformat()}到期"))
    default_cutoff, _ = _age_cutoffs(day)
    age = policy.defaults().check_max_age_days
    c = aliased(PersonCheck)
    # In SQL, only checks that lapse inside the window: for the time-limited types the end is the earlier
    # of check_date + age and valid_until, so it lies in (day, horizon] exactly when both are after `day`
    # and one of them is not after `horizon`. The end itself is computed below as before.
    aged = c.check_type.in_([CheckType.criminal, CheckType.sexual_offence])
    in_window = or_(
        and_(aged, c.check_date > day - timedelta(days=age), or_(c.valid_until.is_(None), c.valid_until > day),
             or_(c.check_date <= horizon - timedelta(days=age), c.valid_until <= horizon)),
        and_(~aged, c.valid_until > day, c.valid_until <= horizon))
    checks = db.session.execute(
        select(c.id, c.check_type, c.check_date, c.valid_until, Person.provider_id, Person.name)
        .join(Person, Person.id == c.person_id)
        .where(Person.archived_at.is_(None), c.result == CheckResult.clear, in_window, _latest(c))).all()
    for row in checks:
        if row.check_type in (CheckType.criminal, CheckType.sexual_offence):
            ends = row.check_date + timedelta(days=age)
            if row.valid_until:
                ends = min(ends, row.valid_until)
        else:
            ends = row.valid_until
        if ends is not None and day < ends <= horizon:
            items.append((row.provider_id, f"check:{row.id}", ends,
                          f"{row.name}的{CHECK_TYPE_LABELS[row.check_type]}将于{ends.isoformat()}失效，请及时重新查询"))
    for qual_id, qual_type, expiry_date, provider_id, name in db.session.execute(
            select(Qualification.id, Qualification.qual_type, Qualification.expiry_date, Person.provider_id,
                   Person.name).join(Person, Person.id == Qualification.person_id)
            .where(Qualification.expiry_date > day, Qualification.expiry_date <= horizon)):
        items.append((provider_id, f"qual:{qual_id}", expiry_date,
                      f"{name}的{QUALIFICATION_LABELS[qual_type]}将于{expiry_date.isoformat()}到期"))
    users = _provider_users({i[0] for i in items})
    notes = []
    for provider_id, key, ends, message in items:
        window = min(w for w in WARN_WINDOWS if ends <= day + timedelta(days=w))
        for user in users[provider_id]:
            notes.append((user, f"到期提醒（{window}天内）", message, "/provider", "expiry", f"expiry:{key}:{window}"))
    return notifications.notify_many(notes)


# ---------------------------------------------------------------- issue 16: delisting by a rule of a higher domain

def delist_entries(entries, day, actor, rule, category, evidence_for, message_for):
    """Delist `entries` under an automatic rule (e.g. quality's two terms below the satisfaction threshold),
    as _suspend_entries suspends: the entry lifecycle, the public change feed, a ProviderAction per entry
    (deduplicated per entry and day), the entries' orders suspended and the providers told. Set-based."""
    if not entries:
        return []
    label = REASON_LABELS[category]
    moved = set(ENTRY.transition_many(entries, "delist", actor=actor, reason=label, rule=rule,
                                      changes={"status_reason": label}))
    moved_entries = [e for e in entries if e.id in moved]
    _feed(moved_entries, ChangeKind.delisted, day, category)
    _actions([{"provider_id": e.provider_id, "entry_id": e.id, "kind": ActionKind.delisting,
               "reason_category": ReasonCategory(category), "reason": message_for(e), "effective_on": day,
               "rule": rule, "evidence": evidence_for(e), "dedupe_key": f"{rule}:delist:{e.id}:{day.isoformat()}"}
              for e in moved_entries])
    orders.suspend_for_entries(list(moved), actor=actor, reason=f"白名单移出：{label}", rule=rule)
    users = _provider_users({e.provider_id for e in moved_entries})
    notifications.notify_many([(u, f"移出白名单：{label}", message_for(e), "/provider/adjustments", "adjustment",
                                f"{rule}:delist:{e.id}") for e in moved_entries for u in users[e.provider_id]])
    return moved_entries


def warn_by_rule(rows, day, rule, category):
    """Warnings (警告) under an automatic rule: rows are (provider_id, dedupe_key, message, evidence); each is
    recorded once (its dedupe key) and its provider told. Returns how many were new."""
    label = REASON_LABELS[category]
    existing = set(db.session.scalars(select(ProviderAction.dedupe_key).where(
        ProviderAction.dedupe_key.in_([key for _p, key, _m, _e in rows])))) if rows else set()
    fresh = [r for r in rows if r[1] not in existing]
    _actions([{"provider_id": provider_id, "kind": ActionKind.warning, "reason_category": ReasonCategory(category),
               "reason": message, "effective_on": day, "rule": rule, "evidence": evidence, "dedupe_key": key}
              for provider_id, key, message, evidence in fresh])
    users = _provider_users({r[0] for r in fresh})
    notifications.notify_many([(u, f"警告：{label}", message, "/provider/adjustments", "adjustment", key)
                               for provider_id, key, message, _e in fresh for u in users[provider_id]])
    return len(fresh)
