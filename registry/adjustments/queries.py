"""Read side of dynamic adjustment: the city reviewer's list of whitelisted providers and a provider's page,
and the provider's own record of actions with their reasons. A fixed number of queries per page."""
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import and_, exists, or_, select
from sqlalchemy.orm import joinedload

from registry.adjustments import services as adjustments
from registry.adjustments.models import ActionKind, ProviderAction
from registry.adjustments.schemas import RULE_LABELS
from registry.auth.models import User
from registry.batches.models import ReleaseBatch
from registry.core import clock
from registry.core.errors import NotFound
from registry.extensions import db
from registry.orders.models import Order, OrderStatus
from registry.projects.models import Project
from registry.providers.models import DOC_TYPE_LABELS, DocType, Provider
from registry.whitelist.models import ENTRY_STATUS_LABELS, EntryStatus, WhitelistEntry

AFFECTED_ORDER_STATUSES = (OrderStatus.accepted, OrderStatus.active, OrderStatus.suspended)
RECENT_ACTIONS = 3
ORDER_LIMIT = 200
ENTRY_BADGES = {"active": "badge badge-ok", "suspended": "badge badge-warn", "delisted": "badge badge-err",
                "expired": "badge"}
KIND_BADGES = {"warning": "badge badge-warn", "suspension": "badge badge-warn", "lift": "badge badge-ok",
               "delisting": "badge badge-err", "ban": "badge badge-err", "reinstatement": "badge badge-ok",
               "expiry": "badge", "referral": "badge badge-err"}


class ActionView:
    """A ProviderAction as people read it: the projects it touched, who acted, the rule and the evidence in Chinese."""

    def __init__(self, action, projects, actor_name):
        self.action = action
        self.projects = projects
        self.actor_name = actor_name

    def __getattr__(self, name):
        return getattr(self.action, name)

    @property
    def badge(self):
        return KIND_BADGES[self.action.kind.value]

    @property
    def automatic(self):
        return self.action.rule is not None

    @property
    def rule_label(self):
        rule = self.action.rule
        return RULE_LABELS.get(rule, f"自动规则：{rule}") if rule else None

    @property
    def evidence_text(self):
        return evidence_text(self.action.evidence or {})


def evidence_text(evidence):
    lines = []
    for doc in evidence.get("documents", []):
        if doc.get("missing"):
            lines.append(doc.get("text") or "缺少必备资质材料")
            continue
        try:
            label = DOC_TYPE_LABELS[DocType(doc.get("type"))]
        except ValueError:
            label = "资质材料"
        lines.append(f"{label}" + (f"有效期至 {doc['expiry']}" if doc.get("expiry") else ""))
    if "as_of" in evidence:
        lines.append(f"{evidence['as_of']} 核对时项目没有准入合格的授课人员")
    if "deadline" in evidence:
        lines.append(f"请于 {evidence['deadline']} 前完成核查")
    if "valid_until" in evidence:
        lines.append(f"白名单有效期至 {evidence['valid_until']}")
    return lines


def action_views(actions):
    """Wrap actions for display; three queries however many actions there are."""
    actions = list(actions)
    entry_ids, project_ids, actor_ids = set(), set(), set()
    for action in actions:
        evidence = action.evidence or {}
        if action.entry_id:
            entry_ids.add(action.entry_id)
        entry_ids.update(i for i in evidence.get("entries", []) if isinstance(i, int))
        if isinstance(evidence.get("project_id"), int):
            project_ids.add(evidence["project_id"])
        if action.actor_id:
            actor_ids.add(action.actor_id)
    # Asked even when a set is empty, so a list page sends the same statements whatever rows it shows.
    by_entry = dict(db.session.execute(
        select(WhitelistEntry.id, Project.title).join(Project, Project.id == WhitelistEntry.project_id)
        .where(WhitelistEntry.id.in_(entry_ids))).all())
    by_project = dict(db.session.execute(select(Project.id, Project.title).where(Project.id.in_(project_ids))).all())
    actors = dict(db.session.execute(select(User.id, User.display_name).where(User.id.in_(actor_ids))).all())
    views = []
    for action in actions:
        evidence = action.evidence or {}
        ids = list(dict.fromkeys(([action.entry_id] if action.entry_id else []) + list(evidence.get("entries", []))))
        titles = [by_entry[i] for i in ids if i in by_entry]
        if not titles and evidence.get("project_id") in by_project:
            titles = [by_project[evidence["project_id"]]]
        views.append(ActionView(action, titles, actors.get(action.actor_id)))
    return views


def ban_in_force(actions, day):
    """The provider's ban in force on `day`, from its loaded actions (as adjustments.services.active_ban)."""
    for action in actions:
        if (action.kind == ActionKind.ban and action.lifted_at is None and action.effective_on <= day
                and (action.ends_on is None or action.ends_on >= day)):
            return action
    return None


@dataclass
class ProviderRow:
    provider: Provider
    entries: list = field(default_factory=list)
    actions: list = field(default_factory=list)       # the most recent, as ActionView
    all_actions: list = field(default_factory=list)   # every action, newest first, as ActionView
    orders: list = field(default_factory=list)
    ban: ProviderAction | None = None
    default_ban_end: date | None = None

    @staticmethod
    def entry_status(entry, day=None):
        """(label, badge class) of the entry's effective status on `day` (default today)."""
        status = entry.effective_status(day or clock.today()).value
        return ENTRY_STATUS_LABELS[status], ENTRY_BADGES[status]


# ---------------------------------------------------------------- the city reviewer

def _entry_in_status(status, day):
    live = WhitelistEntry.status.in_([EntryStatus.active, EntryStatus.suspended])
    if status == "expired":
        return or_(WhitelistEntry.status == EntryStatus.expired, and_(live, WhitelistEntry.valid_until < day))
    if status in ("active", "suspended"):
        return and_(WhitelistEntry.status == EntryStatus(status), WhitelistEntry.valid_until >= day)
    return WhitelistEntry.status == EntryStatus(status)


def city_providers_stmt(reviewer, filters, day=None):
    """Providers registered in the reviewer's city that have whitelist entries there, by name."""
    day = day or clock.today()
    in_city = and_(WhitelistEntry.provider_id == Provider.id, WhitelistEntry.city_id == reviewer.region_id)
    stmt = (select(Provider).where(Provider.city_id == reviewer.region_id, exists().where(in_city))
            .options(joinedload(Provider.county)).order_by(Provider.name, Provider.id))
    if filters.get("status"):
        stmt = stmt.where(exists().where(in_city, _entry_in_status(filters["status"], day)))
    q = (filters.get("q") or "").strip()
    if q:
        stmt = stmt.where(or_(Provider.name.contains(q, autoescape=True), Provider.uscc == q.upper()))
    return stmt


def _entries(provider_ids):
    return db.session.scalars(
        select(WhitelistEntry).where(WhitelistEntry.provider_id.in_(provider_ids))
        .options(joinedload(WhitelistEntry.project), joinedload(WhitelistEntry.batch).joinedload(ReleaseBatch.city))
        .order_by(WhitelistEntry.provider_id, WhitelistEntry.id)).all()


def _actions(provider_ids):
    return db.session.scalars(select(ProviderAction).where(ProviderAction.provider_id.in_(provider_ids))
                              .order_by(ProviderAction.id.desc())).all()


def provider_rows(providers, day=None, recent=RECENT_ACTIONS):
    """One row per provider with its entries and recent actions (four queries for any number of providers)."""
    day = day or clock.today()
    providers = list(providers)
    ids = [p.id for p in providers]
    if not ids:
        return []
    rows = {p.id: ProviderRow(p) for p in providers}
    for entry in _entries(ids):
        rows[entry.provider_id].entries.append(entry)
    loaded = {}
    for action in _actions(ids):
        loaded.setdefault(action.provider_id, []).append(action)
    shown = [a for pid in ids for a in loaded.get(pid, [])[:recent]]
    views = {v.id: v for v in action_views(shown)}
    for pid, row in rows.items():
        row.actions = [views[a.id] for a in loaded.get(pid, [])[:recent]]
        row.ban = ban_in_force(loaded.get(pid, []), day)
    return [rows[pid] for pid in ids]


def reviewer_provider(reviewer, provider_id):
    """The provider if it is registered in the reviewer's city and whitelisted there; 404 otherwise."""
    provider = db.session.get(Provider, provider_id)
    if provider is None or provider.city_id != reviewer.region_id or not db.session.scalar(
            select(exists().where(WhitelistEntry.provider_id == provider.id,
                                  WhitelistEntry.city_id == reviewer.region_id))):
        raise NotFound("机构不存在或不在本市白名单内")
    return provider


def provider_detail(provider, day=None, with_orders=True):
    """Everything the reviewer's provider page shows: entries, orders affected, the whole action history.
    The provider's own page uses it without the orders."""
    day = day or clock.today()
    row = ProviderRow(provider, entries=[e for e in _entries([provider.id])])
    actions = _actions([provider.id])
    row.all_actions = action_views(actions)
    row.actions = row.all_actions[:RECENT_ACTIONS]
    row.ban = ban_in_force(actions, day)
    if with_orders:
        row.orders = db.session.scalars(
            select(Order).where(Order.provider_id == provider.id, Order.status.in_(AFFECTED_ORDER_STATUSES))
            .options(joinedload(Order.school), joinedload(Order.project), joinedload(Order.term))
            .order_by(Order.id.desc()).limit(ORDER_LIMIT)).all()
        row.default_ban_end = adjustments.default_ban_end(provider, day)
    return row


def entry_choices(row, statuses):
    """(project_id, label) for the provider's entries in one of `statuses` (by today's effective status)."""
    day = clock.today()
    return [(e.project_id, f"{e.project.title}（{ENTRY_STATUS_LABELS[e.effective_status(day).value]}）")
            for e in row.entries if e.effective_status(day).value in statuses]
