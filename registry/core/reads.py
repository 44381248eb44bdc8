"""Read-only GET endpoints (`reads_only`). On PostgreSQL their statements run on a second engine whose
connections stay in autocommit: no BEGIN and COMMIT round trips around them, and no switch of the
isolation level at every checkout and back at every checkin. Flask-Limiter does not run for their GETs:
none of them carries a limit. (In process, on a cached school catalog page, the per-request switch cost
~5 % of the request's CPU and the limiter's check ~3 %, even with a request filter that skipped it.)
This module imports nothing of the registry, so that registry.extensions can use it."""
from flask import current_app, request
from flask_limiter import Limiter
from flask_sqlalchemy.session import Session as FlaskSession

READS_ENGINE = "registry_reads_engine"   # app.extensions key of the autocommit engine (PostgreSQL only)
AUTOCOMMIT = "registry_autocommit"       # Session.info key: the engine this request's statements go to

_READ_ONLY = set()


def reads_only(*endpoints):
    """Declare endpoints whose GET only reads (a bearer token's last use aside). Each statement sees what
    was committed before it started, as it would inside a READ COMMITTED transaction (PostgreSQL's
    default). They must carry no rate limit (tests/web/test_rate_limits.py)."""
    _READ_ONLY.update(endpoints)


def read_only_get():
    """True for a GET of a reads_only endpoint."""
    return request.method == "GET" and request.endpoint in _READ_ONLY


def reads_engine(app=None):
    """The app's autocommit engine, or None (SQLite)."""
    return (app or current_app).extensions.get(READS_ENGINE)


class Session(FlaskSession):
    """Flask-SQLAlchemy's session; registry.core.db points the session of a reads_only GET at the
    autocommit engine by putting it in info[AUTOCOMMIT] before anything reads."""

    def get_bind(self, mapper=None, clause=None, bind=None, **kwargs):
        if bind is None:
            engine = self.info.get(AUTOCOMMIT)
            if engine is not None:
                return engine
        return super().get_bind(mapper=mapper, clause=clause, bind=bind, **kwargs)


class RegistryLimiter(Limiter):
    """Flask-Limiter, whose before_request check returns at once for a GET of a reads_only endpoint.
    Flask-Limiter has no public hook as cheap: a request filter is consulted only inside the check, once it has
    identified the request and its view (measured: ~2 µs a read with this override, ~25 µs with a
    request_filter). So this overrides two private names, and setup.cfg pins flask-limiter below 5;
    tests/web/test_rate_limits.py checks that the overridden method is the one Flask-Limiter registers, that
    the check runs for /login and not for a read, and that a new app starts with live storage."""

    def init_app(self, app):
        # One limiter serves every app of a process (the tests make many): a new app's storage starts out
        # presumed alive, not in the fallback a previous app's dead storage left it in.
        self._storage_dead = False
        super().init_app(app)

    def _check_request_limit(self, *args, **kwargs):
        if read_only_get():
            return None
        return super()._check_request_limit(*args, **kwargs)
