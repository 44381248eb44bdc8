"""Whitelist entries and their lifecycle, publication's effect on them (entries, reviewed values,
certificates), the public change feed, renewal windows and admission certificates. Release batches,
publicity and objections are registry.batches."""
import secrets
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from registry.applications import services as applications
from registry.applications.models import ApplicationKind
from registry.audit import services as audit
from registry.core import clock, signals
from registry.core.errors import NotFound
from registry.core.lifecycle import Lifecycle, Move
from registry.extensions import db
from registry.projects import services as projects
from registry.providers import services as providers
from registry.providers.models import Provider
from registry.reviews import services as reviews
from registry.whitelist.models import (
    ENTRY_STATUS_LABELS,
    Certificate,
    ChangeFeedItem,
    ChangeKind,
    EntryCounty,
    EntryStatus,
    WhitelistEntry,
)

ENTRY = Lifecycle("whitelist_entry", WhitelistEntry, labels=ENTRY_STATUS_LABELS, moves=[
    Move("suspend", frozenset({EntryStatus.active}), EntryStatus.suspended),
    Move("lift", frozenset({EntryStatus.suspended}), EntryStatus.active),
    Move("delist", frozenset({EntryStatus.active, EntryStatus.suspended}), EntryStatus.delisted),
    Move("expire", frozenset({EntryStatus.active, EntryStatus.suspended}), EntryStatus.expired),
    Move("reinstate", frozenset({EntryStatus.delisted, EntryStatus.expired, EntryStatus.suspended}),
         EntryStatus.active),
])


def school_year_end(day, rules):
    """The end of the school year `day` falls in (default 31 August)."""
    end = date(day.year, rules.validity_end_month, rules.validity_end_day)
    return end if day <= end else date(day.year + 1, rules.validity_end_month, rules.validity_end_day)


@signals.is_listed.register
def is_listed(provider_id, project_id=None, day=None):
    """registry.core.signals.is_listed: an entry of the provider (of the project) in force today, active or
    suspended."""
    day = day or clock.today()
    stmt = select(WhitelistEntry).where(WhitelistEntry.provider_id == provider_id,
                                        WhitelistEntry.status.in_([EntryStatus.active, EntryStatus.suspended]))
    if project_id is not None:
        stmt = stmt.where(WhitelistEntry.project_id == project_id)
    return any(e.effective_status(day) in (EntryStatus.active, EntryStatus.suspended)
               for e in db.session.scalars(stmt))


@signals.admit_published.register
def admit_published(app, batch, *, rules, today, actor):
    """A published batch admits `app`: the reviewed values apply, entries are created or renewed, the
    application is approved, the certificate issued and the provider told."""
    _apply_reviewed_values(app, actor)
    _apply_approval(app, batch, rules, today, actor)
    applications.transition(app, "approve", actor=actor, details={"batch_id": batch.id})
    _certificate(app.provider_id, batch)
    reviews.notify_provider(app, f"已列入白名单（{batch.issuer}{batch.name}）",
                            "您的机构及服务项目已通过审核并公布，可在系统中下载准入证明。")


@signals.entries_of.register
def entries_of(provider_id):
    return db.session.scalars(select(WhitelistEntry).where(WhitelistEntry.provider_id == provider_id)).all()


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
        elif (app.kind in (ApplicationKind.annual, ApplicationKind.reinstatement)
              or entry.effective_status(today) == EntryStatus.expired):
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

@signals.renewal_window.register
def renewal_window(entry, rules, day=None):
    day = day or clock.today()
    opens = date.fromordinal(entry.valid_until.toordinal() - rules.renewal_window_days)
    return opens, opens <= day


# ---------------------------------------------------------------- verification

VERIFY_LABELS = {"valid": "有效", "partly_suspended": "部分项目暂停", "suspended": "暂停", "delisted": "已移出",
                 "expired": "已过期"}


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
        # issue 19: one suspended project is not hidden behind a green 有效
        return "partly_suspended" if EntryStatus.suspended in statuses else "valid"
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
