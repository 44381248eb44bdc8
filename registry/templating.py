"""Helpers every template can use: navigation per role, dates in China time, masking. App wiring (like
registry/cli.py), above every domain: it reads the authorization table, people's check expiry and policy."""
from flask import current_app, g, request, url_for
from flask_login import current_user

from registry.auth.permissions import PUBLIC, TABLE
from registry.auth.roles import ROLE_LABELS
from registry.core import clock
from registry.people.services import check_expiry
from registry.policy import services as policy

# (label, endpoint). An item shows only when the table lets the current role reach it,
# so navigation can never advertise a page that answers 403.
NAV = [
    ("工作台", "main.dashboard"),
    ("机构资料", "providers.profile"),
    ("资质材料", "providers.documents"),
    ("从业人员", "people.index"),
    ("服务项目", "projects.index"),
    ("申报", "applications.index"),
    ("申报审核", "applications.review_list"),
    ("学校管理", "schools.index"),
    ("课后服务项目", "schools.own_projects"),
    ("白名单点单", "school_orders.catalog"),
    ("我的点单", "school_orders.index"),
    ("点单管理", "provider_orders.index"),
    ("动态调整", "adjustments.index"),
    ("公示批次", "batches.index"),
    ("用户管理", "admin.users"),
    ("工作日历", "batches.calendar"),
    ("消息", "notifications.inbox"),
    ("审计日志", "audit.index"),
    ("API 文档", "api_docs.docs"),
    # issue 14: passes
    ("自聘人员", "people.school_index"),
    ("通行证", "passes.school_index"),
    ("通行证", "passes.provider_index"),
    ("门岗核验", "passes.gate"),
]


def nav_items():
    if not current_user.is_authenticated:
        return []
    items = []
    for label, endpoint in NAV:
        rule = TABLE.get(endpoint)
        if rule is not None and endpoint in current_app.view_functions and rule.allows_role(current_user.role):
            items.append((label, url_for(endpoint), request.endpoint == endpoint))
    return items


def fmt_dt(value, fmt="%Y-%m-%d %H:%M"):
    if value is None:
        return ""
    return clock.to_cst(value).strftime(fmt)


def page_url(page):
    args = dict(request.args)
    args["page"] = page
    return url_for(request.endpoint, **(request.view_args or {}), **args)


def check_last_day(check):
    """The last day a check counts (age-limited checks by date), with the provider's city policy."""
    cache = g.setdefault("policy_by_county", {})
    county = check.person.owner.county
    if county.id not in cache:
        cache[county.id] = policy.for_region(county)
    return check_expiry(check, cache[county.id].check_max_age_days)


def template_globals():
    return {
        "nav_items": nav_items,
        "fmt_dt": fmt_dt,
        "check_last_day": check_last_day,
        "page_url": page_url,
        "ROLE_LABELS": ROLE_LABELS,
        "ROLE_OPTIONS": [(role.value, label) for role, label in ROLE_LABELS.items()],
        "PUBLIC": PUBLIC,
    }
