"""What the load's users act as, read from the dataset (a throwaway copy: see run.py) and written to a
JSON file for the locustfile. Tokens are inserted directly (no audit row, no login), one per user acting.

term_start_world(): the schools of one city with a school admin (up to MAX_SCHOOLS), each with
  - a bearer token, its stages and the categories of its catalog (what the catalog requests filter on);
  - `browse`: entries of its catalog for project-page reads;
  - `orderable`: entries it can order today without a refusal: a project it already has a live order of
    this term (one more class), or, while its third-party share allows one more project, one new
    project. Schools with none only read;
  and the providers of the city with a provider_admin (one token each), the cleared staff of each
  entry (whom an acceptance assigns), and the requested orders of the term to accept.
gate_world(): gate keepers of the schools with the most entry passes and the texts they scan.
survey_world(): fresh single-use survey codes issued through the quality service.
"""
import secrets
from collections import defaultdict
from datetime import timedelta

from sqlalchemy import insert, select

MAX_SCHOOLS = 400
STAGE_GRADES = {"lower_primary": [1, 2, 3], "upper_primary": [4, 5, 6], "junior": [7, 8, 9]}
SCHOOL_GRADES = {"primary": set(range(1, 7)), "junior": {7, 8, 9}, "nine_year": set(range(1, 10))}


def _tokens(db, user_ids):
    """{user id: plaintext bearer token}, inserted in one statement."""
    from registry.auth.models import ApiToken
    from registry.auth.services import TOKEN_PREFIX
    from registry.core import clock, crypto
    plain = {uid: TOKEN_PREFIX + secrets.token_urlsafe(32) for uid in user_ids}
    now = clock.utcnow()
    if plain:
        db.session.execute(insert(ApiToken), [
            {"user_id": uid, "name": "load", "prefix": text[:10], "token_hash": crypto.token_hash(text),
             "expires_at": now + timedelta(days=1), "created_at": now, "updated_at": now}
            for uid, text in plain.items()])
    return plain


def term_start_world(db, city_code):
    from registry.auth.models import Role, User
    from registry.core import clock
    from registry.orders import catalog
    from registry.orders.models import Order, OrderStatus
    from registry.orders.services import LIVE, share
    from registry.regions.models import Region
    from registry.schools.models import School
    from registry.schools.queries import default_term
    from registry.whitelist import eligibility
    from registry.whitelist.models import EntryStatus, WhitelistEntry
    day = clock.today()
    term = default_term(day)
    city_id = db.session.scalar(select(Region.id).where(Region.code == city_code))
    admins = db.session.execute(
        select(User.id, School).join(School, School.id == User.school_id)
        .where(School.city_id == city_id, User.role == Role.school_admin, User.disabled_at.is_(None))
        .order_by(School.id)).all()
    seen, pairs = set(), []
    for user_id, school in admins:
        if school.id not in seen:
            seen.add(school.id)
            pairs.append((user_id, school))
    pairs = pairs[:MAX_SCHOOLS]
    tokens = _tokens(db, [uid for uid, _school in pairs])

    # The catalog depends on the school only through its county and type: one computation per group.
    groups = {}
    entries_info = {}
    for _uid, school in pairs:
        key = (school.county_id, school.school_type.value)
        if key not in groups:
            rows = catalog.catalog(school, {}, day, per_page=100000).page.items
            groups[key] = [row.entry for row in rows]
    active = db.session.scalars(select(WhitelistEntry).where(
        WhitelistEntry.city_id == city_id, WhitelistEntry.status == EntryStatus.active)).all()
    results = eligibility.evaluate(active, day)
    for entry in active:
        result = results[entry.id]
        if result.ok:
            entries_info[str(entry.id)] = {"provider_id": entry.provider_id,
                                           "cleared": [p.id for p in result.cleared_staff]}
    live = defaultdict(set)
    for school_id, project_id in db.session.execute(select(Order.school_id, Order.project_id).where(
            Order.term_id == term.id, Order.status.in_(LIVE),
            Order.school_id.in_([s.id for _u, s in pairs]))):
        live[school_id].add(project_id)

    schools = []
    for user_id, school in pairs:
        entries = groups[(school.county_id, school.school_type.value)]
        grades_ok = SCHOOL_GRADES[school.school_type.value]

        def orderable(entry, grades_ok=grades_ok):
            grades = sorted(g for s in entry.project.stages for g in STAGE_GRADES[s.value] if g in grades_ok)
            p = entry.project
            return {"id": entry.id, "grades": grades[:2], "students": (p.class_min + p.class_max) // 2}

        again = [orderable(e) for e in entries if e.project_id in live[school.id]]
        if not again and entries and share(school, term).allows_one_more():
            again = [orderable(entries[school.id % len(entries)])]
        schools.append({
            "id": school.id, "token": tokens[user_id],
            "stages": sorted({s.value for e in entries for s in e.project.stages} & {
                s for s, g in STAGE_GRADES.items() if set(g) & grades_ok}),
            "categories": sorted({e.project.category.value for e in entries}),
            "browse": [e.id for e in entries[:200]] or [e.id for e in active[:50]],
            "orderable": [o for o in again if o["grades"]]})

    provider_users = dict(db.session.execute(
        select(User.provider_id, User.id).join(WhitelistEntry, WhitelistEntry.provider_id == User.provider_id)
        .where(WhitelistEntry.city_id == city_id, User.role == Role.provider_admin, User.disabled_at.is_(None))
        .order_by(User.provider_id, User.id.desc())).all())   # one user per provider (the lowest id wins)
    provider_tokens = _tokens(db, list(provider_users.values()))
    providers = {str(pid): provider_tokens[uid] for pid, uid in provider_users.items()}
    pool = [{"id": order_id, "entry_id": entry_id} for order_id, entry_id in db.session.execute(
        select(Order.id, Order.entry_id).where(Order.term_id == term.id, Order.status == OrderStatus.requested)
        .order_by(Order.id))
        if str(entry_id) in entries_info and str(entries_info[str(entry_id)]["provider_id"]) in providers]
    # an order created by the load can only be accepted when its entry's provider can sign in
    for school in schools:
        school["orderable"] = [o for o in school["orderable"]
                               if str(o["id"]) in entries_info
                               and str(entries_info[str(o["id"])]["provider_id"]) in providers]
    db.session.commit()
    checked = sorted(key for key, e in entries_info.items() if e["cleared"] and str(e["provider_id"]) in providers)
    return {"term_id": term.id, "city": city_code, "day": day.isoformat(), "schools": schools,
            "providers": providers, "entries": entries_info, "accept_pool": pool, "checked": checked}


GATE_SCHOOLS = 60          # the schools with the most passes, each scanned at its gate
PASSES_PER_SCHOOL = 60


def gate_world(db):
    """Gate keepers of the GATE_SCHOOLS schools with the most entry passes (issue 14), one token each (the
    school admin where a school has no gate keeper), and what they scan: PASSES_PER_SCHOOL passes of the
    school, in turn the signed QR text and the typed code."""
    from sqlalchemy import func

    from registry.auth.models import Role, User
    from registry.passes import services
    from registry.passes.models import EntryPass
    ranked = db.session.execute(select(EntryPass.school_id, func.count()).group_by(EntryPass.school_id)
                                .order_by(func.count().desc(), EntryPass.school_id).limit(GATE_SCHOOLS)).all()
    school_ids = [school_id for school_id, _n in ranked]
    users = {}
    for school_id, role, user_id in db.session.execute(
            select(User.school_id, User.role, User.id).where(
                User.school_id.in_(school_ids), User.role.in_([Role.gate_keeper, Role.school_admin]),
                User.disabled_at.is_(None)).order_by(User.id)):
        if school_id not in users or (Role(role) == Role.gate_keeper and users[school_id][0] != Role.gate_keeper):
            users[school_id] = (Role(role), user_id)
    tokens = _tokens(db, [user_id for _role, user_id in users.values()])
    gates = []
    for school_id in school_ids:
        if school_id not in users:
            continue
        passes = db.session.scalars(select(EntryPass).where(EntryPass.school_id == school_id)
                                    .order_by(EntryPass.id).limit(PASSES_PER_SCHOOL)).all()
        gates.append({"school_id": school_id, "role": users[school_id][0].value,
                      "token": tokens[users[school_id][1]],
                      "passes": [services.qr_text(p) if i % 2 == 0 else p.code for i, p in enumerate(passes)]})
    db.session.commit()
    return {"gates": gates}


def survey_world(db, count):
    """At least `count` fresh single-use survey codes (issue 16), issued through the service as a school
    would (registry.quality.services.issue_codes, one sheet per served order of a term not ended, in order
    id order, until enough), shuffled so that the submissions spread over orders. The codes are stored
    hashed: the plain ones exist only in this world."""
    import random

    from registry.core import clock
    from registry.core.errors import Conflict
    from registry.orders.models import Order
    from registry.quality import services
    from registry.schools.models import Term
    day = clock.today()
    codes = []
    orders = db.session.scalars(select(Order).join(Term, Term.id == Order.term_id).where(
        Order.status.in_(services.SERVED), Term.ends_on >= day).order_by(Order.id))
    for order in orders:
        if len(codes) >= count:
            break
        try:
            codes += services.issue_codes(order, actor=None, day=day)
        except Conflict:   # every parent of it answered already, or another refusal: the next order
            continue
    db.session.commit()
    random.Random(16).shuffle(codes)
    return {"survey_codes": codes}
