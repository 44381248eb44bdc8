"""Each role's to-do list on its home page (issue 19): counts from set-based queries (a fixed number of
statements whatever the numbers), each linking to the filtered list where the work is done. Later domains add
their own panels (registry.core.dashboard.panel; the provider's registry.providers.views.dashboard_panel)."""
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from flask import url_for
from sqlalchemy import and_, func, or_, select

from registry.applications import queries as application_queries
from registry.applications import services as applications
from registry.applications.models import Application, ApplicationStatus
from registry.audit.models import AuditLog
from registry.auth.models import User
from registry.auth.roles import Role
from registry.calendar import services as calendar
from registry.core import clock
from registry.extensions import db
from registry.orders import queries as order_queries
from registry.orders.models import Order, OrderStatus
from registry.policy import services as policy
from registry.providers import services as providers
from registry.schools.models import Term

S = ApplicationStatus
# An application waiting longer than this many working days at a reviewer's stage is counted as overdue.
REVIEW_DUE_WORKING_DAYS = 5


@dataclass
class Todo:
    label: str
    count: int
    url: str | None
    hint: str = ""


# ---------------------------------------------------------------- provider

def provider_todos(provider, day):
    s = application_queries.dashboard_summary_once(provider)
    app = s.application
    open_flags = ([f for f in applications.flags(app, day) if not f.changed]
                  if app is not None and app.returned else [])
    counts = order_queries.provider_status_counts(provider.id, day)
    return [
        Todo("退回待修改的审核项", len(open_flags), url_for("applications.index", _anchor="review-comments"),
             "申报已退回：逐项修改后重新提交" if app is not None and app.returned else ""),
        Todo("待确认的点单", counts.get("requested", 0), url_for("provider_orders.index", status="requested"),
             "学校已下单，请确认接单并指派人员"),
        Todo("即将到期或已过期的材料", len(providers.expiring_documents(provider.id, day)),
             url_for("providers.documents"), "30 天内到期或已过期"),
        Todo("即将到期的查询和证书", len(s.expiring), url_for("people.index"), "30 天内到期"),
        Todo("今日未准入的人员", len(s.not_cleared), url_for("people.index"), "不能进校授课"),
    ]


# ---------------------------------------------------------------- school

def school_status_counts(school_id, day):
    """{effective status: count} of the school's orders in one grouped query."""
    counts = defaultdict(int)
    for status, starts_on, n in db.session.execute(
            select(Order.status, Term.starts_on, func.count()).join(Term, Term.id == Order.term_id)
            .where(Order.school_id == school_id).group_by(Order.status, Term.starts_on)):
        key = "active" if status == OrderStatus.accepted and starts_on <= day else status.value
        counts[key] += n
    return counts


def school_todos(user, day):
    counts = school_status_counts(user.school_id, day)
    return [
        Todo("待机构确认的点单", counts.get("requested", 0), url_for("school_orders.index", status="requested"),
             "机构确认接单后即可安排服务"),
        Todo("已暂停的点单", counts.get("suspended", 0), url_for("school_orders.index", status="suspended"),
             "暂停期间机构不得进校；查看原因，可改点白名单内其他项目"),
        Todo("已接单、未开始的点单", counts.get("accepted", 0), url_for("school_orders.index", status="accepted"),
             "学期开始后自动进入服务中"),
        Todo("服务中的点单", counts.get("active", 0), url_for("school_orders.index", status="active")),
    ]


# ---------------------------------------------------------------- reviewers

def _jurisdiction(stmt, user):
    if user.role == Role.city_reviewer:
        return stmt.where(Application.city_id == user.region_id)
    return stmt.where(Application.county_id == user.region_id)


def _queue_statuses(user):
    if user.role == Role.county_reviewer:
        return {S.county_review}
    if policy.for_region(user.region).county_review_required:
        return {S.city_review}
    return {S.city_review, S.county_review}


def _overdue_cutoff(day, n):
    """The last CST day whose submissions have waited more than n working days by `day`."""
    cutoff = day
    while calendar.working_days_between(cutoff, day) <= n:
        cutoff -= timedelta(days=1)
    return cutoff


def reviewer_todos(user, day):
    counts = dict(db.session.execute(_jurisdiction(
        select(Application.status, func.count()).where(
            or_(Application.status != S.draft, Application.submitted_at.is_not(None)))
        .group_by(Application.status), user)).all())
    returned = db.session.scalar(_jurisdiction(select(func.count()).select_from(Application).where(
        Application.status == S.draft, Application.submitted_at.is_not(None)), user))
    mine = _queue_statuses(user)
    cutoff = _overdue_cutoff(day, REVIEW_DUE_WORKING_DAYS)
    # submitted before the end of the cutoff day (China time)
    before = datetime.combine(cutoff + timedelta(days=1), time()) - timedelta(hours=8)
    overdue = db.session.scalar(_jurisdiction(select(func.count()).select_from(Application).where(
        and_(Application.status.in_(mine), Application.submitted_at < before)), user))
    todos = []
    for status in (S.county_review, S.city_review):
        if status == S.county_review and user.role == Role.city_reviewer and S.county_review not in mine:
            url, hint = url_for("applications.review_list", state="open"), "由县级审核员初审"
        elif status in mine:
            url, hint = url_for("applications.review_list", stage=status.value), "等待您审核"
        else:
            url, hint = url_for("applications.review_list", state="open"), "已报送市级复审"
        todos.append(Todo(status.label, counts.get(status, 0), url, hint))
    todos.append(Todo(f"等待超过 {REVIEW_DUE_WORKING_DAYS} 个工作日", overdue,
                      url_for("applications.review_list", over=REVIEW_DUE_WORKING_DAYS), "请优先办理"))
    todos.append(Todo(S.publicity.label, counts.get(S.publicity, 0), url_for("applications.review_list",
                                                                             state="open"), "公示期满后发布"))
    todos.append(Todo("已退回、待机构修改", returned or 0, url_for("applications.review_list", state="open"),
                      "机构重新提交后回到审核队列"))
    return todos


# ---------------------------------------------------------------- system administrator and auditor

def admin_todos(day):
    now = clock.utcnow()
    locked = db.session.scalar(select(func.count()).select_from(User).where(User.locked_until > now))
    return [Todo("当前被锁定的账户", locked or 0, url_for("admin.users"), "多次登录失败后临时锁定")]


def auditor_todos(day):
    start = datetime.combine(day, time()) - timedelta(hours=8)
    rows = dict(db.session.execute(select(AuditLog.result, func.count()).where(
        AuditLog.created_at >= start, AuditLog.result != "success").group_by(AuditLog.result)).all())
    today = day.isoformat()
    return [Todo("今日失败的操作", rows.get("failure", 0), url_for("audit.index", result="failure", **{"from": today}),
                 "如登录失败"),
            Todo("今日被拒绝的访问", rows.get("denied", 0), url_for("audit.index", result="denied", **{"from": today}),
                 "越权访问的尝试")]
