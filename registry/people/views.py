"""Staff pages for a provider admin (从业人员): list, create, detail with checks, qualifications, consent, reveal,
import; and the same pages (but import) under /school/people for a school admin's own engaged people (issue 14).

Every page is limited to the admin's own provider or school: another owner's person answers 404.
"""
from flask import Blueprint, flash, redirect, render_template, request, send_file, url_for
from flask_login import current_user

from registry.core import clock
from registry.core.errors import DomainError, ValidationFailed
from registry.core.schema import parse_form
from registry.extensions import db
from registry.files import services as files
from registry.people import importer, queries, schemas, services
from registry.people.models import (
    CHECK_RESULT_LABELS,
    CHECK_TYPE_LABELS,
    ENGAGEMENT_LABELS,
    GENDER_LABELS,
    QUALIFICATION_LABELS,
    STAFF_ROLE_LABELS,
)
from registry.policy import services as policy

bp = Blueprint("people", __name__)

OPTIONS = {
    "gender": [(k.value, v) for k, v in GENDER_LABELS.items()],
    "staff_role": [(k.value, v) for k, v in STAFF_ROLE_LABELS.items()],
    "check_type": [(k.value, v) for k, v in CHECK_TYPE_LABELS.items()],
    "result": [(k.value, v) for k, v in CHECK_RESULT_LABELS.items()],
    "qual_type": [(k.value, v) for k, v in QUALIFICATION_LABELS.items()],
    "engagement": [(k.value, v) for k, v in ENGAGEMENT_LABELS.items()],
}
TEMPLATE_NAME = "从业人员导入模板.xlsx"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _actor():
    return current_user._get_current_object()


def _provider():
    return current_user.provider


def _school_side():
    """A school admin's own engaged people (issue 14), else a provider's staff."""
    return current_user.school_id is not None


def _owner():
    return current_user.school if _school_side() else current_user.provider


def _pfx():
    """Endpoint prefix of the caller's side: the school's pages are the same views under /school/people."""
    return "people.school_" if _school_side() else "people."


def _render(template, **context):
    return render_template(template, pfx=_pfx(), school_side=_school_side(), **context)


def own_person(person_id):
    """The person if it belongs to the caller's provider or school; 404 otherwise."""
    if _school_side():
        return queries.own_school_person(current_user.school_id, person_id)
    return queries.own_person(current_user.provider_id, person_id)


def _errors_of(exc):
    if isinstance(exc, ValidationFailed):
        return exc.errors
    return {exc.field or "_schema": [exc.message]}


# ---------------------------------------------------------------- list and create

@bp.get("/provider/people")
def index():
    owner = _owner()
    day = clock.today()
    people = queries.school_people(owner.id) if _school_side() else services.list_people(owner.id)
    status = queries.clearances(people, owner, day)
    return _render("people/index.html", people=people, status=status, day=day,
                           cleared=sum(1 for c in status.values() if c.cleared))


@bp.route("/provider/people/new", methods=["GET", "POST"])
def new():
    errors, form = {}, {}
    if request.method == "POST":
        form = request.form
        try:
            if _school_side():
                data = parse_form(schemas.SchoolPersonIn())
                person = services.create_school_person(_owner(), actor=_actor(), **data)
            else:
                data = parse_form(schemas.PersonIn())
                person = services.create_person(_provider(), actor=_actor(), **data)
        except DomainError as exc:
            errors = _errors_of(exc)
        else:
            flash(f"已登记人员 {person.name}，请继续补充查询记录、资格证书和授权同意书", "success")
            return redirect(url_for(_pfx() + "detail", person_id=person.id))
    return _render("people/new.html", errors=errors, form=form, options=OPTIONS), (422 if errors else 200)


# ---------------------------------------------------------------- detail and the forms on it

def _detail(person, status=200, errors=None, forms=None, revealed=None):
    day = clock.today()
    owner = person.owner
    result = queries.clearances([person], owner, day)[person.id]
    return _render(
        "people/detail.html", person=person, clearance=result, day=day, errors=errors or {}, forms=forms or {},
        options=OPTIONS, revealed=revealed, has_consent=services.has_consent(person),
        health_days=policy.for_region(owner.county).health_validity_days,
    ), status


@bp.get("/provider/people/<int:person_id>")
def detail(person_id):
    return _detail(own_person(person_id))


def _act(person_id, section, action, success):
    """Run one form's action; on a rule error re-render the detail page with that form's errors and input."""
    person = own_person(person_id)
    try:
        action(person)
    except DomainError as exc:
        if not isinstance(exc, ValidationFailed) and exc.status not in (409, 413):
            raise
        db.session.rollback()
        person = own_person(person_id)
        return _detail(person, status=exc.status, errors={section: _errors_of(exc)},
                       forms={section: request.form})
    flash(success, "success")
    return redirect(url_for(_pfx() + "detail", person_id=person_id, _anchor=section))


def _upload(optional=True):
    storage = request.files.get("file")
    if optional and (storage is None or not storage.filename):
        return None
    return files.read_upload(storage)


@bp.post("/provider/people/<int:person_id>/edit")
def update(person_id):
    def action(person):
        data = parse_form(schemas.PersonUpdateIn(), drop_empty=False)
        services.update_person(person, actor=_actor(), **data)
    return _act(person_id, "edit", action, "人员信息已保存")


@bp.post("/provider/people/<int:person_id>/checks")
def add_check(person_id):
    def action(person):
        data = parse_form(schemas.CheckIn())
        services.add_check(person, actor=_actor(), upload=_upload(), **data)
    return _act(person_id, "check", action, "查询记录已添加")


@bp.post("/provider/people/<int:person_id>/qualifications")
def add_qualification(person_id):
    def action(person):
        data = parse_form(schemas.QualificationIn())
        services.add_qualification(person, actor=_actor(), upload=_upload(), **data)
    return _act(person_id, "qual", action, "资格证书已添加")


@bp.post("/provider/people/<int:person_id>/consent")
def record_consent(person_id):
    def action(person):
        data = parse_form(schemas.ConsentIn())
        upload = _upload()
        if upload is None:
            raise ValidationFailed({"file": ["请上传本人签署的授权同意书（PDF、JPG 或 PNG）"]})
        services.record_consent(person, actor=_actor(), upload=upload, **data)
    return _act(person_id, "consent", action, "授权同意书已登记")


@bp.post("/provider/people/<int:person_id>/reveal")
def reveal(person_id):
    """Show the full ID number once, on this response only (never in a URL, never cached)."""
    person = own_person(person_id)
    try:
        data = parse_form(schemas.RevealIn())
        number = services.reveal_number(person, actor=_actor(), reason=data["reason"])
    except ValidationFailed as exc:
        return _detail(person, status=422, errors={"reveal": exc.errors}, forms={"reveal": request.form})
    return _detail(person, revealed=number)


# ---------------------------------------------------------------- Excel import

@bp.get("/provider/people/import/template")
def import_template():
    import io
    return send_file(io.BytesIO(importer.build_template()), mimetype=XLSX_TYPE, as_attachment=True,
                     download_name=TEMPLATE_NAME, max_age=0)


def _import_page(status=200, problems=None, file_error=None, created=None):
    return render_template("people/import.html", problems=problems or [], file_error=file_error, created=created,
                           max_rows=importer.MAX_ROWS, columns=importer.COLUMNS), status


@bp.get("/provider/people/import")
def import_form():
    return _import_page()


@bp.post("/provider/people/import")
def import_upload():
    try:
        _filename, data = files.read_upload(request.files.get("file"))
        created = importer.import_people(_provider(), actor=_actor(), data=data)
    except importer.ImportRejected as exc:
        return _import_page(422, problems=exc.problems)
    except DomainError as exc:
        if not isinstance(exc, ValidationFailed) and exc.status != 413:
            raise
        return _import_page(exc.status, file_error=exc.message)
    flash(f"已导入 {len(created)} 名人员", "success")
    return redirect(url_for("people.index"))


# ---------------------------------------------------------------- a school's own engaged people (issue 14)

for _rule, _name, _methods in (
        ("/school/people", "index", ["GET"]),
        ("/school/people/new", "new", ["GET", "POST"]),
        ("/school/people/<int:person_id>", "detail", ["GET"]),
        ("/school/people/<int:person_id>/edit", "update", ["POST"]),
        ("/school/people/<int:person_id>/checks", "add_check", ["POST"]),
        ("/school/people/<int:person_id>/qualifications", "add_qualification", ["POST"]),
        ("/school/people/<int:person_id>/consent", "record_consent", ["POST"]),
        ("/school/people/<int:person_id>/reveal", "reveal", ["POST"])):
    bp.add_url_rule(_rule, endpoint=f"school_{_name}", view_func=globals()[_name], methods=_methods)
