"""Schedules (issue 15): the school's term calendar, its schedule revisions and their filing (备案) with the
county, and the fee notice (收费公示). Every write flushes; the request commits.

Lifecycles: a schedule goes draft → submitted → accepted | returned (returned → submitted again); accepting a
revision supersedes the school's earlier accepted one for the term. An accepted revision is never edited: a
change starts a new draft revision (`revise`). A fee notice goes draft → published.
"""
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from registry.audit import services as audit
from registry.auth.roles import Role
from registry.calendar.services import Calendar
from registry.core import clock, signals
from registry.core.errors import NotAllowed, NotFound, ValidationFailed
from registry.core.lifecycle import Lifecycle, Move
from registry.extensions import db
from registry.orders.models import Order, OrderStatus
from registry.people import queries as people_queries
from registry.people import services as people
from registry.people.models import Person
from registry.policy import services as policy
from registry.projects.models import Category
from registry.schedules import validation
from registry.schedules.models import (
    FEE_STATUS_LABELS,
    SCHEDULE_STATUS_LABELS,
    FeeNotice,
    FeeStatus,
    NonTeachingDay,
    RowKind,
    RowSource,
    Schedule,
    ScheduleRow,
    ScheduleStatus,
)
from registry.schools.models import SchoolProject, SchoolType

SCHEDULE = Lifecycle("schedule", Schedule, labels=SCHEDULE_STATUS_LABELS, moves=[
    Move("submit", frozenset({ScheduleStatus.draft, ScheduleStatus.returned}), ScheduleStatus.submitted),
    Move("accept", frozenset({ScheduleStatus.submitted}), ScheduleStatus.accepted),
    Move("return", frozenset({ScheduleStatus.submitted}), ScheduleStatus.returned),
    Move("supersede", frozenset({ScheduleStatus.accepted}), ScheduleStatus.superseded),
])
FEE = Lifecycle("fee_notice", FeeNotice, labels=FEE_STATUS_LABELS, moves=[
    Move("publish", frozenset({FeeStatus.draft}), FeeStatus.published),
])
SCHOOL_GRADES = {SchoolType.primary: range(1, 7), SchoolType.junior: range(7, 10),
                 SchoolType.nine_year: range(1, 10)}
ROW_FIELDS = ("grade_from", "grade_to", "class_name", "weekday", "starts_at", "ends_at", "kind", "category",
              "source", "content", "school_project_id", "order_id", "person_id", "teacher_name", "venue",
              "class_size")


def own_school(actor, school):
    if actor.role != Role.school_admin or actor.school_id != school.id:
        raise NotAllowed("只能编辑本校的课后服务安排表")


# ---------------------------------------------------------------- term calendar

def non_teaching_days(school, term):
    return db.session.scalars(select(NonTeachingDay).where(
        NonTeachingDay.school_id == school.id, NonTeachingDay.day >= term.starts_on,
        NonTeachingDay.day <= term.ends_on).order_by(NonTeachingDay.day)).all()


def teaching_days(school, term):
    """Working days of the term (the calendar) less the school's own non-teaching days."""
    calendar = Calendar(term.starts_on, term.ends_on)
    own = {d.day for d in non_teaching_days(school, term)}
    day, out = term.starts_on, []
    while day <= term.ends_on:
        if calendar.is_workday(day) and day not in own:
            out.append(day)
        day += timedelta(days=1)
    return out


def add_non_teaching_day(school, term, *, actor, day, reason):
    own_school(actor, school)
    if not term.starts_on <= day <= term.ends_on:
        raise ValidationFailed({"day": [f"日期须在本学期内（{term.starts_on.isoformat()} 至 "
                                        f"{term.ends_on.isoformat()}）"]})
    exists = db.session.scalar(select(NonTeachingDay).where(NonTeachingDay.school_id == school.id,
                                                            NonTeachingDay.day == day))
    if exists is not None:
        raise ValidationFailed({"day": [f"{day.isoformat()} 已登记为非教学日"]})
    row = NonTeachingDay(school_id=school.id, day=day, reason=reason.strip())
    db.session.add(row)
    db.session.flush()
    audit.record("schedule.non_teaching_day", object_type="school", object_id=school.id, actor=actor,
                 details={"day": day.isoformat(), "reason": row.reason})
    return row


def remove_non_teaching_day(school, *, actor, day_id):
    own_school(actor, school)
    row = db.session.get(NonTeachingDay, day_id)
    if row is None or row.school_id != school.id:
        raise NotFound("非教学日不存在")
    db.session.delete(row)
    db.session.flush()
    audit.record("schedule.non_teaching_day_removed", object_type="school", object_id=school.id, actor=actor,
                 details={"day": row.day.isoformat()})


def deadline(term, rules):
    """The last day to file: term start plus the city's filing days (day 31 with the default 30)."""
    return term.starts_on + timedelta(days=rules.filing_deadline_days)


def deadline_for(school, term):
    return deadline(term, policy.for_city(school.city))


# ---------------------------------------------------------------- the validation's context

def rules_for(school, city=None):
    city = city or policy.for_city(school.city)
    return validation.Rules(n_share_min=city.n_share_min, science_per_week=city.science_per_week,
                            end_earliest=city.after_school_end_earliest,
                            third_party_share_max=city.third_party_share_max)


def context_for(school, term, rows=()):
    """Everything validate() needs, read in a constant number of statements."""
    day = clock.today()
    days = teaching_days(school, term)
    orders = db.session.scalars(select(Order).where(Order.school_id == school.id, Order.term_id == term.id)
                                .options(selectinload(Order.project), selectinload(Order.provider),
                                         selectinload(Order.staff), selectinload(Order.term))).all()
    infos = {}
    for order in orders:
        status = order.effective_status(day)
        infos[order.id] = validation.OrderInfo(
            id=order.id, title=order.project.title, provider=order.provider.name,
            category=order.project.category.value, stages=tuple(s.value for s in order.project.stages),
            grades=tuple(order.grades), weekdays=tuple(order.weekdays), slot=validation.parse_slot(order.time_slot),
            slot_text=order.time_slot, staff=frozenset(s.person_id for s in order.staff if s.removed_at is None),
            live=status in (OrderStatus.accepted, OrderStatus.active), status_label=status.label)
    own = {p.id: (p.name, p.category.value) for p in db.session.scalars(select(SchoolProject).where(
        SchoolProject.school_id == school.id, SchoolProject.term_id == term.id))}
    school_people = people_queries.school_people(school.id)
    wanted = {r.person_id for r in rows if r.person_id is not None} - {p.id for p in school_people}
    persons = list(school_people)
    if wanted:
        persons += db.session.scalars(select(Person).where(Person.id.in_(wanted)).options(
            selectinload(Person.checks), selectinload(Person.qualifications))).all()
    rules = policy.for_city(school.city)
    checked = [d for d in (max(days[0], day) if days else None, days[-1] if days else None) if d is not None]
    cleared = {}
    for person in persons:
        if person.id not in {r.person_id for r in rows}:
            cleared[person.id] = (person.name, [])
            continue
        reasons = []
        for when in dict.fromkeys(checked):
            result = people.clearance(person, when, rules=rules)
            reasons += [f"{when.isoformat()}：{r}" for r in result.reasons]
        cleared[person.id] = (person.name, reasons)
    return validation.Context(
        rules=rules_for(school, rules), teaching_weekdays=tuple(sorted({d.weekday() for d in days if d.weekday() < 5})),
        school_grades=frozenset(SCHOOL_GRADES[SchoolType(school.school_type)]), orders=infos, own_projects=own,
        persons=cleared, school_people=frozenset(p.id for p in school_people))


def row_of(model, line=None):
    """A stored row as validation.Row."""
    return validation.Row(
        grade_from=model.grade_from, grade_to=model.grade_to, class_name=model.class_name, weekday=model.weekday,
        starts_at=model.starts_at, ends_at=model.ends_at, kind=RowKind(model.kind).value,
        category=Category(model.category).value if model.category else None, source=RowSource(model.source).value,
        content=model.content, school_project_id=model.school_project_id, order_id=model.order_id,
        person_id=model.person_id, teacher_name=model.teacher_name, venue=model.venue, class_size=model.class_size,
        line=line)


def rows_of(schedule):
    return [row_of(r, i) for i, r in enumerate(schedule.rows, start=1)]


def check(school, term, rows):
    """validate() over `rows` (validation.Row) with the school's context."""
    return validation.validate(rows, context_for(school, term, rows))


def data_rows(items, start_line=1):
    """Loaded RowIn dicts as validation.Row (the form, the API and the import all go through here)."""
    return [validation.Row(**{k: item.get(k) for k in ROW_FIELDS}, line=item.get("line", i))
            for i, item in enumerate(items, start=start_line)]


# ---------------------------------------------------------------- schedules

def latest(school, term):
    return db.session.scalar(select(Schedule).where(Schedule.school_id == school.id, Schedule.term_id == term.id)
                             .order_by(Schedule.revision.desc()).limit(1))


def working_copy(school, term, *, actor):
    """The revision the school edits: the latest one when it is a draft or returned; a new draft (a copy of
    the latest accepted revision, if any) otherwise. A submitted revision waits for the county."""
    own_school(actor, school)
    current = latest(school, term)
    if current is not None and current.editable:
        return current
    if current is not None and current.status == ScheduleStatus.submitted:
        raise ValidationFailed({"schedule": ["安排表已报备，等待县级审核，审核前不能修改"]}, code="schedule_submitted")
    schedule = Schedule(school_id=school.id, term_id=term.id, revision=(current.revision + 1) if current else 1,
                        status=ScheduleStatus.draft, version=1, created_by_id=actor.id)
    if current is not None:
        schedule.rows = [ScheduleRow(**{k: getattr(r, k) for k in ROW_FIELDS}) for r in current.rows]
    db.session.add(schedule)
    db.session.flush()
    audit.record("schedule.create", object_type="schedule", object_id=schedule.id, actor=actor,
                 details={"revision": schedule.revision, "copied_from": current.id if current else None})
    return schedule


def _content_of(item, ctx_orders, own):
    if item["source"] == "order" and item.get("order_id") in ctx_orders:
        return ctx_orders[item["order_id"]]
    if item["source"] == "own" and item.get("school_project_id") in own:
        return own[item["school_project_id"]]
    return None


def replace_rows(schedule, items, *, actor):
    """Replace every row of an editable revision (the API's PUT and the Excel import). Policy problems do not
    stop a draft from being saved; they stop it from being filed."""
    own_school(actor, schedule.school)
    if not schedule.editable:
        raise ValidationFailed({"schedule": [f"该版本{schedule.status_label}，不能修改：请新建修订版本"]})
    orders = {o.id: o for o in db.session.scalars(select(Order).where(
        Order.school_id == schedule.school_id, Order.term_id == schedule.term_id)
        .options(selectinload(Order.project)))}
    own = {p.id: p for p in db.session.scalars(select(SchoolProject).where(
        SchoolProject.school_id == schedule.school_id, SchoolProject.term_id == schedule.term_id))}
    errors = {}
    for i, item in enumerate(items, start=1):
        if item.get("order_id") is not None and item["order_id"] not in orders:
            errors.setdefault(f"rows.{i - 1}.order_id", []).append("点单不存在或不是本校本学期的点单")
        if item.get("school_project_id") is not None and item["school_project_id"] not in own:
            errors.setdefault(f"rows.{i - 1}.school_project_id", []).append("本校项目不存在或不属于本学期")
    if errors:
        raise ValidationFailed(errors)
    schedule.rows.clear()
    db.session.flush()
    for item in items:
        fields = {k: item.get(k) for k in ROW_FIELDS}
        source = _content_of(item, orders, own)
        if item["source"] == "order" and source is not None:
            fields["content"] = fields["content"] or source.project.title
            fields["category"] = fields["category"] or source.project.category.value
        elif item["source"] == "own" and source is not None:
            fields["content"] = fields["content"] or source.name
            fields["category"] = fields["category"] or (source.category.value if item["kind"] == "n" else None)
        fields["content"] = fields["content"] or ("作业辅导" if item["kind"] == "one" else "课后活动")
        if item["kind"] == "one":
            fields["category"] = None
        fields["kind"], fields["source"] = RowKind(fields["kind"]), RowSource(fields["source"])
        fields["category"] = Category(fields["category"]) if fields["category"] else None
        schedule.rows.append(ScheduleRow(**fields))
    db.session.flush()
    audit.record("schedule.rows", object_type="schedule", object_id=schedule.id, actor=actor,
                 details={"rows": len(items)})
    return schedule


def add_row(schedule, item, *, actor):
    items = [{k: getattr(r, k) for k in ROW_FIELDS}
             | {"kind": RowKind(r.kind).value, "source": RowSource(r.source).value,
                "category": Category(r.category).value if r.category else None}
             for r in schedule.rows]
    return replace_rows(schedule, items + [item], actor=actor)


def delete_row(schedule, row_id, *, actor):
    own_school(actor, schedule.school)
    if not schedule.editable:
        raise ValidationFailed({"schedule": [f"该版本{schedule.status_label}，不能修改：请新建修订版本"]})
    row = next((r for r in schedule.rows if r.id == row_id), None)
    if row is None:
        raise NotFound("该行不存在")
    schedule.rows.remove(row)
    db.session.flush()
    audit.record("schedule.row_deleted", object_type="schedule", object_id=schedule.id, actor=actor,
                 details={"row": row_id})
    return schedule


def submit(schedule, *, actor):
    """File the revision with the county: refused, naming every problem, while the policy check fails."""
    own_school(actor, schedule.school)
    if not schedule.rows:
        raise ValidationFailed({"schedule": ["安排表没有任何行，不能报备"]})
    report = check(schedule.school, schedule.term, rows_of(schedule))
    if not report.ok:
        raise ValidationFailed({"rows": [p.message for p in report.errors]},
                               message=f"安排表有 {len(report.errors)} 处不符合政策，不能报备："
                               + report.errors[0].message,
                               code="schedule_invalid")
    SCHEDULE.transition(schedule, "submit", actor=actor, changes={"submitted_on": clock.today()},
                        details={"revision": schedule.revision, "rows": len(schedule.rows)})
    return schedule


def _county_reviewer(actor, schedule):
    if actor.role != Role.county_reviewer or actor.region_id != schedule.school.county_id:
        raise NotAllowed("只有学校所在县（市、区）的审核员可以审核安排表备案")


def accept(schedule, *, actor, comment=""):
    _county_reviewer(actor, schedule)
    earlier = db.session.scalars(select(Schedule).where(
        Schedule.school_id == schedule.school_id, Schedule.term_id == schedule.term_id,
        Schedule.status == ScheduleStatus.accepted, Schedule.id != schedule.id)).all()
    SCHEDULE.transition(schedule, "accept", actor=actor, reason=(comment or "").strip() or None,
                        changes={"decided_at": clock.utcnow(), "decided_by_id": actor.id,
                                 "review_comment": (comment or "").strip() or None})
    for old in earlier:
        SCHEDULE.transition(old, "supersede", actor=actor, reason=f"第 {schedule.revision} 版已备案")
    signals.schedule_accepted(schedule, actor=actor)  # the school's own people on it get entry passes
    return schedule


def return_schedule(schedule, *, actor, comment):
    _county_reviewer(actor, schedule)
    comment = (comment or "").strip()
    if not comment:
        raise ValidationFailed({"comment": ["退回时须填写修改意见"]})
    SCHEDULE.transition(schedule, "return", actor=actor, reason=comment,
                        changes={"decided_at": clock.utcnow(), "decided_by_id": actor.id, "review_comment": comment})
    return schedule


# ---------------------------------------------------------------- fee notice (收费公示)

def fee_notice(school, term):
    return db.session.scalar(select(FeeNotice).where(FeeNotice.school_id == school.id,
                                                     FeeNotice.term_id == term.id))


def save_fee_notice(school, term, *, actor, fee_standard, service_time, content, subsidy="", amount=None,
                    class_minutes=None):
    own_school(actor, school)
    notice = fee_notice(school, term)
    minutes = class_minutes or class_minutes_of(school)
    values = {"fee_standard": fee_standard.strip(), "service_time": service_time.strip(), "content": content.strip(),
              "subsidy": (subsidy or "").strip(), "amount": amount, "class_minutes": minutes}
    if notice is None:
        notice = FeeNotice(school_id=school.id, term_id=term.id, status=FeeStatus.draft, version=1, **values)
        db.session.add(notice)
        changed = sorted(values)
    else:
        changed = sorted(k for k, v in values.items() if getattr(notice, k) != v)
        for key, value in values.items():
            setattr(notice, key, value)
    db.session.flush()
    audit.record("fee_notice.save", object_type="fee_notice", object_id=notice.id, actor=actor,
                 details={"fields": changed, "published": notice.status == FeeStatus.published})
    return notice


def publish_fee_notice(notice, *, actor):
    own_school(actor, notice.school)
    FEE.transition(notice, "publish", actor=actor, changes={"published_on": clock.today()})
    return notice


@signals.fee_notice_published.register
def fee_notice_published(school_id, term_id):
    return db.session.scalar(select(FeeNotice.id).where(
        FeeNotice.school_id == school_id, FeeNotice.term_id == term_id,
        FeeNotice.status == FeeStatus.published).limit(1)) is not None


def class_minutes_of(school):
    """One class hour at this school: the junior length for a junior school, else the primary one."""
    rules = policy.for_city(school.city)
    return rules.class_minutes_junior if SchoolType(school.school_type) == SchoolType.junior \
        else rules.class_minutes_primary


@signals.fee_notices_published.register
def fee_notices_published(pairs):
    pairs = set(pairs)
    if not pairs:
        return set()
    schools = {s for s, _t in pairs}
    terms = {t for _s, t in pairs}
    found = db.session.execute(select(FeeNotice.school_id, FeeNotice.term_id).where(
        FeeNotice.school_id.in_(schools), FeeNotice.term_id.in_(terms), FeeNotice.status == FeeStatus.published))
    return {(s, t) for s, t in found} & pairs
