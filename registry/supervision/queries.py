"""Supervision reads: who may see which region, school, visit and task ("yours or 404"), the inspector's
schools with this month's visits, the county's assignments, and the schools left unvisited in a month."""
from datetime import timedelta

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import joinedload, selectinload

from registry.auth.jurisdiction import covers_region
from registry.auth.models import User
from registry.auth.roles import Role
from registry.core.errors import NotFound
from registry.core.lifecycle import StatusChange
from registry.extensions import db
from registry.orders.models import Order
from registry.policy import services as policy
from registry.policy.models import CityPolicy
from registry.providers.models import Provider
from registry.regions.models import Region, RegionLevel
from registry.schools.models import School, Term
from registry.supervision.models import (
    AWAITING_RESPONSE,
    Assignment,
    Task,
    TaskEvidence,
    TaskStatus,
    Visit,
    VisitPhoto,
)
from registry.supervision.services import month_end, month_start

# Roles that read the dashboards, each from its own region down.
DASHBOARD_ROLES = frozenset({Role.province_supervisor, Role.city_supervisor, Role.city_reviewer,
                             Role.county_reviewer, Role.inspector})


def home_region(user):
    if user.role not in DASHBOARD_ROLES or user.region_id is None:
        raise NotFound("没有可查看的督导数据")
    return db.session.get(Region, user.region_id)


def region_in_scope(user, region_id):
    region = db.session.get(Region, region_id)
    if region is None or user.role not in DASHBOARD_ROLES or not covers_region(user, region):
        raise NotFound("区划不存在或不在您的权限范围内")
    return region


def school_in_scope(user, school_id):
    school = db.session.get(School, school_id)
    if school is None or user.role not in DASHBOARD_ROLES or not covers_region(user, school.county):
        raise NotFound("学校不存在或不在您的权限范围内")
    return school


def region_filter(region, county_col, city_col):
    """A condition keeping the rows whose county/city columns lie in `region`."""
    if region.level == RegionLevel.county:
        return county_col == region.id
    if region.level == RegionLevel.city:
        return city_col == region.id
    return city_col.in_(select(Region.id).where(Region.parent_id == region.id))


def user_filter(user, county_col, city_col):
    return region_filter(home_region(user), county_col, city_col)


# ---------------------------------------------------------------- visits and photos

def visit_for(user, visit_id):
    visit = db.session.scalar(select(Visit).where(Visit.id == visit_id).options(
        joinedload(Visit.school).joinedload(School.county), joinedload(Visit.inspector),
        selectinload(Visit.items), selectinload(Visit.photos)))
    if visit is None or user.role not in DASHBOARD_ROLES or not covers_region(user, visit.school.county):
        raise NotFound("督导记录不存在或不在您的权限范围内")
    return visit


def visits_stmt(user, school_id=None):
    stmt = (select(Visit).where(user_filter(user, Visit.county_id, Visit.city_id))
            .options(joinedload(Visit.school), joinedload(Visit.inspector), selectinload(Visit.items))
            .order_by(Visit.visited_at.desc(), Visit.id.desc()))
    if user.role == Role.inspector:
        stmt = stmt.where(Visit.inspector_id == user.id)
    if school_id is not None:
        stmt = stmt.where(Visit.school_id == school_id)
    return stmt


def file_for(user, file_id):
    """A visit photo or a task's evidence, for those who may see the visit or the task; 404 otherwise."""
    photo = db.session.scalar(select(VisitPhoto).where(VisitPhoto.file_id == file_id)
                              .options(joinedload(VisitPhoto.file)))
    if photo is not None:
        visit_for(user, photo.visit_id)
        return photo.file
    evidence = db.session.scalar(select(TaskEvidence).where(TaskEvidence.file_id == file_id)
                                 .options(joinedload(TaskEvidence.file)))
    if evidence is not None:
        task_for(user, evidence.task_id)
        return evidence.file
    raise NotFound("文件不存在或您无权查看")


# ---------------------------------------------------------------- tasks

def _task_options():
    return (joinedload(Task.school), joinedload(Task.provider), joinedload(Task.visit),
            selectinload(Task.evidence))


def _party_filter(user):
    if user.role == Role.school_admin:
        return Task.school_id == user.school_id
    if user.role == Role.provider_admin:
        return Task.provider_id == user.provider_id
    if user.role in DASHBOARD_ROLES:
        return user_filter(user, Task.county_id, Task.city_id)
    return False


def task_for(user, task_id):
    task = db.session.scalar(select(Task).where(Task.id == task_id, _party_filter(user)).options(*_task_options()))
    if task is None:
        raise NotFound("整改任务不存在或不在您的权限范围内")
    return task


def tasks_stmt(user, status=None, overdue=False, day=None, school_id=None, visit_id=None):
    stmt = select(Task).where(_party_filter(user)).options(*_task_options()).order_by(Task.deadline, Task.id)
    if status:
        stmt = stmt.where(Task.status == TaskStatus(status))
    if overdue:
        stmt = stmt.where(Task.status.in_(AWAITING_RESPONSE), Task.deadline < day)
    if school_id is not None:
        stmt = stmt.where(Task.school_id == school_id)
    if visit_id is not None:
        stmt = stmt.where(Task.visit_id == visit_id)
    return stmt


def task_history(task):
    """The task's status changes, oldest first."""
    return db.session.scalars(select(StatusChange).where(
        StatusChange.object_type == "rectification_task", StatusChange.object_id == task.id)
        .order_by(StatusChange.id)).all()


def serving_providers(school_id):
    """Providers with an order at the school: the possible targets of a provider task."""
    return db.session.scalars(select(Provider).where(Provider.id.in_(
        select(Order.provider_id).where(Order.school_id == school_id))).order_by(Provider.name)).all()


# ---------------------------------------------------------------- assignments

def county_inspectors(county_id):
    return db.session.scalars(select(User).where(
        User.role == Role.inspector, User.region_id == county_id, User.disabled_at.is_(None))
        .order_by(User.display_name)).all()


def county_schools_stmt(county_id, q=None):
    """The county's schools with their current assignment (or None), by name."""
    stmt = (select(School, Assignment).outerjoin(Assignment, and_(Assignment.school_id == School.id,
                                                                    Assignment.ended_on.is_(None)))
            .where(School.county_id == county_id).options(joinedload(Assignment.inspector)).order_by(School.code))
    if q:
        stmt = stmt.where(or_(School.name.contains(q, autoescape=True), School.code.contains(q, autoescape=True)))
    return stmt


def assignment_in_county(user, assignment_id):
    row = db.session.get(Assignment, assignment_id)
    if row is None or user.role != Role.county_reviewer or row.county_id != user.region_id:
        raise NotFound("挂牌督导记录不存在或不在您的权限范围内")
    return row


def county_school(user, school_id):
    school = db.session.get(School, school_id)
    if school is None or user.role != Role.county_reviewer or school.county_id != user.region_id:
        raise NotFound("学校不存在或不在您的权限范围内")
    return school


def assigned_school(user, school_id):
    """A school the inspector is currently assigned to (404 for any other)."""
    school = db.session.get(School, school_id)
    if (school is None or user.role != Role.inspector or school.county_id != user.region_id
            or not db.session.scalar(select(Assignment.id).where(
                Assignment.school_id == school_id, Assignment.inspector_id == user.id,
                Assignment.ended_on.is_(None)))):
        raise NotFound("学校不存在或不是您挂牌督导的学校")
    return school


def inspector_schools(inspector, day):
    """The inspector's current schools, each with this month's visit count, the last visit day and open tasks."""
    first = month_start(day)
    visits = (select(Visit.school_id, func.count().label("n"), func.max(Visit.visited_on).label("last"))
              .where(Visit.visited_on >= first, Visit.visited_on <= day).group_by(Visit.school_id).subquery())
    tasks = (select(Task.school_id, func.count().label("n")).where(Task.status != TaskStatus.closed)
             .group_by(Task.school_id).subquery())
    rows = db.session.execute(
        select(School, func.coalesce(visits.c.n, 0), visits.c.last, func.coalesce(tasks.c.n, 0))
        .join(Assignment, and_(Assignment.school_id == School.id, Assignment.ended_on.is_(None)))
        .outerjoin(visits, visits.c.school_id == School.id).outerjoin(tasks, tasks.c.school_id == School.id)
        .where(Assignment.inspector_id == inspector.id).order_by(School.code)).all()
    return [{"school": s, "visits_this_month": n, "last_visit": last, "open_tasks": t} for s, n, last, t in rows]


# ---------------------------------------------------------------- teaching months and unvisited schools

def is_teaching_month(month):
    """A month that overlaps a term (学期)."""
    return db.session.scalar(select(Term.id).where(
        Term.starts_on <= month_end(month), Term.ends_on >= month_start(month)).limit(1)) is not None


def unvisited_stmt(month, region=None):
    """Schools assigned at the end of `month` that had fewer visits in it than their city requires
    (CityPolicy.visits_per_month, default 1): (school_id, name, county_id, city_id, inspector_id, visits, required)."""
    first, last = month_start(month), month_end(month)
    visits = (select(Visit.school_id, func.count().label("n"))
              .where(Visit.visited_on >= first, Visit.visited_on <= last).group_by(Visit.school_id).subquery())
    required = func.coalesce(CityPolicy.visits_per_month, policy.defaults().visits_per_month)
    stmt = (select(School.id.label("school_id"), School.name, School.county_id, School.city_id,
                   Assignment.inspector_id, func.coalesce(visits.c.n, 0).label("visits"), required.label("required"))
            .join(Assignment, Assignment.school_id == School.id)
            .outerjoin(visits, visits.c.school_id == School.id)
            .outerjoin(CityPolicy, CityPolicy.city_id == School.city_id)
            .where(Assignment.started_on <= last, or_(Assignment.ended_on.is_(None), Assignment.ended_on >= last),
                   func.coalesce(visits.c.n, 0) < required)
            .order_by(School.code))
    if region is not None:
        stmt = stmt.where(region_filter(region, School.county_id, School.city_id))
    return stmt


def overdue_visits(day, region=None):
    """On any day of a month, the schools left unvisited in the previous teaching month (computed: on the
    1st an unvisited school shows as overdue, whether or not the sweep has run)."""
    month = month_start(month_start(day) - timedelta(days=1))
    if not is_teaching_month(month):
        return month, []
    return month, db.session.execute(unvisited_stmt(month, region)).all()
