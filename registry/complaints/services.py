"""Complaints (投诉): filing, routing, working-day deadlines and the handling lifecycle (issue 17).

Routing: the county of the school takes a complaint; the city takes one whose subject is a provider (or
its project or staff) with no school. Deadlines are working days from the registry's calendar, with the
city's policy numbers (12345 practice: acknowledge in 1, resolve in 13, one extension with a reason)."""
import secrets

from registry.audit import services as audit
from registry.auth.models import User
from registry.auth.roles import Role
from registry.calendar import services as calendar
from registry.complaints.models import (
    Complaint,
    ComplaintCategory,
    ComplaintSource,
    SubjectKind,
)
from registry.core import clock, crypto
from registry.core.errors import ValidationFailed
from registry.extensions import db
from registry.notifications import services as notifications
from registry.orders.models import Order
from registry.people.models import Person
from registry.policy import services as policy
from registry.projects.models import Project
from registry.providers.models import Provider
from registry.regions.models import Region
from registry.schools.models import School

NAME_CONTEXT = "complaint.complainant_name"
PHONE_CONTEXT = "complaint.complainant_phone"
TRACKING_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read out on the phone


def new_tracking_code():
    """TS- and 16 random characters (80 bits): unguessable, so the code alone opens the status page."""
    return "TS-" + "".join(secrets.choice(TRACKING_ALPHABET) for _ in range(16))


def _enum(enum_cls, value, field, message):
    try:
        return enum_cls(value)
    except ValueError:
        raise ValidationFailed({field: [message]}) from None


def _subject(school_id, provider_id, project_id, order_id, person_id):
    """(subject kind, school, provider, project, order, person) with the subject's records filled in from
    one another: an order names its school, project and provider; a project or a person its provider."""
    order = db.session.get(Order, order_id) if order_id else None
    if order_id and order is None:
        raise ValidationFailed({"order_id": ["订单不存在"]})
    if order is not None:
        school_id = school_id or order.school_id
        project_id = project_id or order.project_id
        provider_id = provider_id or order.provider_id
    person = db.session.get(Person, person_id) if person_id else None
    if person_id and person is None:
        raise ValidationFailed({"person_id": ["人员不存在"]})
    project = db.session.get(Project, project_id) if project_id else None
    if project_id and project is None:
        raise ValidationFailed({"project_id": ["服务项目不存在"]})
    provider_id = provider_id or (project.provider_id if project else None) or (person.provider_id if person else None)
    provider = db.session.get(Provider, provider_id) if provider_id else None
    if provider_id and provider is None:
        raise ValidationFailed({"provider_id": ["机构不存在"]})
    school = db.session.get(School, school_id) if school_id else None
    if school_id and school is None:
        raise ValidationFailed({"school_id": ["学校不存在"]})
    if person is not None:
        kind = SubjectKind.person
    elif project is not None:
        kind = SubjectKind.project
    elif provider is not None:
        kind = SubjectKind.provider
    elif school is not None:
        kind = SubjectKind.school
    else:
        raise ValidationFailed({"subject": ["请选择投诉对象：机构、服务项目、人员或学校"]})
    return kind, school, provider, project, order, person


def route(school, provider):
    """(handling region, city): the school's county, else the provider's city."""
    if school is not None:
        return school.county, school.city
    return provider.city, provider.city


def deadlines(city, received_on):
    """(ack_due, resolve_due, calendar warning) in working days from `received_on` under the city's policy."""
    rules = policy.for_city(city)
    ack = calendar.add_working_days(received_on, rules.complaint_ack_working_days)
    resolve = calendar.add_working_days(received_on, rules.complaint_resolve_working_days)
    return ack.end, resolve.end, resolve.warning or ack.warning


def handlers(region_id):
    """The bureau accounts that handle complaints of a region: county reviewers of a county, city
    reviewers of a city."""
    region = db.session.get(Region, region_id)
    role = Role.city_reviewer if region.level.value == "city" else Role.county_reviewer
    return db.session.scalars(notifications.recipients().where(User.region_id == region_id, User.role == role,
                                                                User.disabled_at.is_(None))).all()


def open_case(*, source, category, summary, school_id=None, provider_id=None, project_id=None, order_id=None,
              actor=None, person_id=None, pass_code=None, complainant_name=None, complainant_phone=None,
              evidence=None):
    """Open a complaint in the handling queue: routed, with its deadlines, the handlers told.

    The keyword arguments after `actor` are optional extensions (a person subject, the public complainant's
    real name and phone, evidence file ids); surveys and visits call it with the first ones only."""
    source = _enum(ComplaintSource, source, "source", "来源无效")
    category = _enum(ComplaintCategory, category, "category", "请选择投诉类别")
    summary = (summary or "").strip()
    if not summary:
        raise ValidationFailed({"summary": ["请填写投诉内容"]})
    if len(summary) > 4000:
        raise ValidationFailed({"summary": ["投诉内容不能超过4000字"]})
    kind, school, provider, project, order, person = _subject(school_id, provider_id, project_id, order_id,
                                                              person_id)
    if kind == SubjectKind.person and not person and not pass_code:
        raise ValidationFailed({"person_id": ["请选择被投诉人员"]})
    region, city = route(school, provider)
    today = clock.today()
    ack_due, resolve_due, warning = deadlines(city, today)
    complaint = Complaint(
        tracking_code=new_tracking_code(), source=source, category=category, summary=summary, subject_kind=kind,
        school_id=getattr(school, "id", None), provider_id=getattr(provider, "id", None),
        project_id=getattr(project, "id", None), order_id=getattr(order, "id", None),
        person_id=getattr(person, "id", None), pass_code=(pass_code or "").strip() or None,
        region_id=region.id, city_id=city.id, filed_by_id=getattr(actor, "id", None),
        evidence=list(evidence or []), received_on=today, ack_due=ack_due, resolve_due=resolve_due,
        calendar_warning=warning, reminders=[])
    if complainant_name:
        complaint.complainant_name_enc = crypto.encrypt(complainant_name.strip(), NAME_CONTEXT)
    if complainant_phone:
        complaint.complainant_phone_enc = crypto.encrypt(complainant_phone.strip(), PHONE_CONTEXT)
    db.session.add(complaint)
    db.session.flush()

    audit.record("complaint.open", object_type="complaint", object_id=complaint.id, actor=actor,
                 details={"source": source.value, "category": category.value, "subject": kind.value,
                          "region_id": region.id})
    notifications.notify(handlers(region.id), title=f"新投诉：{category.label}",
                         body=f"请于{ack_due.isoformat()}前确认受理，{resolve_due.isoformat()}前办结。",
                         link=f"/complaints/{complaint.id}", category="complaint")
    return complaint


def complainant(complaint):
    """(name, phone) decrypted, for the handling bureau only."""
    name = crypto.decrypt(complaint.complainant_name_enc, NAME_CONTEXT) if complaint.complainant_name_enc else None
    phone = crypto.decrypt(complaint.complainant_phone_enc, PHONE_CONTEXT) if complaint.complainant_phone_enc else None
    return name, phone
