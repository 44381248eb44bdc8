"""Release batches (批次), publicity (公示) and objections (异议): the HTML pages.

The city reviewer's pages (/review/batches...) and the public publicity pages with the objection form
(/publicity...). Every write goes through registry.batches.services and every read through
registry.batches.queries, which the JSON API (registry.batches.api) shares. The working-day calendar's
admin pages are registry.calendar.views.
"""
from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user

from registry.batches import queries, ratelimit, services
from registry.batches.models import BatchStatus, ObjectionStatus
from registry.batches.schemas import BatchCreateIn, BatchItemIn, EmptyIn, ObjectionIn, ResolveIn
from registry.core import clock
from registry.core import confirm as confirmation
from registry.core import pdf as core_pdf
from registry.core.errors import DomainError, ValidationFailed
from registry.core.schema import parse_form
from registry.extensions import db, limiter
from registry.policy import services as policy

bp = Blueprint("batches", __name__)
NOTICE_PDF_RATE_LIMIT = "30 per minute"


def _actor():
    return current_user._get_current_object()


# ---------------------------------------------------------------- HTML helpers

def _act(action, success, back):
    """Run one service call for a button post. A refusal (an illegal transition, a rule) is flashed and the
    page shown again; what the service flushed is rolled back first, so nothing half-done is committed."""
    try:
        result = action()
    except DomainError as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return redirect(back() if callable(back) else back)
    flash(success(result) if callable(success) else success, "success")
    return redirect(back() if callable(back) else back)


def _detail_url(batch_id):
    return url_for("batches.detail", batch_id=batch_id)


# ---------------------------------------------------------------- city reviewer: batches

@bp.get("/review/batches")
def index():
    user = current_user
    rows = queries.batch_rows(user.region_id)
    drafts = [b for b, _items, _open in rows if b.status == BatchStatus.draft]
    return render_template("batches/index.html", rows=rows, drafts=drafts, ready=queries.ready_applications(user),
                           publicity_days=policy.for_city(user.region).publicity_working_days)


@bp.post("/review/batches")
def create():
    def action():
        data = parse_form(BatchCreateIn(), multi=("application_ids",))
        return services.create_with(_actor(), data["application_ids"])
    try:
        batch = action()
    except DomainError as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return redirect(url_for("batches.index"))
    flash(f"已新建{batch.name}" + (f"，加入 {len(batch.items)} 份申报" if batch.items else ""), "success")
    return redirect(_detail_url(batch.id))


@bp.get("/review/batches/<int:batch_id>")
def detail(batch_id):
    return _render_detail(queries.own_batch(current_user, batch_id))


def _render_detail(batch, resolve_errors=None, resolve_form=None, status=200):
    user = current_user
    objections = queries.batch_objections(batch)
    return render_template(
        "batches/detail.html", batch=batch, items=batch.items, live=queries.live_items(batch), objections=objections,
        open_count=sum(1 for o in objections if o.status == ObjectionStatus.open),
        preview=queries.publicity_preview(batch), publish_problem=services.publish_problem(batch),
        ready=queries.ready_applications(user) if batch.status == BatchStatus.draft else [],
        in_window=queries.publicity_open(batch), resolve_errors=resolve_errors or {},
        resolve_form=resolve_form or {},
    ), status


@bp.post("/review/batches/<int:batch_id>/items")
def add_item(batch_id):
    batch = queries.own_batch(current_user, batch_id)

    def action():
        data = parse_form(BatchItemIn())
        app = queries.city_application(batch, data["application_id"])
        services.add_to_batch(batch, app, actor=_actor())
        return app
    return _act(action, lambda app: f"已将“{app.provider.name}”加入{batch.name}", _detail_url(batch.id))


@bp.post("/review/batches/<int:batch_id>/items/<int:application_id>/remove")
def remove_item(batch_id, application_id):
    batch = queries.own_batch(current_user, batch_id)

    def action():
        parse_form(EmptyIn())
        services.remove_from_batch(batch, application_id, actor=_actor())
    return _act(action, "已从批次中移出该申报", _detail_url(batch.id))


@bp.post("/review/batches/<int:batch_id>/publicity")
def start_publicity(batch_id):
    batch = queries.own_batch(current_user, batch_id)
    if not confirmation.confirmed():
        parse_form(EmptyIn())
        preview = queries.publicity_preview(batch)
        lines = [f"{len(queries.live_items(batch))} 家机构的申报及其服务项目在公示页面向社会公开，任何人可以提出异议。"]
        if preview:
            lines.append(f"公示期 {preview['start'].isoformat()} 至 {preview['end'].isoformat()}"
                         f"（{preview['days']} 个工作日），开始后不能撤回或修改批次中的申报。")
            if preview["warning"]:
                lines.append(preview["warning"])
        return confirmation.page(confirmation.Confirmation(
            title="确认开始公示", subject=f"{batch.issuer}{batch.name}", consequences=lines, button="确认开始公示",
            back_url=_detail_url(batch.id), danger=False))

    def action():
        parse_form(EmptyIn())
        services.start_publicity(batch, actor=_actor())

    def success(_result):
        return (f"{batch.name}已开始公示：{batch.publicity_start.isoformat()} 至 "
                f"{batch.publicity_end.isoformat()}。公示页面已对公众开放")
    return _act(action, success, _detail_url(batch.id))


@bp.post("/review/batches/<int:batch_id>/publish")
def publish(batch_id):
    batch = queries.own_batch(current_user, batch_id)
    if not confirmation.confirmed():
        parse_form(EmptyIn())
        return confirmation.page(confirmation.Confirmation(
            title="确认发布白名单", subject=f"{batch.issuer}{batch.name}", button="确认发布",
            back_url=_detail_url(batch.id), danger=False, consequences=[
                f"{len(queries.live_items(batch))} 家机构及其服务项目列入白名单，学校即可点单。",
                "白名单公告（PDF）和准入证明随即公开，发布后不能撤回；此后的变动只能通过动态调整。"]))

    def action():
        parse_form(EmptyIn())
        services.publish(batch, actor=_actor())
        return len(queries.live_items(batch))
    return _act(action, lambda n: f"{batch.name}已发布，{n} 家机构及其服务项目已列入白名单", _detail_url(batch.id))


@bp.post("/review/objections/<int:objection_id>/resolve")
def resolve_objection(objection_id):
    objection = queries.own_objection(current_user, objection_id)
    batch_id = objection.batch_id
    try:
        data = parse_form(ResolveIn())
        services.resolve_objection(objection, actor=_actor(), **data)
    except ValidationFailed as exc:
        db.session.rollback()  # nothing half-resolved may show on the page
        return _render_detail(queries.own_batch(current_user, batch_id), resolve_errors={objection_id: exc.errors},
                              resolve_form={objection_id: request.form}, status=exc.status)
    except DomainError as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return redirect(_detail_url(batch_id))
    if objection.status == ObjectionStatus.upheld:
        outcome = "退回修改" if data["outcome"] == "return" else "不予通过"
        flash(f"异议 #{objection.id} 成立：“{objection.application.provider.name}”已移出批次，申报{outcome}", "success")
    else:
        flash(f"异议 #{objection.id} 已处理：异议不成立", "success")
    return redirect(_detail_url(batch_id))


# ---------------------------------------------------------------- public: publicity and objections

@bp.get("/publicity")
def publicity_index():
    batches = queries.publicity_batches()
    return render_template("publicity/index.html", batches=batches, today=clock.today(),
                           counts={b.id: len(queries.live_items(b)) for b in batches})


@bp.get("/publicity/<int:batch_id>")
def publicity_detail(batch_id):
    return _render_publicity(queries.public_batch_or_404(batch_id))


@bp.get("/publicity/<int:batch_id>/notice.pdf")
@limiter.limit(NOTICE_PDF_RATE_LIMIT)
def publicity_notice(batch_id):
    """The formal publicity notice with its list, printable (issue 19)."""
    view = queries.public_view(queries.public_batch_or_404(batch_id))
    return core_pdf.pdf_response(core_pdf.render_pdf("publicity_notice.html", view=view),
                                 f"{view['city']}{view['name']}公示通知.pdf")


def _render_publicity(batch, errors=None, form=None, message=None, status=200):
    view = queries.public_view(batch)
    options = [(p["application_id"], p["name"]) for p in view["providers"]]
    return render_template("publicity/detail.html", view=view, options=options, errors=errors or {},
                           form=form or {}, message=message), status


def _objection_limited_page(batch_id):
    return _render_publicity(queries.public_batch_or_404(batch_id), form=request.form,
                             message=ratelimit.objection_limit_message(),
                             status=429)


@bp.post("/publicity/<int:batch_id>/objections")
@ratelimit.objection_limited(_objection_limited_page)
def file_objection(batch_id):
    batch = queries.public_batch_or_404(batch_id)
    try:
        data = parse_form(ObjectionIn())
        objection = services.file_objection(batch, **data)
    except DomainError as exc:
        db.session.rollback()
        return _render_publicity(batch, errors=getattr(exc, "errors", None) or {}, form=request.form,
                                 message=exc.message, status=exc.status)
    flash(f"您的异议已提交（编号 #{objection.id}）。{batch.issuer}将核实处理，必要时通过您留下的联系方式与您联系。",
          "success")
    return redirect(url_for("batches.publicity_detail", batch_id=batch.id))
