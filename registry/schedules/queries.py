"""Reads of schedules (issue 15): a school's revisions and their differences, the county's filing list (not
filed, late), the reviewer's queue, coverage figures for a city or county, and the public schedule page."""
from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import joinedload, selectinload

from registry.core.errors import NotFound
from registry.extensions import db
from registry.orders.models import Order, OrderStatus
from registry.policy import services as policy
from registry.regions.models import Region, RegionLevel
from registry.schedules.models import (
    FILED,
    FeeNotice,
    FeeStatus,
    RowKind,
    RowSource,
    Schedule,
    ScheduleRow,
    ScheduleStatus,
)
from registry.schedules.services import deadline
from registry.schedules.validation import WEEKDAYS
from registry.schools.models import School, Term


def revisions(school, term):
    return db.session.scalars(select(Schedule).where(Schedule.school_id == school.id, Schedule.term_id == term.id)
                              .order_by(Schedule.revision.desc())).all()


def schedule_of_school(school_id, schedule_id):
    schedule = db.session.get(Schedule, schedule_id)
    if schedule is None or schedule.school_id != school_id:
        raise NotFound("安排表不存在")
    return schedule


def schedule_in_county(actor, schedule_id):
    """A schedule of a school in the reviewer's county, else 404."""
    schedule = db.session.scalar(select(Schedule).where(Schedule.id == schedule_id).options(
        joinedload(Schedule.school), joinedload(Schedule.term)))
    if schedule is None or schedule.school.county_id != actor.region_id:
        raise NotFound("安排表不存在")
    return schedule


def _key(row):
    return (row.grade_from, row.grade_to, row.class_name, row.weekday, row.starts_at, row.ends_at, row.kind.value,
            row.category.value if row.category else "", row.source.value, row.content, row.order_id or 0,
            row.person_id or 0, row.teacher_name, row.venue, row.class_size)


def diff(older, newer):
    """Rows removed from and added to `older` in `newer` (as row objects)."""
    old = {_key(r): r for r in older.rows} if older else {}
    new = {_key(r): r for r in newer.rows}
    return {"removed": [r for k, r in old.items() if k not in new],
            "added": [r for k, r in new.items() if k not in old]}


def live_orders(school, term):
    """The school's accepted or active orders of the term: what a third-party row can come from."""
    return db.session.scalars(select(Order).where(
        Order.school_id == school.id, Order.term_id == term.id,
        Order.status.in_([OrderStatus.accepted, OrderStatus.active]))
        .options(selectinload(Order.project), selectinload(Order.staff)).order_by(Order.id)).all()


def review_queue(actor):
    """Revisions of the reviewer's county waiting for a decision, oldest first."""
    return db.session.scalars(select(Schedule).join(School, School.id == Schedule.school_id).where(
        School.county_id == actor.region_id, Schedule.status == ScheduleStatus.submitted)
        .options(joinedload(Schedule.school), joinedload(Schedule.term))
        .order_by(Schedule.submitted_on, Schedule.id)).all()


# ---------------------------------------------------------------- filing and coverage

@dataclass
class Filing:
    school: School
    state: str          # accepted / submitted / returned / draft / not_filed
    state_label: str
    submitted_on: date | None
    deadline: date
    late: bool          # filed after the deadline, or not filed and the deadline has passed
    schedule_id: int | None

    @property
    def school_id(self):
        return self.school.id

    @property
    def school_name(self):
        return self.school.name


STATE_LABELS = {"accepted": "已备案", "submitted": "已报备待审核", "returned": "已退回修改", "draft": "编辑中未报备",
                "not_filed": "未报备"}


def _schools_of(region):
    column = School.county_id if region.level == RegionLevel.county else School.city_id
    return select(School).where(column == region.id)


def filings(region, term, day):
    """Every school of the region (a county or a city) with where its schedule for the term stands on `day`:
    first filed when, the deadline, late or not. Three statements whatever the number of schools."""
    schools = db.session.scalars(_schools_of(region).order_by(School.code)).all()
    city = region if region.level == RegionLevel.city else region.parent
    due = deadline(term, policy.for_city(city))
    ids = [s.id for s in schools]
    first_filed, states = {}, {}
    if ids:
        first_filed = dict(db.session.execute(select(Schedule.school_id, func.min(Schedule.submitted_on)).where(
            Schedule.term_id == term.id, Schedule.school_id.in_(ids), Schedule.status.in_(FILED))
            .group_by(Schedule.school_id)).all())
        for school_id, status, schedule_id in db.session.execute(
                select(Schedule.school_id, Schedule.status, Schedule.id).where(
                    Schedule.term_id == term.id, Schedule.school_id.in_(ids))
                .order_by(Schedule.school_id, Schedule.revision)):
            states.setdefault(school_id, {})[ScheduleStatus(status)] = schedule_id
    out = []
    for school in schools:
        seen = states.get(school.id, {})
        filed_on = first_filed.get(school.id)
        if ScheduleStatus.accepted in seen:
            state, schedule_id = "accepted", seen[ScheduleStatus.accepted]
        elif seen:
            latest_status = max(seen, key=lambda s: seen[s])
            state = {ScheduleStatus.submitted: "submitted", ScheduleStatus.returned: "returned"}.get(latest_status,
                                                                                                   "draft")
            schedule_id = seen[latest_status]
        else:
            state, schedule_id = "not_filed", None
        if filed_on is None and state == "draft":
            state = "draft"
        late = (filed_on > due) if filed_on is not None else day > due
        out.append(Filing(school, state, STATE_LABELS[state], filed_on, due, late, schedule_id))
    return out


def coverage(region, term, day):
    """Share of the region's schools with an accepted schedule for the term, and share filed on time (by the
    deadline), as of `day`. Used by the county and city page and by supervision's dashboards."""
    rows = filings(region, term, day)
    total = len(rows)
    accepted = sum(1 for f in rows if f.state == "accepted")
    on_time = sum(1 for f in rows if f.submitted_on is not None and not f.late)
    late = sum(1 for f in rows if f.late)
    not_filed = sum(1 for f in rows if f.submitted_on is None)
    return {"schools": total, "accepted": accepted, "accepted_share": round(accepted / total, 3) if total else 0.0,
            "filed_on_time": on_time, "on_time_share": round(on_time / total, 3) if total else 0.0, "late": late,
            "not_filed": not_filed, "deadline": rows[0].deadline if rows else None}


def region_of(actor):
    return db.session.get(Region, actor.region_id) if actor.region_id else None


# ---------------------------------------------------------------- public page

def mask_name(name):
    name = name or ""
    if len(name) <= 1:
        return name + "*"
    return name[0] + "*" * (len(name) - 1) if len(name) == 2 else name[0] + "*" * (len(name) - 2) + name[-1]


@dataclass
class PublicRow:
    group: str
    weekday_label: str
    time: str
    kind_label: str
    category_label: str | None
    content: str
    venue: str
    teacher: str
    class_size: int


def public_schedule(school_id, term_id):
    """(school, term, accepted revision, public rows, published fee notice) or NotFound. A fixed number of
    statements whatever the number of rows."""
    school = db.session.scalar(select(School).where(School.id == school_id).options(joinedload(School.county)))
    term = db.session.get(Term, term_id)
    if school is None or term is None:
        raise NotFound("该学校本学期的课后服务安排表尚未公布")
    schedule = db.session.scalar(select(Schedule).where(
        Schedule.school_id == school_id, Schedule.term_id == term_id, Schedule.status == ScheduleStatus.accepted)
        .options(selectinload(Schedule.rows).joinedload(ScheduleRow.person),
                 selectinload(Schedule.rows).joinedload(ScheduleRow.order).joinedload(Order.provider))
        .order_by(Schedule.revision.desc()).limit(1))
    notice = db.session.scalar(select(FeeNotice).where(FeeNotice.school_id == school_id, FeeNotice.term_id == term_id,
                                                       FeeNotice.status == FeeStatus.published))
    if schedule is None and notice is None:
        raise NotFound("该学校本学期的课后服务安排表尚未公布")
    rows = [public_row(r) for r in schedule.rows] if schedule is not None else []
    return school, term, schedule, rows, notice


def public_row(row):
    teacher = row.teacher_name
    if row.source == RowSource.order and row.order is not None:
        who = mask_name(row.person.name if row.person is not None else row.teacher_name)
        teacher = f"{who}（{row.order.provider.name}）" if who.strip("*") else row.order.provider.name
    elif row.source == RowSource.person:
        teacher = f"{mask_name(row.person.name if row.person is not None else row.teacher_name)}（校外人员）"
    return PublicRow(row.group, WEEKDAYS[row.weekday], row.time_label, RowKind(row.kind).label,
                     row.category.label if row.category else None, row.content, row.venue, teacher, row.class_size)
