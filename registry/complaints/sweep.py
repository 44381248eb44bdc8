"""The complaints' nightly step (issue 17): remind handlers before a deadline, escalate overdue complaints
to the city, close decided complaints whose complainant did not rate them in time.

It records and notifies what the deadlines already say, and is idempotent: a reminder is sent once per
complaint, deadline and user (notification dedupe key), an escalation once (escalated_on), a close once
(the lifecycle)."""
from sqlalchemy import select

from registry.audit import services as audit
from registry.auth.roles import Role
from registry.calendar import services as calendar
from registry.complaints.models import OPEN_STATUSES, Complaint, ComplaintStatus
from registry.complaints.services import COMPLAINT, _users, handlers
from registry.core import clock
from registry.extensions import db
from registry.notifications import services as notifications
from registry.policy import services as policy


def run(day=None):
    day = day or clock.today()
    summary = {"complaint_reminders": 0, "complaints_escalated": 0, "complaints_closed": 0}
    rules = {}

    def rules_of(complaint):
        if complaint.city_id not in rules:
            rules[complaint.city_id] = policy.for_city(complaint.city)
        return rules[complaint.city_id]

    handlers_of = {}
    for complaint in db.session.scalars(select(Complaint).where(Complaint.status.in_(OPEN_STATUSES))
                                        .order_by(Complaint.id)):
        due = complaint.due_on()
        stage = "ack" if complaint.status == ComplaintStatus.received else "resolve"
        if complaint.region_id not in handlers_of:
            handlers_of[complaint.region_id] = handlers(complaint.region_id)
        if day > due:
            if complaint.escalated_on is None:
                _escalate(complaint, day, stage, due)
                summary["complaints_escalated"] += 1
            continue
        left = calendar.working_days_between(day, due)
        if left <= rules_of(complaint).complaint_remind_working_days:
            what = "确认受理" if stage == "ack" else "办结"
            sent = notifications.notify(
                handlers_of[complaint.region_id], title=f"投诉即将到期：请于{due.isoformat()}前{what}",
                body=f"投诉 #{complaint.id}（{complaint.category.label}）", link=f"/complaints/{complaint.id}",
                category="complaint", dedupe_key=f"complaint:{complaint.id}:{stage}:{due.isoformat()}")
            summary["complaint_reminders"] += len(sent)
    decided = db.session.scalars(select(Complaint).where(Complaint.status == ComplaintStatus.decided)).all()
    due_to_close = [c for c in decided if c.decided_on and day > calendar.add_working_days(
        c.decided_on, rules_of(c).complaint_rating_working_days).end]
    summary["complaints_closed"] = len(COMPLAINT.transition_many(
        due_to_close, "close", reason="回访期满未评价", rule="rating_timeout", changes={"closed_on": day}))
    db.session.flush()
    return summary


def _escalate(complaint, day, stage, due):
    complaint.escalated_on = day
    db.session.flush()
    audit.record("complaint.escalate", object_type="complaint", object_id=complaint.id,
                 details={"stage": stage, "due": due.isoformat(), "rule": "overdue"})
    what = "未按期确认受理" if stage == "ack" else "未按期办结"
    notifications.notify(_users(region_id=complaint.city_id, role=Role.city_reviewer),
                         title=f"投诉逾期上报：{what}", body=f"投诉 #{complaint.id}（{complaint.category.label}），"
                         f"期限{due.isoformat()}，由{complaint.region.name}承办。", link=f"/complaints/{complaint.id}",
                         category="complaint", dedupe_key=f"complaint:{complaint.id}:escalate")
