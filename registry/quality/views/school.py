"""The school's side of quality (school_admin): its served orders with their evaluation and survey figures,
the term evaluation form (open in the term's last four weeks) and the printable sheet of parent survey codes.
Another school's order answers 404."""
from flask import Blueprint, flash, redirect, render_template, url_for
from flask_login import current_user

from registry.core import clock
from registry.core import dashboard as panels
from registry.core import pdf as core_pdf
from registry.core.errors import DomainError
from registry.core.schema import form_data, load
from registry.extensions import db, limiter
from registry.quality import pdf, queries, schemas, services
from registry.quality.models import Grade, Satisfaction
from registry.schools.views import errors_of

bp = Blueprint("school_quality", __name__)

SHEET_RATE_LIMIT = "10 per minute"
ASPECTS = [("content", "活动内容"), ("punctuality", "人员准时到岗"), ("safety", "安全管理"),
           ("engagement", "学生参与度")]


def _actor():
    return current_user._get_current_object()


def _render(template, status=200, **context):
    return render_template(template, grades=Grade.labels(), satisfactions=Satisfaction.labels(), aspects=ASPECTS,
                           today=clock.today(), **context), status


@bp.get("/school/quality")
def index():
    rows = queries.school_orders(current_user.school_id)
    return _render("quality/school_index.html", rows=rows)


def _detail(order_id, status=200, errors=None, form=None):
    row = queries.school_order(current_user.school_id, order_id)
    if form is None and row.evaluation is not None:
        e = row.evaluation
        form = {"content": e.content.value, "punctuality": e.punctuality.value, "safety": e.safety.value,
                "engagement": e.engagement.value, "overall": e.overall.value, "comment": e.comment}
    return _render("quality/school_order.html", status, row=row, order=row.order, errors=errors or {},
                   form=form or {})


@bp.get("/school/quality/orders/<int:order_id>")
def order(order_id):
    return _detail(order_id)


@bp.post("/school/quality/orders/<int:order_id>/evaluation")
def evaluate(order_id):
    row = queries.school_order(current_user.school_id, order_id)
    typed = form_data()
    try:
        data = load(schemas.EvaluationIn(), {k: v for k, v in typed.items() if v not in ("", None)})
        services.save_evaluation(row.order, actor=_actor(), **data)
    except DomainError as exc:
        db.session.rollback()
        return _detail(order_id, status=exc.status if exc.status != 400 else 422, errors=errors_of(exc), form=typed)
    flash("学期评价已保存，学期结束前可以修改", "success")
    return redirect(url_for("school_quality.order", order_id=order_id))


@bp.post("/school/quality/orders/<int:order_id>/survey-sheet")
@limiter.limit(SHEET_RATE_LIMIT)
def survey_sheet(order_id):
    """Issue a fresh sheet of codes (voiding the unused ones of an earlier sheet) and send it as a PDF."""
    row = queries.school_order(current_user.school_id, order_id)
    try:
        codes = services.issue_codes(row.order, actor=_actor())
    except DomainError as exc:
        db.session.rollback()
        return _detail(order_id, status=exc.status, errors=errors_of(exc))
    return core_pdf.pdf_response(pdf.render_sheet(row.order, codes), pdf.filename(row.order))




@panels.panel(["school_admin"], "quality/_reminder_panel.html", 30)
def _evaluation_reminder(user, day):
    """The school's home page reminds it while the term evaluation is open and orders wait (issue 16)."""
    reminder = queries.evaluation_reminder(user.school_id) if user.school_id else []
    return {"quality_reminder": reminder} if reminder else None
