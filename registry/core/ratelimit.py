"""A per-client-address limit on a public form, shared by its HTML page and its JSON API: the limit is
counted in one Flask-Limiter scope, and a refusal is handed to `on_limit`, which renders it (the form keeps
what was typed; the API answers 429 {code, message, field}). Used by objections, complaints and the survey."""
from functools import wraps

from flask_limiter.errors import RateLimitExceeded

from registry.extensions import limiter


def limited_per_address(limit, scope, on_limit, methods=("POST",)):
    """A decorator: `limit` is a callable returning the limit string, `scope` names the shared counter."""
    def decorate(view):
        limited = limiter.shared_limit(limit, scope=scope, methods=list(methods))(view)

        @wraps(view)
        def wrapper(*args, **kwargs):
            try:
                return limited(*args, **kwargs)
            except RateLimitExceeded:
                return on_limit(*args, **kwargs)
        return wrapper
    return decorate
