from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import CheckConstraint, DateTime, Enum, ForeignKey, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from registry.auth.roles import MFA_ROLES, Role
from registry.core import clock
from registry.core.models import TimestampMixin
from registry.extensions import db
from registry.regions.models import Region


class User(TimestampMixin, UserMixin, db.Model):
    """An account. One role per account, bound to a scope: a region, a school or a provider."""

    __tablename__ = "user"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    display_name: Mapped[str] = mapped_column(String(64), nullable=False)
    email: Mapped[str | None] = mapped_column(String(255))
    role: Mapped[Role] = mapped_column(Enum(Role, native_enum=False, length=32), nullable=False)
    region_id: Mapped[int | None] = mapped_column(ForeignKey("region.id"), index=True)
    provider_id: Mapped[int | None] = mapped_column(ForeignKey("provider.id"), index=True)
    school_id: Mapped[int | None] = mapped_column(ForeignKey("school.id"), index=True)
    password_hash: Mapped[str] = mapped_column(String(255), nullable=False)
    password_changed_at: Mapped[datetime] = mapped_column(DateTime, nullable=False, default=clock.utcnow)
    must_change_password: Mapped[bool] = mapped_column(default=False, nullable=False)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    locked_until: Mapped[datetime | None] = mapped_column(DateTime)
    disabled_at: Mapped[datetime | None] = mapped_column(DateTime)
    totp_secret: Mapped[bytes | None] = mapped_column(LargeBinary)
    totp_last_step: Mapped[int | None] = mapped_column(Integer)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))

    region: Mapped[Region | None] = relationship(lazy="joined")
    provider = relationship("Provider", lazy="joined")
    school = relationship("School", lazy="joined")

    __table_args__ = (
        CheckConstraint(
            "role NOT IN ('city_reviewer', 'county_reviewer', 'inspector') OR region_id IS NOT NULL",
            name="region_roles_have_region",
        ),
        CheckConstraint("(role = 'provider_admin') = (provider_id IS NOT NULL)", name="provider_admin_has_provider"),
        CheckConstraint("(role IN ('school_admin', 'gate_keeper')) = (school_id IS NOT NULL)",
                        name="school_admin_has_school"),
    )

    # Flask-Login: the id in the cookie is the server-side session token, not the user id,
    # so that logout, disabling and password changes can revoke a copied cookie.
    _session_token = None

    def get_id(self):
        return self._session_token

    @property
    def is_active(self):
        return self.disabled_at is None

    @property
    def role_label(self):
        return Role(self.role).label

    @property
    def needs_mfa(self):
        return self.role in MFA_ROLES

    @property
    def mfa_enrolled(self):
        return self.totp_secret is not None

    def is_locked(self, now=None):
        return self.locked_until is not None and self.locked_until > (now or clock.utcnow())

    def __repr__(self):
        return f"<User {self.username} {self.role.value}>"


class UserSession(db.Model):
    """A login. The cookie carries a random token whose hash is stored here."""

    __tablename__ = "user_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True, nullable=False)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    created_at: Mapped[datetime] = mapped_column(DateTime, nullable=False, default=clock.utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(DateTime, nullable=False, default=clock.utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime)
    ip: Mapped[str | None] = mapped_column(String(64))

    user: Mapped[User] = relationship(lazy="joined")

    def __repr__(self):
        return f"<UserSession {self.id} user={self.user_id}>"


class ApiToken(TimestampMixin, db.Model):
    """A personal access token. Only its SHA-256 is stored; it acts with its owner's rights."""

    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True, nullable=False)
    name: Mapped[str] = mapped_column(String(64), nullable=False)
    prefix: Mapped[str] = mapped_column(String(12), nullable=False)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    expires_at: Mapped[datetime | None] = mapped_column(DateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime)

    user: Mapped[User] = relationship(lazy="joined")

    def is_usable(self, now=None):
        now = now or clock.utcnow()
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)

    def __repr__(self):
        return f"<ApiToken {self.prefix} user={self.user_id}>"
