"""Review (审核) decisions and verification: the reviewer's POST routes, and the reads behind the queue
(/review/applications) and the review screen (/review/applications/<id>), whose GET endpoints live in
registry.applications.views. The JSON API (reviews/api.py) calls the same helpers and services."""
from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user

from registry.applications import queries
from registry.applications.models import KIND_LABELS, STATUS_LABELS, ApplicationStatus
from registry.calendar import services as calendar
from registry.core import clock
from registry.core.errors import DomainError, NotFound, ValidationFailed
from registry.core.pagination import page_args, paginate
from registry.core.schema import load, parse_form
from registry.extensions import db
from registry.people.models import PersonCheck
from registry.policy import services as policy
from registry.providers.models import ProviderDocument
from registry.reviews import presenters, schemas
from registry.reviews import services as reviews
from registry.whitelist.models import BatchStatus, ReleaseBatch

bp = Blueprint("reviews", __name__)

SNAPSHOT_LABELS = {"result": presenters.RESULT_LABELS, "verification": presenters.VERIFY_LABELS}
DONE = {
    "pass": "已报送市级复审",
    "return": "已退回修改，机构将看到逐项意见",
    "reject": "已作出不予通过的决定",
    "approve": "已同意纳入公示批次",
}


WAITING = {ApplicationStatus.submitted, ApplicationStatus.county_review, ApplicationStatus.city_review}


def _actor():
    return current_user._get_current_object()


# ---------------------------------------------------------------- decisions (HTML and JSON)

def check_comment_keys(app, comments):
    """Per-item comments must name items of the submission under review."""
    comments = {k: v for k, v in (comments or {}).items() if (v or "").strip()}
    allowed = presenters.allowed_comment_keys(app.latest_snapshot.data)
    unknown = sorted(set(comments) - allowed)
    if unknown:
        raise ValidationFailed({"comments": [f"无法识别的审核项：{'、'.join(unknown)}"]})
    return comments


def _draft_batch(actor, batch_id):
    batch = db.session.get(ReleaseBatch, batch_id)
    if batch is None or batch.city_id != actor.region_id or batch.status != BatchStatus.draft:
        raise ValidationFailed({"batch_id": ["请选择本市尚未开始公示的批次，或新建批次"]})
    return batch


def _leave_draft_batch(app, actor):
    """A returned or rejected application cannot stay in a batch waiting for publicity."""
    from registry.whitelist import services as whitelist
    batch = presenters.batch_of([app.id]).get(app.id)
    if batch is not None and batch.status == BatchStatus.draft:
        whitelist.remove_from_batch(batch, app.id, actor=actor)


def decide(app, decision, data, actor):
    """One reviewer decision: the version the reviewer saw (409 when stale), the state (409 naming it),
    then the service, which applies jurisdiction, stage and four-eyes (403)."""
    reviews.expect_version(app, data.get("version"))
    reviews.require_decision(app, decision)
    if decision == "pass":
        return reviews.pass_to_city(app, actor=actor, note=data.get("note", ""))
    if decision == "approve":
        batch = _draft_batch(actor, data["batch_id"]) if data.get("batch_id") else None
        return reviews.approve_in_principle(app, actor=actor, batch=batch)
    reviews.require_decider(actor, app)
    if decision == "return":
        comments = check_comment_keys(app, data.get("comments"))
        _leave_draft_batch(app, actor)
        return reviews.return_for_revision(app, actor=actor, comments=comments, general=data.get("general", ""))
    _leave_draft_batch(app, actor)
    return reviews.reject(app, actor=actor, reason=data.get("reason", ""))


def _in_snapshot(app, model, item_id):
    data = app.latest_snapshot.data
    if model is ProviderDocument:
        return any(d["id"] == item_id for d in data["documents"])
    return any(c["id"] == item_id for p in data["people"] for c in p["checks"])


def _verify_for(model, item_id, data, actor):
    """Verify a document or a check while reviewing an application that carries it: only whoever may decide
    on the application now (stage, jurisdiction, four-eyes) may verify its items."""
    item = db.session.get(model, item_id)
    app = queries.readable_application(actor, data["application_id"])
    if item is None or not _in_snapshot(app, model, item_id):
        raise NotFound("该申报中没有这份材料" if model is ProviderDocument else "该申报中没有这条查询记录")
    reviews.require_decider(actor, app)
    verify = reviews.verify_document if model is ProviderDocument else reviews.verify_check
    verify(item, actor=actor, ok=data["decision"] == "verified", note=data.get("note", ""))
    return app, item


def verify_document_for(document_id, data, actor):
    return _verify_for(ProviderDocument, document_id, data, actor)


def verify_check_for(check_id, data, actor):
    return _verify_for(PersonCheck, check_id, data, actor)


# ---------------------------------------------------------------- reads

def waiting(app, today=None):
    """(calendar days, working days) an application waiting for a review decision has waited since its last
    submission; None in any other state."""
    if app.submitted_at is None or app.status not in WAITING:
        return None
    today = today or clock.today()
    since = clock.to_cst(app.submitted_at).date()
    return (today - since).days, calendar.working_days_between(since, today)


def queue_rows(user, args):
    rows = reviews.queue(user, status=args.get("stage"), kind=args.get("kind"), q=args.get("q"),
                         sort=args.get("sort") or "oldest")
    batches = presenters.batch_of([r.application.id for r in rows])
    for row in rows:
        row.decision_problem = reviews.decision_problem(user, row.application)
        batch = batches.get(row.application.id)
        row.batch = f"{batch.name}（{batch.status_label}）" if batch else None
    return rows


def review_data(app, user):
    """What GET /api/v1/reviews/applications/<id> returns."""
    snapshot = app.latest_snapshot
    views = [v for s in app.snapshots for v in presenters.comment_views(app, s.number)]
    batch = presenters.batch_of([app.id]).get(app.id)
    docs, checks = presenters.live_documents(snapshot.data), presenters.live_checks(snapshot.data)
    return {
        "application": app, "snapshot_number": snapshot.number, "snapshot": snapshot.data,
        "diff": presenters.diff_rows(app), "comments": views,
        "decision_problem": reviews.decision_problem(user, app), "decisions": presenters.decisions_for(app),
        "documents": list(docs.values()), "checks": list(checks.values()),
        "unverified": reviews.verification_problems(snapshot.data, docs, checks),
        "batch": f"{batch.name}（{batch.status_label}）" if batch else None,
    }


def chosen_snapshot(app):
    wanted = request.args.get("n", type=int)
    return next((s for s in app.snapshots if s.number == wanted), app.latest_snapshot)


def review_page(application_id, *, errors=None, form=None, message=None, status=200, item_errors=None):
    """The review screen: the frozen snapshot as a checklist, what changed since the last submission,
    earlier comments next to their items, and the decisions this reviewer may take now."""
    user = current_user
    app = queries.readable_application(user, application_id)
    snapshot = chosen_snapshot(app)
    data = snapshot.data
    is_latest = snapshot.number == app.latest_snapshot.number
    previous = next((s for s in app.snapshots if s.number == snapshot.number - 1), None)
    earlier = presenters.comment_views(app, previous.number) if previous else []
    own = presenters.comment_views(app, snapshot.number)
    batch = presenters.batch_of([app.id]).get(app.id)
    decisions = presenters.decisions_for(app) if is_latest else []
    if batch is not None and "approve" in decisions:
        decisions.remove("approve")
    problem = reviews.decision_problem(user, app) if decisions else None
    docs, checks = presenters.live_documents(data), presenters.live_checks(data)
    # What stands in the way of a pass (报送 / 同意纳入公示): the same list the services refuse with.
    unverified = reviews.verification_problems(data, docs, checks) if {"pass", "approve"} & set(decisions) else []
    return render_template(
        "applications/review_detail.html", app=app, snapshot=snapshot, data=data, is_latest=is_latest,
        previous=previous, diff=presenters.diff_rows(app) if is_latest and previous else [],
        earlier=presenters.place_comments(earlier, previous.data if previous else None, data),
        earlier_general=[v for v in earlier if v.key == "general"],
        own=presenters.place_comments(own, data, data), own_general=[v for v in own if v.key == "general"],
        decisions=decisions, problem=problem, batch=batch,
        draft_batches=presenters.draft_batches(app.city_id) if "approve" in decisions else [],
        docs=docs, checks=checks, unverified=unverified,
        fits=presenters.project_fits(app, data), org_fields=presenters.ORG_FIELDS, waiting=waiting(app),
        history=queries.history_rows(app.id), labels=SNAPSHOT_LABELS, errors=errors or {}, form=form or {},
        item_errors=item_errors or {}, message=message, today_iso=clock.today().isoformat(),
    ), status


def queue_page():
    """/review/applications: the reviewer's queue (default), or every application of the jurisdiction by state."""
    user = current_user
    state = request.args.get("state", "queue")
    if state != "queue" and state not in queries.REVIEW_FILTERS:
        state = "queue"
    common = dict(state=state, filters=queries.REVIEW_FILTERS, kind_labels=KIND_LABELS, status_labels=STATUS_LABELS,
                  stages=schemas.STAGES, county_stage=policy.for_region(user.region).county_review_required)
    if state != "queue":
        page = paginate(queries.review_query(user, state), *page_args())
        return render_template("applications/review_list.html", page=page, waiting=waiting, **common)
    raw = {k: request.args.get(k) for k in ("stage", "kind", "q", "sort") if request.args.get(k)}
    errors = {}
    try:
        args = load(schemas.QueueArgs(), raw)
    except ValidationFailed as exc:
        errors, args = exc.errors, load(schemas.QueueArgs(), {})
    rows = queue_rows(user, args)
    mine = {r.application.id for r in rows}
    others = [a for a in db.session.scalars(queries.review_query(user, "open").limit(200)).unique()
              if a.id not in mine]
    return render_template("applications/review_list.html", rows=rows, args=args, raw=raw, errors=errors,
                           others=others, waiting=waiting, **common)


# ---------------------------------------------------------------- HTML: decisions

def _return_form():
    """The return form: one `comment:<item key>` field per item, besides the general comment and version."""
    data, comments = {}, {}
    for key in request.form:
        if key == "csrf_token":
            continue
        if key.startswith("comment:"):
            comments[key.removeprefix("comment:")] = request.form.get(key)
        elif request.form.get(key) not in ("", None):
            data[key] = request.form.get(key)
    return load(schemas.ReturnIn(), {**data, "comments": comments})


def _decision(application_id, decision, parse):
    app = queries.readable_application(current_user, application_id)
    provider_name = app.provider.name
    try:
        decide(app, decision, parse(), _actor())
    except ValidationFailed as exc:
        db.session.rollback()  # nothing half-decided may show on the page
        return review_page(application_id, errors=exc.errors, form=request.form, message=exc.message, status=exc.status)
    except NotFound:
        raise
    except DomainError as exc:
        db.session.rollback()
        return review_page(application_id, form=request.form, message=exc.message, status=exc.status)
    flash(f"“{provider_name}”:{DONE[decision]}", "success")
    return redirect(url_for("applications.review_list"))


@bp.post("/review/applications/<int:application_id>/pass")
def pass_to_city(application_id):
    return _decision(application_id, "pass", lambda: parse_form(schemas.PassIn()))


@bp.post("/review/applications/<int:application_id>/approve")
def approve_in_principle(application_id):
    return _decision(application_id, "approve", lambda: parse_form(schemas.ApproveIn()))


@bp.post("/review/applications/<int:application_id>/return")
def return_for_revision(application_id):
    return _decision(application_id, "return", _return_form)


@bp.post("/review/applications/<int:application_id>/reject")
def reject(application_id):
    return _decision(application_id, "reject", lambda: parse_form(schemas.RejectIn()))


# ---------------------------------------------------------------- HTML: verification

def _verify(model, item_id, schema, action, anchor, done):
    if db.session.get(model, item_id) is None:
        raise NotFound("记录不存在")
    data = parse_form(schema)
    try:
        app, _item = action(item_id, data, _actor())
    except NotFound:
        raise
    except DomainError as exc:
        db.session.rollback()
        messages = exc.errors.get("note", [exc.message]) if isinstance(exc, ValidationFailed) else [exc.message]
        return review_page(data["application_id"], item_errors={anchor: messages}, form=request.form,
                           message=exc.message, status=exc.status)
    flash(done(data["decision"]), "success")
    return redirect(url_for("applications.review_detail", application_id=app.id, _anchor=anchor))


@bp.post("/review/documents/<int:document_id>/verify")
def verify_document(document_id):
    return _verify(ProviderDocument, document_id, schemas.VerifyDocumentIn(), verify_document_for, f"doc-{document_id}",
                   lambda d: "材料已核验通过" if d == "verified" else "材料已驳回，机构须上传新版本")


@bp.post("/review/checks/<int:check_id>/verify")
def verify_check(check_id):
    return _verify(PersonCheck, check_id, schemas.VerifyCheckIn(), verify_check_for, f"check-{check_id}",
                   lambda d: "查询记录已核验无误" if d == "verified"
                   else "已标记为有不良记录：该人员已列入全省禁入名单，并已提请市级审核员核查该机构")

