"""Schedules (issue 15) in HTML: the school's editor (rows, the 1 : N grid and every problem as the school
types, non-teaching days, Excel in and out, filing, revisions and their differences, the fee notice), the
county's filing list and review, the city's coverage figures, and the public page with its QR code and PDF.

The editor's live check posts the row being typed to `schedules.check` (JSON) from static/schedules.js; the
page works without it (every save re-renders the same report)."""
import io

from flask import Blueprint, flash, jsonify, redirect, render_template, request, send_file, url_for
from flask_login import current_user
from marshmallow import EXCLUDE

from registry.core import clock, tabular
from registry.core import pdf as core_pdf
from registry.core.errors import DomainError, ValidationFailed
from registry.core.schema import load, parse_form
from registry.extensions import db, limiter
from registry.files import services as files
from registry.people import queries as people_queries
from registry.regions.models import Region, RegionLevel
from registry.schedules import importer, pdf, queries, schemas, services
from registry.schedules.validation import GRADE_NAMES, WEEKDAYS
from registry.schools import queries as school_queries
from registry.schools.views import errors_of

bp = Blueprint("schedules", __name__)

PDF_RATE_LIMIT = "30 per minute"
ROW_FORM = ("grade_from", "grade_to", "class_name", "weekday", "starts_at", "ends_at", "kind", "category", "source",
            "content", "school_project_id", "order_id", "person_id", "teacher_name", "venue", "class_size")


def _actor():
    return current_user._get_current_object()


def _term(term_id=None):
    terms = school_queries.list_terms()
    if term_id is not None:
        return school_queries.get_term(term_id), terms
    return school_queries.default_term(clock.today(), terms), terms


def _editor(term, terms, status=200, errors=None, form=None, fee_errors=None, fee_form=None, day_errors=None):
    school = current_user.school
    current = services.latest(school, term)
    rows = services.rows_of(current) if current is not None else []
    report = services.check(school, term, rows)
    history = queries.revisions(school, term)
    notice = services.fee_notice(school, term)
    days = services.teaching_days(school, term)
    rules = services.rules_for(school)
    return render_template(
        "schedules/editor.html", school=school, term=term, terms=terms, schedule=current, report=report,
        history=history, notice=notice, teaching_count=len(days), non_teaching=services.non_teaching_days(school, term),
        deadline=services.deadline_for(school, term), rules=rules,
        weekdays=list(enumerate(WEEKDAYS)), kinds=schemas.KIND_CHOICES, sources=schemas.SOURCE_CHOICES,
        categories=schemas.CATEGORY_CHOICES, errors=errors or {}, form=form or {}, fee_errors=fee_errors or {},
        fee_form=fee_form or _fee_form(notice, school), day_errors=day_errors or {},
        class_minutes=services.class_minutes_of(school), today=clock.today(),
        grade_options=[(g, f"{GRADE_NAMES[g]}年级") for g in services.SCHOOL_GRADES[school.school_type]],
        own_options=[(p.id, f"{p.name}（{p.category.label}）") for p in school_queries.own_projects(school, term)],
        person_options=_person_options(school, term),
        order_options=[(o.id, f"订单 {o.id} · {o.project.title}（{'、'.join(WEEKDAYS[d] for d in o.weekdays)} "
                              f"{o.time_slot}）") for o in queries.live_orders(school, term)]), status


def _person_options(school, term):
    """School-engaged people, then the staff assigned to the school's live orders of the term."""
    options = [(p.id, f"{p.name}（校聘人员）") for p in people_queries.school_people(school.id)]
    for order in queries.live_orders(school, term):
        options += [(s.person_id, f"{s.person.name}（{order.project.title}，订单 {order.id}）")
                    for s in order.staff if s.removed_at is None]
    return options


def _fee_form(notice, school):
    if notice is None:
        return {"class_minutes": services.class_minutes_of(school)}
    return {k: getattr(notice, k) for k in ("fee_standard", "amount", "service_time", "content", "class_minutes",
                                            "subsidy")}


@bp.get("/school/schedules")
def editor():
    term_id = request.args.get("term_id", type=int)
    term, terms = _term(term_id)
    if term is None:
        return render_template("schedules/no_term.html"), 200
    return _editor(term, terms)


def _refused(term_id, **context):
    """The editor again with the refusal shown, after rolling back whatever the refused request flushed."""
    db.session.rollback()
    term, terms = _term(term_id)
    return _editor(term, terms, 422, **context)


def _back(term):
    return redirect(url_for("schedules.editor", term_id=term.id))


@bp.post("/school/schedules/<int:term_id>/rows")
def add_row(term_id):
    term, _terms = _term(term_id)
    try:
        item = parse_form(schemas.ScheduleRowIn())
        schedule = services.working_copy(current_user.school, term, actor=_actor())
        services.add_row(schedule, item, actor=_actor())
    except DomainError as exc:
        return _refused(term_id, errors=errors_of(exc), form=request.form)
    flash("已添加一行", "success")
    return _back(term)


@bp.post("/school/schedules/<int:term_id>/rows/<int:row_id>/delete")
def delete_row(term_id, row_id):
    term, _terms = _term(term_id)
    schedule = services.working_copy(current_user.school, term, actor=_actor())
    services.delete_row(schedule, row_id, actor=_actor())
    flash("已删除该行", "success")
    return _back(term)


@bp.post("/school/schedules/<int:term_id>/check")
def check(term_id):
    """The live check: the saved rows plus the row being typed (when it loads), as JSON."""
    term, _terms = _term(term_id)
    school = current_user.school
    current = services.latest(school, term)
    rows = services.rows_of(current) if current is not None else []
    field_errors = {}
    data = {k: v for k, v in request.form.items() if k in ROW_FORM and v not in ("", None)}
    if data:
        try:
            item = load(schemas.ScheduleRowIn(unknown=EXCLUDE), data)
            rows += services.data_rows([item], start_line=len(rows) + 1)
        except ValidationFailed as exc:
            field_errors = exc.errors
    report = services.check(school, term, rows)
    return jsonify({**schemas.ScheduleReportOut().dump(report.as_dict()), "field_errors": field_errors})


@bp.post("/school/schedules/<int:term_id>/submit")
def submit(term_id):
    term, _terms = _term(term_id)
    try:
        schedule = services.latest(current_user.school, term)
        if schedule is None:
            raise ValidationFailed({"schedule": ["请先填写安排表"]})
        services.submit(schedule, actor=_actor())
    except DomainError as exc:
        return _refused(term_id, errors=errors_of(exc))
    flash("安排表已报备县级教育行政部门，审核通过后将自动公布", "success")
    return _back(term)


@bp.post("/school/schedules/<int:term_id>/revise")
def revise(term_id):
    term, _terms = _term(term_id)
    try:
        schedule = services.working_copy(current_user.school, term, actor=_actor())
    except DomainError as exc:
        return _refused(term_id, errors=errors_of(exc))
    flash(f"已新建第 {schedule.revision} 版草稿：修改后须重新报备，备案前公布的仍是已备案的版本", "success")
    return _back(term)


@bp.get("/school/schedules/<int:term_id>/revisions/<int:schedule_id>")
def revision(term_id, schedule_id):
    term, _terms = _term(term_id)
    schedule = queries.schedule_of_school(current_user.school_id, schedule_id)
    history = queries.revisions(current_user.school, term)
    older = next((s for s in history if s.revision < schedule.revision), None)
    return render_template("schedules/revision.html", schedule=schedule, term=term, older=older,
                           changes=queries.diff(older, schedule), weekdays=WEEKDAYS)


# ---------------------------------------------------------------- non-teaching days

@bp.post("/school/schedules/<int:term_id>/non-teaching-days")
def add_day(term_id):
    term, _terms = _term(term_id)
    try:
        data = parse_form(schemas.NonTeachingDayIn())
        services.add_non_teaching_day(current_user.school, term, actor=_actor(), **data)
    except DomainError as exc:
        return _refused(term_id, day_errors=errors_of(exc))
    flash("已登记非教学日", "success")
    return _back(term)


@bp.post("/school/schedules/<int:term_id>/non-teaching-days/<int:day_id>/delete")
def remove_day(term_id, day_id):
    term, _terms = _term(term_id)
    services.remove_non_teaching_day(current_user.school, actor=_actor(), day_id=day_id)
    flash("已删除非教学日", "success")
    return _back(term)


# ---------------------------------------------------------------- fee notice

@bp.post("/school/schedules/<int:term_id>/fee-notice")
def save_fee(term_id):
    term, _terms = _term(term_id)
    try:
        data = parse_form(schemas.FeeNoticeIn())
        notice = services.save_fee_notice(current_user.school, term, actor=_actor(), **data)
        if request.form.get("publish") and notice.status.value == "draft":
            services.publish_fee_notice(notice, actor=_actor())
    except DomainError as exc:
        return _refused(term_id, fee_errors=errors_of(exc), fee_form=request.form)
    flash("收费公示已发布" if notice.status.value == "published" else "收费公示已保存（尚未发布）", "success")
    return _back(term)


# ---------------------------------------------------------------- Excel

@bp.get("/school/schedules/template.xlsx")
def template():
    return send_file(io.BytesIO(importer.build_template()), mimetype=tabular.XLSX_TYPE, as_attachment=True,
                     download_name="课后服务安排表模板.xlsx", max_age=0)


@bp.post("/school/schedules/<int:term_id>/import")
def import_upload(term_id):
    term, _terms = _term(term_id)
    try:
        _filename, data = files.read_upload(request.files.get("file"))
        schedule = services.working_copy(current_user.school, term, actor=_actor())
        importer.import_rows(schedule, actor=_actor(), data=data)
    except tabular.ImportRejected as exc:
        return _refused(term_id, errors={f"第{p.row}行": [f"{p.column}：{p.message}"] for p in exc.problems}
                       | {"_schema": [exc.message]})
    except DomainError as exc:
        return _refused(term_id, errors=errors_of(exc))
    flash(f"已导入 {len(schedule.rows)} 行", "success")
    return _back(term)


@bp.get("/school/schedules/<int:term_id>/revisions/<int:schedule_id>/export.xlsx")
def export(term_id, schedule_id):
    schedule = queries.schedule_of_school(current_user.school_id, schedule_id)
    name = f"{schedule.school.name}{schedule.term.name}课后服务安排表（第{schedule.revision}版）.xlsx"
    return send_file(io.BytesIO(importer.export_xlsx(schedule)), mimetype=tabular.XLSX_TYPE, as_attachment=True,
                     download_name=name, max_age=0)


# ---------------------------------------------------------------- county and city

def _region():
    return db.session.get(Region, current_user.region_id)


@bp.get("/review/schedules")
def filings():
    term, terms = _term(request.args.get("term_id", type=int))
    region = _region()
    if term is None:
        return render_template("schedules/no_term.html"), 200
    day = clock.today()
    rows = queries.filings(region, term, day)
    counties = []
    if region.level == RegionLevel.city:
        counties = [(c, queries.coverage(c, term, day)) for c in region.children if c.level == RegionLevel.county]
    return render_template("schedules/filings.html", region=region, term=term, terms=terms, filings=rows,
                           coverage=queries.coverage(region, term, day), counties=counties,
                           queue=queries.review_queue(current_user) if region.level == RegionLevel.county else [],
                           today=day)


def _review_page(schedule, status=200, errors=None):
    previous = next((s for s in queries.revisions(schedule.school, schedule.term)
                     if s.revision < schedule.revision and s.status.value in ("accepted", "superseded")), None)
    report = services.check(schedule.school, schedule.term, services.rows_of(schedule))
    return render_template("schedules/review.html", schedule=schedule, report=report, previous=previous,
                           changes=queries.diff(previous, schedule) if previous else None, errors=errors or {},
                           rules=services.rules_for(schedule.school),
                           weekdays=WEEKDAYS), status


@bp.get("/review/schedules/<int:schedule_id>")
def review(schedule_id):
    return _review_page(queries.schedule_in_county(current_user, schedule_id))


def _decide(schedule_id, schema, decide, done):
    schedule = queries.schedule_in_county(current_user, schedule_id)
    try:
        decide(schedule, actor=_actor(), **parse_form(schema))
    except DomainError as exc:
        db.session.rollback()
        return _review_page(queries.schedule_in_county(current_user, schedule_id), 422, errors_of(exc))
    flash(done.format(school=schedule.school.name), "success")
    return redirect(url_for("schedules.filings", term_id=schedule.term_id))


@bp.post("/review/schedules/<int:schedule_id>/accept")
def accept(schedule_id):
    return _decide(schedule_id, schemas.ScheduleDecisionIn(), services.accept, "{school}的安排表已备案并公布")


@bp.post("/review/schedules/<int:schedule_id>/return")
def return_schedule(schedule_id):
    return _decide(schedule_id, schemas.ScheduleReturnIn(), services.return_schedule, "已退回{school}的安排表")


# ---------------------------------------------------------------- public (晒课表)

def public_url(school_id, term_id):
    return url_for("schedules.public", school_id=school_id, term_id=term_id, _external=True)


@bp.get("/schedules/<int:school_id>/<int:term_id>")
def public(school_id, term_id):
    school, term, schedule, rows, notice = queries.public_schedule(school_id, term_id)
    url = public_url(school_id, term_id)
    return render_template("schedules/public.html", school=school, term=term, schedule=schedule, rows=rows,
                           notice=notice, url=url, qr=pdf.qr_data_uri(url))


@bp.get("/schedules/<int:school_id>/<int:term_id>.pdf")
@limiter.limit(PDF_RATE_LIMIT)
def public_pdf(school_id, term_id):
    school, term, schedule, rows, notice = queries.public_schedule(school_id, term_id)
    data = pdf.render_public(school, term, schedule, rows, notice, public_url(school_id, term_id))
    return core_pdf.pdf_response(data, pdf.filename(school, term))

