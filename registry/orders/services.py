"""Schools order (点单) whitelisted projects; providers accept with cleared staff.

Every refusal says exactly why: which document, which person, which check, which limit."""
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from sqlalchemy import func, select, update
from sqlalchemy.orm import joinedload, selectinload

from registry.audit import services as audit
from registry.auth.models import User
from registry.core import clock, signals
from registry.core.errors import Conflict, NotAllowed, NotFound, ValidationFailed
from registry.core.lifecycle import Lifecycle, Move
from registry.extensions import db
from registry.notifications import services as notifications
from registry.orders.models import ORDER_STATUS_LABELS, Order, OrderStaff, OrderStatus
from registry.people import services as people
from registry.people.models import Person
from registry.policy import services as policy
from registry.schools.models import SchoolProject, Term
from registry.whitelist import eligibility
from registry.whitelist.models import WhitelistEntry

FEE_NOTICE_MISSING = ("本校尚未公示本学期课后服务收费（收费公示），订单不能开始服务："
                      "未经公示，不得收取费用。请先在“课后服务安排表”中发布收费公示")


def _fee_notice_published(order, actor, published=None, **_context):
    """issue 15: a third-party order cannot become active before the school's fee notice is published.
    A job moving many orders passes `published`, the (school_id, term_id) pairs it looked up at once."""
    pair = (order.school_id, order.term_id)
    if not (pair in published if published is not None else signals.fee_notice_published(*pair)):
        raise NotAllowed(FEE_NOTICE_MISSING)


def waits_for_fee_notice(order):
    """issue 15: an accepted order whose school has not published the term's fee notice does not start (its
    detail pages show it as accepted, with the reason)."""
    return order.status == OrderStatus.accepted and not signals.fee_notice_published(order.school_id, order.term_id)


LIFECYCLE = Lifecycle("order", Order, labels=ORDER_STATUS_LABELS, moves=[
    Move("accept", frozenset({OrderStatus.requested}), OrderStatus.accepted),
    Move("decline", frozenset({OrderStatus.requested}), OrderStatus.declined),
    Move("activate", frozenset({OrderStatus.accepted}), OrderStatus.active, guard=_fee_notice_published),
    Move("suspend", frozenset({OrderStatus.accepted, OrderStatus.active}), OrderStatus.suspended),
    Move("resume", frozenset({OrderStatus.suspended}), OrderStatus.active),
    Move("cancel", frozenset({OrderStatus.requested, OrderStatus.suspended}), OrderStatus.cancelled),
    Move("complete", frozenset({OrderStatus.active, OrderStatus.accepted}), OrderStatus.completed),
])
LIVE = (OrderStatus.requested, OrderStatus.accepted, OrderStatus.active, OrderStatus.suspended)


def get_order(order_id):
    order = db.session.get(Order, order_id)
    if order is None:
        raise NotFound("订单不存在")
    return order


# ---------------------------------------------------------------- third-party share

@dataclass
class Share:
    own: int
    third_party: int
    limit: Decimal

    @property
    def total(self):
        return self.own + self.third_party

    @property
    def ratio(self):
        return Decimal(self.third_party) / Decimal(self.total) if self.total else Decimal(0)

    def allows_one_more(self):
        return Decimal(self.third_party + 1) / Decimal(self.total + 1) <= self.limit


@signals.third_party_share.register
def share(school, term):
    own = db.session.scalar(select(func.count()).select_from(SchoolProject).where(
        SchoolProject.school_id == school.id, SchoolProject.term_id == term.id))
    third = db.session.scalar(select(func.count(func.distinct(Order.project_id))).where(
        Order.school_id == school.id, Order.term_id == term.id, Order.status.in_(LIVE)))
    return Share(own, third, policy.for_city(school.city).third_party_share_max)


# ---------------------------------------------------------------- ordering

def weekday_slots(first, last, weekdays):
    """How many days from `first` to `last` (inclusive) fall on the given weekdays (0 = Monday)."""
    if last < first:
        return 0
    days = (last - first).days + 1
    weeks, rest = divmod(days, 7)
    count = weeks * len(weekdays)
    count += sum(1 for i in range(rest) if (first.weekday() + i) % 7 in weekdays)
    return count


def class_hours(project, school, grades, sessions):
    """issue 15: the order's class hours (课时), what its price is per: each session of the project's length
    counts as minutes_per_session / the city's class-hour length for the grades (40 primary, 45 junior)."""
    stages = ["junior"] if grades and min(grades) >= 7 else ["lower_primary"]
    minutes = policy.class_minutes(policy.for_city(school.city), stages)
    per_session = (Decimal(project.minutes_per_session) / Decimal(minutes)).quantize(Decimal("0.01"))
    return per_session * sessions


def _validate_order_fields(entry, school, data):
    errors = {}
    project = entry.project
    students = data["expected_students"]
    if not project.class_min <= students <= project.class_max:
        errors["expected_students"] = [f"预计人数须在项目班额 {project.class_min}–{project.class_max} 人之间"]
    if data["sessions"] < 1 or data["sessions"] > 200:
        errors["sessions"] = ["服务次数须在 1 到 200 之间"]
    weekdays = sorted(set(data["weekdays"]))
    if not weekdays or any(d not in range(5) for d in weekdays):
        errors["weekdays"] = ["请选择周一至周五中的服务日"]
    grades = sorted(set(data["grades"]))
    allowed = {"lower_primary": {1, 2, 3}, "upper_primary": {4, 5, 6}, "junior": {7, 8, 9}}
    fitting = set().union(*(allowed[s.value] for s in project.stages))
    school_grades = {"primary": set(range(1, 7)), "junior": {7, 8, 9},
                     "nine_year": set(range(1, 10))}[school.school_type.value]
    bad = [g for g in grades if g not in fitting or g not in school_grades]
    if not grades:
        errors["grades"] = ["请选择年级"]
    elif bad:
        errors["grades"] = [f"{'、'.join(str(g) for g in bad)}年级不在项目适用学段或本校学段内"]
    if "price" in data and data["price"] is not None and Decimal(str(data["price"])) > project.price:
        errors["price"] = [f"订单价格不能高于公布价格 {project.price} 元/人·课时"]
    if errors:
        raise ValidationFailed(errors)
    return weekdays, grades


def create_order(school, *, actor, entry_id, term_id, grades, classes, weekdays, time_slot, sessions,
                 expected_students, venue, price=None):
    if actor.school_id != school.id:
        raise NotAllowed("只能为本校点单")
    entry = db.session.get(WhitelistEntry, entry_id)
    if entry is None:
        raise ValidationFailed({"entry_id": ["所选白名单项目不存在"]})
    term = db.session.get(Term, term_id)
    today = clock.today()
    if term is None or term.ends_on < today:
        raise ValidationFailed({"term_id": ["请选择尚未结束的学期"]})
    result = eligibility.evaluate_one(entry, today, school)
    if not result.ok:
        raise ValidationFailed({"entry_id": result.reasons}, message="该项目今天不能点单：" + "；".join(result.reasons))
    data = {"expected_students": expected_students, "sessions": sessions, "weekdays": weekdays, "grades": grades,
            "price": price}
    weekdays, grades = _validate_order_fields(entry, school, data)
    current = share(school, term)
    ordered_already = db.session.scalar(select(Order.id).where(
        Order.school_id == school.id, Order.term_id == term.id, Order.project_id == entry.project_id,
        Order.status.in_(LIVE)).limit(1)) is not None  # another class of a project already counted
    if not ordered_already and not current.allows_one_more():
        after = (Decimal(current.third_party + 1) / Decimal(current.total + 1) * 100).quantize(Decimal("1"))
        raise ValidationFailed({"entry_id": [
            f"本学期第三方项目将占课后服务项目的 {after}%（{current.third_party + 1}/{current.total + 1}），"
            f"超过本市上限 {(current.limit * 100).quantize(Decimal('1'))}%。请先登记本校自有课后服务项目"]})
    # The published price: a listed project's row holds only reviewed and published values (a provider's
    # higher price waits in project.pending_changes until a 变更 application is published, registry.core.listing).
    unit = entry.project.price
    hours = class_hours(entry.project, school, grades, sessions)
    order = Order(school_id=school.id, entry_id=entry.id, project_id=entry.project_id, provider_id=entry.provider_id,
                  batch_id=entry.batch_id, term_id=term.id, status=OrderStatus.requested, version=1, grades=grades,
                  classes=(classes or "").strip(), weekdays=weekdays, time_slot=(time_slot or "").strip(),
                  sessions=sessions, expected_students=expected_students, venue=(venue or "").strip(), price=unit,
                  class_hours=hours, total=unit * expected_students * hours, created_by_id=actor.id)
    db.session.add(order)
    db.session.flush()
    audit.record("order.create", object_type="order", object_id=order.id, actor=actor,
                 details={"entry_id": entry.id, "price": str(unit), "total": str(order.total)})
    notifications.notify(_provider_users(entry.provider_id), title=f"收到新的订单：{school.name}",
                         body=f"项目“{entry.project.title}”，{term.name}，预计 {expected_students} 人。",
                         link=f"/provider/orders/{order.id}", category="order")
    return order


# ---------------------------------------------------------------- provider side

@dataclass
class AcceptResult:
    order: Order
    warnings: list


def check_order(school, *, actor, **data):
    """The whole ordering check of create_order, inside a savepoint that is always rolled back: the school sees
    every refusal (or the confirmed total) before submitting, from the same rules that will decide."""
    savepoint = db.session.begin_nested()
    try:
        create_order(school, actor=actor, **data)
    finally:
        savepoint.rollback()


def accept_order(order, *, actor, person_ids):
    if actor.provider_id != order.provider_id:
        raise NotAllowed("只能处理本机构的订单")
    today = clock.today()
    ids = list(dict.fromkeys(person_ids or []))
    if not ids:
        raise ValidationFailed({"person_ids": ["接单时须指派至少一名授课人员"]})
    result = eligibility.evaluate_one(order.entry, today, order.school)
    blocking = [r for r in result.reasons if "学段" not in r and "服务区域" not in r]
    if blocking:
        raise ValidationFailed({"order": blocking}, message="该项目今天不能接单：" + "；".join(blocking))
    persons = db.session.scalars(select(Person).where(Person.id.in_(ids))
                                 .options(selectinload(Person.checks), selectinload(Person.qualifications))).all()
    found = {p.id: p for p in persons}
    errors, warnings = [], []
    rules = policy.for_city(order.entry.provider.city)
    for pid in ids:
        person = found.get(pid)
        if person is None or person.provider_id != order.provider_id or person.archived_at is not None:
            errors.append("只能指派本机构在册人员")
            continue
        clearance = people.clearance(person, today, order.project.required_qualification, rules=rules)
        if not clearance.cleared:
            errors.append(f"{person.name}今天未准入：{'；'.join(clearance.reasons)}")
            continue
        at_end = people.clearance(person, order.term.ends_on, order.project.required_qualification, rules=rules)
        if not at_end.cleared:
            warnings.append(f"{person.name}在学期结束（{order.term.ends_on.isoformat()}）前将不再符合条件："
                            f"{'；'.join(at_end.reasons)}")
    if errors:
        raise ValidationFailed({"person_ids": errors})
    order.staff = [OrderStaff(person_id=pid) for pid in ids]
    LIFECYCLE.transition(order, "accept", actor=actor, details={"staff": ids, "warnings": len(warnings)})
    signals.order_staff_changed(order, actor=actor)  # issue 14: each person gets an entry pass
    notifications.notify(_school_users(order.school_id), title=f"机构已接单：{order.project.title}",
                         body="机构已确认服务并指派授课人员。", link=f"/school/orders/{order.id}", category="order")
    return AcceptResult(order, warnings)


def replace_staff(order, *, actor, old_person_id, new_person_id, reason):
    """Replace a person on an accepted or active order (issue 14, item 2) by another of the provider's people
    who is cleared for the project today. The old person leaves the order (their pass stops working at once:
    passes compute validity from OrderStaff.removed_at), the school is told, the new person gets a pass."""
    if actor.provider_id != order.provider_id:
        raise NotAllowed("只能处理本机构的订单")
    today = clock.today()
    if order.effective_status(today) not in (OrderStatus.accepted, OrderStatus.active):
        raise Conflict(f"订单当前状态为“{order.effective_status(today).label}”，只有已接单或服务中的订单可以更换人员",
                       code="order_not_live")
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed({"reason": ["更换人员时须填写原因"]})
    current = {s.person_id: s for s in order.staff if s.removed_at is None}
    leaving = current.get(old_person_id)
    if leaving is None:
        raise ValidationFailed({"old_person_id": ["该人员不是本订单当前的授课人员"]})
    if new_person_id in current:
        raise ValidationFailed({"new_person_id": ["该人员已是本订单的授课人员"]})
    person = db.session.get(Person, new_person_id)
    if person is None or person.provider_id != order.provider_id or person.archived_at is not None:
        raise ValidationFailed({"new_person_id": ["只能指派本机构在册人员"]})
    cleared = people.clearance(person, today, order.project.required_qualification)
    if not cleared.cleared:
        raise ValidationFailed({"new_person_id": [f"{person.name}今天未准入：{'；'.join(cleared.reasons)}"]})
    now = clock.utcnow()
    leaving.removed_at, leaving.removed_reason = now, f"更换人员：{reason}"[:255]
    earlier = next((s for s in order.staff if s.person_id == new_person_id), None)
    if earlier is not None:  # back on an order they once left
        earlier.removed_at, earlier.removed_reason = None, None
    else:
        order.staff.append(OrderStaff(person_id=new_person_id))
    db.session.flush()
    audit.record("order.replace_staff", object_type="order", object_id=order.id, actor=actor,
                 details={"old_person_id": old_person_id, "new_person_id": new_person_id, "reason": reason[:200]})
    notifications.notify(_school_users(order.school_id), title=f"机构更换了授课人员：{order.project.title}",
                         body=f"{leaving.person.name}（{leaving.person.id_masked}）由{person.name}（{person.id_masked}）"
                              f"接替，原因：{reason}。原人员的入校通行证已失效。",
                         link=f"/school/orders/{order.id}", category="order")
    signals.order_staff_changed(order, actor=actor)
    return order


def decline_order(order, *, actor, reason):
    if actor.provider_id != order.provider_id:
        raise NotAllowed("只能处理本机构的订单")
    if not (reason or "").strip():
        raise ValidationFailed({"reason": ["拒绝点单时须填写原因"]})
    order.status_reason = reason.strip()
    LIFECYCLE.transition(order, "decline", actor=actor, reason=reason.strip())
    notifications.notify(_school_users(order.school_id), title=f"机构未接单：{order.project.title}",
                         body=reason.strip(),
                         link=f"/school/orders/{order.id}", category="order")
    return order


def cancel_order(order, *, actor, reason=""):
    if actor.school_id != order.school_id:
        raise NotAllowed("只能取消本校的订单")
    order.status_reason = (reason or "").strip() or order.status_reason
    return LIFECYCLE.transition(order, "cancel", actor=actor, reason=(reason or "").strip() or None)


# ---------------------------------------------------------------- cascades (used by adjustments and the sweep)

# issue 19: what a suspension means for the school and the provider, and what they should do.
SUSPENDED_NOTE = {
    "school": "暂停期间机构不得开展本订单的服务，请暂停安排学生参加并告知家长；暂停解除后订单自动恢复，无需重新点单。"
              "如需尽快恢复课后服务，可在“白名单点单”中另选项目。",
    "provider": "暂停期间不得开展本订单的服务；请按“动态调整记录”中的原因整改。",
}
ENDED_NOTE = {
    "school": "该项目已移出白名单，本订单不能继续，也不会自动恢复。请告知家长，"
              "如需继续开展同类服务，请在“白名单点单”中另选项目。",
    "provider": "该项目已移出白名单，本订单不能继续服务。",
}


def suspend_for_entries(entry_ids, *, actor=None, reason, rule=None, ended=False):
    """Suspend every accepted or active order of these entries; tell the schools and providers in the same run
    (`ended`: the entries left the whitelist, so the orders will not resume by themselves)."""
    if not entry_ids:
        return []
    orders = db.session.scalars(select(Order).where(
        Order.entry_id.in_(list(entry_ids)), Order.status.in_([OrderStatus.accepted, OrderStatus.active]))
        .options(joinedload(Order.project))).all()
    moved = set(LIFECYCLE.transition_many(orders, "suspend", actor=actor, reason=reason, rule=rule))
    affected = [o for o in orders if o.id in moved]
    if affected:
        db.session.execute(update(Order).where(Order.id.in_(moved)).values(status_reason=reason)
                           .execution_options(synchronize_session=False))
        notes = ENDED_NOTE if ended else SUSPENDED_NOTE
        _notify_bulk(affected, title="订单服务已终止" if ended else "订单服务已暂停", body=reason, notes=notes)
    return affected


def resume_for_entries(entry_ids, *, actor=None, reason, rule=None):
    orders = db.session.scalars(select(Order).where(
        Order.entry_id.in_(list(entry_ids)), Order.status == OrderStatus.suspended)
        .options(joinedload(Order.project))).all()
    moved = set(LIFECYCLE.transition_many(orders, "resume", actor=actor, reason=reason, rule=rule))
    affected = [o for o in orders if o.id in moved]
    if affected:
        _notify_bulk(affected, title="订单服务已恢复", body=reason,
                     notes={"school": "可按原安排继续开展服务。", "provider": "可按原安排继续开展服务。"})
    return affected


def users_by_school_and_provider(school_ids, provider_ids):
    """({school_id: [user]}, {provider_id: [user]}) for the users of these schools and providers, in one query."""
    by_school, by_provider = {}, {}
    for user in db.session.scalars(notifications.recipients().where(
            (User.school_id.in_(set(school_ids))) | (User.provider_id.in_(set(provider_ids))))):
        if user.school_id:
            by_school.setdefault(user.school_id, []).append(user)
        if user.provider_id:
            by_provider.setdefault(user.provider_id, []).append(user)
    return by_school, by_provider


def _notify_bulk(orders, *, title, body, notes=None):
    by_school, by_provider = users_by_school_and_provider({o.school_id for o in orders},
                                                          {o.provider_id for o in orders})
    notes = notes or {}
    items = []
    for order in orders:
        text = f"{order.project.title}（订单 {order.id}）：{body}。"
        items += [(u, title, text + notes.get("school", ""), f"/school/orders/{order.id}", "order", None)
                  for u in by_school.get(order.school_id, [])]
        items += [(u, title, text + notes.get("provider", ""), f"/provider/orders/{order.id}", "order", None)
                  for u in by_provider.get(order.provider_id, [])]
    notifications.notify_many(items)


def _provider_users(provider_id):
    return db.session.scalars(select(User).where(User.provider_id == provider_id)).all()


def _school_users(school_id):
    return db.session.scalars(select(User).where(User.school_id == school_id)).all()


def flag_staff(order_ids):
    if order_ids:
        db.session.execute(update(Order).where(Order.id.in_(list(order_ids)), Order.staff_flagged_at.is_(None))
                           .values(staff_flagged_at=clock.utcnow()).execution_options(synchronize_session=False))


def lapse_warning_days():
    return timedelta(days=30)
