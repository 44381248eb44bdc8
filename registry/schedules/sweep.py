"""The schedules' step of the nightly sweep (issue 15): a school that has not filed its schedule for a running
term once the filing deadline has passed is told once, with the day it was due (filings() already computes the
lateness; this only notifies). Idempotent: the notification's dedupe key holds school and term."""
from sqlalchemy import select

from registry.auth.models import User
from registry.extensions import db
from registry.notifications import services as notifications
from registry.regions.models import Region, RegionLevel
from registry.schedules import queries
from registry.schools.models import Term


def run(day):
    """Notify the school admins of every school late with its filing on `day`, once; returns the notifications
    sent (0 on a second run)."""
    late = []
    for term in db.session.scalars(select(Term).where(Term.starts_on <= day, Term.ends_on >= day)):
        for city in db.session.scalars(select(Region).where(Region.level == RegionLevel.city)):
            late += [(f, term) for f in queries.filings(city, term, day) if f.late and f.submitted_on is None]
    if not late:
        return 0
    schools = {f.school.id for f, _t in late}
    users = db.session.scalars(notifications.recipients().where(User.school_id.in_(schools))).all()
    by_school = {}
    for user in users:
        by_school.setdefault(user.school_id, []).append(user)
    items = [(user, f"课后服务安排表逾期未备案：{term.name}",
              f"本学期安排表应于 {f.deadline.isoformat()} 前报县级教育行政部门备案，请尽快填写并报备。",
              f"/school/schedules?term_id={term.id}", "schedule", f"schedule-late:{f.school.id}:{term.id}")
             for f, term in late for user in by_school.get(f.school.id, [])]
    return notifications.notify_many(items)
