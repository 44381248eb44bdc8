"""Reads of schools for the pages, the API and the school's ordering pages: who may manage a school and that
school or 404, the managed list with its filters, the counties to register in, a school's admins, the terms
(open ones, the default one) and a school's own after-school projects. Writes stay in services.py."""
from sqlalchemy import or_, select
from sqlalchemy.orm import joinedload

from registry.auth.models import User
from registry.auth.roles import Role
from registry.core.errors import NotFound
from registry.extensions import db
from registry.regions import services as regions
from registry.regions.models import Region, RegionLevel
from registry.schools.models import School, SchoolProject, Term

# ---------------------------------------------------------------- jurisdiction

def can_manage(user, school):
    if user is None or school is None:
        return False
    if user.role == Role.sys_admin:
        return True
    if user.role == Role.county_reviewer:
        return school.county_id == user.region_id
    return False


def managed_school(user, school_id):
    """The school if `user` may manage it; NotFound otherwise (never reveal another county's school)."""
    school = db.session.scalar(select(School).where(School.id == school_id)
                               .options(joinedload(School.county), joinedload(School.city)))
    if school is None or not can_manage(user, school):
        raise NotFound("学校不存在")
    return school


# ---------------------------------------------------------------- schools

def schools_stmt(user, filters=None):
    """The schools `user` manages, filtered by text (name or code) and county, ordered by county and code."""
    filters = filters or {}
    stmt = select(School).options(joinedload(School.county), joinedload(School.city))
    if user.role == Role.county_reviewer:
        stmt = stmt.where(School.county_id == user.region_id)
    elif user.role != Role.sys_admin:
        stmt = stmt.where(School.id == -1)
    if filters.get("county_code"):
        county = regions.get_by_code(filters["county_code"])
        stmt = stmt.where(School.county_id == (county.id if county else -1))
    q = (filters.get("q") or "").strip()
    if q:
        stmt = stmt.where(or_(School.name.icontains(q, autoescape=True), School.code == q))
    return stmt.order_by(School.county_id, School.code)


def counties_for(user):
    """The counties `user` may register schools in (for the form's select)."""
    if user.role == Role.county_reviewer:
        return [user.region]
    return db.session.scalars(select(Region).where(Region.level == RegionLevel.county)
                              .options(joinedload(Region.parent)).order_by(Region.code)).all()


def school_admins(school):
    return db.session.scalars(select(User).where(User.school_id == school.id).order_by(User.id)).all()


# ---------------------------------------------------------------- terms

def get_term(term_id):
    term = db.session.get(Term, term_id) if term_id is not None else None
    if term is None:
        raise NotFound("学期不存在")
    return term


def list_terms():
    return db.session.scalars(select(Term).order_by(Term.starts_on.desc(), Term.id.desc())).all()


def open_terms(day):
    """Terms that have not ended on `day`, earliest first: the ones a school can still order for."""
    return db.session.scalars(select(Term).where(Term.ends_on >= day).order_by(Term.starts_on, Term.id)).all()


def default_term(day, terms=None):
    """The term running on `day`, else the next one, else the latest that has ended."""
    terms = terms if terms is not None else list_terms()
    running = [t for t in terms if t.starts_on <= day <= t.ends_on]
    if running:
        return running[0]
    upcoming = sorted((t for t in terms if t.starts_on > day), key=lambda t: t.starts_on)
    if upcoming:
        return upcoming[0]
    return max(terms, key=lambda t: t.ends_on) if terms else None


# ---------------------------------------------------------------- a school's own projects

def own_projects(school, term):
    return db.session.scalars(select(SchoolProject).where(
        SchoolProject.school_id == school.id, SchoolProject.term_id == term.id)
        .order_by(SchoolProject.id)).all()


def own_project(school, project_id):
    project = db.session.get(SchoolProject, project_id)
    if project is None or project.school_id != school.id:
        raise NotFound("项目不存在")
    return project
