"""Service projects (服务项目) of the provider admin's own organisation."""
from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user

from registry.core import clock, listing
from registry.core.errors import DomainError, ValidationFailed
from registry.core.schema import parse_form
from registry.people import queries as people_queries
from registry.people.models import QUALIFICATION_LABELS, QualificationType
from registry.policy import services as policy
from registry.projects import queries, schemas
from registry.projects import services as projects
from registry.projects.models import CATEGORY_LABELS, REVIEWED_FIELDS, REVIEWED_LABELS, STAGE_LABELS, Category, Stage

bp = Blueprint("projects", __name__)

MULTI = ("stages", "staff_ids")


def _actor():
    return current_user._get_current_object()


@bp.get("/provider/projects")
def index():
    provider = current_user.provider
    return render_template("projects/index.html", rows=queries.project_rows(provider),
                           price_cap=policy.for_city(provider.city).price_cap)


def _form_from_project(project):
    form = {key: getattr(project, key) for key in projects.FIELDS if key != "stages"}
    form.update(category=project.category.value, level=project.level.value,
                required_qualification=project.required_qualification.value, price=f"{project.price:.2f}",
                stages=[s.value for s in project.stages], staff_ids=[str(link.person_id) for link in project.staff])
    form.update(project.pending_changes or {})  # the form shows (and saving it keeps) what waits for review
    return form


def _pending_rows(project):
    """(label, published value, proposed value) of each pending change, in words."""
    def words(key, value):
        if key == "category":
            return CATEGORY_LABELS[Category(value)]
        if key == "stages":
            return "、".join(STAGE_LABELS[Stage(s)] for s in value)
        if key == "required_qualification":
            return QUALIFICATION_LABELS[QualificationType(value)]
        return str(value)
    published = project.reviewed_values()
    return [(REVIEWED_LABELS[k], words(k, published[k]), words(k, project.pending_changes[k]))
            for k in REVIEWED_FIELDS if k in (project.pending_changes or {})]


def _form_from_request():
    form = request.form.to_dict()
    for key in MULTI:
        form[key] = request.form.getlist(key)
    return form


def _staff_choices(provider, form):
    """The provider's people, each with their clearance today for the project's qualification type."""
    book = people_queries.ClearanceBook(provider)
    try:
        qualification = QualificationType(form.get("required_qualification"))
    except ValueError:
        qualification = None
    return [(person, book.of(person, qualification)) for person in book.people], qualification


def _render_form(project, form, errors):
    provider = current_user.provider
    staff, qualification = _staff_choices(provider, form)
    return render_template(
        "projects/form.html", project=project, form=form, errors=errors, staff=staff, today=clock.today(),
        listed=project is not None and listing.is_listed(project.provider_id, project.id),
        pending_rows=_pending_rows(project) if project is not None else [],
        application_url=url_for("applications.index"),
        staff_qualification=qualification, staff_qualification_label=QUALIFICATION_LABELS.get(qualification),
        people_url=url_for("people.index"),
        price_cap=policy.for_city(provider.city).price_cap,
        categories=schemas.CATEGORY_CHOICES, stages=schemas.STAGE_CHOICES, levels=schemas.LEVEL_CHOICES,
        qualifications=schemas.QUALIFICATION_CHOICES,
    ), (422 if errors else 200)


def _save(project=None):
    """Load the form with the API's schema and call the same service. Returns (project, errors)."""
    try:
        data = parse_form(schemas.ProjectIn(), multi=MULTI)
        staff_ids = data.pop("staff_ids")
        if project is None:
            return projects.create_project(current_user.provider, actor=_actor(), staff_ids=staff_ids, **data), {}
        return projects.update_project(project, actor=_actor(), staff_ids=staff_ids, **data), {}
    except ValidationFailed as exc:
        return project, exc.errors
    except DomainError as exc:
        return project, {exc.field or "_schema": [exc.message]}


@bp.route("/provider/projects/new", methods=["GET", "POST"])
def new():
    if request.method == "GET":
        return _render_form(None, {"stages": [], "staff_ids": []}, {})
    project, errors = _save()
    if errors:
        return _render_form(None, _form_from_request(), errors)
    flash(f"已添加服务项目“{project.title}”", "success")
    return redirect(url_for("projects.edit", project_id=project.id))


@bp.route("/provider/projects/<int:project_id>", methods=["GET", "POST"])
def edit(project_id):
    project = queries.own_project(current_user.provider_id, project_id)
    if request.method == "GET":
        return _render_form(project, _form_from_project(project), {})
    project, errors = _save(project)
    if errors:
        return _render_form(project, _form_from_request(), errors)
    if project.pending_changes:
        flash(project.pending_message + "。请到“申报”页发起（或在草稿中选入该项目）变更申报并提交", "warning")
    else:
        flash("项目已保存。已提交的申报保留提交时的内容，不受此次修改影响", "success")
    return redirect(url_for("projects.edit", project_id=project.id))
