"""Complaints (投诉) and appeals (申诉/复核): the HTML pages.

Public: the phone-first complaint form (/complaints/new, rate-limited, real name and phone required, photos
or PDFs as evidence), the status page by tracking code (/complaints/track) with the 回访 rating, and the
monthly statistics (/complaints/stats, counts only). Schools and inspectors file from their accounts
(/complaints/file). Handling bureaus work from /complaints/queue; a provider (or a school) answers statement
requests and reads decided complaints without the complainant (/provider/complaints, /school/complaints);
a provider appeals at /provider/appeals and a city reviewer other than the original decider decides at
/review/appeals."""
from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user
from marshmallow import EXCLUDE

from registry.auth.roles import Role
from registry.complaints import queries, ratelimit, schemas
from registry.complaints import services as complaints
from registry.complaints.models import ComplaintStatus, SanctionStatus
from registry.core import clock
from registry.core.errors import DomainError, NotFound, ValidationFailed
from registry.core.schema import load, parse_form
from registry.extensions import db
from registry.files import services as files
from registry.files.models import StoredFile

bp = Blueprint("complaints", __name__)


def _actor():
    return current_user._get_current_object()


def _errors(exc):
    if isinstance(exc, ValidationFailed):
        return exc.errors
    if exc.status in (404, 409):
        return {exc.field or "_schema": [exc.message]}
    raise exc


def _form(schema_cls):
    return load(schema_cls(unknown=EXCLUDE), request.form.to_dict())


def _uploads(field="evidence"):
    return [files.read_upload(f, field=field) for f in request.files.getlist(field) if f and f.filename]


# ---------------------------------------------------------------- public: file, track, rate, statistics

def _public_form(errors=None, form=None, message=None, status=200):
    cities, schools, providers = queries.public_choices()
    return render_template("complaints/new.html", errors=errors or {}, form=form or {}, message=message,
                           categories=schemas.CATEGORY_CHOICES, cities=cities, schools=schools,
                           providers=providers), status


@bp.get("/complaints/new")
def public_form():
    return _public_form()


def _limited_page():
    return _public_form(form=request.form, message=ratelimit.LIMIT_MESSAGE, status=429)


@bp.post("/complaints/new")
@ratelimit.complaint_limited(_limited_page)
def file_public():
    try:
        data = parse_form(schemas.PublicComplaintIn())
        complaints.check_complainant(data["name"], data["phone"])
        evidence = complaints.store_evidence(_uploads())
        case = complaints.open_case(source="public", category=data["category"], summary=data["summary"],
                                    school_id=data.get("school_id"), provider_id=data.get("provider_id"),
                                    project_id=data.get("project_id"), complainant_name=data["name"],
                                    complainant_phone=data["phone"], evidence=evidence)
    except DomainError as exc:
        db.session.rollback()
        return _public_form(errors=getattr(exc, "errors", None) or {"_schema": [exc.message]}, form=request.form,
                            status=exc.status)
    return redirect(url_for("complaints.track", code=case.tracking_code, new=1))


@bp.get("/complaints/track")
def track():
    code = (request.args.get("code") or "").strip()
    complaint, error = None, None
    if code:
        try:
            complaint = queries.by_tracking_code(code)
        except NotFound as exc:
            error = exc.message
    return render_template("complaints/track.html", complaint=complaint, code=code, error=error,
                           new=request.args.get("new"), errors={}), 404 if error else 200


@bp.post("/complaints/track/rate")
def rate_public():
    complaint = queries.by_tracking_code(request.form.get("code"))
    actor = None
    if complaint.filed_by_id is not None:  # an account's complaint is rated by that account only
        if not current_user.is_authenticated or current_user.id != complaint.filed_by_id:
            raise NotFound("查询码不存在，请核对后重试")
        actor = _actor()
    try:
        data = load(schemas.RateIn(unknown=EXCLUDE), request.form.to_dict())
        complaints.rate(complaint, actor=actor, **data)
    except DomainError as exc:
        db.session.rollback()
        return render_template("complaints/track.html", complaint=queries.by_tracking_code(complaint.tracking_code),
                               code=complaint.tracking_code, error=None, new=None, errors=_errors(exc)), exc.status
    flash("感谢您的评价，投诉已办结。", "success")
    return redirect(url_for("complaints.track", code=complaint.tracking_code))


@bp.get("/complaints/stats")
def stats():
    args = load(schemas.StatsQueryIn(unknown=EXCLUDE), request.args.to_dict())
    cities, _schools, _providers = queries.public_choices()
    return render_template("complaints/stats.html", rows=queries.public_stats(args.get("city_id")), args=args,
                           cities=cities, categories=schemas.CATEGORY_CHOICES)


# ---------------------------------------------------------------- schools and inspectors file from their accounts

def _account_form(errors=None, form=None, status=200):
    user = _actor()
    context = {}
    if user.role == Role.school_admin:
        context = {"staff": queries.school_staff(user.school_id), "providers": queries.school_providers(user.school_id)}
    else:
        _cities, schools, providers = queries.public_choices()
        context = {"staff": [], "providers": [(p.id, p.name) for p in providers],
                   "schools": [(s.id, s.name) for s in schools]}
    return render_template("complaints/file.html", errors=errors or {}, form=form or {},
                           categories=schemas.CATEGORY_CHOICES, mine=queries.filed_by(user), **context), status


@bp.get("/complaints/file")
def account_form():
    return _account_form()


@bp.post("/complaints/file")
def file_account():
    user = _actor()
    try:
        data = parse_form(schemas.AccountComplaintIn())
        if user.role == Role.school_admin:
            data["school_id"] = user.school_id
        evidence = complaints.store_evidence(_uploads(), actor=user)
        case = complaints.open_case(source="school" if user.role == Role.school_admin else "inspector",
                                    actor=user, evidence=evidence, **data)
    except DomainError as exc:
        db.session.rollback()
        return _account_form(errors=_errors(exc), form=request.form, status=exc.status)
    flash(f"投诉已提交，查询码 {case.tracking_code}，承办单位：{case.region.name}教育局。", "success")
    return redirect(url_for("complaints.account_form"))


# ---------------------------------------------------------------- handling bureaus

@bp.get("/complaints/queue")
def queue():
    args = load(schemas.QueueQueryIn(unknown=EXCLUDE), request.args.to_dict())
    return render_template("complaints/queue.html", items=queries.queue(_actor(), args["show"]), args=args,
                           today=clock.today())


def _detail(complaint_id, errors=None, form=None, status=200):
    complaint = queries.own_complaint(_actor(), complaint_id)
    name, phone = complaints.complainant(complaint)
    evidence = [db.session.get(StoredFile, fid) for fid in complaint.evidence]
    return render_template("complaints/detail.html", complaint=complaint, name=name, phone=phone, evidence=evidence,
                           errors=errors or {}, form=form or {}, today=clock.today(), outcomes=schemas.OUTCOME_CHOICES,
                           sanction_labels=schemas.SANCTION_LABELS, proposed=SanctionStatus.proposed,
                           S=ComplaintStatus, is_city=_actor().role == Role.city_reviewer), status


@bp.get("/complaints/<int:complaint_id>")
def detail(complaint_id):
    return _detail(complaint_id)


def _act(complaint_id, schema, action, done):
    complaint = queries.own_complaint(_actor(), complaint_id)
    try:
        data = load(schema, request.form.to_dict()) if schema is not None else {}
        data.pop("csrf_token", None)
        action(complaint, actor=_actor(), **data)
    except DomainError as exc:
        db.session.rollback()
        return _detail(complaint_id, errors=_errors(exc), form=request.form, status=exc.status)
    flash(done, "success")
    return redirect(url_for("complaints.detail", complaint_id=complaint_id))


@bp.post("/complaints/<int:complaint_id>/acknowledge")
def acknowledge(complaint_id):
    return _act(complaint_id, None, complaints.acknowledge, "已确认受理")


@bp.post("/complaints/<int:complaint_id>/extend")
def extend(complaint_id):
    return _act(complaint_id, schemas.ReasonIn(unknown=EXCLUDE), complaints.extend, "办理期限已延长")


@bp.post("/complaints/<int:complaint_id>/request-response")
def request_response(complaint_id):
    return _act(complaint_id, schemas.ResponseRequestIn(unknown=EXCLUDE), complaints.request_response,
                "已请被投诉方陈述")


@bp.post("/complaints/<int:complaint_id>/decide")
def decide(complaint_id):
    return _act(complaint_id, schemas.DecideIn(unknown=EXCLUDE), complaints.decide, "处理结论已作出")


@bp.post("/complaints/<int:complaint_id>/sanction")
def sanction(complaint_id):
    return _act(complaint_id, schemas.SanctionIn(unknown=EXCLUDE), complaints.confirm_sanction, "处理建议已办理")


@bp.get("/complaints/<int:complaint_id>/evidence/<int:file_id>")
def evidence(complaint_id, file_id):
    complaint = queries.own_complaint(_actor(), complaint_id)
    if file_id not in complaint.evidence:
        raise NotFound("文件不存在或您无权查看")
    return files.download_response(db.session.get(StoredFile, file_id))


# ---------------------------------------------------------------- the provider and the school answer

def _respondent_page(template, items, errors=None, status=200, **extra):
    return render_template(template, items=items, errors=errors or {}, S=ComplaintStatus, **extra), status


def _provider_page(errors=None, status=200, appeal_form=None):
    user = _actor()
    provider = user.provider
    return _respondent_page("complaints/provider.html", queries.for_provider(user.provider_id), errors, status,
                            appeals=queries.appeals_for_provider(user.provider_id),
                            appealable=queries.appealable(provider), appeal_form=appeal_form or {})


@bp.get("/provider/complaints")
def provider_complaints():
    return _provider_page()


@bp.post("/provider/complaints/<int:complaint_id>/respond")
def provider_respond(complaint_id):
    complaint = queries.own_provider_complaint(_actor().provider_id, complaint_id)
    try:
        complaints.respond(complaint, actor=_actor(), **_form(schemas.RespondIn))
    except DomainError as exc:
        db.session.rollback()
        return _provider_page(errors={complaint_id: _errors(exc)}, status=exc.status)
    flash("陈述已提交", "success")
    return redirect(url_for("complaints.provider_complaints"))


@bp.post("/provider/appeals")
def file_appeal():
    user = _actor()
    try:
        form = {k: v for k, v in request.form.to_dict().items() if k != "csrf_token" and v != ""}
        # The page offers each appealable decision as "subject:field:id" in one select.
        subject, _, rest = form.pop("decision", "").partition(":")
        field, _, record_id = rest.partition(":")
        if subject and field in ("application_id", "action_id", "complaint_id"):
            form.update({"subject": subject, field: record_id})
        data = load(schemas.AppealIn(), form)
        evidence = complaints.store_evidence(_uploads(), actor=user, provider_id=user.provider_id)
        complaints.file_appeal(user.provider, actor=user, evidence=evidence, **data)
    except DomainError as exc:
        db.session.rollback()
        return _provider_page(errors={"appeal": _errors(exc)}, status=exc.status, appeal_form=request.form)
    flash("申诉已提交，将由原决定人以外的审核员复核；复核期间原决定继续有效。", "success")
    return redirect(url_for("complaints.provider_complaints"))


def _school_page(errors=None, status=200):
    return _respondent_page("complaints/school.html", queries.for_school(_actor().school_id), errors, status)


@bp.get("/school/complaints")
def school_complaints():
    return _school_page()


@bp.post("/school/complaints/<int:complaint_id>/respond")
def school_respond(complaint_id):
    complaint = next((c for c in queries.for_school(_actor().school_id) if c.id == complaint_id), None)
    if complaint is None:
        raise NotFound("投诉不存在")
    try:
        complaints.respond(complaint, actor=_actor(), **_form(schemas.RespondIn))
    except DomainError as exc:
        db.session.rollback()
        return _school_page(errors={complaint_id: _errors(exc)}, status=exc.status)
    flash("陈述已提交", "success")
    return redirect(url_for("complaints.school_complaints"))


# ---------------------------------------------------------------- appeals: the city reviewer

@bp.get("/review/appeals")
def appeals():
    show = "all" if request.args.get("show") == "all" else "pending"
    return render_template("complaints/appeals.html", items=queries.appeal_queue(_actor(), show), show=show)


def _appeal_page(appeal_id, errors=None, status=200):
    appeal = queries.own_appeal(_actor(), appeal_id)
    evidence = [db.session.get(StoredFile, fid) for fid in appeal.evidence]
    return render_template("complaints/appeal.html", appeal=appeal, evidence=evidence, errors=errors or {},
                           is_decider=appeal.original_decider_id == _actor().id), status


@bp.get("/review/appeals/<int:appeal_id>")
def appeal_detail(appeal_id):
    return _appeal_page(appeal_id)


@bp.post("/review/appeals/<int:appeal_id>/decide")
def decide_appeal(appeal_id):
    appeal = queries.own_appeal(_actor(), appeal_id)
    try:
        complaints.decide_appeal(appeal, actor=_actor(),
                                 **load(schemas.AppealDecisionIn(unknown=EXCLUDE), request.form.to_dict()))
    except DomainError as exc:
        db.session.rollback()
        return _appeal_page(appeal_id, errors=_errors(exc), status=exc.status)
    flash(f"复核已办结：{appeal.status_label}", "success")
    return redirect(url_for("complaints.appeal_detail", appeal_id=appeal_id))
