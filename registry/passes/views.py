"""Pages of entry passes and the gate (issue 14), phones first.

- the provider's and the school's pass lists (with 未到岗), issuing a school-engaged person's pass, revoking,
  gate keeper accounts, photo upload with its own consent, the badge PDF;
- the person's phone page, opened by the secret link /pass/<key> without a login;
- /gate for a gate keeper or the school's admin: camera scan (static/passes/gate.js, jsQR vendored) or a typed
  code; the JSON endpoints it calls (scan, sync, the offline kit) take the CSRF token in a header;
- /gate/onsite: 在校人员, printable for a roll call;
- /passes/v/<token>: the public verification page (valid or not, masked name, provider, project, school).
"""
from flask import Blueprint, flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user

from registry.auth.views import qr_data_uri
from registry.core import clock
from registry.core.errors import DomainError, NotAllowed, NotFound, ValidationFailed
from registry.core.pdf.response import pdf_response
from registry.core.schema import load, parse_form
from registry.extensions import db
from registry.files import services as files
from registry.passes import pdf, queries, schemas, services
from registry.people import queries as people_queries
from registry.people import services as people

bp = Blueprint("passes", __name__)

CAMERA_POLICY = "camera=(self), microphone=(), geolocation=()"  # the gate page scans with the camera
WEEKDAY_OPTIONS = list(enumerate(services.DAY_LABELS))


def _actor():
    return current_user._get_current_object()


def _errors_of(exc):
    if isinstance(exc, ValidationFailed):
        return exc.errors
    return {exc.field or "_schema": [exc.message]}


def _school():
    if current_user.school_id is None:
        raise NotAllowed("只有学校账号可以使用此页面")
    return current_user.school


# ---------------------------------------------------------------- lists

@bp.get("/provider/passes")
def provider_index():
    passes = queries.provider_passes(current_user.provider_id)
    people_ids = {p.person_id for p in passes}
    return render_template("passes/index.html", passes=passes, side="provider", today=clock.today(),
                           no_shows=queries.no_shows(provider_id=current_user.provider_id),
                           photos=queries.photo_ids(people_ids), errors={}, form={},
                           persons=sorted({p.person.id: p.person for p in passes}.values(), key=lambda x: x.id))


def _school_page(status=200, errors=None, form=None):
    school = _school()
    passes = queries.school_passes(school.id)
    own = [p for p, c in people_queries.school_clearances(school) if c.cleared]
    return render_template("passes/index.html", passes=passes, side="school", today=clock.today(),
                           no_shows=queries.no_shows(school_id=school.id), own_people=own,
                           photos=queries.photo_ids({p.person_id for p in passes}), weekday_options=WEEKDAY_OPTIONS,
                           errors=errors or {}, form=form or {},
                           persons=people_queries.school_people(school.id)), status


@bp.get("/school/passes")
def school_index():
    return _school_page()


def _school_form(section, action, success):
    """Run one of the school page's forms; a refused one comes back on the page with its errors and input."""
    try:
        done = action()
    except DomainError as exc:
        if exc.status not in (409, 422):
            raise
        db.session.rollback()
        return _school_page(exc.status, errors={section: _errors_of(exc)}, form=request.form)
    flash(success(done), "success")
    return redirect(url_for("passes.school_index"))


@bp.post("/school/passes")
def issue():
    return _school_form("issue", lambda: services.issue_school_pass(
        _school(), actor=_actor(), **parse_form(schemas.SchoolPassIn(), multi=("weekdays",))),
        lambda entry_pass: f"已签发通行证 {services.format_code(entry_pass.code)}")


@bp.post("/school/gate-keepers")
def create_gate_keeper():
    return _school_form("keeper", lambda: services.create_gate_keeper(
        _school(), actor=_actor(), **parse_form(schemas.GateKeeperIn())),
        lambda user: f"已创建门卫账号 {user.username}，首次登录须修改密码")


@bp.post("/passes/<int:pass_id>/revoke")
def revoke(pass_id):
    entry_pass = queries.managed_pass(_actor(), pass_id)
    data = parse_form(schemas.RevokeIn())
    services.revoke(entry_pass, actor=_actor(), reason=data["reason"])
    flash("通行证已撤销，门岗立即拒绝", "success")
    return redirect(url_for("passes.school_index" if current_user.school_id else "passes.provider_index"))


@bp.get("/passes/<int:pass_id>/badge.pdf")
def badge(pass_id):
    entry_pass = queries.managed_pass(_actor(), pass_id)
    return pdf_response(pdf.render_badge(entry_pass), pdf.badge_filename(entry_pass))


# ---------------------------------------------------------------- photos

@bp.post("/passes/people/<int:person_id>/photo")
def upload_photo(person_id):
    person = people.get_person(person_id)
    user = _actor()
    if not ((user.provider_id and person.provider_id == user.provider_id)
            or (user.school_id and person.school_id == user.school_id)):
        raise NotFound("人员不存在")
    try:
        data = parse_form(schemas.PhotoIn())
        upload = files.read_upload(request.files.get("photo"), field="photo")
        services.upload_photo(person, actor=user, upload=upload, **data)
    except DomainError as exc:
        if exc.status not in (409, 413, 422):
            raise
        db.session.rollback()
        flash("照片未保存：" + "；".join(m for msgs in _errors_of(exc).values() for m in msgs), "error")
    else:
        flash(f"已保存{person.name}的通行证照片", "success")
    return redirect(url_for("passes.school_index" if user.school_id else "passes.provider_index"))


@bp.get("/passes/people/<int:person_id>/photo")
def photo(person_id):
    if not queries.can_see_photo(_actor(), person_id):
        raise NotFound("照片不存在")
    found = services.photo_of(person_id)
    if found is None:
        raise NotFound("照片不存在")
    return files.inline_image(found.file)


# ---------------------------------------------------------------- the person's phone page and public check

@bp.get("/pass/<string:link_key>")
def phone(link_key):
    entry_pass = queries.by_link(link_key)
    day = clock.today()
    reasons = services.standing_reasons(entry_pass, day)
    response = render_template("passes/phone.html", p=entry_pass, qr=qr_data_uri(services.qr_text(entry_pass)),
                               code=services.format_code(entry_pass.code), reasons=reasons, today=day,
                               weekdays=services.weekdays_text(entry_pass.weekdays))
    return response, 200, {"Cache-Control": "private, no-store"}


@bp.get("/passes/v/<path:token>")
def verify(token):
    view = services.public_view(token)
    return render_template("passes/verify.html", view=view), 200 if view is not None else 404


# ---------------------------------------------------------------- the gate

def _decision_json(decision):
    services.with_photo_url(decision, lambda person_id: url_for("passes.photo", person_id=person_id))
    return schemas.DecisionOut().dump(decision)


@bp.get("/gate")
def gate():
    school = _school()
    return (render_template("passes/gate.html", school=school, result=None, text=""), 200,
            {"Permissions-Policy": CAMERA_POLICY})


@bp.post("/gate")
def gate_check():
    """The typed-code form without JavaScript: the same scan, rendered."""
    school = _school()
    text = (request.form.get("text") or "").strip()
    if not text:
        return render_template("passes/gate.html", school=school, result=None, text="",
                               error="请输入通行码或扫描二维码"), 422
    decision, _row = services.scan(school, user=_actor(), text=text)
    return (render_template("passes/gate.html", school=school, result=_decision_json(decision), text=text), 200,
            {"Permissions-Policy": CAMERA_POLICY})


@bp.post("/gate/scan.json")
def gate_scan():
    school = _school()
    data = load(schemas.ScanIn(), request.get_json(silent=True) or {})
    decision, _row = services.scan(school, user=_actor(), text=data["text"])
    return jsonify(_decision_json(decision))


@bp.post("/gate/sync.json")
def gate_sync():
    school = _school()
    data = load(schemas.SyncIn(), request.get_json(silent=True) or {})
    done = services.sync(school, user=_actor(), items=data["scans"])
    return jsonify({"results": schemas.SyncResultOut(many=True).dump(done)})


@bp.get("/gate/kit.json")
def gate_kit():
    return jsonify(schemas.KitOut().dump(services.offline_kit(_school())))


@bp.get("/gate/onsite")
def onsite():
    school = _school()
    rows = queries.on_site(school.id)
    return render_template("passes/onsite.html", school=school, rows=rows, now=clock.utcnow(),
                           scans=queries.scans(school.id, limit=50))
