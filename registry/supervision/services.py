"""Supervision writes: assigning schools to inspectors (by the county reviewer), recording a monthly visit
with its checklist and photos, and rectification tasks (整改) raised from a 不符合 item.

A task's status changes only through TASK (registry.core.lifecycle): open → responded (the school or the
provider answers, with evidence) → closed (the inspector accepts; never without a response) or reopened
(the inspector refuses; the school or provider answers again). Overdue is computed from the deadline and
the day (Task.is_overdue), never stored."""
from datetime import datetime, time, timedelta, timezone

from sqlalchemy import select

from registry.audit import services as audit
from registry.auth.models import User
from registry.auth.roles import Role
from registry.complaints import services as complaints
from registry.core import clock
from registry.core.errors import Conflict, NotAllowed, ValidationFailed
from registry.core.lifecycle import Lifecycle, Move
from registry.extensions import db
from registry.files import services as files
from registry.notifications import services as notifications
from registry.orders.models import Order
from registry.supervision.models import (
    TASK_STATUS_LABELS,
    Assignment,
    CheckItem,
    ItemResult,
    Task,
    TaskEvidence,
    TaskStatus,
    TaskTarget,
    Visit,
    VisitItem,
    VisitPhoto,
)

MAX_PHOTOS = 12


# ---------------------------------------------------------------- months

def month_start(day):
    return day.replace(day=1)


def month_end(day):
    following = (day.replace(day=28) + timedelta(days=4)).replace(day=1)
    return following - timedelta(days=1)


def previous_month(day):
    return month_start(month_start(day) - timedelta(days=1))


def parse_month(text, field="month"):
    """"2026-10" → date(2026, 10, 1)."""
    try:
        return datetime.strptime(text or "", "%Y-%m").date()
    except ValueError:
        raise ValidationFailed({field: ["月份格式应为 YYYY-MM，例如 2026-10"]}) from None


# ---------------------------------------------------------------- assignments (挂牌督导)

def current_assignment(school_id):
    return db.session.scalar(select(Assignment).where(Assignment.school_id == school_id,
                                                      Assignment.ended_on.is_(None)))


def assign(school, *, inspector_id, actor, started_on=None):
    """Make `inspector_id` the school's responsible inspector from `started_on` (default today). The inspector
    must be an active inspector of the school's county; a previous inspector's assignment ends the day before."""
    started_on = started_on or clock.today()
    inspector = db.session.get(User, inspector_id) if inspector_id else None
    if (inspector is None or inspector.role != Role.inspector or inspector.region_id != school.county_id
            or not inspector.is_active):
        raise ValidationFailed({"inspector_id": ["请选择本县（市、区）在岗的责任督学"]})
    current = current_assignment(school.id)
    if current is not None:
        if current.inspector_id == inspector.id:
            raise Conflict(f"{school.name}已由{inspector.display_name}挂牌督导", field="inspector_id",
                           code="already_assigned")
        current.ended_on = max(current.started_on, started_on - timedelta(days=1))
        db.session.flush()
    row = Assignment(inspector_id=inspector.id, school_id=school.id, county_id=school.county_id,
                     started_on=started_on, assigned_by_id=actor.id)
    db.session.add(row)
    db.session.flush()
    audit.record("supervision.assign", object_type="school", object_id=school.id, actor=actor,
                 details={"inspector_id": inspector.id, "started_on": started_on.isoformat(),
                          "previous_inspector_id": current.inspector_id if current else None})
    notifications.notify([inspector], title=f"挂牌督导：{school.name}",
                         body=f"自{started_on.isoformat()}起，您为{school.name}的责任督学，每月须到校督导。",
                         link="/supervision/visits", category="supervision")
    return row


def end_assignment(assignment, *, actor, ended_on=None):
    if assignment.ended_on is not None:
        raise Conflict("该挂牌督导关系已结束", code="assignment_ended")
    assignment.ended_on = max(assignment.started_on, ended_on or clock.today())
    db.session.flush()
    audit.record("supervision.unassign", object_type="school", object_id=assignment.school_id, actor=actor,
                 details={"inspector_id": assignment.inspector_id, "ended_on": assignment.ended_on.isoformat()})
    return assignment


# ---------------------------------------------------------------- the monthly visit

def record_visit(school, *, actor, visited_at, items, summary="", photos=()):
    """Record a visit of `actor` (the school's current responsible inspector). `items` maps each of the eight
    checklist keys to {result, note}; a 不符合 item needs a note. `photos` are (item or None, filename, bytes)."""
    assignment = current_assignment(school.id)
    if assignment is None or assignment.inspector_id != actor.id:
        raise NotAllowed("该校不是您挂牌督导的学校，不能登记督导记录", field="school_id", code="not_assigned")
    local = visited_at if visited_at.tzinfo else visited_at.replace(tzinfo=clock.CST)
    utc = local.astimezone(timezone.utc).replace(tzinfo=None)
    day = local.astimezone(clock.CST).date()
    errors = {}
    if day > clock.today():
        errors["visited_at"] = ["督导时间不能晚于今天"]
    for key in CheckItem:
        entry = items.get(key.value)
        if entry is None:
            errors[f"items.{key.value}"] = [f"请填写“{key.label}”的检查结果"]
        elif entry["result"] == ItemResult.fails.value and not (entry.get("note") or "").strip():
            errors[f"items.{key.value}"] = [f"“{key.label}”不符合：请在备注中写明发现的问题"]
    unknown = set(items) - set(CheckItem.value_labels())
    if unknown:
        errors["items"] = ["未知的检查项：" + "、".join(sorted(unknown))]
    if len(photos) > MAX_PHOTOS:
        errors["photos"] = [f"每次督导最多上传 {MAX_PHOTOS} 张照片"]
    if errors:
        raise ValidationFailed(errors)
    visit = Visit(school_id=school.id, inspector_id=actor.id, county_id=school.county_id, city_id=school.city_id,
                  visited_at=utc, visited_on=day, summary=(summary or "").strip())
    for position, key in enumerate(CheckItem):
        entry = items[key.value]
        visit.items.append(VisitItem(position=position, item=key, result=ItemResult(entry["result"]),
                                     note=(entry.get("note") or "").strip()))
    db.session.add(visit)
    db.session.flush()
    for item, filename, data in photos:
        add_photo(visit, actor=actor, item=item, filename=filename, data=data, audited=False)
    audit.record("supervision.visit", object_type="supervision_visit", object_id=visit.id, actor=actor,
                 details={"school_id": school.id, "visited_on": day.isoformat(), "photos": len(photos),
                          "fails": [i.item.value for i in visit.items if i.result == ItemResult.fails]})
    return visit


def add_photo(visit, *, actor, item, filename, data, audited=True):
    if visit.inspector_id != actor.id:
        raise NotAllowed("只有登记该督导记录的责任督学可以补充照片", code="not_visit_inspector")
    if len(visit.photos) >= MAX_PHOTOS:
        raise ValidationFailed({"photo": [f"每次督导最多上传 {MAX_PHOTOS} 张照片"]})
    if item is not None and item not in CheckItem.value_labels():
        raise ValidationFailed({"item": ["未知的检查项"]})
    stored = files.store(filename, data, uploaded_by=actor, field="photo")
    photo = VisitPhoto(visit=visit, item=CheckItem(item) if item else None, file_id=stored.id)
    db.session.add(photo)
    db.session.flush()
    if audited:
        audit.record("supervision.photo", object_type="supervision_visit", object_id=visit.id, actor=actor,
                     details={"file_id": stored.id, "sha256": stored.sha256})
    return photo


# The complaint category a 不符合 checklist item is filed under (the 五个严禁 where the item is one of them).
ITEM_CATEGORY = {
    CheckItem.voluntary: "forced_participation",
    CheckItem.no_new_lessons: "new_lessons",
    CheckItem.fees_disclosed: "illegal_fees",
    CheckItem.safety: "safety_incident",
}


def refer_to_complaint(visit, item, *, actor):
    """A 不符合 item handed to the complaints domain as a case of the school's county (once per item)."""
    row = visit.item(item)
    if row is None or row.result != ItemResult.fails:
        raise ValidationFailed({"item": ["只有“不符合”的检查项可以转为投诉案件"]})
    if row.complaint_id is not None:
        raise Conflict("该检查项已转为投诉案件", code="already_referred")
    summary = f"督导检查（{visit.visited_on.isoformat()}）发现“{row.label}”不符合。{row.note}".strip()
    case = complaints.open_case(source="visit", category=ITEM_CATEGORY.get(row.item, "other"), summary=summary,
                                school_id=visit.school_id, actor=actor)
    row.complaint_id = case.id
    db.session.flush()
    return case


# ---------------------------------------------------------------- rectification tasks (整改)

def _responder(task, actor, **_context):
    if task.target == TaskTarget.school:
        allowed = actor.role == Role.school_admin and actor.school_id == task.school_id
    else:
        allowed = actor.role == Role.provider_admin and actor.provider_id == task.provider_id
    if not allowed:
        raise NotAllowed(f"该整改任务由{task.target_label}反馈", code="not_task_party")


def may_review(task, actor):
    """The inspector who raised the task, or the school's current responsible inspector."""
    if actor.role != Role.inspector or actor.region_id != task.county_id:
        return False
    current = current_assignment(task.school_id)
    return task.created_by_id == actor.id or (current is not None and current.inspector_id == actor.id)


def _reviewer(task, actor, **_context):
    if not may_review(task, actor):
        raise NotAllowed("只有提出整改的责任督学或该校现任责任督学可以复核", code="not_task_inspector")


def _reviewer_with_response(task, actor, **context):
    _reviewer(task, actor, **context)
    if not (task.response or "").strip():
        raise Conflict("整改任务须有整改反馈才能销号", field="response", code="no_response")


TASK = Lifecycle("rectification_task", Task, labels=TASK_STATUS_LABELS, moves=[
    Move("respond", frozenset({TaskStatus.open, TaskStatus.reopened}), TaskStatus.responded, guard=_responder),
    Move("close", frozenset({TaskStatus.responded}), TaskStatus.closed, guard=_reviewer_with_response),
    Move("reopen", frozenset({TaskStatus.responded}), TaskStatus.reopened, guard=_reviewer),
])


def _party_users(task):
    if task.target == TaskTarget.school:
        where = (User.role == Role.school_admin) & (User.school_id == task.school_id)
    else:
        where = (User.role == Role.provider_admin) & (User.provider_id == task.provider_id)
    return db.session.scalars(notifications.recipients().where(where)).all()


def open_task(visit, item, *, actor, target, requirement, deadline, provider_id=None):
    """A rectification task from a 不符合 item of `visit`, for the school or for a provider serving it."""
    if visit.inspector_id != actor.id and not (actor.role == Role.inspector and actor.region_id == visit.county_id):
        raise NotAllowed("只有本县（市、区）的责任督学可以提出整改", code="not_inspector")
    row = visit.item(item) if item in CheckItem.value_labels() else None
    errors = {}
    if row is None or row.result != ItemResult.fails:
        errors["item"] = ["只有“不符合”的检查项可以提出整改"]
    if not (requirement or "").strip():
        errors["requirement"] = ["请写明整改要求"]
    if deadline is None:
        errors["deadline"] = ["请填写整改期限"]
    elif deadline < clock.today():
        errors["deadline"] = ["整改期限不能早于今天"]
    target = TaskTarget(target) if target in TaskTarget.value_labels() else None
    if target is None:
        errors["target"] = ["请选择整改对象：学校或机构"]
    elif target == TaskTarget.provider:
        serving = provider_id is not None and db.session.scalar(select(Order.id).where(
            Order.school_id == visit.school_id, Order.provider_id == provider_id).limit(1))
        if not serving:
            errors["provider_id"] = ["请选择在该校有服务订单的机构"]
    if errors:
        raise ValidationFailed(errors)
    task = Task(visit_id=visit.id, item=CheckItem(item), target=target, school_id=visit.school_id,
                provider_id=provider_id if target == TaskTarget.provider else None, county_id=visit.county_id,
                city_id=visit.city_id, requirement=requirement.strip(), deadline=deadline,
                status=TaskStatus.open, created_by_id=actor.id)
    db.session.add(task)
    db.session.flush()
    audit.record("rectification_task.open", object_type="rectification_task", object_id=task.id, actor=actor,
                 details={"visit_id": visit.id, "item": item, "target": target.value,
                          "deadline": deadline.isoformat()})
    notifications.notify(_party_users(task), title=f"整改通知：{row.label}",
                         body=f"责任督学于{visit.visited_on.isoformat()}到校督导发现问题，请于{deadline.isoformat()}前"
                              f"整改并反馈。整改要求：{task.requirement}",
                         link=f"/supervision/tasks/{task.id}", category="supervision")
    return task


def respond(task, *, actor, response, evidence=()):
    """The school or provider answers a task with what it did and evidence files ((filename, bytes) pairs)."""
    response = (response or "").strip()
    if not response:
        raise ValidationFailed({"response": ["请填写整改情况"]})
    if len(response) > 4000:
        raise ValidationFailed({"response": ["整改情况不能超过 4000 个字"]})
    stored = [files.store(name, data, uploaded_by=actor, field="evidence") for name, data in evidence]
    TASK.transition(task, "respond", actor=actor, changes={
        "response": response, "responded_at": clock.utcnow(), "responded_by_id": actor.id})
    for row in stored:
        db.session.add(TaskEvidence(task_id=task.id, file_id=row.id))
    db.session.flush()
    notifications.notify([db.session.get(User, task.created_by_id)], title="整改已反馈，请复核",
                         body=f"{task.school.name}：{task.item_label}", link=f"/supervision/tasks/{task.id}",
                         category="supervision")
    return task


def close(task, *, actor, note=""):
    TASK.transition(task, "close", actor=actor, reason=note or None, changes={
        "closed_at": clock.utcnow(), "review_note": (note or "").strip() or None})
    notifications.notify(_party_users(task), title="整改已销号", body=f"{task.school.name}：{task.item_label}",
                         link=f"/supervision/tasks/{task.id}", category="supervision")
    return task


def reopen(task, *, actor, note):
    note = (note or "").strip()
    if not note:
        raise ValidationFailed({"note": ["请写明复核未通过的原因"]})
    TASK.transition(task, "reopen", actor=actor, reason=note, changes={"review_note": note})
    notifications.notify(_party_users(task), title="整改复核未通过，请继续整改",
                         body=f"{task.school.name}：{task.item_label}。{note}", link=f"/supervision/tasks/{task.id}",
                         category="supervision")
    return task


def visit_datetime(day, at=None):
    """A visit's local (Beijing) datetime from a date and an optional time."""
    return datetime.combine(day, at or time(9, 0), tzinfo=clock.CST)
