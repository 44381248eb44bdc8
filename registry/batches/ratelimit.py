"""The objection form's rate limit (per client address), shared by the HTML form and the JSON API: the HTTP
edge of registry.batches, between the views and API above and the services below."""
from flask import current_app
from limits import parse as parse_limit

from registry.core.http import error_response
from registry.core.ratelimit import limited_per_address


def objection_rate_limit():
    return current_app.config["OBJECTION_RATE_LIMIT"]


def objection_limit_message():
    units = {"second": "秒", "minute": "分钟", "hour": "小时", "day": "天", "month": "月", "year": "年"}
    try:
        item = parse_limit(objection_rate_limit())
        per = units.get(item.GRANULARITY.name, item.GRANULARITY.name)
        window = f"{item.multiples} {per}" if item.multiples > 1 else per
        rule = f"同一网络地址每{window}最多提交 {item.amount} 条异议"
    except ValueError:
        rule = "异议提交次数已达上限"
    return f"提交过于频繁：{rule}，请稍后再试"


def objection_limited(on_limit):
    """Rate-limit objection POSTs per client address, shared by the HTML form and the API. A refusal is a
    429 that `on_limit` renders (the form keeps what was typed; the API answers {code, message, field})."""
    return limited_per_address(objection_rate_limit, "objection", on_limit)


def objection_limited_json(batch_id):
    return error_response(429, "rate_limited", objection_limit_message())
