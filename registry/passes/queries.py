"""Reads of entry passes for pages, the API, supervision and quality: a school's or a provider's passes,
who is on site now (在校人员), sessions nobody came to (未到岗), and the lookups that take the caller's school or
provider id."""
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from registry.core import clock
from registry.core.errors import NotFound
from registry.extensions import db
from registry.orders.models import Order
from registry.passes import services
from registry.passes.models import EntryPass, GateScan, PassPhoto, ScanDirection, ScanResult
from registry.people.models import Person
from registry.policy import services as policy

_PAGE_OPTIONS = (joinedload(EntryPass.person), joinedload(EntryPass.school),
                 joinedload(EntryPass.order).joinedload(Order.project),
                 joinedload(EntryPass.order).joinedload(Order.provider))


def school_passes(school_id):
    return db.session.scalars(select(EntryPass).where(EntryPass.school_id == school_id)
                              .options(*_PAGE_OPTIONS).order_by(EntryPass.id)).all()


def provider_passes(provider_id):
    return db.session.scalars(select(EntryPass).join(Order, Order.id == EntryPass.order_id)
                              .where(Order.provider_id == provider_id)
                              .options(*_PAGE_OPTIONS).order_by(EntryPass.id)).all()


def can_manage(user, entry_pass):
    """The school's admin, or the provider whose order the pass is for (or whose person it names)."""
    if user.school_id is not None and user.role.value == "school_admin":
        return entry_pass.school_id == user.school_id
    if user.provider_id is not None:
        return entry_pass.person.provider_id == user.provider_id
    return False


def can_see_photo(user, person_id):
    """The school's gate staff and admin where the person holds a pass, and the person's provider."""
    person = db.session.get(Person, person_id)
    if person is None:
        return False
    if user.provider_id is not None:
        return person.provider_id == user.provider_id
    if user.school_id is not None:
        return person.school_id == user.school_id or db.session.scalar(select(EntryPass.id).where(
            EntryPass.person_id == person_id, EntryPass.school_id == user.school_id).limit(1)) is not None
    return False


def managed_pass(user, pass_id):
    entry_pass = db.session.get(EntryPass, pass_id)
    if entry_pass is None or not can_manage(user, entry_pass):
        raise NotFound("通行证不存在")
    return entry_pass


def by_link(link_key):
    entry_pass = db.session.scalar(select(EntryPass).where(EntryPass.link_key == link_key)
                                   .options(*_PAGE_OPTIONS))
    if entry_pass is None:
        raise NotFound("通行证不存在或链接已失效")
    return entry_pass


def photo_ids(person_ids):
    """{person_id} of those with a pass photo."""
    ids = set(person_ids)
    return set(db.session.scalars(select(PassPhoto.person_id).where(PassPhoto.person_id.in_(ids)))) if ids else set()


@dataclass
class OnSite:
    entry_pass: EntryPass
    since: object  # naive UTC of the entry scan


def on_site(school_id, day=None):
    """在校人员: passes of the school whose allowed scans today are odd in number (entered, not left yet)."""
    day = day or clock.today()
    counts = (select(GateScan.pass_id, func.count().label("n"), func.max(GateScan.scanned_at).label("last"))
              .where(GateScan.school_id == school_id, GateScan.scan_day == day,
                     GateScan.result == ScanResult.allowed, GateScan.pass_id.is_not(None))
              .group_by(GateScan.pass_id).subquery())
    rows = db.session.execute(select(EntryPass, counts.c.last).join(counts, counts.c.pass_id == EntryPass.id)
                              .where(counts.c.n % 2 == 1).options(*_PAGE_OPTIONS)
                              .order_by(counts.c.last)).all()
    return [OnSite(p, last) for p, last in rows]


def scans(school_id, day=None, limit=200):
    day = day or clock.today()
    return db.session.scalars(select(GateScan).where(GateScan.school_id == school_id, GateScan.scan_day == day)
                              .options(joinedload(GateScan.entry_pass).joinedload(EntryPass.person))
                              .order_by(GateScan.scanned_at.desc()).limit(limit)).all()


@dataclass
class NoShow:
    entry_pass: EntryPass
    day: date


# An order's sessions count while it is accepted or active, and after it ran to the end of its term.
LIVE_OR_RAN = ("accepted", "active", "completed")


def _sessions(*, school_id=None, provider_id=None, order_ids=None, start, end, now=None):
    """Each scheduled session (a pass's weekday within its validity, order in force, pass not revoked) from
    `start` to `end` that is due (before today, or today once its window, slot end + the gate window, has
    passed), as (pass, day, came): whether an allowed entry scan was logged that day. A fixed number of
    statements whatever the number of passes."""
    local = clock.to_cst(now or clock.utcnow())
    stmt = select(EntryPass).where(EntryPass.revoked_at.is_(None), EntryPass.valid_from <= end,
                                   EntryPass.valid_until >= start).options(*_PAGE_OPTIONS,
                                                                          joinedload(EntryPass.order)
                                                                          .joinedload(Order.term),
                                                                          joinedload(EntryPass.order)
                                                                          .joinedload(Order.entry))
    if school_id is not None:
        stmt = stmt.where(EntryPass.school_id == school_id)
    if provider_id is not None:
        stmt = stmt.join(Order, Order.id == EntryPass.order_id).where(Order.provider_id == provider_id)
    if order_ids is not None:
        stmt = stmt.where(EntryPass.order_id.in_(list(order_ids) or [-1]))
    passes = db.session.scalars(stmt).unique().all()
    if not passes:
        return
    came = set(db.session.execute(select(GateScan.pass_id, GateScan.scan_day).where(
        GateScan.pass_id.in_([p.id for p in passes]), GateScan.scan_day >= start, GateScan.scan_day <= end,
        GateScan.result == ScanResult.allowed, GateScan.direction == ScanDirection.entry)).all())
    windows = {}
    for entry_pass in passes:
        school = entry_pass.school
        if school.id not in windows:
            windows[school.id] = policy.for_region(school.county).gate_window_minutes
        span = services.slot_minutes(entry_pass.time_slot)
        day = max(start, entry_pass.valid_from)
        while day <= min(end, entry_pass.valid_until):
            due = day < local.date() or (day == local.date() and span is not None
                                         and local.hour * 60 + local.minute > span[1] + windows[school.id])
            live = entry_pass.order is None or entry_pass.order.effective_status(day).value in LIVE_OR_RAN
            if due and live and day.weekday() in entry_pass.weekdays:
                yield entry_pass, day, (entry_pass.id, day) in came
            day += timedelta(days=1)


def no_shows(*, school_id=None, provider_id=None, start=None, end=None, now=None):
    """未到岗: each scheduled, due session from `start` to `end` (default: the last 7 days up to today) with
    no allowed entry scan that day. For the school, the provider and supervision's counts."""
    end = end or clock.to_cst(now or clock.utcnow()).date()
    start = start or end - timedelta(days=6)
    result = [NoShow(p, day) for p, day, came in _sessions(school_id=school_id, provider_id=provider_id,
                                                            start=start, end=end, now=now) if not came]
    result.sort(key=lambda n: (n.day, n.entry_pass.id), reverse=True)
    return result


def attendance(order_ids, start, end, now=None):
    """{order_id: (sessions due, sessions without an entry scan)} for these orders' passes from `start` to
    `end`; orders with no pass (no gate data) are absent. For quality's punctuality and 未到岗 rate."""
    counts = {}
    for entry_pass, _day, came in _sessions(order_ids=order_ids, start=start, end=end, now=now):
        due, missed = counts.get(entry_pass.order_id, (0, 0))
        counts[entry_pass.order_id] = (due + 1, missed + (not came))
    return counts
