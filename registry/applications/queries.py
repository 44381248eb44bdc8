"""Reads shared by the project and application pages, the reviewer views, the API and the provider dashboard."""
from dataclasses import dataclass, field

from flask import current_app, g, url_for
from sqlalchemy import false, or_, select
from sqlalchemy.orm import joinedload
from werkzeug.routing import BuildError

from registry.applications import services as applications
from registry.applications.models import (
    OPEN_STATUSES,
    RETURNED_LABEL,
    Application,
    ApplicationComment,
    ApplicationKind,
    ApplicationProject,
    ApplicationStatus,
)
from registry.auth import jurisdiction
from registry.auth.models import User
from registry.auth.roles import Role
from registry.core import clock, signals
from registry.core.errors import NotFound
from registry.core.lifecycle import history
from registry.extensions import db
from registry.people import queries as people_queries
from registry.people import services as people
from registry.projects import queries as project_queries
from registry.providers import services as providers
from registry.providers.models import Provider

S = ApplicationStatus
IN_REVIEW = frozenset({S.submitted, S.county_review, S.city_review, S.publicity})
AREA_LABELS = {"organisation": "机构", "documents": "材料", "people": "人员", "projects": "项目"}
AREA_ORDER = ("organisation", "documents", "people", "projects")
ACTION_LABELS = {
    "submit": "提交申报", "route_county": "转县级初审", "route_city": "转市级复审", "pass": "初审通过",
    "return": "退回修改", "reject": "不予通过", "start_publicity": "进入公示", "approve": "审核通过",
    "withdraw": "撤回申报",
}


# ---------------------------------------------------------------- ownership (IDOR): someone else's id is a 404

def own_application(user, application_id):
    app = db.session.get(Application, application_id)
    if app is None or app.provider_id != user.provider_id:
        raise NotFound("申报不存在")
    return app


def readable_application(user, application_id):
    """A submitted application whose provider lies in the reviewer's jurisdiction."""
    app = applications.load_for_review(application_id)
    if app is None or not app.snapshots or not jurisdiction.can_read_provider(user, app.provider):
        raise NotFound("申报不存在")
    return app


# ---------------------------------------------------------------- links

def safe_url(*candidates):
    """The first (endpoint, values) that exists and builds; None when none does (another area not built yet)."""
    for endpoint, values in candidates:
        if endpoint in current_app.view_functions:
            try:
                return url_for(endpoint, **values)
            except BuildError:
                continue
    return None


def fix_url(missing):
    """Where the provider goes to put right one checklist item."""
    kind, _, ident = missing.key.partition(":")
    if kind == "doc":
        return safe_url(("providers.documents", {"_anchor": f"doc-{ident}"}))
    if kind == "person":
        return safe_url(("people.detail", {"person_id": int(ident)}), ("people.index", {}))
    if kind == "project":
        return safe_url(("projects.edit", {"project_id": int(ident)}))
    if kind == "projects":
        return safe_url(("applications.index", {"_anchor": "choose"}))
    return safe_url(("providers.profile", {}))


@dataclass
class ChecklistGroup:
    area: str
    label: str
    items: list  # [(Missing, url or None)]


def grouped_checklist(missing):
    groups = {}
    for item in missing:
        groups.setdefault(item.area, []).append((item, fix_url(item)))
    return [ChecklistGroup(area, AREA_LABELS.get(area, area), groups[area]) for area in AREA_ORDER if area in groups]


# ---------------------------------------------------------------- clearance of a provider's staff, in bulk

# ---------------------------------------------------------------- projects

@dataclass
class ProjectState:
    code: str
    label: str
    badge: str


PROJECT_STATES = {
    "draft": ProjectState("draft", "草稿", "badge"),
    "applying": ProjectState("applying", "申报中", "badge badge-warn"),
    "returned": ProjectState("returned", "已退回", "badge badge-err"),
    "approved": ProjectState("approved", "已通过", "badge badge-ok"),
}


def project_states(provider_id):
    """project id -> ProjectState, derived from the applications that carried the project."""
    rows = db.session.execute(
        select(ApplicationProject.project_id, Application.status, Application.submitted_at)
        .join(Application, Application.id == ApplicationProject.application_id)
        .where(Application.provider_id == provider_id)
    ).all()
    rank = {"draft": 0, "returned": 1, "applying": 1, "approved": 2}
    states = {}
    for project_id, status, submitted_at in rows:
        code = ("approved" if status == S.approved else "applying" if status in IN_REVIEW
                else "returned" if status == S.draft and submitted_at is not None else "draft")
        if project_id not in states or rank[code] > rank[states[project_id]]:
            states[project_id] = code
    return {pid: PROJECT_STATES[code] for pid, code in states.items()}


def project_state(states, project_id):
    return states.get(project_id, PROJECT_STATES["draft"])


@signals.project_states.register
def project_state_of(provider_id):
    """project_id -> ProjectState for the provider's projects (the projects page asks through the hook)."""
    states = project_states(provider_id)
    return lambda project_id: project_state(states, project_id)


def project_rows(provider, book=None):
    return project_queries.project_rows(provider, book)


# ---------------------------------------------------------------- history

@dataclass
class HistoryRow:
    change: object
    action_label: str
    from_label: str
    to_label: str
    actor_name: str


def history_rows(application_id):
    changes = history("application", application_id)
    actor_ids = {c.actor_id for c in changes if c.actor_id}
    names = {}
    if actor_ids:
        names = dict(db.session.execute(select(User.id, User.display_name).where(User.id.in_(actor_ids))).all())
    label = applications.LIFECYCLE.label
    return [HistoryRow(c, ACTION_LABELS.get(c.action, c.action), label(c.from_status),
                       RETURNED_LABEL if c.action == "return" else label(c.to_status),
                       names.get(c.actor_id, "系统（按本市规则）" if c.actor_id is None else "—"))
            for c in changes]


# ---------------------------------------------------------------- reviewer lists

REVIEW_FILTERS = {
    "open": ("待办", OPEN_STATUSES),
    "closed": ("已办结", frozenset(S) - OPEN_STATUSES),
    "all": ("全部", frozenset(S)),
}


def review_query(user, state="open"):
    """Applications a reviewer may read: in their jurisdiction (filtered in SQL), submitted at least once."""
    stmt = select(Application).where(or_(Application.status != S.draft, Application.submitted_at.is_not(None)))
    if user.role == Role.city_reviewer:
        stmt = stmt.where(Application.city_id == user.region_id)
    elif user.role == Role.county_reviewer:
        stmt = stmt.where(Application.county_id == user.region_id)
    else:
        stmt = stmt.where(false())
    _label, statuses = REVIEW_FILTERS.get(state, REVIEW_FILTERS["open"])
    stmt = stmt.where(Application.status.in_(list(statuses)))
    order = Application.submitted_at.asc() if state == "open" else Application.submitted_at.desc()
    return stmt.options(joinedload(Application.provider).joinedload(Provider.county)).order_by(order, Application.id)


def waiting_days(app, today=None):
    """Whole days an open application has waited since it was submitted (None when closed or never submitted)."""
    if app.submitted_at is None or app.status not in OPEN_STATUSES:
        return None
    today = today or clock.today()
    return (today - clock.to_cst(app.submitted_at).date()).days


# ---------------------------------------------------------------- provider dashboard

@dataclass
class NotCleared:
    person: object
    reasons: list


@dataclass
class NextStep:
    message: str
    url: str | None = None


@dataclass
class DashboardSummary:
    projects: list                      # [ProjectRow]
    not_cleared: list                   # [NotCleared]
    expiring: list                      # [(person, label, date)] checks and certificates lapsing within 30 days
    next_steps: list                    # [NextStep]
    application: object = None          # the open application, if any
    checklist: list = field(default_factory=list)  # [ChecklistGroup] for an open draft
    has_people: bool = False


def _people_problems(book, project_list):
    """Each person who is not cleared today, with every reason (for the projects they teach, else in general)."""
    quals = {}
    titles = {}
    for project in project_list:
        for link in project.staff:
            quals.setdefault(link.person_id, set()).add(project.required_qualification)
            titles.setdefault((link.person_id, project.required_qualification), []).append(project.title)
    out, expiring = [], []
    for person in book.people:
        reasons = []
        if not people.has_consent(person):
            reasons.append("缺少本人签署的查询授权同意书")
        wanted = sorted(quals.get(person.id, {None}), key=lambda q: q.value if q else "")
        for qual in wanted:
            result = book.of(person, qual)
            for reason in result.reasons:
                where = "、".join(titles.get((person.id, qual), []))
                text = f"{reason}（项目“{where}”）" if where and reason.startswith("无有效的") else reason
                if text not in reasons:
                    reasons.append(text)
            for label, day in result.expiring:
                if (person, label, day) not in expiring:
                    expiring.append((person, label, day))
        if reasons:
            out.append(NotCleared(person, reasons))
    return out, sorted(expiring, key=lambda item: item[2])


def dashboard_summary(provider, day=None):
    """What the provider dashboard shows from this area: project states, people not cleared and why, next steps."""
    book = people_queries.ClearanceBook(provider, day)
    rows = project_rows(provider, book)
    not_cleared, expiring = _people_problems(book, [r.project for r in rows])
    app = applications.open_application(provider.id)
    groups, steps = [], []
    for item in providers.document_checklist(provider, book.day) if app is None else []:
        if item.problem:
            steps.append(NextStep(item.problem, safe_url(("providers.documents", {}))))
    if not book.people:
        steps.append(NextStep("登记从业人员及其查询、体检和资格证书", safe_url(("people.index", {}))))
    if not rows:
        steps.append(NextStep("添加第一个服务项目（须指派已准入的人员）", safe_url(("projects.new", {}))))
    if app is None and rows:
        # Only the kinds the provider may start now: a listed or suspended provider is not told to apply for
        # admission (issue 19).
        # admission: not yet listed; annual: an entry is due for renewal; reinstatement: an entry was stopped.
        # A change application is the provider's own choice, never a to-do.
        kinds = [o.label for o in applications.kind_options(provider, book.day)
                 if o.problem is None and o.kind != ApplicationKind.change]
        if kinds:
            steps.append(NextStep(f"选择服务项目，发起{'或'.join(kinds)}申报",
                                  safe_url(("applications.index", {"_anchor": "choose"}))))
    elif app is None:
        pass
    elif app.status == S.draft:
        missing = applications.checklist(app, book.day)
        groups = grouped_checklist(missing)
        if missing:
            steps.extend(NextStep(item.message, url) for group in groups for item, url in group.items)
        elif app.returned:
            steps.append(NextStep("退回意见涉及的内容均已修改，可以重新提交申报", safe_url(("applications.index", {}))))
        else:
            steps.append(NextStep("申报材料已齐全，可以提交申报", safe_url(("applications.index", {}))))
    else:
        steps.append(NextStep(f"申报正在办理中（当前状态：{app.status_label}），请留意审核意见",
                              safe_url(("applications.detail", {"application_id": app.id}))))
    return DashboardSummary(rows, not_cleared, expiring, steps, app, groups, has_people=bool(book.people))


def dashboard_summary_once(provider):
    """dashboard_summary, computed once per request: the provider's dashboard shows it in two panels."""
    cache = g.setdefault("dashboard_summary", {})
    if provider.id not in cache:
        cache[provider.id] = dashboard_summary(provider)
    return cache[provider.id]


# ---------------------------------------------------------------- reviewers' comments next to their items
# Shared by the provider's pages (the comments of the last return) and the review screen (registry.reviews).

SNAPSHOT_AREA_LABELS = {"organisation": "机构信息", "documents": "资质材料", "people": "从业人员",
                        "projects": "服务项目"}

# The organisation rows a reviewer can comment on, and which snapshot fields feed each row.
ORG_FIELDS = [
    ("name", "机构名称", ("name",)),
    ("uscc", "统一社会信用代码", ("uscc",)),
    ("org_type", "机构类型", ("org_type_label",)),
    ("legal_representative", "法定代表人", ("legal_representative",)),
    ("contact", "联系人", ("contact_name", "contact_phone")),
    ("address", "地址", ("address",)),
    ("registered", "注册地", ("city", "county")),
    ("service_counties", "拟服务区域", ("service_counties",)),
    ("description", "机构简介", ("description",)),
]
ORG_LABELS = {key: label for key, label, _sources in ORG_FIELDS}


def comments_for(app, snapshot_number=None):
    stmt = select(ApplicationComment).where(ApplicationComment.application_id == app.id)
    if snapshot_number is not None:
        stmt = stmt.where(ApplicationComment.snapshot_number == snapshot_number)
    return db.session.scalars(stmt.order_by(ApplicationComment.id)).all()


@dataclass
class CommentView:
    comment: object
    key: str
    item: str           # the item in words, from the snapshot the comment was made on
    author: str


def _item_words(key, data):
    item_type, _sep, ident = key.partition(":")
    if item_type == "organisation":
        return f"机构信息 · {ORG_LABELS.get(ident, ident)}"
    if item_type == "general":
        return "总体意见"
    area = {"doc": "documents", "person": "people", "project": "projects"}.get(item_type)
    for item in (data or {}).get(area, []) if area else []:
        if str(item["id"]) == ident:
            name = item.get("label") or item.get("name") or item.get("title")
            return f"{SNAPSHOT_AREA_LABELS[area]} · {name}"
    return key


def comment_views(app, snapshot_number):
    """The comments reviewers left on one submission, with their items in words."""
    comments = comments_for(app, snapshot_number)
    if not comments:
        return []
    snapshot = next((s for s in app.snapshots if s.number == snapshot_number), None)
    data = snapshot.data if snapshot else {}
    authors = dict(db.session.execute(select(User.id, User.display_name).where(
        User.id.in_({c.author_id for c in comments if c.author_id}))).all())
    views = []
    for c in comments:
        key = f"{c.item_type}:{c.item_key}" if c.item_type != "general" else "general"
        views.append(CommentView(c, key, _item_words(key, data), authors.get(c.author_id, "审核员")))
    return views


def place_comments(views, made_on, shown):
    """Comments made on snapshot `made_on` keyed by the item they concern in snapshot `shown`. A document
    replaced by a new version has a new id: its comment goes to the current document of the same type."""
    doc_type_then = {str(d["id"]): d["doc_type"] for d in (made_on or {}).get("documents", [])}
    doc_now = {d["doc_type"]: d["id"] for d in (shown or {}).get("documents", [])}
    ids_now = {str(d["id"]) for d in (shown or {}).get("documents", [])}
    placed = {}
    for view in views:
        key = view.key
        item_type, _sep, ident = key.partition(":")
        if item_type == "doc" and ident not in ids_now and doc_type_then.get(ident) in doc_now:
            key = f"doc:{doc_now[doc_type_then[ident]]}"
        placed.setdefault(key, []).append(view)
    return placed

def _fix_url(key, data):
    item_type, _sep, ident = key.partition(":")
    if item_type == "organisation":
        return safe_url(("providers.profile", {}))
    if item_type == "doc":
        doc_type = next((d["doc_type"] for d in data.get("documents", []) if str(d["id"]) == ident), None)
        return safe_url(("providers.documents", {"_anchor": f"doc-{doc_type}"} if doc_type else {}))
    if item_type == "person":
        return safe_url(("people.detail", {"person_id": int(ident)}), ("people.index", {}))
    if item_type == "project":
        return safe_url(("projects.edit", {"project_id": int(ident)}), ("projects.index", {}))
    return None


def provider_comments(app):
    """The comments of the last return, for the provider's returned draft:
    [(CommentView, url to fix the item, whether the item has changed since)]."""
    snapshot = app.latest_snapshot
    if snapshot is None or not app.returned:
        return []
    changed = {flag.comment.id: flag.changed for flag in applications.flags(app)}
    return [(view, _fix_url(view.key, snapshot.data), changed.get(view.comment.id, True))
            for view in comment_views(app, snapshot.number)]


@dataclass
class FlagNote:
    """A reviewer's comment shown next to its item on the page where the provider fixes it."""
    text: str
    author: str
    created_at: object
    changed: bool
    back_url: str | None


def returned_flags(provider_id):
    """{item key: [FlagNote]} for the provider's returned application (empty when none). Keys: "organisation",
    "doc_type:<type>", "person:<id>", "project:<id>" (issue 19: comments next to their items)."""
    app = applications.open_application(provider_id) if provider_id else None
    if app is None or not app.returned:
        return {}
    found = applications.flags(app)
    if not found:
        return {}
    authors = dict(db.session.execute(select(User.id, User.display_name).where(
        User.id.in_({f.comment.author_id for f in found if f.comment.author_id}))).all())
    back = safe_url(("applications.index", {"_anchor": "review-comments"}))
    out = {}
    for flag in found:
        key = "organisation" if flag.area == "organisation" else flag.fix_key.replace("doc:", "doc_type:", 1)
        out.setdefault(key, []).append(FlagNote(flag.text, authors.get(flag.comment.author_id, "审核员"),
                                                flag.comment.created_at, flag.changed, back))
    return out
