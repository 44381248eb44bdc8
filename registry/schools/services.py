"""Schools (学校), their school_admin accounts, terms (学期) and each school's own after-school projects.

Who manages a school: a sys_admin anywhere, a county_reviewer only in their own county (queries.can_manage).
Views turn "cannot manage" into 404, so a school in another county looks like one that does not exist.
Services flush and audit; the request commits.
"""
from decimal import Decimal

from sqlalchemy import select

from registry.audit import services as audit
from registry.auth import services as auth
from registry.auth.roles import Role
from registry.core import signals
from registry.core.errors import NotAllowed, NotFound, ValidationFailed
from registry.extensions import db
from registry.projects.models import CATEGORY_LABELS
from registry.regions import services as regions
from registry.regions.models import RegionLevel
from registry.schools.models import School, SchoolProject, SchoolType, Term
from registry.schools.queries import can_manage

SCHOOL_FIELDS = ("name", "code", "county_code", "school_type", "address", "student_count")


# ---------------------------------------------------------------- jurisdiction

def require_manager(actor):
    if actor is None or actor.role not in (Role.sys_admin, Role.county_reviewer):
        raise NotAllowed("只有系统管理员或县（市、区）教育局审核员可以管理学校")


def county_for(actor, county_code):
    """The county region for a code, refused when it is not a county or outside the actor's county."""
    county = regions.get_by_code(county_code) if county_code else None
    if county is None or county.level != RegionLevel.county:
        raise ValidationFailed({"county_code": [f"区县代码 {county_code} 不是有效的县（市、区）"]})
    if actor.role == Role.county_reviewer and county.id != actor.region_id:
        raise ValidationFailed({"county_code": [f"只能登记本辖区（{actor.region.name}）的学校"]})
    return county


def code_taken(code, exclude_id=None):
    stmt = select(School.name).where(School.code == code)
    if exclude_id is not None:
        stmt = stmt.where(School.id != exclude_id)
    return db.session.scalar(stmt)


# ---------------------------------------------------------------- schools

def create_school(*, actor, name, code, county_code, school_type, address="", student_count=0):
    require_manager(actor)
    county = county_for(actor, county_code)
    taken = code_taken(code)
    if taken is not None:
        raise ValidationFailed({"code": [f"学校标识码 {code} 已被“{taken}”使用"]})
    school = School(name=name.strip(), code=code, county=county, city_id=county.parent_id,
                    school_type=SchoolType(school_type), address=(address or "").strip(),
                    student_count=student_count or 0)
    db.session.add(school)
    db.session.flush()
    audit.record("school.create", object_type="school", object_id=school.id, actor=actor,
                 details={"code": code, "county": county.code})
    return school


def update_school(school, *, actor, **changes):
    require_manager(actor)
    if not can_manage(actor, school):
        raise NotFound("学校不存在")
    unknown = set(changes) - set(SCHOOL_FIELDS)
    if unknown:
        raise ValidationFailed({sorted(unknown)[0]: ["未知字段"]})
    before = {"name": school.name, "code": school.code, "county": school.county.code,
              "school_type": school.school_type.value, "address": school.address,
              "student_count": school.student_count}
    if "code" in changes and changes["code"] != school.code:
        taken = code_taken(changes["code"], exclude_id=school.id)
        if taken is not None:
            raise ValidationFailed({"code": [f"学校标识码 {changes['code']} 已被“{taken}”使用"]})
        school.code = changes["code"]
    if "county_code" in changes and changes["county_code"] != school.county.code:
        county = county_for(actor, changes["county_code"])
        school.county, school.city_id = county, county.parent_id
    if "name" in changes:
        school.name = changes["name"].strip()
    if "school_type" in changes:
        school.school_type = SchoolType(changes["school_type"])
    if "address" in changes:
        school.address = (changes["address"] or "").strip()
    if "student_count" in changes:
        school.student_count = changes["student_count"] or 0
    db.session.flush()
    after = {"name": school.name, "code": school.code, "county": school.county.code,
             "school_type": school.school_type.value, "address": school.address,
             "student_count": school.student_count}
    audit.record("school.update", object_type="school", object_id=school.id, actor=actor,
                 details={k: [before[k], after[k]] for k in before if before[k] != after[k]})
    return school


def create_school_admin(school, *, actor, username, display_name, password, email=None):
    """A school_admin account bound to the school; the password must be changed at first login."""
    require_manager(actor)
    if not can_manage(actor, school):
        raise NotFound("学校不存在")
    return auth.create_user(username=username, display_name=display_name, role="school_admin", password=password,
                            email=email, actor=actor, must_change_password=True, school_id=school.id)


# ---------------------------------------------------------------- terms

def _require_sys_admin(actor):
    if actor is None or actor.role != Role.sys_admin:
        raise NotAllowed("学期由系统管理员设置")


def _term_name_free(name, exclude_id=None):
    stmt = select(Term.id).where(Term.name == name)
    if exclude_id is not None:
        stmt = stmt.where(Term.id != exclude_id)
    if db.session.scalar(stmt) is not None:
        raise ValidationFailed({"name": [f"学期“{name}”已存在"]})


def create_term(*, actor, name, starts_on, ends_on):
    _require_sys_admin(actor)
    name = name.strip()
    _term_name_free(name)
    if ends_on <= starts_on:
        raise ValidationFailed({"ends_on": ["学期结束日期须晚于开始日期"]})
    term = Term(name=name, starts_on=starts_on, ends_on=ends_on)
    db.session.add(term)
    db.session.flush()
    audit.record("term.create", object_type="term", object_id=term.id, actor=actor,
                 details={"name": name, "starts_on": starts_on.isoformat(), "ends_on": ends_on.isoformat()})
    return term


def update_term(term, *, actor, name, starts_on, ends_on):
    _require_sys_admin(actor)
    name = name.strip()
    _term_name_free(name, exclude_id=term.id)
    if ends_on <= starts_on:
        raise ValidationFailed({"ends_on": ["学期结束日期须晚于开始日期"]})
    before = [term.name, term.starts_on.isoformat(), term.ends_on.isoformat()]
    term.name, term.starts_on, term.ends_on = name, starts_on, ends_on
    db.session.flush()
    audit.record("term.update", object_type="term", object_id=term.id, actor=actor,
                 details={"before": before, "after": [name, starts_on.isoformat(), ends_on.isoformat()]})
    return term


# ---------------------------------------------------------------- a school's own projects and the share

def _own_school(actor, school):
    if actor is None or actor.school_id != school.id:
        raise NotAllowed("只能管理本校的课后服务项目")


def add_own_project(school, *, actor, term_id, name, category, teacher):
    _own_school(actor, school)
    term = db.session.get(Term, term_id)
    if term is None:
        raise ValidationFailed({"term_id": ["所选学期不存在"]})
    name = name.strip()
    exists = db.session.scalar(select(SchoolProject.id).where(
        SchoolProject.school_id == school.id, SchoolProject.term_id == term.id, SchoolProject.name == name))
    if exists is not None:
        raise ValidationFailed({"name": [f"{term.name}已有名为“{name}”的项目"]})
    project = SchoolProject(school_id=school.id, term_id=term.id, name=name, category=category,
                            teacher=teacher.strip())
    db.session.add(project)
    db.session.flush()
    audit.record("school_project.create", object_type="school_project", object_id=project.id, actor=actor,
                 details={"school_id": school.id, "term_id": term.id, "name": name,
                          "category": CATEGORY_LABELS.get(project.category, str(category))})
    return project


def remove_own_project(project, *, actor):
    """Remove one of the school's own projects, unless the third-party share would then exceed the limit."""
    school = db.session.get(School, project.school_id)
    _own_school(actor, school)
    term = db.session.get(Term, project.term_id)
    current = signals.third_party_share(school, term)
    own_after = current.own - 1
    if current.third_party and (own_after + current.third_party == 0 or
                                Decimal(current.third_party) / Decimal(own_after + current.third_party)
                                > current.limit):
        percent = (Decimal(current.third_party) / Decimal(own_after + current.third_party) * 100).quantize(Decimal("1"))
        raise ValidationFailed({"project": [
            f"删除“{project.name}”后，{term.name}第三方项目将占课后服务项目的 {percent}%"
            f"（{current.third_party}/{own_after + current.third_party}），超过本市上限 "
            f"{(current.limit * 100).quantize(Decimal('1'))}%，不能删除"]})
    details = {"school_id": school.id, "term_id": term.id, "name": project.name}
    db.session.delete(project)
    db.session.flush()
    audit.record("school_project.delete", object_type="school_project", object_id=project.id, actor=actor,
                 details=details)


def share_view(school, term):
    """The third-party share of a term as a dict for pages and the API, with a Chinese sentence."""
    current = signals.third_party_share(school, term)
    limit = (current.limit * 100).quantize(Decimal("1"))
    percent = (current.ratio * 100).quantize(Decimal("1"))
    text = (f"{term.name}：本校自有课后服务项目 {current.own} 个，第三方项目 {current.third_party} 个，"
            f"第三方占比 {percent}%，本市上限 {limit}%。")
    if current.allows_one_more():
        after = (Decimal(current.third_party + 1) / Decimal(current.total + 1) * 100).quantize(Decimal("1"))
        text += f"再点单一个第三方项目后占比为 {after}%，未超过上限。"
    else:
        text += "再点单一个第三方项目将超过上限，请先登记本校自有课后服务项目。"
    return {"term": term, "own": current.own, "third_party": current.third_party, "share": current,
            "allows_one_more": current.allows_one_more(), "message": text, "limit_percent": limit,
            "percent": percent}

