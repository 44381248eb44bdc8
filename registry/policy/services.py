"""Reading a city's policy, with the documented defaults when the city has set nothing."""
from sqlalchemy import select

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


# issue 15: one class hour (课时) per stage
def class_minutes(rules, stages):
    """Minutes of one class hour for a project of these stages (学段): the junior length when it serves only
    junior grades, else the primary one."""
    values = {getattr(s, "value", s) for s in stages}
    if values and values <= {"junior"}:
        return rules.class_minutes_junior
    return rules.class_minutes_primary
