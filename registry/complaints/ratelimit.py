"""The public complaint form's rate limit (per client address), shared by the HTML form and the JSON API
(as registry/batches/ratelimit.py does for objections)."""
from functools import wraps

from flask import current_app
from flask_limiter.errors import RateLimitExceeded

from registry.core.http import error_response
from registry.extensions import limiter

LIMIT_MESSAGE = "提交过于频繁：同一网络地址在一段时间内提交的投诉次数已达上限，请稍后再试或拨打12345热线"


def complaint_rate_limit():
    return current_app.config.get("COMPLAINT_RATE_LIMIT", "5 per hour")


def complaint_limited(on_limit):
    """Rate-limit public complaint POSTs per client address; a refusal is a 429 that `on_limit` renders."""
    def decorate(view):
        limited = limiter.shared_limit(complaint_rate_limit, scope="complaint", methods=["POST"])(view)

        @wraps(view)
        def wrapper(*args, **kwargs):
            try:
                return limited(*args, **kwargs)
            except RateLimitExceeded:
                return on_limit(*args, **kwargs)
        return wrapper
    return decorate


def complaint_limited_json(*_args, **_kwargs):
    return error_response(429, "rate_limited", LIMIT_MESSAGE)
