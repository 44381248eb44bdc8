"""Review (审核): the reviewer's queue (/review/applications), the review screen (/review/applications/<id>),
and the decision and verification POST routes. Rules are registry.reviews.services, reads
registry.reviews.queries; the JSON API (reviews/api.py) calls the same.

The queue and the review screen keep the endpoint names they had when they were routed by the
applications blueprint ("applications.review_list", "applications.review_detail"), which the authorization
TABLE and the navigation name; `init_app` adds them to the app directly (applications sits below reviews
in the domain order and does not import it)."""
from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user

from registry.applications import queries
from registry.applications.models import KIND_LABELS, STATUS_LABELS
from registry.core import clock, tabular
from registry.core.errors import DomainError, NotFound, ValidationFailed
from registry.core.pagination import page_args, paginate
from registry.core.schema import load, parse_form
from registry.extensions import db
from registry.people.models import PersonCheck
from registry.policy import services as policy
from registry.providers.models import ProviderDocument
from registry.reviews import queries as review_queries
from registry.reviews import schemas
from registry.reviews import services as reviews

bp = Blueprint("reviews", __name__)

SNAPSHOT_LABELS = {"result": review_queries.RESULT_LABELS, "verification": review_queries.VERIFY_LABELS}
DONE = {
    "pass": "已报送市级复审",
    "return": "已退回修改，机构将看到逐项意见",
    "reject": "已作出不予通过的决定",
    "approve": "已同意纳入公示批次",
}


def _actor():
    return current_user._get_current_object()


# ---------------------------------------------------------------- the review screen and the queue

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
    earlier = review_queries.comment_views(app, previous.number) if previous else []
    own = review_queries.comment_views(app, snapshot.number)
    batch = review_queries.batch_of([app.id]).get(app.id)
    decisions = review_queries.decisions_for(app) if is_latest else []
    if batch is not None and "approve" in decisions:
        decisions.remove("approve")
    problem = reviews.decision_problem(user, app) if decisions else None
    docs, checks = review_queries.live_documents(data), review_queries.live_checks(data)
    # What stands in the way of a pass (报送 / 同意纳入公示): the same list the services refuse with.
    unverified = reviews.verification_problems(data, docs, checks) if {"pass", "approve"} & set(decisions) else []
    return render_template(
        "applications/review_detail.html", app=app, snapshot=snapshot, data=data, is_latest=is_latest,
        previous=previous, diff=review_queries.diff_rows(app) if is_latest and previous else [],
        earlier=review_queries.place_comments(earlier, previous.data if previous else None, data),
        earlier_general=[v for v in earlier if v.key == "general"],
        own=review_queries.place_comments(own, data, data), own_general=[v for v in own if v.key == "general"],
        decisions=decisions, problem=problem, batch=batch,
        draft_batches=review_queries.draft_batches(app.city_id) if "approve" in decisions else [],
        docs=docs, checks=checks, unverified=unverified,
        fits=review_queries.project_fits(app, data), org_fields=review_queries.ORG_FIELDS,
        waiting=review_queries.waiting(app),
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
        return render_template("applications/review_list.html", page=page, waiting=review_queries.waiting, **common)
    raw = {k: request.args.get(k) for k in ("stage", "kind", "q", "sort", "over") if request.args.get(k)}
    errors = {}
    try:
        args = load(schemas.QueueArgs(), raw)
    except ValidationFailed as exc:
        errors, args = exc.errors, load(schemas.QueueArgs(), {})
    rows = review_queries.queue_rows(user, args)
    mine = {r.application.id for r in rows}
    others = [a for a in db.session.scalars(queries.review_query(user, "open").limit(200)).unique()
              if a.id not in mine]
    return render_template("applications/review_list.html", rows=rows, args=args, raw=raw, errors=errors,
                           others=others, waiting=review_queries.waiting, **common)


QUEUE_COLUMNS = [("编号", 8), ("机构", 34), ("注册地", 12), ("类型", 10), ("审核阶段", 12), ("提交时间", 18),
                 ("已等待（自然日）", 14), ("已等待（工作日）", 14), ("提示", 30)]


@bp.get("/review/applications/export.<fmt>")
def queue_export(fmt):
    """The queue as shown (filters of the page's query string), or the chosen state's list, as CSV or XLSX."""
    user = current_user
    state = request.args.get("state", "queue")
    if state != "queue" and state in queries.REVIEW_FILTERS:
        apps = list(db.session.scalars(queries.review_query(user, state).limit(5000)).unique())
        rows = [(a, review_queries.waiting(a), "") for a in apps]
    else:
        raw = {k: request.args.get(k) for k in ("stage", "kind", "q", "sort") if request.args.get(k)}
        found = review_queries.queue_rows(user, load(schemas.QueueArgs(), raw))
        rows = [(r.application, (r.waiting_days, r.waiting_working_days),
                 r.decision_problem or (f"已纳入{r.batch}" if r.batch else "待您审核")) for r in found]
    table = [[f"#{a.id}", a.provider.name, a.provider.county.name, a.kind_label, a.status_label,
              fmt_cst(a.submitted_at), *(waited if waited else ("", "")), note] for a, waited, note in rows]
    data = tabular.export_table(QUEUE_COLUMNS, table, fmt, sheet="申报审核")
    day = clock.today().isoformat()
    return tabular.export_response(data, fmt, f"申报审核-{day}", f"review-queue-{day}")


def fmt_cst(value):
    return clock.to_cst(value).strftime("%Y-%m-%d %H:%M") if value else ""


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
        reviews.decide(app, decision, parse(), _actor())
    except ValidationFailed as exc:
        db.session.rollback()  # nothing half-decided may show on the page
        return review_page(application_id, errors=exc.errors, form=request.form, message=exc.message, status=exc.status)
    except NotFound:
        raise
    except DomainError as exc:
        db.session.rollback()
        return review_page(application_id, form=request.form, message=exc.message, status=exc.status)
    flash(f"“{provider_name}”：{DONE[decision]}", "success")
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
    return _verify(ProviderDocument, document_id, schemas.VerifyDocumentIn(), reviews.verify_document_for,
                   f"doc-{document_id}",
                   lambda d: "材料已核验通过" if d == "verified" else "材料已驳回，机构须上传新版本")


@bp.post("/review/checks/<int:check_id>/verify")
def verify_check(check_id):
    return _verify(PersonCheck, check_id, schemas.VerifyCheckIn(), reviews.verify_check_for, f"check-{check_id}",
                   lambda d: "查询记录已核验无误" if d == "verified"
                   else "已标记为有不良记录：该人员已列入全省禁入名单，并已提请市级审核员核查该机构")


LEGACY_ROUTES = (
    ("/review/applications", "applications.review_list", queue_page),
    ("/review/applications/<int:application_id>", "applications.review_detail", review_page),
)


def init_app(app):
    for rule, endpoint, view in LEGACY_ROUTES:
        app.add_url_rule(rule, endpoint=endpoint, view_func=view, methods=["GET"])
