"""Provider pages: self-registration, dashboard, profile, colleagues and documents (资质材料)."""
from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_user
from markupsafe import Markup

from registry.auth import services as auth_services
from registry.auth.login import login_rate_limit
from registry.core import clock, listing
from registry.core.errors import DomainError, ValidationFailed
from registry.core.schema import parse_form
from registry.extensions import limiter
from registry.files import services as files
from registry.providers import queries, schemas, services
from registry.providers.models import (
    DOC_TYPE_LABELS,
    EXPIRY_REQUIRED,
    ORG_TYPE_LABELS,
    REVIEWED_LABELS,
    VERIFICATION_LABELS,
    OrgType,
)
from registry.providers.services import EXPIRY_FLAG_LABELS
from registry.regions.models import RegionLevel

bp = Blueprint("providers", __name__)

# Panels of higher domains on the provider dashboard: (position, template, context_fn). context_fn(provider)
# returns the template's variables (the template also gets `provider`). A higher domain registers its panel
# with @dashboard_panel(template, position) at import of its views module (docs/architecture.md, "How a lower
# domain signals a higher one"); panels show in the order of their positions.
DASHBOARD_PANELS = []


def dashboard_panel(template, position=None):
    """Register a panel; without a position it goes after the panels registered so far."""
    def register(context_fn):
        if not any(t == template for _p, t, _f in DASHBOARD_PANELS):
            at = position if position is not None else max((p for p, _t, _f in DASHBOARD_PANELS), default=0) + 1
            DASHBOARD_PANELS.append((at, template, context_fn))
            DASHBOARD_PANELS.sort(key=lambda panel: panel[0])
        return context_fn
    return register


def _render_panels(provider):
    return [Markup(render_template(template, provider=provider, **context_fn(provider)))
            for _position, template, context_fn in DASHBOARD_PANELS]


def _actor():
    return current_user._get_current_object()


def _provider():
    return services.get_provider(current_user.provider_id)


def _errors(exc):
    if isinstance(exc, ValidationFailed):
        return exc.errors
    return {exc.field or "_schema": [exc.message]}


def own_document(provider, document_id):
    """The caller's own document, or 404 (with an audit row when it is not theirs)."""
    return queries.own_document(provider, document_id, request.path)


ORG_TYPE_OPTIONS = [(t.value, label) for t, label in ORG_TYPE_LABELS.items()]
DOC_TYPE_OPTIONS = [(t.value, label) for t, label in DOC_TYPE_LABELS.items()]
LABELS = {
    "doc_types": DOC_TYPE_LABELS, "verification": VERIFICATION_LABELS, "expiry_flags": EXPIRY_FLAG_LABELS,
    "expiry_required": {t.value for t in EXPIRY_REQUIRED},
}


# ---------------------------------------------------------------- registration

@bp.route("/register", methods=["GET", "POST"])
@limiter.limit(login_rate_limit, methods=["POST"])
def register():
    if current_user.is_authenticated:
        flash("您已登录。如需为本机构增加账户，请在“机构资料”中添加同事账户", "info")
        return redirect(url_for("main.dashboard"))
    errors, status = {}, 200
    if request.method == "POST":
        try:
            data = parse_form(schemas.RegisterFormIn(), multi=("service_county_ids",))
            data.pop("admin_password_confirm")
            provider, admin = services.register_provider(**data)
        except DomainError as exc:
            errors, status = _errors(exc), exc.status
        else:
            session.permanent = True
            auth_services.start_session(admin, ip=request.remote_addr)
            login_user(admin, remember=False)
            flash(f"“{provider.name}”注册成功。请上传资质材料、添加从业人员和服务项目后提交申报。", "success")
            return redirect(url_for("providers.dashboard"))
    return render_template("providers/register.html", errors=errors, form=request.form,
                           selected_counties=set(request.form.getlist("service_county_ids")),
                           county_groups=queries.county_groups(), org_types=ORG_TYPE_OPTIONS), status


# ---------------------------------------------------------------- dashboard

@bp.get("/provider")
def dashboard():
    provider = _provider()
    today = clock.today()
    return render_template("providers/dashboard.html", provider=provider,
                           checklist=services.document_checklist(provider, today),
                           expiring=services.expiring_documents(provider.id, today),
                           panels=_render_panels(provider), labels=LABELS)


# ---------------------------------------------------------------- profile and colleagues

@bp.route("/provider/profile", methods=["GET", "POST"])
def profile():
    provider = _provider()
    errors, status, form = {}, 200, None
    if request.method == "POST":
        form = request.form
        try:
            data = parse_form(schemas.ProfileIn(), multi=("service_county_ids",))
            services.update_profile(provider, actor=_actor(), **data)
        except DomainError as exc:
            errors, status = _errors(exc), exc.status
        else:
            if provider.pending_changes:
                flash(provider.pending_message + "。请到“申报”页发起变更申报并提交", "warning")
            else:
                flash("机构资料已保存", "success")
            return redirect(url_for("providers.profile"))
    if form is None:
        form = {key: getattr(provider, key) for key in
                ("name", "legal_representative", "contact_name", "contact_phone", "address", "description")}
        form["org_type"] = provider.org_type.value
        form.update(provider.pending_changes or {})  # the form shows (and saving it keeps) what waits for review
        selected = {str(area.county_id) for area in provider.service_areas}
    else:
        selected = set(request.form.getlist("service_county_ids"))
    counties = [c for c in provider.city.children if c.level == RegionLevel.county]
    published = provider.reviewed_values()
    words = {"org_type": lambda v: ORG_TYPE_LABELS[OrgType(v)]}
    pending_rows = [(REVIEWED_LABELS[k], words.get(k, str)(published[k]), words.get(k, str)(v))
                    for k, v in (provider.pending_changes or {}).items()]
    return render_template("providers/profile.html", provider=provider, errors=errors, form=form,
                           selected_counties=selected, counties=counties, org_types=ORG_TYPE_OPTIONS,
                           listed=listing.is_listed(provider.id), pending_rows=pending_rows), status


def _colleagues_page(provider, errors=None, form=None, status=200):
    return render_template("providers/colleagues.html", provider=provider,
                           colleagues=services.list_colleagues(provider), errors=errors or {}, form=form or {}), status


@bp.get("/provider/colleagues")
def colleagues():
    return _colleagues_page(_provider())


@bp.post("/provider/colleagues")
def add_colleague():
    provider = _provider()
    try:
        data = parse_form(schemas.ColleagueIn())
        user = services.add_colleague(provider, actor=_actor(), **data)
    except DomainError as exc:
        return _colleagues_page(provider, _errors(exc), request.form, exc.status)
    flash(f"已添加账户 {user.username}，首次登录须修改初始密码", "success")
    return redirect(url_for("providers.colleagues"))


# ---------------------------------------------------------------- documents

class _FormError(Exception):
    def __init__(self, errors, status):
        super().__init__("form error")
        self.errors, self.status = errors, status


def _read_document(schema):
    """Metadata from the form plus the uploaded file: (data, filename, bytes). Reports every field at once."""
    errors, status, data, upload = {}, 422, {}, (None, None)
    try:
        data = parse_form(schema)
    except ValidationFailed as exc:
        errors.update(exc.errors)
    try:
        upload = files.read_upload(request.files.get("file"))
    except DomainError as exc:
        errors.update(_errors(exc))
        status = exc.status  # 413 when the file is too large
    if errors:
        raise _FormError(errors, status)
    return data, *upload


def _name_the_file(errors):
    """Browsers never keep a chosen file after an error: say which file was refused."""
    chosen = request.files.get("file")
    if errors and errors.get("file") and chosen is not None and chosen.filename:
        errors = {**errors, "file": [f"“{chosen.filename}”：{m}" for m in errors["file"]]}
    return errors


def _documents_page(provider, errors=None, form=None, status=200):
    return render_template("providers/documents.html", provider=provider,
                           documents=services.current_documents(provider.id),
                           checklist=services.document_checklist(provider), today=clock.today(),
                           doc_types=DOC_TYPE_OPTIONS, labels=LABELS, expiry_flag=services.expiry_flag,
                           errors=_name_the_file(errors or {}), form=form or {}), status


@bp.get("/provider/documents")
def documents():
    form = {"doc_type": request.args.get("doc_type", "")}
    return _documents_page(_provider(), form=form)


@bp.post("/provider/documents")
def upload_document():
    provider = _provider()
    try:
        data, filename, content = _read_document(schemas.DocumentIn())
        document = services.upload_document(provider, actor=_actor(), filename=filename, data=content, **data)
    except _FormError as exc:
        return _documents_page(provider, exc.errors, request.form, exc.status)
    except DomainError as exc:
        return _documents_page(provider, _errors(exc), request.form, exc.status)
    flash(f"已上传{document.doc_type_label}（待审核部门核验）", "success")
    return redirect(url_for("providers.documents"))


def _history_page(provider, document, errors=None, form=None, status=200):
    latest = services.latest_version(document)
    if form is None:  # a renewal usually keeps the title and the issuer
        form = {"title": latest.title, "issuer": latest.issuer}
    return render_template("providers/document_history.html", provider=provider, document=latest,
                           versions=services.document_history(latest), labels=LABELS,
                           expiry_flag=services.expiry_flag, errors=_name_the_file(errors or {}), form=form), status


@bp.get("/provider/documents/<int:document_id>")
def document_history(document_id):
    provider = _provider()
    return _history_page(provider, own_document(provider, document_id))


@bp.post("/provider/documents/<int:document_id>/replace")
def replace_document(document_id):
    provider = _provider()
    previous = own_document(provider, document_id)
    try:
        data, filename, content = _read_document(schemas.DocumentMetaIn())
        document = services.upload_document(provider, actor=_actor(), doc_type=previous.doc_type, filename=filename,
                                            data=content, replaces_id=previous.id, **data)
    except _FormError as exc:
        return _history_page(provider, previous, exc.errors, request.form, exc.status)
    except DomainError as exc:
        return _history_page(provider, previous, _errors(exc), request.form, exc.status)
    flash(f"已上传{document.doc_type_label}的新版本，原版本已保留在历史记录中", "success")
    return redirect(url_for("providers.document_history", document_id=document.id))

