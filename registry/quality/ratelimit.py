"""The parent survey's rate limit (per client address), shared by the phone page and the JSON API: opening a
survey by its code and answering it count together, so trying codes is as slow as answering."""
from flask import current_app

from registry.core.http import error_response
from registry.core.ratelimit import limited_per_address

LIMITED_MESSAGE = "操作过于频繁，请稍后再试"


def survey_rate_limit():
    return current_app.config["SURVEY_RATE_LIMIT"]


def survey_limited(on_limit):
    """Rate-limit a survey endpoint (GET and POST) per client address; a refusal is a 429 `on_limit` renders."""
    return limited_per_address(survey_rate_limit, "survey", on_limit, methods=("GET", "POST"))


def survey_limited_json(*_args, **_kwargs):
    return error_response(429, "rate_limited", LIMITED_MESSAGE)
