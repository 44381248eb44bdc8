"""Dynamic adjustment (动态调整) by hand: warning, suspension (optionally lifting itself on a date),
delisting, ban and reinstatement. Each records a ProviderAction with its reason, goes through the
entry lifecycle, suspends or resumes orders, updates the public change feed and tells the provider."""
from datetime import date

from sqlalchemy import select, update

from registry.adjustments.models import REASON_LABELS, ActionKind, ProviderAction, ReasonCategory
from registry.audit import services as audit
from registry.auth.models import User
from registry.auth.roles import Role
from registry.core import clock, signals
from registry.core.errors import NotAllowed, ValidationFailed
from registry.extensions import db
from registry.notifications import services as notifications
from registry.orders import services as orders
from registry.policy import services as policy
from registry.whitelist.models import ChangeFeedItem, ChangeKind, EntryStatus, WhitelistEntry
from registry.whitelist.services import ENTRY

SERIOUS = {ReasonCategory.safety_incident, ReasonCategory.illegal_fees, ReasonCategory.new_lessons,
           ReasonCategory.selling, ReasonCategory.forced_participation}


def _require_city_reviewer(actor, provider):
    if actor is None or actor.role != Role.city_reviewer or actor.region_id != provider.city_id:
        raise NotAllowed("只有机构所在设区市的审核员可以作出动态调整")


def _check(reason_category, reason, effective_on):
    errors = {}
    try:
        category = ReasonCategory(reason_category)
    except ValueError:
        category = None
        errors["reason_category"] = ["请选择原因类别"]
    if not (reason or "").strip():
        errors["reason"] = ["请填写具体原因，机构将看到这段说明"]
    effective_on = effective_on or clock.today()
    if effective_on > clock.today():
        errors["effective_on"] = ["生效日期不能晚于今天"]
    if errors:
        raise ValidationFailed(errors)
    return category, reason.strip(), effective_on


def _entries(provider, project_ids=None, statuses=(EntryStatus.active, EntryStatus.suspended)):
    stmt = select(WhitelistEntry).where(WhitelistEntry.provider_id == provider.id, WhitelistEntry.status.in_(statuses))
    if project_ids:
        stmt = stmt.where(WhitelistEntry.project_id.in_(project_ids))
    return db.session.scalars(stmt).all()


def _record(provider, kind, category, reason, effective_on, actor, entry=None, **extra):
    action = ProviderAction(provider_id=provider.id, entry_id=getattr(entry, "id", None), kind=kind,
                            reason_category=category, reason=reason, effective_on=effective_on,
                            actor_id=getattr(actor, "id", None), **extra)
    db.session.add(action)
    db.session.flush()
    # Every adjustment writes its own audit row, whether or not any entry changes status: a ban of a provider
    # without live entries, a warning or a reinstatement with nothing to lift change the provider's standing.
    audit.record(f"provider.{kind.value}", object_type="provider", object_id=provider.id, actor=actor,
                 details={"action_id": action.id, "reason_category": category.value,
                          "effective_on": effective_on.isoformat(),
                          **{k: (v.isoformat() if hasattr(v, "isoformat") else v)
                             for k, v in extra.items() if k in ("lift_on", "ends_on", "rule") and v is not None}})
    return action


def _feed(entries, kind, day, category):
    db.session.add_all([ChangeFeedItem(kind=kind, entry_id=e.id, city_id=e.city_id, happened_on=day,
                                       reason_category=REASON_LABELS[category.value]) for e in entries])


def _tell_provider(provider, title, body):
    users = db.session.scalars(select(User).where(User.provider_id == provider.id)).all()
    notifications.notify(users, title=title, body=body, link="/provider/adjustments", category="adjustment")


def warn(provider, *, actor, reason_category, reason, effective_on=None):
    category, reason, effective_on = _check(reason_category, reason, effective_on)
    _require_city_reviewer(actor, provider)
    action = _record(provider, ActionKind.warning, category, reason, effective_on, actor)
    _tell_provider(provider, f"警告：{REASON_LABELS[category.value]}", reason)
    return action


def suspend(provider, *, actor, reason_category, reason, effective_on=None, lift_on=None, project_ids=None,
            rule=None, evidence=None):
    category, reason, effective_on = _check(reason_category, reason, effective_on)
    if rule is None:
        _require_city_reviewer(actor, provider)
    if lift_on is not None and lift_on <= clock.today():
        raise ValidationFailed({"lift_on": ["自动解除日期须晚于今天"]})
    entries = [e for e in _entries(provider, project_ids, (EntryStatus.active,))]
    if not entries:
        raise ValidationFailed({"project_ids": ["没有可暂停的有效白名单条目"]})
    action = _record(provider, ActionKind.suspension, category, reason, effective_on, actor, lift_on=lift_on,
                     rule=rule, evidence=evidence or {"entries": [e.id for e in entries]})
    label = REASON_LABELS[category.value]
    for entry in entries:
        ENTRY.transition(entry, "suspend", actor=actor, reason=reason, rule=rule,
                         changes={"suspended_until": lift_on, "suspended_by_rule": rule, "status_reason": label})
    _feed(entries, ChangeKind.suspended, effective_on, category)
    suspended_orders = orders.suspend_for_entries([e.id for e in entries], actor=actor, reason=f"白名单暂停：{label}",
                                                  rule=rule)
    _tell_provider(provider, f"白名单暂停：{label}", suspension_message(
        entries, reason, effective_on, lift_on=lift_on, rule=rule, orders=len(suspended_orders)))
    return action


def suspension_message(entries, reason, effective_on, *, lift_on=None, rule=None, orders=0):
    """The provider's message about a suspension: what happened, what it means, what to do. Only a rule's
    suspension, or one with a lift date, ends by itself; a manual one without a date needs the bureau."""
    titles = "、".join(f"“{e.project.title}”" for e in entries)
    what = f"自{effective_on.isoformat()}起，本机构的{titles}在白名单中暂停。原因：{reason}"
    what += "" if what.endswith(("。", "！", "？")) else "。"
    means = "暂停期间学校不能点单这些项目" + (f"，{orders} 个已接单或服务中的订单同时暂停，暂停期间不得开展服务。"
                                           if orders else "。")
    if rule is not None:
        todo = "原因消除后（如更新的资质材料经审核核验、人员查询记录更新），系统每日核查时自动解除暂停。"
    elif lift_on is not None:
        todo = (f"暂停至{lift_on.isoformat()}；此后若没有其他暂停原因，系统自动解除。请在此之前按原因完成整改。")
    else:
        todo = "本次暂停不会自动解除：请按原因整改，整改完成后联系市教育局审核员核实，由其恢复。"
    return what + means + todo


def delist(provider, *, actor, reason_category, reason, effective_on=None, project_ids=None, ban_until=None):
    """移出. With `ban_until` also a ban (禁入) until that date: the provider cannot apply meanwhile."""
    category, reason, effective_on = _check(reason_category, reason, effective_on)
    _require_city_reviewer(actor, provider)
    entries = _entries(provider, project_ids)
    if not entries and ban_until is None:
        raise ValidationFailed({"project_ids": ["没有可移出的白名单条目"]})
    action = _record(provider, ActionKind.delisting, category, reason, effective_on, actor,
                     evidence={"entries": [e.id for e in entries]})
    label = REASON_LABELS[category.value]
    for entry in entries:
        ENTRY.transition(entry, "delist", actor=actor, reason=reason, changes={"status_reason": label})
    _feed(entries, ChangeKind.delisted, effective_on, category)
    orders.suspend_for_entries([e.id for e in entries], actor=actor, reason=f"白名单移出：{label}", ended=True)
    if ban_until is not None:
        ban(provider, actor=actor, reason_category=category.value, reason=reason, ends_on=ban_until,
            effective_on=effective_on)
    _tell_provider(provider, f"移出白名单：{label}", reason)
    return action


def ban(provider, *, actor, reason_category, reason, ends_on, effective_on=None):
    category, reason, effective_on = _check(reason_category, reason, effective_on)
    _require_city_reviewer(actor, provider)
    if ends_on is None or ends_on <= clock.today():
        raise ValidationFailed({"ends_on": ["禁入截止日期须晚于今天"]})
    action = _record(provider, ActionKind.ban, category, reason, effective_on, actor, ends_on=ends_on)
    remaining = _entries(provider)
    if remaining:
        for entry in remaining:
            ENTRY.transition(entry, "delist", actor=actor, reason=reason, changes={"status_reason": "禁入"})
        _feed(remaining, ChangeKind.delisted, effective_on, category)
        orders.suspend_for_entries([e.id for e in remaining], actor=actor, reason="机构被禁入", ended=True)
    _tell_provider(provider, f"禁入至{ends_on.isoformat()}", reason)
    return action


def reinstate(provider, *, actor, reason, project_ids=None, reason_category=ReasonCategory.other.value,
              effective_on=None):
    """恢复： lift suspensions, return delisted entries to the list, and end any ban."""
    category, reason, effective_on = _check(reason_category, reason, effective_on)
    _require_city_reviewer(actor, provider)
    entries = _entries(provider, project_ids, (EntryStatus.suspended, EntryStatus.delisted))
    live = [e for e in entries if e.valid_until >= clock.today()]
    action = _record(provider, ActionKind.reinstatement, category, reason, effective_on, actor,
                     evidence={"entries": [e.id for e in live]})
    for entry in live:
        ENTRY.transition(entry, "lift" if entry.status == EntryStatus.suspended else "reinstate", actor=actor,
                         reason=reason,
                         changes={"suspended_until": None, "suspended_by_rule": None, "status_reason": None})
    _feed(live, ChangeKind.reinstated, effective_on, category)
    orders.resume_for_entries([e.id for e in live], actor=actor, reason="白名单恢复")
    lifted = db.session.scalars(update(ProviderAction).where(
        ProviderAction.provider_id == provider.id, ProviderAction.kind == ActionKind.ban,
        ProviderAction.lifted_at.is_(None)).values(lifted_at=clock.utcnow()).returning(ProviderAction.id)
        .execution_options(synchronize_session=False)).all()
    if lifted:
        audit.record("provider.ban_lift", object_type="provider", object_id=provider.id, actor=actor,
                     details={"reinstatement_id": action.id, "ban_ids": sorted(lifted)})
    _tell_provider(provider, "白名单已恢复", reason)
    return action


@signals.active_ban.register
def active_ban(provider_id, day=None):
    day = day or clock.today()
    for action in db.session.scalars(select(ProviderAction).where(
            ProviderAction.provider_id == provider_id, ProviderAction.kind == ActionKind.ban,
            ProviderAction.lifted_at.is_(None), ProviderAction.effective_on <= day)):
        if action.ends_on is None or action.ends_on >= day:
            return action
    return None


@signals.bans_in_force.register
def bans_in_force(provider_ids, day):
    """{provider_id: the ban in force on `day`} for many providers in one statement (eligibility)."""
    bans = {}
    for action in db.session.scalars(select(ProviderAction).where(
            ProviderAction.provider_id.in_(provider_ids), ProviderAction.kind == ActionKind.ban,
            ProviderAction.lifted_at.is_(None), ProviderAction.effective_on <= day)):
        if action.ends_on is None or action.ends_on >= day:
            bans[action.provider_id] = action
    return bans


def actions_for(provider_id):
    return db.session.scalars(select(ProviderAction).where(ProviderAction.provider_id == provider_id)
                              .order_by(ProviderAction.id.desc())).all()


def default_ban_end(provider, day=None):
    day = day or clock.today()
    years = policy.for_city(provider.city).ban_years
    return date(day.year + years, day.month, min(day.day, 28))
