"""The parents' survey page (no login, a phone first): open it from the QR code on the slip (/s/<code>) or type
the code (/s), answer at most six questions, done. An unknown or guessed code gets the same page as a malformed
one; an answered or expired code is refused. Opening and answering are rate-limited per address together."""
from flask import Blueprint, redirect, render_template, request, url_for

from registry.core.errors import DomainError, NotFound
from registry.core.schema import form_data, load
from registry.extensions import db
from registry.quality import schemas, services
from registry.quality.models import Interest, SafetyFeeling, Satisfaction
from registry.quality.ratelimit import LIMITED_MESSAGE, survey_limited

bp = Blueprint("survey", __name__)

QUESTIONS = [
    ("satisfaction", "1. 您对孩子参加的这项课后服务总体是否满意？", Satisfaction),
    ("interest", "2. 孩子对这项活动感兴趣吗？", Interest),
    ("safety", "3. 您对活动中孩子的安全放心吗？", SafetyFeeling),
]
YES_NO = [
    ("extra_fee", "4. 除学校公布的价格外，是否有人向您收取或要求其他费用（如材料费、器材费）？", "是，收取过", "没有"),
    ("voluntary", "5. 孩子参加这项活动是自愿的吗？", "是，自愿参加", "不是，被要求参加"),
]


def _render(template, status=200, **context):
    return render_template(template, questions=QUESTIONS, yes_no=YES_NO, **context), status


def _limited(code=None):
    return _render("quality/survey_start.html", 429, errors={"code": [LIMITED_MESSAGE]}, code=code or "")


def _refused(exc, code):
    return _render("quality/survey_start.html", exc.status, errors={"code": [exc.message]}, code=code)


@bp.route("/s", methods=["GET", "POST"])
@survey_limited(_limited)
def start():
    if request.method == "GET":
        return _render("quality/survey_start.html", errors={}, code="")
    typed = (request.form.get("code") or "").strip()
    code = services.normalize_code(typed)
    if code is None:
        return _refused(NotFound(services.UNKNOWN_CODE), typed)
    return redirect(url_for("survey.survey", code=code))


def _survey_page(code, status=200, errors=None, form=None):
    found = services.find_code(code)
    order = found.order
    return _render("quality/survey.html", status, code=code, order=order, errors=errors or {}, form=form or {})


@bp.route("/s/<code>", methods=["GET", "POST"])
@survey_limited(_limited)
def survey(code):
    try:
        if request.method == "GET":
            return _survey_page(code)
        typed = form_data()
        data = load(schemas.SurveyAnswerIn(), {k: v for k, v in typed.items() if v not in ("", None)})
        services.answer(code, **data)
    except DomainError as exc:
        db.session.rollback()
        if exc.status == 422 and exc.field != "code":
            return _survey_page(code, 422, errors=getattr(exc, "errors", {}), form=typed)
        return _refused(exc, services.format_code(services.normalize_code(code) or "") or code)
    return _render("quality/survey_done.html")
