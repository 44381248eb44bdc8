"""Every write about accounts, logins, sessions, second factors and API tokens."""
import functools
import re
import secrets
from datetime import timedelta, timezone

import pyotp
from flask import current_app
from sqlalchemy import bindparam, or_, select, update
from sqlalchemy.orm import joinedload, lazyload, load_only
from sqlalchemy.orm.attributes import set_committed_value

from registry.audit import services as audit
from registry.auth.models import ApiToken, User, UserSession
from registry.auth.passwords import burn_time, hash_password, policy_errors, verify_password
from registry.auth.roles import REGION_LEVEL, SCHOOL_ROLES, Role
from registry.core import clock, crypto
from registry.core.errors import Conflict, NotAllowed, NotFound, Unauthorized, ValidationFailed
from registry.extensions import db
from registry.regions.models import Region
from registry.schools.models import School

LOGIN_FAILED_MESSAGE = "用户名或密码错误，或账户已被临时锁定。连续失败 5 次将锁定 30 分钟。"
MFA_LOCKED_MESSAGE = "验证失败次数过多，账户已被临时锁定 30 分钟"
USERNAME_RE = re.compile(r"^[A-Za-z0-9_.\-]{3,64}$")
TOTP_CONTEXT = "user.totp_secret"


class LoginFailed(Unauthorized):
    code = "login_failed"


# ---------------------------------------------------------------- accounts

def _check_password_policy(password, user_words):
    errors = policy_errors(password, user_words)
    if errors:
        raise ValidationFailed({"password": errors})


def _resolve_scope(role, region_id):
    """Validate that the role's scope is given and of the right kind; return the region or None."""
    level = REGION_LEVEL.get(role)
    if level is None:
        return None if role not in (Role.school_admin, Role.provider_admin) or region_id is None else _region(region_id)
    if region_id is None:
        raise ValidationFailed({"region_id": ["该角色必须指定所属区划"]})
    region = _region(region_id)
    if region.level.value != level:
        wanted = {"province": "省", "city": "设区市"}.get(level, "县（市、区）")
        raise ValidationFailed({"region_id": [f"该角色的所属区划必须是{wanted}"]})
    return region


def _region(region_id):
    region = db.session.get(Region, region_id)
    if region is None:
        raise ValidationFailed({"region_id": ["所选区划不存在"]})
    return region


def create_user(*, username, display_name, role, password, region_id=None, email=None, actor=None,
                must_change_password=True, provider_id=None, school_id=None):
    role = Role(role)
    if (role == Role.provider_admin) != (provider_id is not None):
        raise ValidationFailed({"provider_id": ["机构账号必须属于一个机构，其他角色不能属于机构"]})
    if (role in SCHOOL_ROLES) != (school_id is not None):
        raise ValidationFailed({"school_id": ["学校管理员和门卫必须属于一所学校，其他角色不能属于学校"]})
    if not USERNAME_RE.match(username or ""):
        raise ValidationFailed({"username": ["用户名须为 3–64 位字母、数字、下划线、点或连字符"]})
    if db.session.scalar(select(User.id).where(User.username == username)) is not None:
        raise Conflict("该用户名已被使用", field="username", code="duplicate_username")
    region = _resolve_scope(role, region_id)
    _check_password_policy(password, [username, display_name])
    user = User(
        username=username, display_name=display_name, email=email, role=role, region=region,
        password_hash=hash_password(password), must_change_password=must_change_password,
        created_by_id=getattr(actor, "id", None), provider_id=provider_id, school_id=school_id,
    )
    db.session.add(user)
    db.session.flush()
    audit.record("user.create", object_type="user", object_id=user.id, actor=actor,
                 details={"username": username, "role": role.value, "region_id": region_id})
    return user


def get_user(user_id):
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound("用户不存在")
    return user


def assign_role(user, *, role, region_id, actor):
    """Change a user's role and scope. Nobody changes their own role (a sys_admin cannot make itself a reviewer)."""
    role = Role(role)
    if actor is not None and actor.id == user.id:
        raise NotAllowed("不能修改自己的角色或权限范围", field="role", code="self_grant")
    if Role.provider_admin in (role, user.role) and role != user.role:
        raise ValidationFailed({"role": ["机构账号由机构自行注册或由机构管理员添加，不能与其他角色互相转换"]})
    if SCHOOL_ROLES & {role, user.role} and role != user.role:
        raise ValidationFailed({"role": ["学校管理员账号在学校管理中创建，不能与其他角色互相转换"]})
    region = _resolve_scope(role, region_id)
    before = {"role": user.role.value, "region_id": user.region_id}
    user.role, user.region = role, region
    _revoke_sessions(user)
    db.session.flush()
    audit.record("user.assign_role", object_type="user", object_id=user.id, actor=actor,
                 details={"before": before, "after": {"role": role.value, "region_id": region_id}})
    return user


def disable_user(user, *, actor):
    if actor is not None and actor.id == user.id:
        raise NotAllowed("不能停用自己的账户", code="self_disable")
    if user.disabled_at is not None:
        raise Conflict("该账户已经停用", code="already_disabled")
    user.disabled_at = clock.utcnow()
    _revoke_sessions(user)
    _revoke_tokens(user, actor=actor, because="user.disable")
    db.session.flush()
    audit.record("user.disable", object_type="user", object_id=user.id, actor=actor)


def enable_user(user, *, actor):
    if user.disabled_at is None:
        raise Conflict("该账户未被停用", code="not_disabled")
    user.disabled_at = None
    user.failed_logins, user.locked_until = 0, None
    db.session.flush()
    audit.record("user.enable", object_type="user", object_id=user.id, actor=actor)


def reset_password(user, *, new_password, actor):
    """An administrator sets a temporary password; the user must change it at next login."""
    _check_password_policy(new_password, [user.username, user.display_name])
    user.password_hash = hash_password(new_password)
    user.password_changed_at = clock.utcnow()
    user.must_change_password = True
    user.failed_logins, user.locked_until = 0, None
    _revoke_sessions(user)
    _revoke_tokens(user, actor=actor, because="user.reset_password")
    db.session.flush()
    audit.record("user.reset_password", object_type="user", object_id=user.id, actor=actor)


def change_password(user, *, current_password, new_password):
    """The user changes their own password. Every existing session dies, including copies of this one."""
    if not verify_password(user.password_hash, current_password or ""):
        raise ValidationFailed({"current_password": ["当前密码不正确"]})
    if new_password == current_password:
        raise ValidationFailed({"new_password": ["新密码不能与当前密码相同"]})
    errors = policy_errors(new_password, [user.username, user.display_name])
    if errors:
        raise ValidationFailed({"new_password": errors})
    user.password_hash = hash_password(new_password)
    user.password_changed_at = clock.utcnow()
    user.must_change_password = False
    _revoke_sessions(user)
    _revoke_tokens(user, actor=user, because="user.change_password")
    db.session.flush()
    audit.record("user.change_password", object_type="user", object_id=user.id, actor=user)


# ---------------------------------------------------------------- login and sessions

def authenticate(username, password):
    """Check a username and password. Every failure raises the same LoginFailed, whatever the cause."""
    now = clock.utcnow()
    user = db.session.scalar(select(User).where(User.username == (username or "").strip()))
    if user is None:
        burn_time(password or "")
        audit.record("login", result="failure", actor_name=(username or "")[:64], details={"reason": "unknown_user"})
        raise LoginFailed(LOGIN_FAILED_MESSAGE)
    if user.is_locked(now):
        burn_time(password or "")
        audit.record("login", result="failure", actor=user, details={"reason": "locked"})
        raise LoginFailed(LOGIN_FAILED_MESSAGE)
    if not verify_password(user.password_hash, password or ""):
        reason = "bad_password_locked" if _count_failure(user, now) else "bad_password"
        db.session.flush()
        audit.record("login", result="failure", actor=user, details={"reason": reason})
        raise LoginFailed(LOGIN_FAILED_MESSAGE)
    if user.disabled_at is not None:
        audit.record("login", result="failure", actor=user, details={"reason": "disabled"})
        raise LoginFailed(LOGIN_FAILED_MESSAGE)
    # The failure count is cleared when a session starts, not here: a right password
    # must not wipe the second-factor failures that came before it.
    return user


def _count_failure(user, now):
    """One more failed factor (password or second factor). Returns True when it locks the account."""
    user.failed_logins += 1
    if user.failed_logins < current_app.config["LOCKOUT_THRESHOLD"]:
        return False
    user.locked_until = now + timedelta(minutes=current_app.config["LOCKOUT_MINUTES"])
    user.failed_logins = 0
    return True


def start_session(user, ip=None):
    """Create the server-side session; returns the token to put in the cookie."""
    token = secrets.token_urlsafe(32)
    user.failed_logins, user.locked_until = 0, None
    db.session.add(UserSession(user_id=user.id, token_hash=crypto.token_hash(token), ip=ip))
    db.session.flush()
    user._session_token = token
    audit.record("login", actor=user, details={"mfa": user.mfa_enrolled})
    return token


def load_session(token):
    """The user behind a session token, or None when it is unknown, revoked, idle or too old."""
    if not token:
        return None
    session = db.session.scalar(select(UserSession).where(UserSession.token_hash == crypto.token_hash(token)))
    if session is None or session.revoked_at is not None:
        return None
    now = clock.utcnow()
    cfg = current_app.config
    if (now - session.created_at > timedelta(hours=cfg["SESSION_ABSOLUTE_HOURS"])
            or now - session.last_seen_at > timedelta(minutes=cfg["SESSION_IDLE_MINUTES"])):
        session.revoked_at = now
        return None
    user = session.user
    if not user.is_active:
        return None
    if now - session.last_seen_at > timedelta(seconds=30):
        session.last_seen_at = now
    user._session_token = token
    return user


def end_session(user):
    token = getattr(user, "_session_token", None)
    if token:
        db.session.execute(
            update(UserSession).where(UserSession.token_hash == crypto.token_hash(token))
            .values(revoked_at=clock.utcnow())
        )
    audit.record("logout", actor=user)


def _revoke_sessions(user):
    db.session.execute(
        update(UserSession).where(UserSession.user_id == user.id, UserSession.revoked_at.is_(None))
        .values(revoked_at=clock.utcnow())
    )


def _revoke_tokens(user, *, actor, because):
    """Every live personal access token of `user` dies with its credentials (a password change or reset, a
    second-factor reset, disabling): a token copied by whoever knew the old password must not outlive it.
    One audit row names the tokens revoked and why."""
    revoked = db.session.scalars(
        update(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
        .values(revoked_at=clock.utcnow()).returning(ApiToken.id).execution_options(synchronize_session="fetch")
    ).all()
    if revoked:
        audit.record("token.revoke_all", object_type="user", object_id=user.id, actor=actor,
                     details={"because": because, "token_ids": sorted(revoked)})
    return revoked


# ---------------------------------------------------------------- second factor

def new_totp_secret():
    return pyotp.random_base32()


def provisioning_uri(user, secret):
    return pyotp.TOTP(secret).provisioning_uri(name=user.username, issuer_name="课后服务白名单")


def _accept_code(user, secret, code):
    """Accept a code once: the time step it matched must be later than the last one used."""
    code = re.sub(r"\s", "", code or "")
    if not re.fullmatch(r"\d{6}", code):
        return False
    totp = pyotp.TOTP(secret)
    moment = clock.utcnow().replace(tzinfo=timezone.utc).timestamp()
    step_now = int(moment // totp.interval)
    for step in (step_now - 1, step_now, step_now + 1):
        if secrets.compare_digest(totp.generate_otp(step), code):
            if user.totp_last_step is not None and step <= user.totp_last_step:
                return False
            # Read, compare, write would let parallel requests with one code all pass: the UPDATE itself
            # claims the step, and only the request whose UPDATE changed the row wins (it waits on the row
            # lock of a concurrent one and then re-checks the condition).
            claimed = db.session.execute(
                update(User).where(User.id == user.id,
                                   or_(User.totp_last_step.is_(None), User.totp_last_step < step))
                .values(totp_last_step=step).execution_options(synchronize_session=False)
            ).rowcount
            if claimed != 1:
                return False
            set_committed_value(user, "totp_last_step", step)
            return True
    return False


def enrol_totp(user, *, secret, code):
    if not _accept_code(user, secret, code):
        raise ValidationFailed({"code": ["动态验证码不正确或已使用，请输入认证器当前显示的 6 位数字"]})
    user.totp_secret = crypto.encrypt(secret, TOTP_CONTEXT)
    db.session.flush()
    audit.record("user.totp_enrol", object_type="user", object_id=user.id, actor=user)


def verify_totp(user, code):
    """Check a login's second factor. Wrong codes count towards the lockout like wrong passwords."""
    now = clock.utcnow()
    if user.is_locked(now):
        audit.record("login.mfa", result="failure", actor=user, details={"reason": "locked"})
        raise ValidationFailed({"code": [MFA_LOCKED_MESSAGE]})
    secret = crypto.decrypt(user.totp_secret, TOTP_CONTEXT)
    ok = _accept_code(user, secret, code)
    if not ok:
        locked = _count_failure(user, now)
        db.session.flush()
        audit.record("login.mfa", result="failure", actor=user,
                     details={"reason": "bad_code_locked" if locked else "bad_code"})
        raise ValidationFailed({"code": [MFA_LOCKED_MESSAGE if locked else "动态验证码不正确或已使用"]})
    db.session.flush()
    return True


def reset_totp(user, *, actor):
    if actor is not None and actor.id == user.id:
        raise NotAllowed("不能重置自己的动态验证码", code="self_reset")
    user.totp_secret, user.totp_last_step = None, None
    _revoke_sessions(user)
    _revoke_tokens(user, actor=actor, because="user.totp_reset")
    db.session.flush()
    audit.record("user.totp_reset", object_type="user", object_id=user.id, actor=actor)


# ---------------------------------------------------------------- API tokens

TOKEN_PREFIX = "rgt_"


def create_token(user, *, name, days=90):
    """Returns (token_row, plaintext). The plaintext is shown once and never stored."""
    name = (name or "").strip()
    if not name or len(name) > 64:
        raise ValidationFailed({"name": ["令牌名称不能为空，且不超过 64 个字符"]})
    if days is not None and not 1 <= int(days) <= 366:
        raise ValidationFailed({"days": ["有效期须在 1 到 366 天之间"]})
    plaintext = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(
        user_id=user.id, name=name, prefix=plaintext[:10], token_hash=crypto.token_hash(plaintext),
        expires_at=None if days is None else clock.utcnow() + timedelta(days=int(days)),
    )
    db.session.add(row)
    db.session.flush()
    audit.record("token.create", object_type="api_token", object_id=row.id, actor=user, details={"name": name})
    return row, plaintext


def revoke_token(user, token_id):
    row = db.session.get(ApiToken, token_id)
    if row is None or row.user_id != user.id:
        raise NotFound("令牌不存在")
    if row.revoked_at is not None:
        raise Conflict("该令牌已被吊销", code="already_revoked")
    row.revoked_at = clock.utcnow()
    db.session.flush()
    audit.record("token.revoke", object_type="api_token", object_id=row.id, actor=user)


def list_tokens(user):
    return db.session.scalars(select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.id.desc())).all()


# What an API request reads of its token, user and school. The other columns (the password hash, TOTP secret,
# lockout counters…) load when something asks for them, which an API request does not; every column
# costs the driver and the ORM on every request.
TOKEN_COLUMNS = (ApiToken.user_id, ApiToken.expires_at, ApiToken.last_used_at, ApiToken.revoked_at)
TOKEN_USER_COLUMNS = (User.username, User.display_name, User.role, User.region_id, User.provider_id, User.school_id,
                      User.disabled_at, User.must_change_password)
TOKEN_SCHOOL_COLUMNS = (School.name, School.code, School.county_id, School.city_id, School.school_type)


@functools.cache
def _token_by_hash():
    """Every API request runs this statement, so it is built once (after all models are mapped): loader
    options cost to build. The user comes with the token, and a school admin's school with the user; a
    region or a provider loads only if the request uses it."""
    return (select(ApiToken).where(ApiToken.token_hash == bindparam("token_hash"))
            .options(load_only(*TOKEN_COLUMNS),
                     joinedload(ApiToken.user).options(load_only(*TOKEN_USER_COLUMNS), lazyload(User.region),
                                                       lazyload(User.provider),
                                                       joinedload(User.school).load_only(*TOKEN_SCHOOL_COLUMNS))))


def authenticate_token(plaintext):
    """The user behind a bearer token. Raises Unauthorized for an unknown, revoked or expired token."""
    row = None
    if plaintext and plaintext.startswith(TOKEN_PREFIX):
        row = db.session.scalar(_token_by_hash(), {"token_hash": crypto.token_hash(plaintext)})
    if row is None or not row.is_usable() or not row.user.is_active:
        raise Unauthorized("访问令牌无效、已过期或已被吊销", code="invalid_token")
    now = clock.utcnow()
    if row.last_used_at is None or now - row.last_used_at > timedelta(minutes=1):
        row.last_used_at = now
    return row.user
