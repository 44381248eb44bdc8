"""The benchmarks `python -m bench` runs on each database. Each one returns [(name, value), ...].

Every benchmark runs with the clock frozen at 02:30 CST on AS_OF (the dataset's "today"), so the
figures describe the same data whenever the dataset was generated.

- orm_vs_raw: the public whitelist listing of one city, 50 rows a page, page 1 and a middle page.
  ORM: registry.whitelist.queries.list_entries (the app's own SQLAlchemy statements: one count, one
  page of the listed columns read into ListedEntry objects, one for the counties) in a fresh session,
  then the fields the JSON API shows.
  Raw: hand-written SQL on the DBAPI cursor (count, page, counties) selecting only those fields.
  Both build the same list of dicts (checked before timing). Calls alternate, each side's median is
  taken, and the figure is median(ORM) / median(raw) over both pages. Target ≤ 1.5.
- sweep: registry.adjustments.sweep.run(AS_OF) inside a transaction that is rolled back afterwards,
  so the dataset stays reusable. Seconds of wall time, and the SQL statements the run sent
  (a before_cursor_execute listener; an executemany counts once per batch the driver sends).
"""
import statistics
import sys
import time
from contextlib import contextmanager
from datetime import datetime, timedelta

from sqlalchemy import event, select, text

from bench.generate import AS_OF

FROZEN_AT = datetime.combine(AS_OF - timedelta(days=1), datetime.min.time()) + timedelta(hours=18, minutes=30)
# 18:30 UTC the day before = 02:30 CST on AS_OF, when cron runs the nightly sweep
# 07:30 UTC on AS_OF = 15:30 CST: the afternoon the gates scan and the loads run (passes are for after-school hours)
BUSY_AT = datetime.combine(AS_OF, datetime.min.time()) + timedelta(hours=7, minutes=30)


def note(message):
    print(message, file=sys.stderr, flush=True)


@contextmanager
def frozen_clock():
    from registry.core import clock
    clock.freeze(FROZEN_AT)
    try:
        assert clock.today() == AS_OF
        yield
    finally:
        clock.freeze(None)


@contextmanager
def count_statements(engine):
    counter = {"n": 0}

    def before(conn, cursor, statement, parameters, context, executemany):
        counter["n"] += 1

    event.listen(engine, "before_cursor_execute", before)
    try:
        yield counter
    finally:
        event.remove(engine, "before_cursor_execute", before)


# ---------------------------------------------------------------- orm_vs_raw

STAGE_BITS = ((1, "lower_primary"), (2, "upper_primary"), (4, "junior"))

RAW_FILTER = """
WHERE e.status IN ('active', 'suspended') AND e.valid_from <= {ph} AND e.valid_until >= {ph}
  AND e.city_id = (SELECT rc.id FROM region rc WHERE rc.code = {ph})"""
RAW_COUNT = """SELECT count(*)
FROM whitelist_entry e
JOIN provider p ON p.id = e.provider_id
JOIN project j ON j.id = e.project_id""" + RAW_FILTER
RAW_PAGE = """SELECT e.id, bc.name, bc.code, p.id, p.name, p.uscc, p.org_type, pc.name,
       j.title, j.category, j.stages_mask, j.level, j.price,
       e.valid_from, e.valid_until, b.id, b.year, b.seq, b.issuer, b.published_on, e.status
FROM whitelist_entry e
JOIN provider p ON p.id = e.provider_id
JOIN project j ON j.id = e.project_id
JOIN region pc ON pc.id = p.county_id
JOIN release_batch b ON b.id = e.batch_id
JOIN region bc ON bc.id = b.city_id""" + RAW_FILTER + """
ORDER BY p.name, p.id, j.title, e.id
LIMIT 50 OFFSET {ph}"""
RAW_COUNTIES = """SELECT ec.entry_id, r.name, r.code FROM entry_county ec JOIN region r ON r.id = ec.county_id
WHERE ec.entry_id IN ({marks})"""


def _day(value):
    return None if value is None else str(value)[:10]


def _listing_item(entry_id, city, city_code, counties, provider, project, valid_from, valid_until, batch, status):
    return {"id": entry_id, "city": city, "city_code": city_code, "counties": counties, "provider": provider,
            "project": project, "valid_from": _day(valid_from), "valid_until": _day(valid_until), "batch": batch,
            "status": status}


def orm_listing(city_code, page, per_page=50):
    """The app's listing (registry.whitelist.queries) and the fields WhitelistEntryOut shows."""
    from registry.extensions import db
    from registry.whitelist import queries
    try:
        result = queries.list_entries({"city": city_code}, page, per_page)
        items = []
        for e in result.items:
            p, j, b = e.provider, e.project, e.batch
            items.append(_listing_item(
                e.id, b.city.name, b.city.code, queries.county_names(e),
                {"id": p.id, "name": p.name, "uscc": p.uscc, "org_type": p.org_type.value, "county": p.county.name},
                {"title": j.title, "category": j.category.value, "stages": [s.value for s in j.stages],
                 "level": j.level.value, "price": f"{j.price:.2f}"},
                e.valid_from, e.valid_until,
                {"id": b.id, "name": b.name, "issuer": b.issuer, "published_on": _day(b.published_on)},
                e.status.value))
        return result.total, items
    finally:
        db.session.remove()


class RawListing:
    def __init__(self, engine):
        self.engine = engine
        self.sqlite = engine.dialect.name == "sqlite"
        ph = "?" if self.sqlite else "%s"
        self.ph = ph
        self.count_sql = RAW_COUNT.format(ph=ph)
        self.page_sql = RAW_PAGE.format(ph=ph)

    def __call__(self, city_code, page, per_page=50):
        day = AS_OF.isoformat() if self.sqlite else AS_OF
        conn = self.engine.raw_connection()
        try:
            cur = conn.cursor()
            cur.execute(self.count_sql, (day, day, city_code))
            total = cur.fetchone()[0]
            cur.execute(self.page_sql, (day, day, city_code, (page - 1) * per_page))
            rows = cur.fetchall()
            counties = {}
            if rows:
                ids = [r[0] for r in rows]
                cur.execute(RAW_COUNTIES.format(marks=", ".join([self.ph] * len(ids))), ids)
                for entry_id, name, code in cur.fetchall():
                    counties.setdefault(entry_id, []).append((code, name))
            cur.close()
        finally:
            conn.close()
        items = []
        for (eid, city, city_code_, pid, pname, uscc, org_type, county, title, category, mask, level, price,
             valid_from, valid_until, bid, year, seq, issuer, published_on, status) in rows:
            items.append(_listing_item(
                eid, city, city_code_, [name for _code, name in sorted(counties.get(eid, ()))],
                {"id": pid, "name": pname, "uscc": uscc, "org_type": org_type, "county": county},
                {"title": title, "category": category, "stages": [v for bit, v in STAGE_BITS if mask & bit],
                 "level": level, "price": f"{price:.2f}"},
                valid_from, valid_until,
                {"id": bid, "name": f"{year}年第{seq}批", "issuer": issuer, "published_on": _day(published_on)},
                status))
        return total, items


def orm_vs_raw(app, kind, seconds=20.0, max_rounds=200, **_):
    from registry.extensions import db
    with app.app_context(), frozen_clock():
        city_code = db.session.execute(text(
            "SELECT r.code FROM whitelist_entry e JOIN region r ON r.id = e.city_id "
            "WHERE e.status IN ('active', 'suspended') GROUP BY r.code ORDER BY count(*) DESC, r.code LIMIT 1"
        )).scalar()
        db.session.remove()
        raw = RawListing(db.engine)
        total, orm_items = orm_listing(city_code, 1)
        pages = [1] + ([max(2, (total + 49) // 50 // 2)] if total > 100 else [])
        for page in pages:
            orm_result, raw_result = orm_listing(city_code, page), raw(city_code, page)
            if orm_result != raw_result:
                raise AssertionError(f"orm_vs_raw: ORM and raw listings differ on page {page}")
        times = {"orm": [], "raw": []}
        started = time.perf_counter()
        rounds = 0
        while rounds < max_rounds and (rounds < 10 or time.perf_counter() - started < seconds):
            sides = (("orm", orm_listing), ("raw", raw)) if rounds % 2 == 0 else (("raw", raw), ("orm", orm_listing))
            for page in pages:
                for side, fn in sides:
                    t0 = time.perf_counter()
                    fn(city_code, page)
                    times[side].append(time.perf_counter() - t0)
            rounds += 1
        with count_statements(db.engine) as counter:
            orm_listing(city_code, 1)
        orm_ms = statistics.median(times["orm"]) * 1000
        raw_ms = statistics.median(times["raw"]) * 1000
    note(f"orm_vs_raw[{kind}]: city {city_code}, {total} entries in force, pages {pages}, {rounds} rounds, "
         f"ORM {counter['n']} statements per page")
    return [(f"orm_vs_raw_{kind}", round(orm_ms / raw_ms, 2)), (f"orm_listing_ms_{kind}", round(orm_ms, 2)),
            (f"raw_listing_ms_{kind}", round(raw_ms, 2))]


# ---------------------------------------------------------------- sweep

PER_ROW_SAMPLE = 100   # providers


def per_row_loop(provider_ids, day):
    """The sweep's rules written the way a first version would: provider by provider, each entry, order,
    document, check and qualification read and decided by itself with the app's per-row functions
    (eligibility.evaluate_one, people.services.clearance, Lifecycle.transition, notifications.notify).
    It writes the same kinds of rows as the sweep: status changes, the change feed, provider actions,
    bans, flags and notifications. Returns how many things it changed."""
    from registry.adjustments.models import REASON_LABELS, ActionKind, ProviderAction, ReasonCategory
    from registry.adjustments.sweep import AUTO_RULES, WARN_WINDOWS
    from registry.auth.models import User
    from registry.extensions import db
    from registry.notifications import services as notifications
    from registry.orders import services as orders
    from registry.orders.models import Order, OrderStatus
    from registry.people import services as people
    from registry.people.models import CheckResult, CheckType, Person, PersonBan
    from registry.policy import services as policy
    from registry.providers.models import Provider, ProviderDocument
    from registry.schools.models import Term
    from registry.whitelist import eligibility
    from registry.whitelist.models import ChangeFeedItem, ChangeKind, EntryStatus, WhitelistEntry
    from registry.whitelist.services import ENTRY

    changed = 0
    horizon = day + timedelta(days=max(WARN_WINDOWS))
    age = policy.defaults().check_max_age_days

    def tell(provider_id, title, body, key):
        users = db.session.scalars(select(User).where(User.provider_id == provider_id)).all()
        notifications.notify(users, title=title, body=body, link="/provider", category="expiry", dedupe_key=key)

    for provider_id in provider_ids:
        provider = db.session.get(Provider, provider_id)
        for entry in db.session.scalars(select(WhitelistEntry).where(WhitelistEntry.provider_id == provider_id)):
            if entry.status not in (EntryStatus.active, EntryStatus.suspended):
                continue
            if entry.valid_until < day:
                ENTRY.transition(entry, "expire", reason="有效期届满未年审", rule="validity_ended")
                moved, kind, rule = True, ChangeKind.expired, "validity_ended"
            else:
                result = eligibility.evaluate_one(entry, day)
                blocked = result.causes & {"document", "staff"}
                moved = False
                if entry.status == EntryStatus.active and blocked:
                    rule = "document_expired" if "document" in blocked else "staff_not_cleared"
                    ENTRY.transition(entry, "suspend", reason=REASON_LABELS[rule], rule=rule,
                                     changes={"suspended_by_rule": rule})
                    moved, kind = True, ChangeKind.suspended
                elif (entry.status == EntryStatus.suspended and not blocked
                      and (entry.suspended_by_rule in AUTO_RULES
                           or (entry.suspended_until is not None and entry.suspended_until < day))):
                    ENTRY.transition(entry, "lift", reason="恢复", rule="lift", changes={"suspended_by_rule": None})
                    moved, kind, rule = True, ChangeKind.reinstated, "lift"
            if moved:
                changed += 1
                db.session.add(ChangeFeedItem(kind=kind, entry_id=entry.id, city_id=entry.city_id, happened_on=day))
                db.session.add(ProviderAction(provider_id=provider_id, entry_id=entry.id, kind=ActionKind.suspension,
                                              reason_category=ReasonCategory.other, reason=rule, effective_on=day,
                                              rule=rule, dedupe_key=f"loop:{rule}:{entry.id}:{day}"))
                tell(provider_id, "白名单状态变化", rule, f"loop:{rule}:{entry.id}")
                for order in db.session.scalars(select(Order).where(Order.entry_id == entry.id)):
                    if kind == ChangeKind.reinstated and order.status == OrderStatus.suspended:
                        orders.LIFECYCLE.transition(order, "resume", reason=rule, rule=rule)
                    elif kind != ChangeKind.reinstated and order.status in (OrderStatus.accepted, OrderStatus.active):
                        orders.LIFECYCLE.transition(order, "suspend", reason=rule, rule=rule)
        for order in db.session.scalars(select(Order).where(Order.provider_id == provider_id)):
            term = db.session.get(Term, order.term_id)
            if order.status == OrderStatus.accepted and term.starts_on <= day <= term.ends_on:
                orders.LIFECYCLE.transition(order, "activate", rule="term_started")
                changed += 1
            elif order.status in (OrderStatus.accepted, OrderStatus.active) and term.ends_on < day:
                orders.LIFECYCLE.transition(order, "complete", rule="term_ended")
                changed += 1
            if order.status in (OrderStatus.accepted, OrderStatus.active, OrderStatus.suspended) \
                    and order.staff_flagged_at is None:
                project = order.project
                for link in order.staff:
                    if link.removed_at is None and not people.clearance(
                            link.person, day, project.required_qualification).cleared:
                        orders.flag_staff({order.id})
                        tell(provider_id, "订单人员不再符合条件", link.person.name, f"loop:flag:{order.id}")
                        changed += 1
                        break
        for doc in db.session.scalars(select(ProviderDocument).where(
                ProviderDocument.provider_id == provider_id, ProviderDocument.superseded_at.is_(None))):
            if doc.expiry_date is not None and day < doc.expiry_date <= horizon:
                tell(provider_id, "到期提醒", doc.number, f"loop:doc:{doc.id}")
                changed += 1
        for person in db.session.scalars(select(Person).where(Person.provider_id == provider_id,
                                                              Person.archived_at.is_(None))):
            for check in people.latest_checks(person).values():
                if check.result == CheckResult.adverse:
                    if not db.session.scalar(select(PersonBan.id).where(PersonBan.source_check_id == check.id)):
                        db.session.add(PersonBan(id_bidx=person.id_bidx, reason="查询结果有不良记录",
                                                 source_check_id=check.id, starts_on=day))
                        changed += 1
                    continue
                ends = check.valid_until
                if check.check_type in (CheckType.criminal, CheckType.sexual_offence):
                    ends = min(filter(None, (check.check_date + timedelta(days=age), check.valid_until)))
                if ends is not None and day < ends <= horizon:
                    tell(provider_id, "到期提醒", person.name, f"loop:check:{check.id}")
                    changed += 1
            for qual in person.qualifications:
                if qual.expiry_date is not None and day < qual.expiry_date <= horizon:
                    tell(provider_id, "到期提醒", person.name, f"loop:qual:{qual.id}")
                    changed += 1
        db.session.flush()
        del provider
    return changed


SMALL_SCALE = 0.05


def _sweep_statements_at(scale, kind):
    """The statements the sweep sends on the generated data at another scale (built once, then reused)."""
    from bench.dataset import ensure, targets
    from registry.adjustments import sweep as sweep_module
    from registry.extensions import db
    chosen = [t for t in targets(scale, kind, log=note) if t.kind == kind]
    if not chosen:
        return None
    small_app, _seconds = ensure(chosen[0], scale, log=lambda line, *_: None)
    with small_app.app_context(), frozen_clock():
        db.session.remove()
        try:
            with count_statements(db.engine) as counter:
                sweep_module.run(AS_OF)
                db.session.flush()
        finally:
            db.session.rollback()
            db.session.remove()
            db.engine.dispose()
    return counter["n"]


def sweep(app, kind, scale=1.0, **_):
    """The set-based sweep on the whole dataset, then the per-row loop on a sample of the providers (every
    k-th by id), both rolled back. sweep_vs_per_row is the loop's time per provider times the number of
    providers, over the sweep's time; sweep_per_row_statements is the loop's statements scaled the same way."""
    from registry.adjustments import sweep as sweep_module
    from registry.extensions import db
    from registry.providers.models import Provider
    with app.app_context(), frozen_clock():
        db.session.remove()
        try:
            with count_statements(db.engine) as counter:
                started = time.perf_counter()
                summary = sweep_module.run(AS_OF)
                db.session.flush()
                elapsed = time.perf_counter() - started
        finally:
            db.session.rollback()
            db.session.remove()
        ids = db.session.scalars(select(Provider.id).order_by(Provider.id)).all()
        step = max(1, len(ids) // PER_ROW_SAMPLE)
        sample = ids[::step][:PER_ROW_SAMPLE]
        db.session.remove()
        try:
            with count_statements(db.engine) as loop_counter:
                started = time.perf_counter()
                moved = per_row_loop(sample, AS_OF)
                loop_elapsed = time.perf_counter() - started
        finally:
            db.session.rollback()
            db.session.remove()
    per_row_total = loop_elapsed / len(sample) * len(ids)
    small = _sweep_statements_at(SMALL_SCALE, kind) if scale != SMALL_SCALE else None
    note(f"sweep[{kind}]: {summary}")
    note(f"sweep[{kind}]: per-row loop on {len(sample)} of {len(ids)} providers: {loop_elapsed:.2f}s, "
         f"{loop_counter['n']} statements, {moved} changes; extrapolated {per_row_total:.0f}s for all")
    return [(f"sweep_seconds_{kind}", round(elapsed, 2)), (f"sweep_statements_{kind}", counter["n"]),
            *([(f"sweep_statements_at_scale_{SMALL_SCALE:g}_{kind}", small)] if small is not None else []),
            (f"sweep_per_row_statements_{kind}", round(loop_counter["n"] / len(sample) * len(ids))),
            (f"sweep_vs_per_row_{kind}", round(per_row_total / elapsed, 1))]


def _lazy(module, function):
    """A benchmark that lives in its own module under bench/ (imported only when it runs)."""
    def run(app, kind, **options):
        import importlib
        return getattr(importlib.import_module(module), function)(app, kind, **options)
    run.__name__ = function
    return run


BENCHMARKS = {
    "orm_vs_raw": orm_vs_raw,
    "statements_per_page": _lazy("bench.statements", "statements_per_page"),
    "sweep": sweep,
    "catalog_vs_bare": _lazy("bench.http", "catalog_vs_bare"),
    "verify": _lazy("bench.http", "verify_latency"),
    "pdf": _lazy("bench.pdf", "announcement_pdf"),
    "supervision": _lazy("bench.supervision", "dashboards"),  # issue 18
    # issue 16: quality
    "survey_submit": _lazy("bench.quality", "survey_submit"),
    "standing_sweep": _lazy("bench.quality", "standing_sweep"),
    # issue 15: schedules
    "schedule_validate_ms": _lazy("bench.schedules", "validate_ms"),
    "schedule_public_page_statements": _lazy("bench.schedules", "public_page_statements"),
    "gate_scan": _lazy("bench.gate", "gate_scan"),  # issue 14: passes
    "load": _lazy("bench.load.run", "load"),   # issue 20: the mixed load (PostgreSQL only)
}
