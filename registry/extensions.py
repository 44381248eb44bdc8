"""Every Flask extension is created here and bound in create_app()."""
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

from registry.core.api import RegistryApi
from registry.core.reads import RegistryLimiter, Session

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=Base, session_options={"class_": Session})
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
# Rate-limit storage (Redis) down: Flask-Limiter logs a warning and counts in this process's memory until the
# storage answers again; any other storage error is logged and the request goes on, never a 500.
limiter = RegistryLimiter(key_func=get_remote_address, default_limits=[], in_memory_fallback_enabled=True,
                          swallow_errors=True)
api = RegistryApi()
