"""Schools management (sys_admin everywhere, county_reviewer in their county), terms (sys_admin) and a
school's own after-school projects per term (school_admin).

A school outside the caller's jurisdiction answers 404 (queries.managed_school).
"""
import io

from flask import Blueprint, flash, redirect, render_template, request, send_file, url_for
from flask_login import current_user
from marshmallow import EXCLUDE

from registry.core import clock, tabular
from registry.core.errors import DomainError, ValidationFailed
from registry.core.pagination import paginate
from registry.core.schema import load, parse_form
from registry.extensions import db
from registry.files import services as files
from registry.projects.models import CATEGORY_LABELS
from registry.schools import importer, queries, schemas, services

bp = Blueprint("schools", __name__)

TEMPLATE_NAME = "学校导入模板"


def _actor():
    return current_user._get_current_object()


def errors_of(exc):
    """Field errors of a domain error, for re-rendering a form (403/404 and the like are not form errors)."""
    if isinstance(exc, ValidationFailed):
        return exc.errors
    if exc.status in (409, 413):
        return {exc.field or "_schema": [exc.message]}
    raise exc


# ---------------------------------------------------------------- schools

@bp.get("/schools")
def index():
    args = load(schemas.SchoolQueryIn(unknown=EXCLUDE), request.args.to_dict())
    page = paginate(queries.schools_stmt(_actor(), args), args["page"], args["per_page"])
    return render_template("schools/index.html", page=page, args=args, counties=queries.counties_for(_actor()))


def _form_page(template, status=200, **context):
    context.setdefault("errors", {})
    context.setdefault("form", {})
    return render_template(template, counties=queries.counties_for(_actor()),
                           school_types=schemas.SCHOOL_TYPE_CHOICES, **context), status


@bp.route("/schools/new", methods=["GET", "POST"])
def new():
    if request.method == "POST":
        try:
            data = parse_form(schemas.SchoolIn())
            school = services.create_school(actor=_actor(), **data)
        except DomainError as exc:
            return _form_page("schools/form.html", 422, errors=errors_of(exc), form=request.form, school=None)
        flash(f"已登记学校 {school.name}，可以为其创建学校管理员账号", "success")
        return redirect(url_for("schools.detail", school_id=school.id))
    form = {"county_code": current_user.region.code} if current_user.region is not None else {}
    return _form_page("schools/form.html", form=form, school=None)


def _school_form(school):
    return {"name": school.name, "code": school.code, "county_code": school.county.code,
            "school_type": school.school_type.value, "address": school.address,
            "student_count": school.student_count}


@bp.route("/schools/<int:school_id>/edit", methods=["GET", "POST"])
def edit(school_id):
    school = queries.managed_school(_actor(), school_id)
    if request.method == "POST":
        try:
            data = parse_form(schemas.SchoolIn())
            services.update_school(school, actor=_actor(), **data)
        except DomainError as exc:
            db.session.rollback()
            school = queries.managed_school(_actor(), school_id)
            return _form_page("schools/form.html", 422, errors=errors_of(exc), form=request.form, school=school)
        flash("学校信息已保存", "success")
        return redirect(url_for("schools.detail", school_id=school.id))
    return _form_page("schools/form.html", form=_school_form(school), school=school)


def _detail(school, status=200, errors=None, form=None):
    return render_template("schools/detail.html", school=school, admins=queries.school_admins(school),
                           errors=errors or {}, form=form or {}), status


@bp.get("/schools/<int:school_id>")
def detail(school_id):
    return _detail(queries.managed_school(_actor(), school_id))


@bp.post("/schools/<int:school_id>/admins")
def create_admin(school_id):
    school = queries.managed_school(_actor(), school_id)
    try:
        data = parse_form(schemas.SchoolAdminIn())
        user = services.create_school_admin(school, actor=_actor(), **data)
    except DomainError as exc:
        db.session.rollback()
        school = queries.managed_school(_actor(), school_id)
        return _detail(school, 422, errors=errors_of(exc), form=request.form)
    flash(f"已创建学校管理员账号 {user.username}，首次登录须修改密码", "success")
    return redirect(url_for("schools.detail", school_id=school.id))


# ---------------------------------------------------------------- import

@bp.get("/schools/import/template.xlsx")
def import_template():
    return send_file(io.BytesIO(importer.build_template("xlsx")), mimetype=tabular.XLSX_TYPE, as_attachment=True,
                     download_name=f"{TEMPLATE_NAME}.xlsx", max_age=0)


@bp.get("/schools/import/template.csv")
def import_template_csv():
    return send_file(io.BytesIO(importer.build_template("csv")), mimetype=tabular.CSV_TYPE, as_attachment=True,
                     download_name=f"{TEMPLATE_NAME}.csv", max_age=0)


def _import_page(status=200, problems=None, file_error=None):
    return render_template("schools/import.html", problems=problems or [], file_error=file_error,
                           max_rows=importer.MAX_ROWS, columns=importer.COLUMNS), status


@bp.get("/schools/import")
def import_form():
    return _import_page()


@bp.post("/schools/import")
def import_upload():
    try:
        _filename, data = files.read_upload(request.files.get("file"))
        created = importer.import_schools(actor=_actor(), data=data)
    except tabular.ImportRejected as exc:
        db.session.rollback()
        return _import_page(422, problems=exc.problems)
    except DomainError as exc:
        if not isinstance(exc, ValidationFailed) and exc.status != 413:
            raise
        db.session.rollback()
        return _import_page(exc.status, file_error=exc.message)
    flash(f"已导入 {len(created)} 所学校", "success")
    return redirect(url_for("schools.index"))


# ---------------------------------------------------------------- terms (sys_admin)

def _terms_page(status=200, errors=None, form=None):
    return render_template("schools/terms.html", terms=queries.list_terms(), errors=errors or {},
                           form=form or {}, today=clock.today()), status


@bp.get("/terms")
def terms():
    return _terms_page()


@bp.post("/terms")
def create_term():
    try:
        data = parse_form(schemas.TermIn())
        term = services.create_term(actor=_actor(), **data)
    except DomainError as exc:
        return _terms_page(422, errors=errors_of(exc), form=request.form)
    flash(f"已添加学期 {term.name}", "success")
    return redirect(url_for("schools.terms"))


@bp.route("/terms/<int:term_id>/edit", methods=["GET", "POST"])
def edit_term(term_id):
    term = queries.get_term(term_id)
    errors, form = {}, {"name": term.name, "starts_on": term.starts_on.isoformat(), "ends_on": term.ends_on.isoformat()}
    if request.method == "POST":
        try:
            data = parse_form(schemas.TermIn())
            services.update_term(term, actor=_actor(), **data)
        except DomainError as exc:
            db.session.rollback()
            term = queries.get_term(term_id)
            errors, form = errors_of(exc), request.form
        else:
            flash("学期已保存", "success")
            return redirect(url_for("schools.terms"))
    return render_template("schools/term_edit.html", term=term, errors=errors, form=form), (422 if errors else 200)


# ---------------------------------------------------------------- the school's own projects (school_admin)

def _selected_term(terms):
    raw = request.values.get("term_id", "")
    if raw.isdigit():
        for term in terms:
            if term.id == int(raw):
                return term
    return queries.default_term(clock.today(), terms)


def _own_projects_page(term=None, status=200, errors=None, form=None, remove_errors=None):
    school = current_user.school
    terms = queries.list_terms()
    term = term or _selected_term(terms)
    projects = queries.own_projects(school, term) if term else []
    share = services.share_view(school, term) if term else None
    return render_template("schools/own_projects.html", school=school, terms=terms, term=term, projects=projects,
                           share=share, categories=schemas.CATEGORY_CHOICES, category_labels=CATEGORY_LABELS,
                           errors=errors or {}, form=form or {}, remove_errors=remove_errors), status


@bp.get("/school/projects")
def own_projects():
    return _own_projects_page()


@bp.post("/school/projects")
def add_own_project():
    try:
        data = parse_form(schemas.OwnProjectIn())
        project = services.add_own_project(current_user.school, actor=_actor(), **data)
    except DomainError as exc:
        db.session.rollback()
        return _own_projects_page(status=422, errors=errors_of(exc), form=request.form)
    flash(f"已添加本校课后服务项目“{project.name}”", "success")
    return redirect(url_for("schools.own_projects", term_id=project.term_id))


@bp.post("/school/projects/<int:project_id>/delete")
def remove_own_project(project_id):
    project = queries.own_project(current_user.school, project_id)
    term_id = project.term_id
    try:
        services.remove_own_project(project, actor=_actor())
    except ValidationFailed as exc:
        db.session.rollback()
        term = queries.get_term(term_id)
        return _own_projects_page(term=term, status=422, remove_errors=exc.errors)
    flash("已删除该项目", "success")
    return redirect(url_for("schools.own_projects", term_id=term_id))
