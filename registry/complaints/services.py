"""Complaints (投诉): filing, routing, working-day deadlines and the handling lifecycle (issue 17).

Routing: the county of the school takes a complaint; the city takes one whose subject is a provider (or
its project or staff) with no school. Deadlines are working days from the registry's calendar, with the
city's policy numbers (12345 practice: acknowledge in 1, resolve in 13, one extension with a reason)."""
import re
import secrets

from sqlalchemy import select

from registry.adjustments import services as adjustments
from registry.adjustments.models import ActionKind, ProviderAction, ReasonCategory
from registry.applications import services as applications
from registry.applications.models import Application, ApplicationStatus
from registry.audit import services as audit
from registry.auth.models import User
from registry.auth.roles import Role
from registry.calendar import services as calendar
from registry.complaints.models import (
    APPEAL_STATUS_LABELS,
    COMPLAINT_STATUS_LABELS,
    Appeal,
    AppealStatus,
    AppealSubject,
    Complaint,
    ComplaintCategory,
    ComplaintSource,
    ComplaintStatus,
    Outcome,
    SanctionStatus,
    SubjectKind,
)
from registry.core import clock, crypto
from registry.core.errors import Conflict, NotAllowed, NotFound, ValidationFailed
from registry.core.lifecycle import Lifecycle, Move, StatusChange
from registry.extensions import db
from registry.files import services as files
from registry.notifications import services as notifications
from registry.orders.models import Order
from registry.passes.models import EntryPass
from registry.people.models import Person
from registry.policy import services as policy
from registry.projects.models import Project
from registry.providers.models import Provider
from registry.regions.models import Region
from registry.schools.models import School

NAME_CONTEXT = "complaint.complainant_name"
PHONE_CONTEXT = "complaint.complainant_phone"
TRACKING_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read out on the phone


PHONE = re.compile(r"^(1[3-9]\d{9}|0\d{2,3}-?\d{7,8})$")


def check_complainant(name, phone):
    """A public complaint is filed under a real name with a phone number (never shown publicly)."""
    name, phone = (name or "").strip(), re.sub(r"[\s]", "", phone or "")
    errors = {}
    if not 2 <= len(name) <= 32:
        errors["name"] = ["请填写真实姓名（2–32个字）"]
    if not PHONE.match(phone):
        errors["phone"] = ["请填写11位手机号码或带区号的固定电话"]
    if errors:
        raise ValidationFailed(errors)
    return name, phone


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
    if source == ComplaintSource.public:
        complainant_name, complainant_phone = check_complainant(complainant_name, complainant_phone)
    pass_code = (pass_code or "").strip().upper() or None
    if pass_code and not person_id:  # a person named by the code on their entry pass (issue 14)
        entry_pass = db.session.scalar(select(EntryPass).where(EntryPass.code == pass_code))
        if entry_pass is None:
            raise ValidationFailed({"pass_code": ["未找到该入校凭证编号，请核对凭证上的编号"]})
        person_id, school_id = entry_pass.person_id, school_id or entry_pass.school_id
        order_id = order_id or entry_pass.order_id
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
        person_id=getattr(person, "id", None), pass_code=pass_code,
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


# ---------------------------------------------------------------- evidence

MAX_EVIDENCE = 6


def store_evidence(uploads, *, actor=None, provider_id=None, field="evidence"):
    """Store (filename, bytes) uploads with the documents' checks (PDF, JPEG, PNG by content; size; no active
    PDF); returns the stored file ids. Public evidence belongs to no provider, so the provider's file page
    never serves it; the handling bureau downloads it from the complaint."""
    uploads = [u for u in uploads if u and u[1]]
    if len(uploads) > MAX_EVIDENCE:
        raise ValidationFailed({field: [f"最多上传 {MAX_EVIDENCE} 个证据文件"]})
    return [files.store(name, data, provider_id=provider_id, uploaded_by=actor, field=field).id
            for name, data in uploads]


def add_evidence(complaint, uploads, *, actor=None):
    """More evidence for an open complaint (the API files first, then uploads one file at a time)."""
    if not complaint.is_open:
        raise Conflict("投诉已办结，不能再补充证据", code="not_open")
    if len(complaint.evidence) + len(uploads) > MAX_EVIDENCE:
        raise ValidationFailed({"file": [f"每件投诉最多 {MAX_EVIDENCE} 个证据文件"]})
    ids = store_evidence(uploads, actor=actor, field="file")
    COMPLAINT.hold(complaint)
    complaint.evidence = [*complaint.evidence, *ids]
    db.session.flush()
    audit.record("complaint.evidence", object_type="complaint", object_id=complaint.id, actor=actor,
                 details={"files": ids})
    return complaint


# ---------------------------------------------------------------- the handling lifecycle

def _handler_guard(complaint, actor, **_):
    if not may_handle(actor, complaint):
        raise NotAllowed("只有承办该投诉的教育局可以办理")


def _decide_guard(complaint, actor, **_):
    _handler_guard(complaint, actor)
    if complaint.response is None and (complaint.response_due is None or complaint.response_due >= clock.today()):
        raise Conflict(f"须先听取被投诉方陈述：陈述期至{complaint.response_due}，期满或收到陈述后方可作出结论",
                       code="awaiting_response")


C = ComplaintStatus
COMPLAINT = Lifecycle("complaint", Complaint, labels=COMPLAINT_STATUS_LABELS, moves=[
    Move("acknowledge", frozenset({C.received}), C.acknowledged, _handler_guard),
    Move("request_response", frozenset({C.acknowledged}), C.awaiting_response, _handler_guard),
    Move("decide", frozenset({C.awaiting_response}), C.decided, _decide_guard),
    Move("close", frozenset({C.decided}), C.closed),
])


def may_handle(actor, complaint):
    """The county bureau the complaint was routed to, or any reviewer of its city (the city takes what a
    provider without a school is accused of, and what the sweep escalates)."""
    if actor is None:
        return False
    if actor.role == Role.city_reviewer:
        return actor.region_id == complaint.city_id
    return actor.role == Role.county_reviewer and actor.region_id == complaint.region_id


def _text(value, field, message, limit=4000):
    value = (value or "").strip()
    if not value:
        raise ValidationFailed({field: [message]})
    if len(value) > limit:
        raise ValidationFailed({field: [f"不能超过{limit}字"]})
    return value


def _users(**where):
    stmt = notifications.recipients().where(User.disabled_at.is_(None))
    for key, value in where.items():
        stmt = stmt.where(getattr(User, key) == value)
    return db.session.scalars(stmt).all()


def _tell_complainant(complaint, title, body):
    """Account filers get a notification; the public reads the status page by tracking code."""
    if complaint.filed_by_id:
        notifications.notify([db.session.get(User, complaint.filed_by_id)], title=title, body=body,
                             link=f"/complaints/track?code={complaint.tracking_code}", category="complaint")


def acknowledge(complaint, *, actor):
    COMPLAINT.transition(complaint, "acknowledge", actor=actor,
                         changes={"acknowledged_on": clock.today(), "handler_id": actor.id})
    _tell_complainant(complaint, "投诉已确认受理", f"办理期限至{complaint.resolve_due.isoformat()}。")
    return complaint


def extend(complaint, *, actor, reason):
    """One extension of the resolution deadline, with a reason (12345 practice)."""
    _handler_guard(complaint, actor)
    reason = _text(reason, "reason", "延期须填写理由", 1000)
    if not complaint.is_open:
        raise Conflict("投诉已办结，不能延期", code="not_open")
    if complaint.extension_reason:
        raise Conflict("办理期限只能延长一次", code="already_extended")
    rules = policy.for_city(complaint.city)
    new_due = calendar.add_working_days(complaint.resolve_due, rules.complaint_extension_working_days).end
    COMPLAINT.hold(complaint)
    old_due = complaint.resolve_due
    complaint.resolve_due, complaint.extension_reason = new_due, reason
    db.session.flush()
    audit.record("complaint.extend", object_type="complaint", object_id=complaint.id, actor=actor,
                 details={"from": old_due.isoformat(), "to": new_due.isoformat(), "reason": reason[:200]})
    _tell_complainant(complaint, "投诉办理期限已延长", f"延长至{new_due.isoformat()}，理由：{reason}")
    return complaint


def _respondents(complaint):
    if complaint.subject_kind == SubjectKind.school:
        return _users(school_id=complaint.school_id, role=Role.school_admin)
    return _users(provider_id=complaint.provider_id, role=Role.provider_admin) if complaint.provider_id else []


def request_response(complaint, *, actor, request):
    """Ask the provider (or, for a complaint against a school, the school) for its statement (陈述), with
    its own deadline. The complainant's identity is never part of the request."""
    request = _text(request, "request", "请填写需要被投诉方说明的事项", 2000)
    if complaint.subject_kind != SubjectKind.school and complaint.provider_id is None:
        raise ValidationFailed({"request": ["该投诉没有可陈述的机构或学校"]})
    rules = policy.for_city(complaint.city)
    due = calendar.add_working_days(clock.today(), rules.complaint_response_working_days).end
    COMPLAINT.transition(complaint, "request_response", actor=actor, reason=request,
                         changes={"response_request": request, "response_due": due})
    notifications.notify(_respondents(complaint), title=f"投诉陈述请求：{complaint.category.label}",
                         body=f"请于{due.isoformat()}前陈述。{request}",
                         link="/provider/complaints" if complaint.subject_kind != SubjectKind.school
                         else "/school/complaints", category="complaint")
    return complaint


def may_respond(actor, complaint):
    if actor is None:
        return False
    if complaint.subject_kind == SubjectKind.school:
        return actor.role == Role.school_admin and actor.school_id == complaint.school_id
    return actor.role == Role.provider_admin and actor.provider_id == complaint.provider_id


def respond(complaint, *, actor, response):
    if not may_respond(actor, complaint):
        raise NotAllowed("只有被投诉的机构或学校可以陈述")
    response = _text(response, "response", "请填写陈述内容")
    if complaint.status != ComplaintStatus.awaiting_response:
        raise Conflict("当前不在陈述期", code="not_awaiting_response")
    if complaint.response is not None:
        raise Conflict("已经提交过陈述", code="already_responded")
    COMPLAINT.hold(complaint)
    complaint.response, complaint.responded_at = response, clock.utcnow()
    db.session.flush()
    audit.record("complaint.respond", object_type="complaint", object_id=complaint.id, actor=actor)
    notifications.notify(handlers(complaint.region_id), title="被投诉方已陈述",
                         body=f"投诉 #{complaint.id}（{complaint.category.label}）", link=f"/complaints/{complaint.id}",
                         category="complaint")
    return complaint


# The adjustment reason each complaint category maps to; the serious ones are adjustments.SERIOUS.
REASON_OF = {
    ComplaintCategory.forced_participation: ReasonCategory.forced_participation,
    ComplaintCategory.new_lessons: ReasonCategory.new_lessons,
    ComplaintCategory.illegal_fees: ReasonCategory.illegal_fees,
    ComplaintCategory.safety_incident: ReasonCategory.safety_incident,
    ComplaintCategory.selling: ReasonCategory.selling,
}


def reason_category(complaint):
    return REASON_OF.get(complaint.category, ReasonCategory.other)


def sanction_for(complaint):
    """What an upheld complaint against a provider proposes: a serious category (adjustments.SERIOUS) →
    delisting plus a ban; any other → a warning. None for a complaint against a school."""
    if complaint.subject_kind == SubjectKind.school or complaint.provider_id is None:
        return None
    return ActionKind.delisting if reason_category(complaint) in adjustments.SERIOUS else ActionKind.warning


def decide(complaint, *, actor, outcome, reason):
    """Upheld or dismissed, with reasons, after the statement (or its deadline). Upheld against a provider:
    the sanction is proposed to the city's reviewers; against a school: it counts in the county's
    supervision record (queries.supervision_record)."""
    outcome = _enum(Outcome, outcome, "outcome", "请选择投诉成立或不成立")
    reason = _text(reason, "reason", "请填写处理结论的理由")
    sanction = sanction_for(complaint) if outcome == Outcome.upheld else None
    changes = {"outcome": outcome, "decision_reason": reason, "decided_on": clock.today(),
               "decided_by_id": actor.id if actor else None}
    if sanction is not None:
        changes.update(sanction_kind=sanction.value, sanction_status=SanctionStatus.proposed)
    COMPLAINT.transition(complaint, "decide", actor=actor, reason=reason, changes=changes)
    _tell_complainant(complaint, f"投诉已办结：{outcome.label}", reason)
    if complaint.provider_id and complaint.subject_kind != SubjectKind.school:
        notifications.notify(_respondents(complaint), title=f"投诉处理结果：{outcome.label}", body=reason,
                             link="/provider/complaints", category="complaint")
    if sanction is not None:
        notifications.notify(_users(region_id=complaint.city_id, role=Role.city_reviewer),
                             title=f"待确认的处理建议：{ActionKind(sanction).label}",
                             body=f"投诉 #{complaint.id}（{complaint.category.label}）成立，请确认处理建议。",
                             link=f"/complaints/{complaint.id}", category="complaint")
    return complaint


def confirm_sanction(complaint, *, actor, confirm, reason=None):
    """A city reviewer confirms (or declines) the proposed sanction. Confirmed: the adjustment runs through
    registry.adjustments (delisting + a ban of the city's ban_years, or a warning), which suspends orders,
    tells the schools and the provider and writes the change feed with the reason category."""
    if actor is None or actor.role != Role.city_reviewer or actor.region_id != complaint.city_id:
        raise NotAllowed("只有该市的市级审核员可以确认处理建议")
    if complaint.sanction_status != SanctionStatus.proposed:
        raise Conflict("没有待确认的处理建议", code="no_proposed_sanction")
    provider = db.session.get(Provider, complaint.provider_id)
    COMPLAINT.hold(complaint)
    if not confirm:
        reason = _text(reason, "reason", "不予确认须填写理由", 1000)
        complaint.sanction_status, complaint.sanction_decided_by_id = SanctionStatus.rejected, actor.id
        db.session.flush()
        audit.record("complaint.sanction_reject", object_type="complaint", object_id=complaint.id, actor=actor,
                     details={"sanction": complaint.sanction_kind, "reason": reason[:200]})
        return complaint
    category = reason_category(complaint)
    text = (reason or "").strip() or f"投诉（{complaint.tracking_code[:7]}…）经查属实：{complaint.decision_reason}"
    if complaint.sanction_kind == ActionKind.delisting.value:
        action = adjustments.delist(provider, actor=actor, reason_category=category.value, reason=text,
                                    ban_until=adjustments.default_ban_end(provider))
    else:
        action = adjustments.warn(provider, actor=actor, reason_category=category.value, reason=text)
    complaint.sanction_status, complaint.sanction_decided_by_id = SanctionStatus.confirmed, actor.id
    complaint.sanction_action_id = action.id
    db.session.flush()
    audit.record("complaint.sanction_confirm", object_type="complaint", object_id=complaint.id, actor=actor,
                 details={"sanction": complaint.sanction_kind, "action_id": action.id})
    return complaint


def rate(complaint, *, rating, comment=None, actor=None):
    """回访: the complainant rates the handling (1–5); the complaint closes."""
    try:
        rating = int(rating)
    except (TypeError, ValueError):
        rating = 0
    if not 1 <= rating <= 5:
        raise ValidationFailed({"rating": ["请选择 1 到 5 的评价"]})
    if actor is not None and complaint.filed_by_id and actor.id != complaint.filed_by_id:
        raise NotAllowed("只有投诉人可以评价")
    comment = (comment or "").strip()[:1000] or None
    COMPLAINT.transition(complaint, "close", actor=actor, reason="投诉人评价",
                         changes={"rating": rating, "rating_comment": comment, "closed_on": clock.today()})
    return complaint


# ---------------------------------------------------------------- appeals (申诉/复核)

A = AppealStatus
APPEAL = Lifecycle("appeal", Appeal, labels=APPEAL_STATUS_LABELS, moves=[
    Move("confirm", frozenset({A.pending}), A.confirmed),
    Move("change", frozenset({A.pending}), A.changed),
])


def original_decision(provider, subject, *, application_id=None, action_id=None, complaint_id=None):
    """(decided on, decider id, record ids) of the decision a provider appeals, or NotFound."""
    subject = _enum(AppealSubject, subject, "subject", "请选择申诉的事项")
    if subject == AppealSubject.rejection:
        app = db.session.get(Application, application_id) if application_id else None
        if app is None or app.provider_id != provider.id or app.status != ApplicationStatus.rejected:
            raise NotFound("没有可申诉的不予通过决定", field="application_id")
        change = db.session.scalars(select(StatusChange).where(
            StatusChange.object_type == "application", StatusChange.object_id == app.id,
            StatusChange.to_status == ApplicationStatus.rejected.value).order_by(StatusChange.id.desc())).first()
        day = change.created_at.date() if change else app.created_at.date()
        return subject, day, getattr(change, "actor_id", None), {"application_id": app.id}
    if subject in (AppealSubject.delisting, AppealSubject.ban):
        kind = ActionKind.delisting if subject == AppealSubject.delisting else ActionKind.ban
        action = db.session.get(ProviderAction, action_id) if action_id else None
        if action is None or action.provider_id != provider.id or action.kind != kind or action.lifted_at:
            raise NotFound("没有可申诉的移出或禁入决定", field="action_id")
        return subject, action.created_at.date(), action.actor_id, {"action_id": action.id}
    complaint = db.session.get(Complaint, complaint_id) if complaint_id else None
    if (complaint is None or complaint.provider_id != provider.id or complaint.outcome != Outcome.upheld
            or complaint.subject_kind == SubjectKind.school):
        raise NotFound("没有可申诉的投诉处理结论", field="complaint_id")
    return subject, complaint.decided_on, complaint.decided_by_id, {"complaint_id": complaint.id}


def appeal_deadline(provider, decided_on):
    return calendar.add_working_days(decided_on, policy.for_city(provider.city).appeal_working_days).end


def file_appeal(provider, *, actor, subject, reasons, application_id=None, action_id=None, complaint_id=None,
                evidence=None):
    """A provider appeals within the city's window (10 working days by default). The decision stands."""
    if actor is None or actor.role != Role.provider_admin or actor.provider_id != provider.id:
        raise NotAllowed("只有本机构账号可以申诉")
    reasons = _text(reasons, "reasons", "请填写申诉理由")
    subject, decided_on, decider_id, ids = original_decision(
        provider, subject, application_id=application_id, action_id=action_id, complaint_id=complaint_id)
    deadline = appeal_deadline(provider, decided_on)
    if clock.today() > deadline:
        raise Conflict(f"申诉期已过：应在{deadline.isoformat()}前提出", code="appeal_window_closed")
    key = next(iter(ids.items()))
    if db.session.scalar(select(Appeal.id).where(getattr(Appeal, key[0]) == key[1], Appeal.subject == subject)):
        raise Conflict("该决定已经申诉过", code="already_appealed")
    appeal = Appeal(provider_id=provider.id, city_id=provider.city_id, subject=subject, original_decider_id=decider_id,
                    decided_on_original=decided_on, reasons=reasons, evidence=list(evidence or []),
                    filed_by_id=actor.id, filed_on=clock.today(), status=AppealStatus.pending, **ids)
    db.session.add(appeal)
    db.session.flush()
    audit.record("appeal.file", object_type="appeal", object_id=appeal.id, actor=actor,
                 details={"subject": subject.value, **ids})
    notifications.notify([u for u in _users(region_id=provider.city_id, role=Role.city_reviewer)
                          if u.id != decider_id], title=f"新的申诉：{subject.label}", body=provider.name,
                         link=f"/review/appeals/{appeal.id}", category="appeal")
    return appeal


def add_appeal_evidence(appeal, uploads, *, actor):
    """More evidence for a pending appeal, by the provider's own account (the API uploads one file at a time)."""
    if actor is None or actor.role != Role.provider_admin or actor.provider_id != appeal.provider_id:
        raise NotAllowed("只有本机构账号可以补充申诉证据")
    if appeal.status != AppealStatus.pending:
        raise Conflict("申诉已复核，不能再补充证据", code="not_pending")
    if len(appeal.evidence) + len(uploads) > MAX_EVIDENCE:
        raise ValidationFailed({"file": [f"每件申诉最多 {MAX_EVIDENCE} 个证据文件"]})
    ids = store_evidence(uploads, actor=actor, provider_id=appeal.provider_id, field="file")
    APPEAL.hold(appeal)
    appeal.evidence = [*appeal.evidence, *ids]
    db.session.flush()
    audit.record("appeal.evidence", object_type="appeal", object_id=appeal.id, actor=actor, details={"files": ids})
    return appeal


def decide_appeal(appeal, *, actor, outcome, reason):
    """A city reviewer other than the original decider confirms the decision or changes it; a change makes
    the move it implies (reinstatement through adjustments, a rejection back to city review)."""
    if actor is None or actor.role != Role.city_reviewer or actor.region_id != appeal.city_id:
        raise NotAllowed("只有机构所在设区市的审核员可以办理复核")
    if appeal.original_decider_id is not None and actor.id == appeal.original_decider_id:
        raise NotAllowed("原决定人不能办理对本人决定的复核，请由其他审核员办理", code="original_decider")
    if outcome not in ("confirm", "change"):
        raise ValidationFailed({"outcome": ["请选择维持或撤销原决定"]})
    reason = _text(reason, "reason", "请填写复核理由")
    changes = {"decision_reason": reason, "decided_by_id": actor.id, "decided_on": clock.today()}
    APPEAL.transition(appeal, outcome, actor=actor, reason=reason, changes=changes)
    provider = appeal.provider
    if outcome == "change":
        _overturn(appeal, provider, actor, reason)
    users = _users(provider_id=provider.id, role=Role.provider_admin)
    notifications.notify(users, title=f"申诉复核结果：{appeal.status.label}", body=reason,
                         link="/provider/complaints#appeal", category="appeal")
    return appeal


def _overturn(appeal, provider, actor, reason):
    text = f"申诉复核撤销原决定：{reason}"
    if appeal.subject == AppealSubject.rejection:
        app = db.session.get(Application, appeal.application_id)
        applications.transition(app, "reconsider", actor=actor, reason=text)
        return
    if appeal.subject == AppealSubject.complaint:
        complaint = db.session.get(Complaint, appeal.complaint_id)
        COMPLAINT.hold(complaint)
        complaint.outcome, complaint.decision_reason = Outcome.dismissed, f"{complaint.decision_reason}（{text}）"
        if complaint.sanction_status == SanctionStatus.proposed:
            complaint.sanction_status = SanctionStatus.rejected
        db.session.flush()
        audit.record("complaint.overturn", object_type="complaint", object_id=complaint.id, actor=actor,
                     details={"appeal_id": appeal.id})
        action = db.session.get(ProviderAction, complaint.sanction_action_id) if complaint.sanction_action_id else None
        if action is None or action.kind != ActionKind.delisting:
            return
    adjustments.reinstate(provider, actor=actor, reason=text)
