"""The public complaint form's rate limit (per client address), shared by the HTML form and the JSON API
(the mechanism is registry/core/ratelimit.py, as for objections and the survey)."""
from flask import current_app

from registry.core.http import error_response
from registry.core.ratelimit import limited_per_address

LIMIT_MESSAGE = "提交过于频繁：同一网络地址在一段时间内提交的投诉次数已达上限，请稍后再试或拨打12345热线"


def complaint_rate_limit():
    return current_app.config.get("COMPLAINT_RATE_LIMIT", "5 per hour")


def complaint_limited(on_limit):
    """Rate-limit public complaint POSTs per client address; a refusal is a 429 that `on_limit` renders."""
    return limited_per_address(complaint_rate_limit, "complaint", on_limit)


def complaint_limited_json(*_args, **_kwargs):
    return error_response(429, "rate_limited", LIMIT_MESSAGE)
