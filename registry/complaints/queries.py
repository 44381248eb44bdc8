"""Reads of complaints and appeals: the handler's queue, "own X or 404" lookups, what a provider may see,
the county's supervision record and the public monthly statistics (issue 17)."""
import statistics
from collections import defaultdict
from dataclasses import dataclass
from datetime import date

from sqlalchemy import case, or_, select
from sqlalchemy.orm import joinedload

from registry.adjustments.models import ActionKind, ProviderAction
from registry.applications.models import Application, ApplicationStatus
from registry.auth.roles import Role
from registry.complaints.models import (
    CATEGORY_LABELS,
    OPEN_STATUSES,
    Appeal,
    AppealStatus,
    Complaint,
    ComplaintStatus,
    Outcome,
    SubjectKind,
)
from registry.complaints.services import appeal_deadline, may_handle, original_decision
from registry.core import clock, signals
from registry.core.errors import NotFound
from registry.extensions import db
from registry.orders.models import Order, OrderStaff
from registry.people.models import Person
from registry.providers.models import Provider
from registry.regions.models import Region, RegionLevel
from registry.schools.models import School

DECIDED = (ComplaintStatus.decided, ComplaintStatus.closed)


def _due():
    return case((Complaint.status == ComplaintStatus.received, Complaint.ack_due), else_=Complaint.resolve_due)


def queue_stmt(user, show="open"):
    """The handler's complaints, nearest (and so overdue) deadline first. A county reviewer sees what was
    routed to the county; a city reviewer the city's own, the escalated ones and sanctions to confirm."""
    stmt = select(Complaint).options(joinedload(Complaint.provider), joinedload(Complaint.region),
                                     joinedload(Complaint.school))
    if user.role == Role.county_reviewer:
        stmt = stmt.where(Complaint.region_id == user.region_id)
    else:
        stmt = stmt.where(Complaint.city_id == user.region_id, or_(
            Complaint.region_id == user.region_id, Complaint.escalated_on.is_not(None),
            Complaint.sanction_status == "proposed"))
    if show == "open":
        stmt = stmt.where(or_(Complaint.status.in_(OPEN_STATUSES), Complaint.sanction_status == "proposed"))
        return stmt.order_by(_due(), Complaint.id)
    return stmt.order_by(Complaint.id.desc())


def queue(user, show="open", limit=200):
    return db.session.scalars(queue_stmt(user, show).limit(limit)).unique().all()


def own_complaint(user, complaint_id):
    """A complaint the user's bureau handles (or may confirm a sanction of), else 404."""
    complaint = db.session.get(Complaint, complaint_id)
    if complaint is None or not may_handle(user, complaint):
        raise NotFound("投诉不存在或不由您所在教育局办理")
    return complaint


def by_tracking_code(code):
    code = (code or "").strip().upper()
    complaint = db.session.scalar(select(Complaint).where(Complaint.tracking_code == code)) if code else None
    if complaint is None:
        raise NotFound("查询码不存在，请核对后重试", field="code")
    return complaint


def filed_by(user, limit=100):
    return db.session.scalars(select(Complaint).where(Complaint.filed_by_id == user.id)
                              .order_by(Complaint.id.desc()).limit(limit)).all()


def for_provider(provider_id):
    """What the provider sees: statement requests addressed to it, and complaints about it once decided.
    Never the complainant (the pages and schemas show no name, phone, source account or evidence)."""
    return db.session.scalars(select(Complaint).where(
        Complaint.provider_id == provider_id, Complaint.subject_kind != SubjectKind.school,
        Complaint.status.in_((ComplaintStatus.awaiting_response, *DECIDED))).order_by(Complaint.id.desc())).all()


def own_provider_complaint(provider_id, complaint_id):
    complaint = db.session.get(Complaint, complaint_id)
    if complaint is None or complaint not in for_provider(provider_id):
        raise NotFound("投诉不存在")
    return complaint


def for_school(school_id):
    """Complaints about the school awaiting its statement or decided (the school responds to these)."""
    return db.session.scalars(select(Complaint).where(
        Complaint.school_id == school_id, Complaint.subject_kind == SubjectKind.school,
        Complaint.status.in_((ComplaintStatus.awaiting_response, *DECIDED))).order_by(Complaint.id.desc())).all()


def supervision_record(county_id, start=None, end=None):
    """The county's supervision record: upheld complaints against its schools, newest first (supervision
    counts these per school)."""
    stmt = select(Complaint).where(Complaint.region_id == county_id, Complaint.subject_kind == SubjectKind.school,
                                   Complaint.outcome == Outcome.upheld)
    if start:
        stmt = stmt.where(Complaint.decided_on >= start)
    if end:
        stmt = stmt.where(Complaint.decided_on <= end)
    return db.session.scalars(stmt.order_by(Complaint.decided_on.desc())).all()


def school_staff(school_id):
    """People the school may name in a complaint: the staff of its orders (passes will add the pass code)."""
    return db.session.execute(
        select(Person.id, Person.name, Provider.name).join(OrderStaff, OrderStaff.person_id == Person.id)
        .join(Order, Order.id == OrderStaff.order_id).join(Provider, Provider.id == Order.provider_id)
        .where(Order.school_id == school_id).distinct().order_by(Provider.name, Person.name)).all()


def school_providers(school_id):
    return db.session.execute(
        select(Provider.id, Provider.name).join(Order, Order.provider_id == Provider.id)
        .where(Order.school_id == school_id).distinct().order_by(Provider.name)).all()


def public_choices():
    """Cities, schools and providers for the public form (names only)."""
    cities = db.session.scalars(select(Region).where(Region.level == RegionLevel.city).order_by(Region.code)).all()
    schools = db.session.execute(select(School.id, School.name, School.city_id).order_by(School.name)).all()
    providers = db.session.execute(select(Provider.id, Provider.name, Provider.city_id).order_by(Provider.name)).all()
    return cities, schools, providers


# ---------------------------------------------------------------- public statistics (never the content)

@dataclass
class MonthStats:
    city: str
    month: str
    counts: dict
    total: int
    median_days: float | None


def public_stats(city_id=None, months=12, day=None):
    """Per city and month: counts per category and the median days from receipt to decision. Only counts."""
    day = day or clock.today()
    year, month = day.year, day.month - (months - 1)
    while month <= 0:
        year, month = year - 1, month + 12
    first = date(year, month, 1)
    stmt = (select(Region.name, Complaint.received_on, Complaint.decided_on, Complaint.category)
            .join(Region, Region.id == Complaint.city_id).where(Complaint.received_on >= first))
    if city_id:
        stmt = stmt.where(Complaint.city_id == city_id)
    groups = defaultdict(lambda: {"counts": defaultdict(int), "days": []})
    for city, received, decided, category in db.session.execute(stmt):
        group = groups[(city, received.strftime("%Y-%m"))]
        group["counts"][category.value if hasattr(category, "value") else category] += 1
        if decided is not None:
            group["days"].append((decided - received).days)
    rows = []
    for (city, month), group in sorted(groups.items(), key=lambda kv: (kv[0][1], kv[0][0]), reverse=True):
        counts = {key: group["counts"].get(key, 0) for key in CATEGORY_LABELS}
        rows.append(MonthStats(city, month, counts, sum(counts.values()),
                               statistics.median(group["days"]) if group["days"] else None))
    return rows


# ---------------------------------------------------------------- appeals

@signals.appeal_pending.register
def appeal_pending(provider_ids):
    # Always one statement (an empty IN included), so a page's statement count does not depend on its rows.
    ids = sorted(i for i in set(provider_ids) if i is not None)
    return set(db.session.scalars(select(Appeal.provider_id).where(
        Appeal.provider_id.in_(ids), Appeal.status == AppealStatus.pending)))


def appeals_for_provider(provider_id):
    return db.session.scalars(select(Appeal).where(Appeal.provider_id == provider_id)
                              .order_by(Appeal.id.desc())).all()


def own_provider_appeal(provider_id, appeal_id):
    appeal = db.session.get(Appeal, appeal_id)
    if appeal is None or appeal.provider_id != provider_id:
        raise NotFound("申诉不存在")
    return appeal


def appeal_queue(user, show="pending"):
    stmt = select(Appeal).options(joinedload(Appeal.provider)).where(Appeal.city_id == user.region_id)
    if show == "pending":
        stmt = stmt.where(Appeal.status == AppealStatus.pending)
    return db.session.scalars(stmt.order_by(Appeal.filed_on, Appeal.id)).all()


def own_appeal(user, appeal_id):
    appeal = db.session.get(Appeal, appeal_id)
    if appeal is None or user.role != Role.city_reviewer or appeal.city_id != user.region_id:
        raise NotFound("申诉不存在")
    return appeal


@dataclass
class Appealable:
    subject: str
    label: str
    record_id: int
    field: str
    decided_on: date
    deadline: date


def appealable(provider, day=None):
    """Decisions the provider may still appeal: rejections, delistings, bans and upheld complaints within
    the window, not yet appealed."""
    day = day or clock.today()
    appealed = {(a.subject.value, a.application_id or a.action_id or a.complaint_id)
                for a in appeals_for_provider(provider.id)}
    candidates = [("rejection", "application_id", a.id, f"申报 #{a.id} 未通过") for a in db.session.scalars(
        select(Application).where(Application.provider_id == provider.id,
                                  Application.status == ApplicationStatus.rejected))]
    for action in db.session.scalars(select(ProviderAction).where(
            ProviderAction.provider_id == provider.id, ProviderAction.lifted_at.is_(None),
            ProviderAction.kind.in_((ActionKind.delisting, ActionKind.ban)))):
        candidates.append((action.kind.value, "action_id", action.id,
                           f"{action.kind.label}（{action.reason_label}，{action.effective_on.isoformat()}）"))
    candidates += [("complaint", "complaint_id", c.id, f"投诉成立：{c.category_label}") for c in db.session.scalars(
        select(Complaint).where(Complaint.provider_id == provider.id, Complaint.outcome == Outcome.upheld,
                                Complaint.subject_kind != SubjectKind.school))]
    result = []
    for subject, field, record_id, label in candidates:
        if (subject, record_id) in appealed:
            continue
        _, decided_on, _, _ = original_decision(provider, subject, **{field: record_id})
        deadline = appeal_deadline(provider, decided_on)
        if day <= deadline:
            result.append(Appealable(subject, label, record_id, field, decided_on, deadline))
    return result
