"""Release batches, publicity (公示) and objections, publication, whitelist entries and their
lifecycle, the public change feed, and admission certificates."""
import secrets
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from registry.applications import services as applications
from registry.applications.models import ApplicationKind, ApplicationStatus
from registry.audit import services as audit
from registry.auth.roles import Role
from registry.calendar import services as calendar
from registry.core import clock, listing
from registry.core.errors import Conflict, NotAllowed, NotFound, ValidationFailed
from registry.core.lifecycle import Lifecycle, Move
from registry.extensions import db
from registry.notifications import services as notifications
from registry.policy import services as policy
from registry.projects import services as projects
from registry.providers import services as providers
from registry.providers.models import Provider
from registry.reviews import services as reviews
from registry.whitelist.models import (
    BATCH_STATUS_LABELS, ENTRY_STATUS_LABELS, OBJECTION_STATUS_LABELS, BatchItem, BatchStatus, Certificate,
    ChangeFeedItem, ChangeKind, EntryCounty, EntryStatus, Objection, ObjectionStatus, ReleaseBatch, WhitelistEntry,
)

BATCH = Lifecycle("release_batch", ReleaseBatch, labels=BATCH_STATUS_LABELS, moves=[
    Move("start_publicity", frozenset({BatchStatus.draft}), BatchStatus.publicity),
    Move("publish", frozenset({BatchStatus.publicity}), BatchStatus.published),
])
OBJECTION = Lifecycle("objection", Objection, labels=OBJECTION_STATUS_LABELS, moves=[
    Move("uphold", frozenset({ObjectionStatus.open}), ObjectionStatus.upheld),
    Move("dismiss", frozenset({ObjectionStatus.open}), ObjectionStatus.dismissed),
])
ENTRY = Lifecycle("whitelist_entry", WhitelistEntry, labels=ENTRY_STATUS_LABELS, moves=[
    Move("suspend", frozenset({EntryStatus.active}), EntryStatus.suspended),
    Move("lift", frozenset({EntryStatus.suspended}), EntryStatus.active),
    Move("delist", frozenset({EntryStatus.active, EntryStatus.suspended}), EntryStatus.delisted),
    Move("expire", frozenset({EntryStatus.active, EntryStatus.suspended}), EntryStatus.expired),
    Move("reinstate", frozenset({EntryStatus.delisted, EntryStatus.expired, EntryStatus.suspended}), EntryStatus.active),
])


def issuer_for(city):
    return "赣江新区社会发展局" if city.code == "36X100" else f"{city.name}教育局"


def school_year_end(day, rules):
    """The end of the school year `day` falls in (default 31 August)."""
    end = date(day.year, rules.validity_end_month, rules.validity_end_day)
    return end if day <= end else date(day.year + 1, rules.validity_end_month, rules.validity_end_day)


def _require_city_reviewer(actor, city_id):
    if actor is None or actor.role != Role.city_reviewer or actor.region_id != city_id:
        raise NotAllowed("只有本市审核员可以管理公示批次")


# ---------------------------------------------------------------- batches

def get_batch(batch_id):
    batch = db.session.get(ReleaseBatch, batch_id)
    if batch is None:
        raise NotFound("批次不存在")
    return batch


def create_batch(*, actor):
    city = actor.region
    _require_city_reviewer(actor, city.id)
    year = clock.today().year
    seq = (db.session.scalar(select(func.max(ReleaseBatch.seq)).where(ReleaseBatch.city_id == city.id,
                                                                      ReleaseBatch.year == year)) or 0) + 1
    batch = ReleaseBatch(city_id=city.id, year=year, seq=seq, issuer=issuer_for(city), created_by_id=actor.id,
                         status=BatchStatus.draft, version=1)
    db.session.add(batch)
    db.session.flush()
    audit.record("release_batch.create", object_type="release_batch", object_id=batch.id, actor=actor,
                 details={"name": batch.name})
    return batch


def _live_items(batch):
    return [item for item in batch.items if item.removed_at is None]


def add_to_batch(batch, application, *, actor):
    """Approve in principle: put an application that passed city review into a draft batch."""
    _require_city_reviewer(actor, batch.city_id)
    if batch.status != BatchStatus.draft:
        raise Conflict(f"批次当前状态为“{batch.status_label}”，不能再加入申报", code="invalid_transition")
    reviews.require_decider(actor, application)
    if application.status != ApplicationStatus.city_review:
        raise Conflict("只有处于市级复审阶段的申报可以加入公示批次", code="invalid_transition")
    reviews.require_verified(application)
    in_other = db.session.scalar(
        select(BatchItem.id).join(BatchItem.batch)
        .where(BatchItem.application_id == application.id, BatchItem.removed_at.is_(None),
               ReleaseBatch.status != BatchStatus.published))
    if in_other:
        raise Conflict("该申报已在另一个待发布的批次中", code="already_in_batch")
    item = BatchItem(batch=batch, application=application)
    db.session.add(item)
    db.session.flush()
    audit.record("release_batch.add", object_type="release_batch", object_id=batch.id, actor=actor,
                 details={"application_id": application.id})
    return item


def remove_from_batch(batch, application_id, *, actor):
    _require_city_reviewer(actor, batch.city_id)
    if batch.status != BatchStatus.draft:
        raise Conflict("公示开始后只能通过处理异议移出申报", code="invalid_transition")
    item = next((i for i in _live_items(batch) if i.application_id == application_id), None)
    if item is None:
        raise NotFound("该申报不在此批次中")
    db.session.delete(item)
    db.session.flush()
    audit.record("release_batch.remove", object_type="release_batch", object_id=batch.id, actor=actor,
                 details={"application_id": application_id})


def start_publicity(batch, *, actor):
    """公示： from today for N working days (per city). Every application in the batch moves to publicity."""
    _require_city_reviewer(actor, batch.city_id)
    # An application withdrawn (or returned) after it was put in the draft batch leaves it now.
    for item in _live_items(batch) if batch.status == BatchStatus.draft else []:
        if item.application.status != ApplicationStatus.city_review:
            db.session.delete(item)
            batch.items.remove(item)
    items = _live_items(batch)
    if not items:
        raise ValidationFailed({"batch": ["批次中还没有处于市级复审阶段的申报，不能开始公示"]})
    reviews.require_verified_many(item.application for item in items)
    rules = policy.for_city(batch.city)
    today = clock.today()
    count = calendar.add_working_days(today, rules.publicity_working_days)
    batch.publicity_start, batch.publicity_end, batch.calendar_warning = today, count.end, count.warning
    BATCH.transition(batch, "start_publicity", actor=actor,
                     details={"end": count.end.isoformat(), "working_days": rules.publicity_working_days})
    for item in items:
        applications.transition(item.application, "start_publicity", actor=actor, details={"batch_id": batch.id})
    return batch


def publicity_open(batch, day=None):
    day = day or clock.today()
    return batch.status == BatchStatus.publicity and batch.publicity_start <= day <= batch.publicity_end


def file_objection(batch, *, application_id, name, contact, content, project_id=None):
    """Anyone may object during publicity, under a real name with contact details."""
    if batch.status != BatchStatus.publicity:
        raise Conflict("该批次不在公示期内，不能提出异议", code="not_in_publicity")
    today = clock.today()
    if not publicity_open(batch, today):
        raise Conflict(f"公示期为 {batch.publicity_start.isoformat()} 至 {batch.publicity_end.isoformat()}，"
                       "当前不在公示期内，不能提出异议", code="not_in_publicity")
    errors = {}
    if len((name or "").strip()) < 2:
        errors["name"] = ["请填写真实姓名"]
    if len((contact or "").strip()) < 5:
        errors["contact"] = ["请填写联系电话或电子邮箱，便于核实"]
    if len((content or "").strip()) < 10:
        errors["content"] = ["请具体说明异议内容（不少于 10 个字）"]
    item = next((i for i in _live_items(batch) if i.application_id == application_id), None)
    if item is None:
        errors["application_id"] = ["请选择本批次公示的机构"]
    if errors:
        raise ValidationFailed(errors)
    objection = Objection(batch_id=batch.id, application_id=application_id, project_id=project_id,
                          name=name.strip()[:64], contact=contact.strip()[:128], content=content.strip(),
                          status=ObjectionStatus.open, version=1)
    db.session.add(objection)
    db.session.flush()
    audit.record("objection.file", object_type="objection", object_id=objection.id,
                 details={"batch_id": batch.id, "application_id": application_id})
    from registry.auth.models import User
    reviewers = db.session.scalars(select(User).where(User.role == Role.city_reviewer,
                                                      User.region_id == batch.city_id)).all()
    notifications.notify(reviewers, title=f"{batch.name}公示收到异议", body=item.application.provider.name,
                         link=f"/review/batches/{batch.id}", category="objection", email=True)
    return objection


def resolve_objection(objection, *, actor, upheld, resolution, outcome="return"):
    """Upheld: the provider leaves the batch and its application is returned or rejected. Dismissed: with a reason."""
    batch = objection.batch
    _require_city_reviewer(actor, batch.city_id)
    if not (resolution or "").strip():
        raise ValidationFailed({"resolution": ["请填写处理意见"]})
    objection.resolution, objection.resolved_by_id, objection.resolved_at = resolution.strip(), actor.id, clock.utcnow()
    if not upheld:
        OBJECTION.transition(objection, "dismiss", actor=actor, reason=resolution.strip())
        return objection
    if outcome not in ("return", "reject"):
        raise ValidationFailed({"outcome": ["请选择退回修改或不予通过"]})
    OBJECTION.transition(objection, "uphold", actor=actor, reason=resolution.strip())
    item = next((i for i in _live_items(batch) if i.application_id == objection.application_id), None)
    if item is not None:
        item.removed_at, item.removed_reason = clock.utcnow(), resolution.strip()
        app = item.application
        if outcome == "return":
            reviews.return_for_revision(app, actor=actor, comments={}, general=f"公示期异议成立：{resolution.strip()}",
                                        from_objection=True)
        else:
            reviews.reject(app, actor=actor, reason=f"公示期异议成立：{resolution.strip()}", from_objection=True)
        # Objections about the same provider in this batch are settled with it.
        for other in db.session.scalars(select(Objection).where(
                Objection.batch_id == batch.id, Objection.application_id == app.id,
                Objection.status == ObjectionStatus.open, Objection.id != objection.id)):
            other.resolution, other.resolved_by_id, other.resolved_at = "同一机构的异议已成立并处理", actor.id, clock.utcnow()
            OBJECTION.transition(other, "uphold", actor=actor, reason="同一机构的异议已成立并处理")
    db.session.flush()
    return objection


def publish_problem(batch, day=None):
    day = day or clock.today()
    if batch.status != BatchStatus.publicity:
        return f"批次当前状态为“{batch.status_label}”，只有公示中的批次可以发布"
    if day <= batch.publicity_end:
        allowed = date.fromordinal(batch.publicity_end.toordinal() + 1)
        return f"公示期至 {batch.publicity_end.isoformat()} 结束，{allowed.isoformat()} 起方可发布"
    open_count = db.session.scalar(select(func.count()).select_from(Objection).where(
        Objection.batch_id == batch.id, Objection.status == ObjectionStatus.open))
    if open_count:
        return f"还有 {open_count} 条异议未处理，处理完毕后方可发布"
    if not _live_items(batch):
        return "批次中已没有可发布的申报"
    return None


def publish(batch, *, actor):
    """Publish: entries are created or extended, applications approved, providers told, the feed updated."""
    _require_city_reviewer(actor, batch.city_id)
    problem = publish_problem(batch)
    if problem:
        raise Conflict(problem, code="cannot_publish")
    today = clock.today()
    BATCH.transition(batch, "publish", actor=actor, changes={"published_on": today})
    rules = policy.for_city(batch.city)
    for item in _live_items(batch):
        app = item.application
        _apply_reviewed_values(app, actor)
        _apply_approval(app, batch, rules, today, actor)
        applications.transition(app, "approve", actor=actor, details={"batch_id": batch.id})
        _certificate(app.provider_id, batch)
        reviews._notify_provider(app, f"已列入白名单（{batch.issuer}{batch.name}）",
                                 "您的机构及服务项目已通过审核并公布，可在系统中下载准入证明。")
    db.session.flush()
    return batch


@listing.register
def is_listed(provider_id, project_id=None, day=None):
    """registry.core.listing: an entry of the provider (of the project) in force today, active or suspended."""
    day = day or clock.today()
    stmt = select(WhitelistEntry).where(WhitelistEntry.provider_id == provider_id,
                                        WhitelistEntry.status.in_([EntryStatus.active, EntryStatus.suspended]))
    if project_id is not None:
        stmt = stmt.where(WhitelistEntry.project_id == project_id)
    return any(e.effective_status(day) in (EntryStatus.active, EntryStatus.suspended)
               for e in db.session.scalars(stmt))


def _apply_reviewed_values(app, actor):
    """What was reviewed is what runs: the provider's and each project's reviewed fields take the values of the
    application's last snapshot (a 变更 application's proposed values; for any application, what the provider
    changed after submitting is not published with it)."""
    data = app.latest_snapshot.data
    provider = app.provider
    providers.apply_reviewed(provider, data["organisation"], actor=actor, was_listed=is_listed(provider.id))
    reviewed = {p["id"]: p for p in data["projects"]}
    for link in app.projects:
        if link.project_id in reviewed:
            projects.apply_reviewed(link.project, reviewed[link.project_id], actor=actor,
                                    was_listed=is_listed(provider.id, link.project_id))


def _covered_counties(provider, city_id):
    return [a.county for a in provider.service_areas if a.county.parent_id == city_id]


def _apply_approval(app, batch, rules, today, actor):
    provider = app.provider
    counties = _covered_counties(provider, batch.city_id)
    existing = {e.project_id: e for e in db.session.scalars(
        select(WhitelistEntry).where(WhitelistEntry.provider_id == provider.id))}
    for link in app.projects:
        entry = existing.get(link.project_id)
        if entry is None:
            entry = WhitelistEntry(provider_id=provider.id, project_id=link.project_id, city_id=batch.city_id,
                                   batch_id=batch.id, application_id=app.id, status=EntryStatus.active, version=1,
                                   valid_from=today, valid_until=school_year_end(today, rules),
                                   counties=[EntryCounty(county=c) for c in counties])
            db.session.add(entry)
            db.session.flush()
            _feed(entry, ChangeKind.added, today)
            audit.record("whitelist_entry.create", object_type="whitelist_entry", object_id=entry.id, actor=actor,
                         details={"batch_id": batch.id, "valid_until": entry.valid_until.isoformat()})
        elif app.kind in (ApplicationKind.annual, ApplicationKind.reinstatement) or entry.effective_status(today) == EntryStatus.expired:
            # A renewal extends the entry into the next school year; it keeps its status otherwise.
            start = max(today, entry.valid_until)
            entry.valid_until = school_year_end(date.fromordinal(start.toordinal() + 1), rules)
            entry.batch_id, entry.application_id = batch.id, app.id
            kept = {ec.county_id: ec for ec in entry.counties}  # a new row for a kept county would break the unique key
            entry.counties = [kept.get(c.id) or EntryCounty(county=c) for c in counties]
            if entry.status == EntryStatus.expired or app.kind == ApplicationKind.reinstatement:
                ENTRY.transition(entry, "reinstate", actor=actor, reason="年审/恢复申报通过", rule="approval")
                _feed(entry, ChangeKind.reinstated, today)
            else:
                _feed(entry, ChangeKind.renewed, today)
            audit.record("whitelist_entry.renew", object_type="whitelist_entry", object_id=entry.id, actor=actor,
                         details={"valid_until": entry.valid_until.isoformat()})
        # A change application leaves entries it does not add untouched.


def _feed(entry, kind, day, reason_category=None):
    db.session.add(ChangeFeedItem(kind=kind, entry_id=entry.id, city_id=entry.city_id, happened_on=day,
                                  reason_category=reason_category))


def _certificate(provider_id, batch):
    cert = db.session.scalar(select(Certificate).where(Certificate.provider_id == provider_id))
    if cert is None:
        db.session.add(Certificate(provider_id=provider_id, token=secrets.token_urlsafe(32), batch_id=batch.id))
    else:
        cert.batch_id = batch.id
    db.session.flush()


# ---------------------------------------------------------------- renewal

def renewal_window(entry, rules, day=None):
    day = day or clock.today()
    opens = date.fromordinal(entry.valid_until.toordinal() - rules.renewal_window_days)
    return opens, opens <= day


# ---------------------------------------------------------------- verification

VERIFY_LABELS = {"valid": "有效", "suspended": "暂停", "delisted": "已移出", "expired": "已过期"}


def certificate_status(certificate, day=None):
    """The live status of a certificate: valid / suspended / delisted / expired, from its entries today."""
    day = day or clock.today()
    entries = db.session.scalars(select(WhitelistEntry).where(
        WhitelistEntry.provider_id == certificate.provider_id)).all()
    return entries_status(entries, day), entries


def entries_status(entries, day):
    """What a certificate says of all of a provider's entries on `day`."""
    statuses = [e.effective_status(day) for e in entries]
    if EntryStatus.active in statuses:
        return "valid"
    if EntryStatus.suspended in statuses:
        return "suspended"
    if statuses and all(s == EntryStatus.delisted for s in statuses):
        return "delisted"
    return "expired"


def certificate_by_token(token):
    cert = db.session.scalar(select(Certificate).where(Certificate.token == token)
                             .options(joinedload(Certificate.provider).joinedload(Provider.county)))
    if cert is None:
        raise NotFound("证明不存在或二维码无效")
    return cert
