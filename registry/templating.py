"""Helpers every template can use: navigation per role, dates in China time, masking. App wiring (like
registry/cli.py), above every domain: it reads the authorization table, people's check expiry and policy."""
from flask import current_app, g, request, url_for
from flask_login import current_user

from registry.applications import queries as application_queries
from registry.auth.permissions import PUBLIC, TABLE
from registry.auth.roles import ROLE_LABELS
from registry.core import clock
from registry.notifications import services as notifications
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
    ("我的订单", "school_orders.index"),
    ("订单管理", "provider_orders.index"),
    ("动态调整", "adjustments.index"),
    ("公示批次", "batches.index"),
    ("用户管理", "admin.users"),
    ("工作日历", "batches.calendar"),
    # issue 18: supervision
    ("督导", "supervision.index"),
    ("挂牌督导", "supervision.assignments"),
    ("整改任务", "supervision.tasks"),
    # issue 17: complaints and appeals
    ("投诉办理", "complaints.queue"),
    ("申诉复核", "complaints.appeals"),
    ("投诉", "complaints.account_form"),
    ("本校被投诉", "complaints.school_complaints"),
    ("投诉与申诉", "complaints.provider_complaints"),
    # issue 16: quality
    ("质量评价", "school_quality.index"),
    ("质量评估", "quality_standings.index"),
    ("公示设置", "admin.cities"),  # issue 19
    ("消息", "notifications.inbox"),
    ("审计日志", "audit.index"),
    # issue 15: schedules
    ("课后服务安排表", "schedules.editor"),
    ("安排表备案", "schedules.filings"),
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


def unread_count():
    """The signed-in user's unread messages (the badge on 消息), counted once per request."""
    if not current_user.is_authenticated:
        return 0
    if "unread_count" not in g:
        g.unread_count = notifications.unread_count(current_user)
    return g.unread_count


def returned_flags(key):
    """A provider's returned application: the reviewers' comments on one item ("organisation", "doc_type:<type>",
    "person:<id>", "project:<id>"), shown on the page where the item is fixed; computed once per request."""
    if not current_user.is_authenticated or not getattr(current_user, "provider_id", None):
        return []
    if "returned_flags" not in g:
        g.returned_flags = application_queries.returned_flags(current_user.provider_id)
    return g.returned_flags.get(key, [])


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
        "unread_count": unread_count,  # issue 19: unread badge on 消息
        "returned_flags": returned_flags,  # issue 19: return comments next to their items
        "fmt_dt": fmt_dt,
        "check_last_day": check_last_day,
        "page_url": page_url,
        "ROLE_LABELS": ROLE_LABELS,
        "ROLE_OPTIONS": [(role.value, label) for role, label in ROLE_LABELS.items()],
        "PUBLIC": PUBLIC,
    }
