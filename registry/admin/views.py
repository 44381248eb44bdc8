"""User management by the sys_admin."""
from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import func, or_, select
from sqlalchemy.orm import joinedload

from registry.auth import schemas, services
from registry.auth.models import User, UserSession
from registry.auth.roles import ROLE_LABELS, Role
from registry.core import clock
from registry.core.errors import DomainError, NotFound, ValidationFailed
from registry.core.pagination import page_args, paginate
from registry.core.schema import form_data, load, parse_form
from registry.extensions import db
from registry.policy import schemas as policy_schemas
from registry.policy import services as policy
from registry.regions.models import Region, RegionLevel

bp = Blueprint("admin", __name__, url_prefix="/admin")


def _region_choices():
    return db.session.scalars(
        select(Region).order_by(Region.code)
    ).all()


@bp.get("/users")
def users():
    # the organisation column names a county with its city (Region.full_name): the parent in the same query
    stmt = select(User).options(joinedload(User.region).joinedload(Region.parent)).order_by(User.id)
    q = (request.args.get("q") or "").strip()
    if q:
        stmt = stmt.where(or_(User.username.contains(q, autoescape=True),
                              User.display_name.contains(q, autoescape=True)))
    role = request.args.get("role")
    if role in Role.__members__:
        stmt = stmt.where(User.role == Role(role))
    page = paginate(stmt, *page_args())
    ids = [u.id for u in page.items]
    last_login = dict(db.session.execute(
        select(UserSession.user_id, func.max(UserSession.created_at)).where(UserSession.user_id.in_(ids))
        .group_by(UserSession.user_id)).all()) if ids else {}
    return render_template("admin/users.html", page=page, q=q, role=role, roles=ROLE_LABELS, last_login=last_login,
                           organisation=organisation)


def organisation(user):
    """The unit an account works for: its provider or school, else its region (bureau roles)."""
    if user.provider is not None:
        return user.provider.name
    if user.school is not None:
        return user.school.name
    return user.region.full_name if user.region else "—"


@bp.route("/users/new", methods=["GET", "POST"])
def new_user():
    errors, form = {}, {}
    if request.method == "POST":
        form = request.form
        try:
            data = parse_form(schemas.UserCreateIn())
            user = services.create_user(actor=current_user._get_current_object(), **data)
        except ValidationFailed as exc:
            errors = exc.errors
        except DomainError as exc:
            errors = {exc.field or "_schema": [exc.message]}
        else:
            flash(f"已创建用户 {user.username}，首次登录须修改密码", "success")
            return redirect(url_for("admin.user_detail", user_id=user.id))
    return render_template("admin/user_new.html", errors=errors, form=form, roles=ROLE_LABELS,
                           regions=_region_choices()), (422 if errors else 200)


@bp.get("/users/<int:user_id>")
def user_detail(user_id):
    user = services.get_user(user_id)
    return render_template("admin/user_detail.html", user=user, roles=ROLE_LABELS, regions=_region_choices(),
                           errors={})


def _act(user_id, action, success):
    user = services.get_user(user_id)
    try:
        action(user)
    except ValidationFailed as exc:
        return render_template("admin/user_detail.html", user=user, roles=ROLE_LABELS,
                               regions=_region_choices(), errors=exc.errors), 422
    flash(success, "success")
    return redirect(url_for("admin.user_detail", user_id=user.id))


@bp.post("/users/<int:user_id>/role")
def assign_role(user_id):
    def action(user):
        data = parse_form(schemas.AssignRoleIn())
        services.assign_role(user, actor=current_user._get_current_object(), **data)
    return _act(user_id, action, "角色和权限范围已更新，该用户需重新登录")


@bp.post("/users/<int:user_id>/disable")
def disable_user(user_id):
    return _act(user_id, lambda u: services.disable_user(u, actor=current_user._get_current_object()),
                "账户已停用，其所有登录已失效")


@bp.post("/users/<int:user_id>/enable")
def enable_user(user_id):
    return _act(user_id, lambda u: services.enable_user(u, actor=current_user._get_current_object()), "账户已启用")


@bp.post("/users/<int:user_id>/password")
def reset_password(user_id):
    def action(user):
        data = parse_form(schemas.ResetPasswordIn(), drop_empty=False)
        services.reset_password(user, new_password=data["new_password"], actor=current_user._get_current_object())
    return _act(user_id, action, "已重置密码，用户下次登录须修改")


@bp.post("/users/<int:user_id>/totp")
def reset_totp(user_id):
    return _act(user_id, lambda u: services.reset_totp(u, actor=current_user._get_current_object()),
                "已清除该用户的动态验证码，下次登录时须重新绑定")


# ---------------------------------------------------------------- cities' public-notice settings (issue 19)

NOTICE_LABELS = {"notice_contact": "联系人", "notice_phone": "联系电话", "objection_address": "书面异议邮寄地址",
                 "supervision_phone": "监督电话", "doc_number_pattern": "文号格式"}


def _city(city_id):
    city = db.session.get(Region, city_id)
    if city is None or city.level != RegionLevel.city:
        raise NotFound("该设区市不存在")
    return city


@bp.get("/cities")
def cities():
    rows = db.session.scalars(select(Region).where(Region.level == RegionLevel.city).order_by(Region.code)).all()
    return render_template("admin/cities.html", rows=[(c, policy.for_city(c)) for c in rows], labels=NOTICE_LABELS)


@bp.route("/cities/<int:city_id>/notice", methods=["GET", "POST"])
def city_notice(city_id):
    city = _city(city_id)
    current = policy.for_city(city)
    form = {name: getattr(current, name) or "" for name in policy.NOTICE_FIELDS}
    errors = {}
    if request.method == "POST":
        form = form_data()
        try:
            data = load(policy_schemas.NoticeSettingsIn(), form)
            policy.update_notice_settings(city, actor=current_user._get_current_object(), **data)
        except ValidationFailed as exc:
            errors = exc.errors
        else:
            flash(f"已保存{city.name}的公示设置", "success")
            return redirect(url_for("admin.cities"))
    return render_template("admin/city_notice.html", city=city, form=form, errors=errors, labels=NOTICE_LABELS,
                           example=policy.doc_number(current, _ExampleBatch(city))), (422 if errors else 200)


class _ExampleBatch:
    """What the 文号 of this year's first batch would read (the form's example)."""

    def __init__(self, city):
        self.year, self.seq, self.issuer = clock.today().year, 1, f"{city.name}教育局"
