"""Release batches (批次), publicity (公示) and objections (异议): every write and the rules that guard it.

Publication hands each application over to the whitelist through registry.core.signals.admit_published (the
whitelist sits above batches in the domain order); reviews reach batches through the hooks registered at the
end of this module."""
from datetime import date

from sqlalchemy import func, select

from registry.applications import services as applications
from registry.applications.models import ApplicationStatus
from registry.audit import services as audit
from registry.auth.models import User
from registry.auth.roles import Role
from registry.batches import queries
from registry.batches.models import (
    BATCH_STATUS_LABELS,
    OBJECTION_STATUS_LABELS,
    BatchItem,
    BatchStatus,
    Objection,
    ObjectionStatus,
    ReleaseBatch,
)
from registry.calendar import services as calendar
from registry.core import clock, signals
from registry.core.errors import Conflict, NotAllowed, NotFound, ValidationFailed
from registry.core.lifecycle import Lifecycle, Move
from registry.extensions import db
from registry.notifications import services as notifications
from registry.policy import services as policy
from registry.reviews import services as reviews

BATCH = Lifecycle("release_batch", ReleaseBatch, labels=BATCH_STATUS_LABELS, moves=[
    Move("start_publicity", frozenset({BatchStatus.draft}), BatchStatus.publicity),
    Move("publish", frozenset({BatchStatus.publicity}), BatchStatus.published),
])
OBJECTION = Lifecycle("objection", Objection, labels=OBJECTION_STATUS_LABELS, moves=[
    Move("uphold", frozenset({ObjectionStatus.open}), ObjectionStatus.upheld),
    Move("dismiss", frozenset({ObjectionStatus.open}), ObjectionStatus.dismissed),
])


def issuer_for(city):
    return "赣江新区社会发展局" if city.code == "36X100" else f"{city.name}教育局"


def _require_city_reviewer(actor, city_id):
    if actor is None or actor.role != Role.city_reviewer or actor.region_id != city_id:
        raise NotAllowed("只有本市审核员可以管理公示批次")


# ---------------------------------------------------------------- batches

def get_batch(batch_id):
    batch = db.session.get(ReleaseBatch, batch_id)
    if batch is None:
        raise NotFound("批次不存在")
    return batch


def create_batch(*, actor):
    city = actor.region
    _require_city_reviewer(actor, city.id)
    year = clock.today().year
    seq = (db.session.scalar(select(func.max(ReleaseBatch.seq)).where(ReleaseBatch.city_id == city.id,
                                                                      ReleaseBatch.year == year)) or 0) + 1
    batch = ReleaseBatch(city_id=city.id, year=year, seq=seq, issuer=issuer_for(city), created_by_id=actor.id,
                         status=BatchStatus.draft, version=1)
    db.session.add(batch)
    db.session.flush()
    audit.record("release_batch.create", object_type="release_batch", object_id=batch.id, actor=actor,
                 details={"name": batch.name})
    return batch


def add_to_batch(batch, application, *, actor):
    """Approve in principle: put an application that passed city review into a draft batch."""
    _require_city_reviewer(actor, batch.city_id)
    if batch.status != BatchStatus.draft:
        raise Conflict(f"批次当前状态为“{batch.status_label}”，不能再加入申报", code="invalid_transition")
    reviews.require_decider(actor, application)
    if application.status != ApplicationStatus.city_review:
        raise Conflict("只有处于市级复审阶段的申报可以加入公示批次", code="invalid_transition")
    reviews.require_verified(application)
    in_other = db.session.scalar(
        select(BatchItem.id).join(BatchItem.batch)
        .where(BatchItem.application_id == application.id, BatchItem.removed_at.is_(None),
               ReleaseBatch.status != BatchStatus.published))
    if in_other:
        raise Conflict("该申报已在另一个待发布的批次中", code="already_in_batch")
    item = BatchItem(batch=batch, application=application)
    db.session.add(item)
    db.session.flush()
    audit.record("release_batch.add", object_type="release_batch", object_id=batch.id, actor=actor,
                 details={"application_id": application.id})
    return item


def remove_from_batch(batch, application_id, *, actor):
    _require_city_reviewer(actor, batch.city_id)
    if batch.status != BatchStatus.draft:
        raise Conflict("公示开始后只能通过处理异议移出申报", code="invalid_transition")
    item = next((i for i in queries.live_items(batch) if i.application_id == application_id), None)
    if item is None:
        raise NotFound("该申报不在此批次中")
    db.session.delete(item)
    db.session.flush()
    audit.record("release_batch.remove", object_type="release_batch", object_id=batch.id, actor=actor,
                 details={"application_id": application_id})


def start_publicity(batch, *, actor):
    """公示： from today for N working days (per city). Every application in the batch moves to publicity."""
    _require_city_reviewer(actor, batch.city_id)
    # An application withdrawn (or returned) after it was put in the draft batch leaves it now.
    for item in queries.live_items(batch) if batch.status == BatchStatus.draft else []:
        if item.application.status != ApplicationStatus.city_review:
            db.session.delete(item)
            batch.items.remove(item)
    items = queries.live_items(batch)
    if not items:
        raise ValidationFailed({"batch": ["批次中还没有处于市级复审阶段的申报，不能开始公示"]})
    reviews.require_verified_many(item.application for item in items)
    rules = policy.for_city(batch.city)
    today = clock.today()
    count = calendar.add_working_days(today, rules.publicity_working_days)
    batch.publicity_start, batch.publicity_end, batch.calendar_warning = today, count.end, count.warning
    BATCH.transition(batch, "start_publicity", actor=actor,
                     details={"end": count.end.isoformat(), "working_days": rules.publicity_working_days})
    for item in items:
        applications.transition(item.application, "start_publicity", actor=actor, details={"batch_id": batch.id})
    return batch


def file_objection(batch, *, application_id, name, contact, content, project_id=None):
    """Anyone may object during publicity, under a real name with contact details."""
    if batch.status != BatchStatus.publicity:
        raise Conflict("该批次不在公示期内，不能提出异议", code="not_in_publicity")
    today = clock.today()
    if not queries.publicity_open(batch, today):
        raise Conflict(f"公示期为 {batch.publicity_start.isoformat()} 至 {batch.publicity_end.isoformat()}，"
                       "当前不在公示期内，不能提出异议", code="not_in_publicity")
    errors = {}
    if len((name or "").strip()) < 2:
        errors["name"] = ["请填写真实姓名"]
    if len((contact or "").strip()) < 5:
        errors["contact"] = ["请填写联系电话或电子邮箱，便于核实"]
    if len((content or "").strip()) < 10:
        errors["content"] = ["请具体说明异议内容（不少于 10 个字）"]
    item = next((i for i in queries.live_items(batch) if i.application_id == application_id), None)
    if item is None:
        errors["application_id"] = ["请选择本批次公示的机构"]
    if errors:
        raise ValidationFailed(errors)
    objection = Objection(batch_id=batch.id, application_id=application_id, project_id=project_id,
                          name=name.strip()[:64], contact=contact.strip()[:128], content=content.strip(),
                          status=ObjectionStatus.open, version=1)
    db.session.add(objection)
    db.session.flush()
    audit.record("objection.file", object_type="objection", object_id=objection.id,
                 details={"batch_id": batch.id, "application_id": application_id})
    reviewers = db.session.scalars(select(User).where(User.role == Role.city_reviewer,
                                                      User.region_id == batch.city_id)).all()
    notifications.notify(reviewers, title=f"{batch.name}公示收到异议", body=item.application.provider.name,
                         link=f"/review/batches/{batch.id}", category="objection", email=True)
    return objection


def resolve_objection(objection, *, actor, upheld, resolution, outcome="return"):
    """Upheld: the provider leaves the batch and its application is returned or rejected. Dismissed: with a reason."""
    batch = objection.batch
    _require_city_reviewer(actor, batch.city_id)
    if not (resolution or "").strip():
        raise ValidationFailed({"resolution": ["请填写处理意见"]})
    objection.resolution, objection.resolved_by_id, objection.resolved_at = resolution.strip(), actor.id, clock.utcnow()
    if not upheld:
        OBJECTION.transition(objection, "dismiss", actor=actor, reason=resolution.strip())
        return objection
    if outcome not in ("return", "reject"):
        raise ValidationFailed({"outcome": ["请选择退回修改或不予通过"]})
    OBJECTION.transition(objection, "uphold", actor=actor, reason=resolution.strip())
    item = next((i for i in queries.live_items(batch) if i.application_id == objection.application_id), None)
    if item is not None:
        item.removed_at, item.removed_reason = clock.utcnow(), resolution.strip()
        app = item.application
        if outcome == "return":
            reviews.return_for_revision(app, actor=actor, comments={}, general=f"公示期异议成立：{resolution.strip()}",
                                        from_objection=True)
        else:
            reviews.reject(app, actor=actor, reason=f"公示期异议成立：{resolution.strip()}", from_objection=True)
        # Objections about the same provider in this batch are settled with it.
        for other in db.session.scalars(select(Objection).where(
                Objection.batch_id == batch.id, Objection.application_id == app.id,
                Objection.status == ObjectionStatus.open, Objection.id != objection.id)):
            other.resolution, other.resolved_by_id, other.resolved_at = ("同一机构的异议已成立并处理", actor.id,
                                                                         clock.utcnow())
            OBJECTION.transition(other, "uphold", actor=actor, reason="同一机构的异议已成立并处理")
    db.session.flush()
    return objection


def publish_problem(batch, day=None):
    day = day or clock.today()
    if batch.status != BatchStatus.publicity:
        return f"批次当前状态为“{batch.status_label}”，只有公示中的批次可以发布"
    if day <= batch.publicity_end:
        allowed = date.fromordinal(batch.publicity_end.toordinal() + 1)
        return f"公示期至 {batch.publicity_end.isoformat()} 结束，{allowed.isoformat()} 起方可发布"
    open_count = db.session.scalar(select(func.count()).select_from(Objection).where(
        Objection.batch_id == batch.id, Objection.status == ObjectionStatus.open))
    if open_count:
        return f"还有 {open_count} 条异议未处理，处理完毕后方可发布"
    if not queries.live_items(batch):
        return "批次中已没有可发布的申报"
    return None


def publish(batch, *, actor):
    """Publish: entries are created or extended, applications approved, providers told, the feed updated."""
    _require_city_reviewer(actor, batch.city_id)
    problem = publish_problem(batch)
    if problem:
        raise Conflict(problem, code="cannot_publish")
    today = clock.today()
    BATCH.transition(batch, "publish", actor=actor, changes={"published_on": today})
    rules = policy.for_city(batch.city)
    for item in queries.live_items(batch):
        app = item.application
        signals.admit_published(app, batch, rules=rules, today=today, actor=actor)
    db.session.flush()
    return batch


def create_with(user, application_ids):
    """A new draft batch, filled with the given applications (all or nothing: the request rolls back on error)."""
    batch = create_batch(actor=user)
    for application_id in application_ids:
        add_to_batch(batch, queries.city_application(batch, application_id), actor=user)
    return batch


# ---------------------------------------------------------------- what reviews tell batches (registry.core.signals)

@signals.draft_batch.register
def draft_batch(actor, batch_id):
    """The draft batch a city reviewer names when approving in principle (422 on batch_id otherwise)."""
    batch = db.session.get(ReleaseBatch, batch_id)
    if batch is None or batch.city_id != actor.region_id or batch.status != BatchStatus.draft:
        raise ValidationFailed({"batch_id": ["请选择本市尚未开始公示的批次，或新建批次"]})
    return batch


@signals.approved_in_principle.register
def approved_in_principle(application, *, actor, batch=None):
    """The city review approved the application in principle: it joins `batch` (a new draft when None)."""
    batch = batch or create_batch(actor=actor)
    return add_to_batch(batch, application, actor=actor)


@signals.left_review.register
def left_review(application, *, actor):
    """A returned or rejected application cannot stay in a batch waiting for publicity."""
    batch = queries.batches_of([application.id]).get(application.id)
    if batch is not None and batch.status == BatchStatus.draft:
        remove_from_batch(batch, application.id, actor=actor)
