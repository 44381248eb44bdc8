"""Reading a city's policy, with the documented defaults when the city has set nothing."""
from sqlalchemy import select

from registry.audit import services as audit
from registry.extensions import db
from registry.policy.models import CityPolicy

WARNING_DAYS = (30, 7)


def defaults(city=None):
    """An unsaved CityPolicy carrying the column defaults."""
    policy = CityPolicy(city=city)
    for column in CityPolicy.__table__.columns:
        if getattr(policy, column.key) is None and column.default is not None and not callable(column.default.arg):
            setattr(policy, column.key, column.default.arg)
    return policy


def for_city(city):
    if city is None:
        return defaults()
    row = db.session.scalar(select(CityPolicy).where(CityPolicy.city_id == city.id))
    return row or defaults(city)


def for_region(region):
    return for_city(region.city if region is not None else None)


# ---------------------------------------------------------------- public-notice settings (issue 19)

NOTICE_FIELDS = ("notice_contact", "notice_phone", "objection_address", "supervision_phone", "doc_number_pattern")


def update_notice_settings(city, *, actor, **values):
    """Save a city's public-notice settings (creating its policy row with the defaults when it has none)."""
    row = db.session.scalar(select(CityPolicy).where(CityPolicy.city_id == city.id))
    if row is None:
        row = defaults(city)
        row.city_id = city.id
        db.session.add(row)
    changed = {}
    for name in NOTICE_FIELDS:
        value = (values.get(name) or "").strip()
        if getattr(row, name) != value:
            changed[name] = value
            setattr(row, name, value)
    db.session.flush()
    if changed:
        audit.record("city_policy.notice_update", object_type="city_policy", object_id=row.id, actor=actor,
                     details={"city": city.code, "fields": sorted(changed)})
    return row


def doc_number(policy, batch):
    """The 文号 of a batch's notice and announcement, from the city's pattern ({year}, {seq}); without one,
    the issuer's name with the year and the batch number."""
    pattern = policy.doc_number_pattern or "{issuer}〔{year}〕{seq}号"
    return pattern.format(year=batch.year, seq=batch.seq, issuer=batch.issuer)


# issue 15: one class hour (课时) per stage
def class_minutes(rules, stages):
    """Minutes of one class hour for a project of these stages (学段): the junior length when it serves only
    junior grades, else the primary one."""
    values = {getattr(s, "value", s) for s in stages}
    if values and values <= {"junior"}:
        return rules.class_minutes_junior
    return rules.class_minutes_primary
