"""The sweep's supervision step (issue 18): record and notify the schools left unvisited last month.

Run by `flask registry sweep` after the adjustments step, every day: it looks at the previous month, so the
run of the 1st flags it, and a missed run is caught up the next day. It only records what
queries.unvisited_stmt already computes (the dashboards show overdue visits without it): one MissedVisit row
per school and month (a second run adds nothing) and one notification each to the inspector and to the
county's reviewers (deduplicated by key). Set-based: a fixed number of statements."""
from sqlalchemy import select

from registry.auth.models import User
from registry.auth.roles import Role
from registry.core import bulk, clock
from registry.extensions import db
from registry.notifications import services as notifications
from registry.supervision import queries
from registry.supervision.models import MissedVisit
from registry.supervision.services import previous_month


def run(day=None):
    """Flag the schools not visited in the month before `day` (when it was a teaching month). Returns the
    number of schools newly recorded."""
    day = day or clock.today()
    month = previous_month(day)
    if not queries.is_teaching_month(month):
        return 0
    rows = db.session.execute(queries.unvisited_stmt(month)).all()
    if not rows:
        return 0
    known = set(db.session.scalars(select(MissedVisit.school_id).where(
        MissedVisit.month == month, MissedVisit.school_id.in_([r.school_id for r in rows]))))
    fresh = [r for r in rows if r.school_id not in known]
    now = clock.utcnow()
    bulk.insert_rows(MissedVisit, [{"school_id": r.school_id, "inspector_id": r.inspector_id,
                                    "county_id": r.county_id, "month": month, "created_at": now} for r in fresh])
    label = f"{month.year}年{month.month}月"
    users = {u.id: u for u in db.session.scalars(notifications.recipients().where(
        (User.id.in_({r.inspector_id for r in fresh}))
        | ((User.role == Role.county_reviewer) & User.region_id.in_({r.county_id for r in fresh}))))}
    reviewers = {}
    for user in users.values():
        if user.role == Role.county_reviewer:
            reviewers.setdefault(user.region_id, []).append(user)
    notes = []
    for r in fresh:
        body = f"{r.name}{label}督导 {r.visits} 次，按规定每月至少 {r.required} 次。"
        key = f"missed_visit:{r.school_id}:{month.isoformat()}"
        for user in [users.get(r.inspector_id), *reviewers.get(r.county_id, [])]:
            notes.append((user, f"{label}未完成督导：{r.name}", body, "/supervision/visits", "supervision", key))
    notifications.notify_many(notes)
    return len(fresh)
