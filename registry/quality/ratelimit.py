"""The parent survey's rate limit (per client address), shared by the phone page and the JSON API: opening a
survey by its code and answering it count together, so trying codes is as slow as answering."""
from functools import wraps

from flask import current_app
from flask_limiter.errors import RateLimitExceeded

from registry.core.http import error_response
from registry.extensions import limiter

LIMITED_MESSAGE = "操作过于频繁，请稍后再试"


def survey_rate_limit():
    return current_app.config["SURVEY_RATE_LIMIT"]


def survey_limited(on_limit):
    """Rate-limit a survey endpoint (GET and POST) per client address; a refusal is a 429 `on_limit` renders."""
    def decorate(view):
        limited = limiter.shared_limit(survey_rate_limit, scope="survey", methods=["GET", "POST"])(view)

        @wraps(view)
        def wrapper(*args, **kwargs):
            try:
                return limited(*args, **kwargs)
            except RateLimitExceeded:
                return on_limit(*args, **kwargs)
        return wrapper
    return decorate


def survey_limited_json(*_args, **_kwargs):
    return error_response(429, "rate_limited", LIMITED_MESSAGE)
