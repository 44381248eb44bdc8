"""Reads of release batches, publicity and objections, shared by the HTML pages, the JSON API, the review
screens (through registry.core.signals.batches_of) and the whitelist's announcement."""
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import joinedload, selectinload

from registry.applications.models import Application
from registry.auth.roles import Role
from registry.batches.models import BatchItem, BatchStatus, Objection, ObjectionStatus, ReleaseBatch
from registry.calendar import services as workdays
from registry.core import clock, signals
from registry.core.errors import NotFound
from registry.extensions import db
from registry.policy import services as policy
from registry.projects.models import Category, Level, Project, stages_to_mask
from registry.regions.models import Region
from registry.reviews import queries as reviews_queries
from registry.reviews import services as reviews


def publicity_open(batch, day=None):
    day = day or clock.today()
    return batch.status == BatchStatus.publicity and batch.publicity_start <= day <= batch.publicity_end


def own_batch(user, batch_id):
    """A batch of the reviewer's own city; any other batch does not exist for them (404, not 403)."""
    batch = db.session.get(ReleaseBatch, batch_id)
    if batch is None or user.role != Role.city_reviewer or batch.city_id != user.region_id:
        raise NotFound("批次不存在")
    return batch


def own_objection(user, objection_id):
    objection = db.session.get(Objection, objection_id)
    if objection is None or user.role != Role.city_reviewer or objection.batch.city_id != user.region_id:
        raise NotFound("异议不存在")
    return objection


def city_application(batch, application_id):
    """An application of the batch's city (others are reported as not found, never as someone else's)."""
    app = db.session.get(Application, application_id) if application_id is not None else None
    if app is None or app.city_id != batch.city_id:
        raise NotFound("申报不存在")
    return app


def city_batches(city_id):
    return db.session.scalars(select(ReleaseBatch).where(ReleaseBatch.city_id == city_id)
                              .options(selectinload(ReleaseBatch.city))
                              .order_by(ReleaseBatch.year.desc(), ReleaseBatch.seq.desc())).all()


def open_objection_count(batch):
    return db.session.scalar(select(func.count()).select_from(Objection).where(
        Objection.batch_id == batch.id, Objection.status == ObjectionStatus.open))


def batch_rows(city_id):
    """[(batch, live item count, open objection count)] for the city's batches, newest first."""
    batches = city_batches(city_id)
    ids = [b.id for b in batches]
    items = dict(db.session.execute(
        select(BatchItem.batch_id, func.count()).where(BatchItem.batch_id.in_(ids), BatchItem.removed_at.is_(None))
        .group_by(BatchItem.batch_id)).all()) if ids else {}
    objections = dict(db.session.execute(
        select(Objection.batch_id, func.count()).where(Objection.batch_id.in_(ids),
                                                       Objection.status == ObjectionStatus.open)
        .group_by(Objection.batch_id)).all()) if ids else {}
    return [(b, items.get(b.id, 0), objections.get(b.id, 0)) for b in batches]


def ready_applications(user):
    """Applications at city review in the reviewer's city that no unpublished batch holds yet,
    with the reason (four-eyes) why this reviewer may not take one, if any."""
    taken = set(db.session.scalars(
        select(BatchItem.application_id).join(BatchItem.batch)
        .where(BatchItem.removed_at.is_(None), ReleaseBatch.status != BatchStatus.published,
               ReleaseBatch.city_id == user.region_id)))
    return [(row, reviews.decision_problem(user, row.application))
            for row in reviews_queries.queue(user, status="city_review") if row.application.id not in taken]


def batch_objections(batch):
    return db.session.scalars(select(Objection).where(Objection.batch_id == batch.id)
                              .options(selectinload(Objection.application).selectinload(Application.provider))
                              .order_by(Objection.id)).all()


def live_items(batch):
    return [item for item in batch.items if item.removed_at is None]


def publicity_preview(batch):
    """What starting the publicity today would give: the end date and any calendar warning."""
    if batch.status != BatchStatus.draft:
        return None
    days = policy.for_city(batch.city).publicity_working_days
    today = clock.today()
    count = workdays.add_working_days(today, days)
    return {"start": today, "end": count.end, "days": days, "warning": count.warning}


def public_batch_or_404(batch_id):
    """A batch the public may see: under publicity or published. Drafts do not exist for the public."""
    batch = db.session.get(ReleaseBatch, batch_id)
    if batch is None or batch.status == BatchStatus.draft:
        raise NotFound("该公示不存在")
    return batch


def publicity_batches():
    return db.session.scalars(select(ReleaseBatch).where(ReleaseBatch.status == BatchStatus.publicity)
                              .options(selectinload(ReleaseBatch.city))
                              .order_by(ReleaseBatch.publicity_start.desc(), ReleaseBatch.id.desc())).all()


def _publicised_project(item):
    """A project as its application's snapshot publicises it (a 变更 application's proposed values): a transient
    copy for the public schema, never added to the session."""
    return Project(id=item["id"], title=item["title"], category=Category(item["category"]),
                   stages_mask=stages_to_mask(item["stages"]), level=Level(item["level"]), price=Decimal(item["price"]))


def public_view(batch):
    """The public content of a batch: issuer, dates, and per provider only name, USCC, type and county,
    with its projects' category, stage, level and price (docs/domain.md "What the public sees"), as the reviewed
    snapshot has them: what is publicised is what will be published (for a 变更 application, the new values)."""
    providers = []
    for item in live_items(batch):
        app = item.application
        provider = app.provider
        data = app.latest_snapshot.data
        org = data["organisation"]
        providers.append({
            "application_id": app.id, "name": org["name"], "uscc": provider.uscc,
            "org_type": org["org_type"], "org_type_label": org["org_type_label"],
            "county": provider.county.name, "projects": [_publicised_project(p) for p in data["projects"]],
        })
    rules = policy.for_city(batch.city)
    return {"id": batch.id, "name": batch.name, "city": batch.city.name, "issuer": batch.issuer,
            "year": batch.year, "seq": batch.seq,
            "status": batch.status, "publicity_start": batch.publicity_start, "publicity_end": batch.publicity_end,
            "open_for_objections": publicity_open(batch), "providers": providers,
            # issue 19: the formal notice's number, contact and objection address (the city's settings)
            "doc_number": policy.doc_number(rules, batch), "working_days": rules.publicity_working_days,
            "notice": {name: getattr(rules, name) for name in policy.NOTICE_FIELDS}}


@signals.batches_of.register
def batches_of(application_ids):
    """application id -> the unpublished batch (draft or under publicity) that holds it."""
    if not application_ids:
        return {}
    rows = db.session.execute(
        select(BatchItem.application_id, ReleaseBatch).join(BatchItem.batch)
        .where(BatchItem.application_id.in_(list(application_ids)), BatchItem.removed_at.is_(None),
               ReleaseBatch.status != BatchStatus.published)).all()
    return {app_id: batch for app_id, batch in rows}


@signals.draft_batches.register
def draft_batches(city_id):
    return db.session.scalars(select(ReleaseBatch).where(ReleaseBatch.city_id == city_id,
                                                         ReleaseBatch.status == BatchStatus.draft)
                              .order_by(ReleaseBatch.year, ReleaseBatch.seq)).all()


# ---------------------------------------------------------------- published batches (the whitelist's announcements)

def recent_batches(city_code=None, limit=10):
    stmt = (select(ReleaseBatch).where(ReleaseBatch.status == BatchStatus.published)
            .options(joinedload(ReleaseBatch.city))
            .order_by(ReleaseBatch.published_on.desc(), ReleaseBatch.id.desc()).limit(limit))
    if city_code:
        stmt = stmt.where(ReleaseBatch.city_id == select(Region.id).where(Region.code == city_code).scalar_subquery())
    return db.session.scalars(stmt).all()


def published_batch(batch_id):
    batch = db.session.scalar(select(ReleaseBatch).where(ReleaseBatch.id == batch_id)
                              .options(joinedload(ReleaseBatch.city)))
    if batch is None or batch.status != BatchStatus.published:
        raise NotFound("批次不存在或尚未发布")
    return batch
