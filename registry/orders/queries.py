"""Reads of orders, for the school's and the provider's pages and APIs: the lists with their effective-status
filter, "own order or 404" for either side, the provider's status counts, the people who may be assigned and
why an order cannot be accepted today, and an order's history. The catalog's reads live in catalog.py."""
from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import joinedload, selectinload

from registry.auth.models import User
from registry.batches.models import ReleaseBatch
from registry.core import clock, lifecycle
from registry.core.errors import NotFound
from registry.extensions import db
from registry.orders.models import Order, OrderStaff, OrderStatus
from registry.people import services as people
from registry.policy import services as policy
from registry.projects.models import ProjectStaff
from registry.providers.models import Provider
from registry.schools.models import School, Term
from registry.whitelist import eligibility
from registry.whitelist.models import EntryStatus, WhitelistEntry


def where_effective_status(stmt, status, day=None):
    """Filter a select of Order joined with Term on the effective status (accepted + term begun = active)."""
    day = day or clock.today()
    if status == "active":
        return stmt.where(or_(Order.status == OrderStatus.active,
                              and_(Order.status == OrderStatus.accepted, Term.starts_on <= day)))
    if status == "accepted":
        return stmt.where(Order.status == OrderStatus.accepted, Term.starts_on > day)
    if status:
        return stmt.where(Order.status == OrderStatus(status))
    return stmt


# ---------------------------------------------------------------- the school's side

def _school_options():
    return (joinedload(Order.project), joinedload(Order.provider).joinedload(Provider.county), joinedload(Order.term),
            joinedload(Order.entry).joinedload(WhitelistEntry.batch).joinedload(ReleaseBatch.city),
            selectinload(Order.staff).joinedload(OrderStaff.person))


def school_orders_stmt(school_id, filters, day=None):
    """The school's orders, newest first; `status` filters on the effective status (accepted + term begun = active)."""
    stmt = (select(Order).join(Order.term).where(Order.school_id == school_id).options(*_school_options())
            .order_by(Order.id.desc()))
    stmt = where_effective_status(stmt, filters.get("status"), day)
    if filters.get("term_id"):
        stmt = stmt.where(Order.term_id == filters["term_id"])
    return stmt


def school_order(school_id, order_id):
    """The order if it belongs to the school; 404 otherwise (never reveal that it exists)."""
    order = db.session.scalar(select(Order).where(Order.id == order_id).options(*_school_options()))
    if order is None or order.school_id != school_id:
        raise NotFound("订单不存在")
    return order


# ---------------------------------------------------------------- the provider's side

def _provider_options():
    return (joinedload(Order.school).joinedload(School.county), joinedload(Order.project), joinedload(Order.term),
            joinedload(Order.provider).options(joinedload(Provider.city), joinedload(Provider.county)),
            joinedload(Order.entry).joinedload(WhitelistEntry.batch).joinedload(ReleaseBatch.city),
            selectinload(Order.staff).joinedload(OrderStaff.person))


def provider_orders_stmt(provider_id, status=None, day=None):
    """The provider's orders, newest first; `status` is the effective status (accepted + term begun = active)."""
    stmt = (select(Order).join(Term, Term.id == Order.term_id).where(Order.provider_id == provider_id)
            .options(*_provider_options()).order_by(Order.id.desc()))
    return where_effective_status(stmt, status, day)


def provider_status_counts(provider_id, day=None):
    """{effective status: count} in one grouped query."""
    day = day or clock.today()
    counts = defaultdict(int)
    for status, starts_on, n in db.session.execute(
            select(Order.status, Term.starts_on, func.count()).join(Term, Term.id == Order.term_id)
            .where(Order.provider_id == provider_id).group_by(Order.status, Term.starts_on)):
        key = "active" if status == OrderStatus.accepted and starts_on <= day else status.value
        counts[key] += n
    return counts


def provider_order(provider_id, order_id):
    """The order if it belongs to the provider; 404 otherwise (never reveal that it exists)."""
    order = db.session.scalar(select(Order).where(Order.id == order_id).options(*_provider_options()))
    if order is None or order.provider_id != provider_id:
        raise NotFound("订单不存在")
    return order


@dataclass
class Candidate:
    person: object
    on_project: bool
    today: people.Clearance
    term_end: people.Clearance


def candidates(order, day=None):
    """The provider's people with their clearance today for the project's qualification, and at the end of
    the term (what accept_order will warn about). Project staff first, then the cleared."""
    day = day or clock.today()
    persons = people.list_people(order.provider_id)
    bans = people.bans_by_index(p.id_bidx for p in persons)
    on_project = set(db.session.scalars(select(ProjectStaff.person_id).where(
        ProjectStaff.project_id == order.project_id)))
    rules = policy.for_city(order.provider.city)
    qualification = order.project.required_qualification
    end = max(order.term.ends_on, day)
    result = []
    for person in persons:
        mine = bans[person.id_bidx]
        result.append(Candidate(
            person, person.id in on_project,
            people.clearance(person, day, qualification, bans=[b for b in mine if b.is_active_on(day)], rules=rules),
            people.clearance(person, end, qualification, bans=[b for b in mine if b.is_active_on(end)], rules=rules)))
    result.sort(key=lambda c: (not c.on_project, not c.today.cleared, c.person.id))
    return result


def blocking_reasons(order, day=None):
    """Why the order's entry cannot be accepted today (region and stage were checked when it was ordered)."""
    result = eligibility.evaluate_one(order.entry, day or clock.today(), order.school)
    return [] if result.ok else [r for r in result.reasons if "学段" not in r and "服务区域" not in r]


def staff_clearance(order, day):
    """Today's clearance of each assigned person still on the order (the provider must replace the uncleared)."""
    rules = policy.for_city(order.provider.city)
    return {s.person_id: people.clearance(s.person, day, order.project.required_qualification, rules=rules)
            for s in order.staff if s.removed_at is None}


def history(order):
    """The order's recorded moves, oldest first, each with the display name of who made it."""
    changes = lifecycle.history("order", order.id)
    actor_ids = {c.actor_id for c in changes if c.actor_id}
    names = dict(db.session.execute(select(User.id, User.display_name).where(User.id.in_(actor_ids))).all()) \
        if actor_ids else {}
    return [(c, names.get(c.actor_id)) for c in changes]


# ---------------------------------------------------------------- a suspended order, explained (issue 19)

@dataclass
class SuspensionNotice:
    """What a suspended order's reader needs: what happened, what it means for them, what to do."""
    label: str
    what: str
    means: str
    todo: str
    final: bool = False


def _cause(order):
    """The reason as one phrase: the entry's reason category, else the order's reason without its prefix
    (the stored "白名单暂停：发生安全事故" reads 发生安全事故)."""
    reason = order.entry.status_reason or order.status_reason or ""
    return reason.rpartition("：")[2] or "未注明"


def suspension_notice(order, day=None, audience="school"):
    """None unless the order is suspended on `day`. A delisted provider's order reads as ended, not paused."""
    day = day or clock.today()
    if order.effective_status(day) != OrderStatus.suspended:
        return None
    entry, title, provider = order.entry, order.project.title, order.provider.name
    status = entry.effective_status(day)
    school = audience == "school"
    if status == EntryStatus.delisted:
        return SuspensionNotice(
            label="已终止（项目已移出白名单）", final=True,
            what=f"{provider}的“{title}”已被移出白名单（原因：{_cause(order)}）。",
            means="本订单不能继续服务，也不会自动恢复。",
            todo=("请停止安排学生参加该项目并告知家长；如需继续开展同类课后服务，请在“白名单点单”中另选项目。"
                  if school else "请停止本订单的服务。对处理有异议的，请与市教育局联系。"))
    if status == EntryStatus.expired:
        return SuspensionNotice(
            label="已暂停（白名单有效期届满）",
            what=f"“{title}”的白名单有效期已于{entry.valid_until.isoformat()}届满。",
            means="机构完成年审、项目重新列入白名单之前，本订单暂停。",
            todo=("可等待机构完成年审，或在“白名单点单”中另选项目。" if school else "请尽快提交年审申报。"))
    until = (f"按市教育局的决定，暂停预计于{entry.suspended_until.isoformat()}后解除。"
             if entry.suspended_until else "")
    return SuspensionNotice(
        label="已暂停",
        what=f"{provider}的“{title}”在白名单中被暂停（原因：{_cause(order)}）。",
        means="暂停期间机构不得开展本订单的服务；暂停解除后订单自动恢复，无需重新点单。" + until,
        todo=("请暂停安排学生参加该项目并告知家长；如需尽快恢复课后服务，可在“白名单点单”中另选项目。" if school else
              ("请按“动态调整记录”中的原因整改；原因消除后系统自动解除暂停。" if entry.suspended_by_rule else
               "请按“动态调整记录”中的原因整改，整改完成后联系市教育局核实恢复。")))
