"""Reads for the review screens and the review API: the reviewer's queue with waiting times, the checklist
built from a frozen snapshot, what changed between two submissions in words, and each comment placed next
to its item (the comments themselves are registry.applications.queries'). Nothing here writes."""
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from registry.applications.models import Application, ApplicationProject, ApplicationSnapshot, ApplicationStatus
from registry.applications.queries import (  # noqa: F401  (comment_views, place_comments: the review screen's too)
    ORG_FIELDS,
    ORG_LABELS,
    SNAPSHOT_AREA_LABELS,
    comment_views,
    place_comments,
)
from registry.auth.roles import Role
from registry.calendar import services as calendar
from registry.core import clock, signals
from registry.extensions import db
from registry.people.models import CHECK_RESULT_LABELS, PersonCheck
from registry.policy import services as policy
from registry.projects.services import subject_word
from registry.providers.models import VERIFICATION_LABELS, Provider, ProviderDocument
from registry.reviews import services as reviews

RESULT_LABELS = {k.value: v for k, v in CHECK_RESULT_LABELS.items()}
VERIFY_LABELS = {k.value: v for k, v in VERIFICATION_LABELS.items()}
AREA_LABELS = SNAPSHOT_AREA_LABELS
ITEM_TYPE_OF_AREA = {"organisation": "organisation", "documents": "doc", "people": "person", "projects": "project"}

ORG_ROW_OF = {source: key for key, _label, sources in ORG_FIELDS for source in sources}

FIELD_LABELS = {
    "documents": {"title": "名称", "number": "编号", "issuer": "发证机关", "issue_date": "发证日期",
                  "expiry_date": "有效期至", "sha256": "文件指纹（SHA-256）", "file_name": "文件",
                  "verification_status": "核验状态", "label": "材料类型"},
    "people": {"name": "姓名", "id_masked": "身份证号", "gender": "性别", "phone": "电话", "staff_role": "岗位",
               "specialties": "特长", "checks": "查询/体检记录", "qualifications": "资格证书",
               "consent": "查询授权同意书", "cleared": "提交时准入", "clearance_reasons": "未准入原因"},
    "projects": {"title": "项目名称", "category_label": "活动类别", "stage_labels": "适用学段", "level_label": "层次",
                 "description": "项目简介", "syllabus": "教学大纲", "sessions_per_term": "每学期课次",
                 "minutes_per_session": "每次时长（分钟）", "class_min": "最小班额", "class_max": "最大班额",
                 "price": "收费标准（元/人·课时）", "venue_needs": "场地要求", "safety_measures": "安全保障措施",
                 "required_qualification_label": "资质要求", "staff_ids": "授课人员"},
}
# Codes that always change together with a label shown instead.
# "published"/"changes": what a change of a listed item replaces, shown in its own box on the review screen.
HIDDEN_FIELDS = {"organisation": {"id", "org_type", "published", "changes"},
                 "documents": {"id", "doc_type", "file_id"}, "people": {"id"},
                 "projects": {"id", "category", "stages", "level", "required_qualification", "published", "changes"}}


# ---------------------------------------------------------------- values in words

def _names(*snapshots):
    names = {}
    for data in snapshots:
        for person in (data or {}).get("people", []):
            names[person["id"]] = person["name"]
    return names


def words(field_name, value, names=None):
    """One snapshot value as a reviewer reads it."""
    if value is None or value == "" or value == []:
        return "—"
    if isinstance(value, bool):
        return "是" if value else "否"
    if field_name == "checks":
        return "；".join(f"{c['label']} {c['check_date']} {RESULT_LABELS.get(c['result'], c['result'])}"
                        + (f"(有效期至 {c['valid_until']})" if c.get("valid_until") else "")
                        for c in sorted(value, key=lambda c: c["id"]))
    if field_name == "qualifications":
        return "；".join(f"{q['label']} {q['number']}"
                        + (f"(有效期至 {q['expiry_date']})" if q.get("expiry_date") else "")
                        for q in sorted(value, key=lambda q: q["id"]))
    if field_name == "consent":
        return f"{value.get('date')} 签署"
    if field_name == "staff_ids":
        return "、".join((names or {}).get(i, f"#{i}") for i in value)
    if field_name == "sha256":
        return f"{value[:16]}…"
    if field_name == "verification_status":
        return VERIFY_LABELS.get(value, value)
    if isinstance(value, list):
        return "、".join(str(v) for v in value)
    return str(value)


# ---------------------------------------------------------------- what changed

@dataclass
class DiffRow:
    area: str
    area_label: str
    item_key: str      # the comment key of the item: "organisation:name", "doc:12", "person:3", "project:5"
    item: str          # the item in words
    field: str         # the field in words ("" for an item added or removed)
    before: str
    after: str


def _same(before, after):
    """Lists of records (checks, qualifications) compare without regard to their order."""
    def norm(value):
        if isinstance(value, list) and all(isinstance(v, dict) and "id" in v for v in value):
            return sorted(value, key=lambda v: v["id"])
        return value
    return norm(before) == norm(after)


def _replaced_documents(old, new):
    """A document replaced by a new version has a new id: compare the two versions field by field."""
    rows = []
    old_docs = {d["id"]: d for d in old.get("documents", [])}
    new_docs = {d["id"]: d for d in new.get("documents", [])}
    gone = {d["doc_type"]: d for i, d in old_docs.items() if i not in new_docs}
    paired = set()
    for i, d in new_docs.items():
        if i in old_docs or d["doc_type"] not in gone:
            continue
        before = gone[d["doc_type"]]
        paired |= {before["id"], i}
        for field_name, label in FIELD_LABELS["documents"].items():
            if field_name != "verification_status" and before.get(field_name) != d.get(field_name):
                rows.append(DiffRow("documents", AREA_LABELS["documents"], f"doc:{i}", f"{d['label']}（已换新版本）",
                                    label, words(field_name, before.get(field_name)),
                                    words(field_name, d.get(field_name))))
    return rows, paired


def diff_rows(app):
    """snapshot_diff in words, in the order of the review screen."""
    snaps = app.snapshots
    if len(snaps) < 2:
        return []
    names = _names(snaps[-2].data, snaps[-1].data)
    replaced, paired = _replaced_documents(snaps[-2].data, snaps[-1].data)
    out, seen_org = [], set()
    for area, key, label, before, after in snapshot_diff(app):
        if area == "documents" and key in paired:
            if replaced:
                out.extend(replaced)
                replaced = []
            continue
        if area == "organisation":
            if key in HIDDEN_FIELDS["organisation"]:
                continue
            row = ORG_ROW_OF.get(key, key)
            if row in seen_org:
                continue
            seen_org.add(row)
            old, new = snaps[-2].data["organisation"], snaps[-1].data["organisation"]
            sources = next((s for k, _l, s in ORG_FIELDS if k == row), (key,))
            out.append(DiffRow(area, AREA_LABELS[area], f"organisation:{row}", "机构信息", ORG_LABELS.get(row, row),
                               " ".join(words(s, old.get(s)) for s in sources),
                               " ".join(words(s, new.get(s)) for s in sources)))
            continue
        item_key = f"{ITEM_TYPE_OF_AREA[area]}:{key}"
        if (before is None and after == "新增") or (before == "已删除" and after is None):  # item added or removed
            out.append(DiffRow(area, AREA_LABELS[area], item_key, label, "",
                               "—" if before is None else "本次提交中已没有", "新增" if before is None else "—"))
            continue
        item, _sep, field_name = label.rpartition(" · ")
        if field_name in HIDDEN_FIELDS[area] or _same(before, after):
            continue
        out.append(DiffRow(area, AREA_LABELS[area], item_key, item, FIELD_LABELS[area].get(field_name, field_name),
                           words(field_name, before, names), words(field_name, after, names)))
    return out


# ---------------------------------------------------------------- comments

def allowed_comment_keys(data):
    keys = {f"organisation:{key}" for key, _label, _sources in ORG_FIELDS}
    keys |= {f"doc:{d['id']}" for d in data.get("documents", [])}
    keys |= {f"person:{p['id']}" for p in data.get("people", [])}
    keys |= {f"project:{p['id']}" for p in data.get("projects", [])}
    return keys


# ---------------------------------------------------------------- the checklist

@dataclass
class CheckRow:
    data: dict
    live: object  # PersonCheck or None


@dataclass
class StaffFit:
    person_id: int
    name: str
    cleared: bool
    reasons: list
    qualified: bool


@dataclass
class ProjectFit:
    data: dict
    cap: Decimal
    price_ok: bool
    subject: str | None
    staff: list = field(default_factory=list)  # [StaffFit]

    @property
    def ok(self):
        return self.price_ok and not self.subject and self.staff and all(s.cleared and s.qualified for s in self.staff)


def _qualified(person, required, as_of):
    day = date.fromisoformat(as_of)
    return any(q["qual_type"] == required and (not q.get("expiry_date") or date.fromisoformat(q["expiry_date"]) >= day)
               for q in person.get("qualifications", []))


def project_fits(app, data):
    """Do category, price and staff fit? Against the city's cap today and the staff as frozen in the snapshot."""
    cap = policy.for_city(app.provider.city).price_cap
    people = {p["id"]: p for p in data.get("people", [])}
    fits = []
    for p in data.get("projects", []):
        try:
            price_ok = Decimal(p["price"]) <= cap
        except (InvalidOperation, TypeError):
            price_ok = False
        subject = next((w for w in (subject_word(p.get(k)) for k in ("title", "description", "syllabus")) if w), None)
        staff = []
        for sid in p.get("staff_ids", []):
            person = people.get(sid, {"name": f"#{sid}", "cleared": False, "clearance_reasons": ["快照中没有该人员"]})
            staff.append(StaffFit(sid, person["name"], person.get("cleared", False),
                                  person.get("clearance_reasons", []),
                                  _qualified(person, p["required_qualification"], data["as_of"])))
        fits.append(ProjectFit(p, cap, price_ok, subject, staff))
    return fits


def live_documents(data):
    ids = [d["id"] for d in data.get("documents", [])]
    return ({d.id: d for d in db.session.scalars(select(ProviderDocument).where(ProviderDocument.id.in_(ids)))}
            if ids else {})


def live_checks(data):
    ids = [c["id"] for p in data.get("people", []) for c in p.get("checks", [])]
    return {c.id: c for c in db.session.scalars(select(PersonCheck).where(PersonCheck.id.in_(ids)))} if ids else {}


# ---------------------------------------------------------------- batches

def batch_of(application_ids):
    """application id -> the unpublished batch (draft or under publicity) that holds it (registry.batches,
    through registry.core.signals)."""
    return signals.batches_of(application_ids)


def draft_batches(city_id):
    return signals.draft_batches(city_id)


def decisions_for(app):
    """The decisions the review screen offers at the application's stage."""
    if app.status == ApplicationStatus.county_review:
        return ["pass", "return", "reject"]
    if app.status == ApplicationStatus.city_review:
        return ["approve", "return", "reject"]
    return []


# ---------------------------------------------------------------- who may read

def can_read(user, app):
    if user.role == Role.city_reviewer:
        return app.city_id == user.region_id
    if user.role in (Role.county_reviewer, Role.inspector):
        return app.county_id == user.region_id
    return False


# ---------------------------------------------------------------- queues

S = ApplicationStatus

@dataclass
class QueueRow:
    application: Application
    waiting_days: int
    waiting_working_days: int


def queue(user, *, status=None, kind=None, q=None, sort="oldest"):
    """Applications waiting for `user`'s stage in their jurisdiction, with waiting time."""
    if user.role == Role.county_reviewer:
        stmt = select(Application).where(Application.county_id == user.region_id,
                                         Application.status == S.county_review)
    elif user.role == Role.city_reviewer:
        wanted = [S.city_review]
        if not policy.for_city(user.region).county_review_required:
            wanted.append(S.county_review)  # a city without a county stage sees everything
        stmt = select(Application).where(Application.city_id == user.region_id, Application.status.in_(wanted))
    else:
        return []
    if status in ("county_review", "city_review"):
        stmt = stmt.where(Application.status == S(status))
    if kind:
        stmt = stmt.where(Application.kind == kind)
    if q:
        stmt = stmt.join(Application.provider).where(Provider.name.contains(q.strip(), autoescape=True))
    stmt = stmt.options(selectinload(Application.provider).joinedload(Provider.county),
                        selectinload(Application.projects).joinedload(ApplicationProject.project),
                        selectinload(Application.snapshots).load_only(ApplicationSnapshot.number))
    stmt = stmt.order_by(Application.submitted_at.desc() if sort == "newest" else Application.submitted_at.asc(),
                         Application.id)
    rows = db.session.scalars(stmt).all()
    today = clock.today()
    out = []
    for app in rows:
        since = clock.to_cst(app.submitted_at).date() if app.submitted_at else today
        out.append(QueueRow(app, (today - since).days, calendar.working_days_between(since, today)))
    return out


# ---------------------------------------------------------------- waiting times and the API's reads

WAITING = {ApplicationStatus.submitted, ApplicationStatus.county_review, ApplicationStatus.city_review}



def waiting(app, today=None):
    """(calendar days, working days) an application waiting for a review decision has waited since its last
    submission; None in any other state."""
    if app.submitted_at is None or app.status not in WAITING:
        return None
    today = today or clock.today()
    since = clock.to_cst(app.submitted_at).date()
    return (today - since).days, calendar.working_days_between(since, today)


def queue_rows(user, args):
    rows = queue(user, status=args.get("stage"), kind=args.get("kind"), q=args.get("q"),
                         sort=args.get("sort") or "oldest")
    if args.get("over"):  # issue 19: the dashboard's "waiting more than N working days"
        rows = [r for r in rows if r.waiting_working_days > args["over"]]
    batches = batch_of([r.application.id for r in rows])
    for row in rows:
        row.decision_problem = reviews.decision_problem(user, row.application)
        batch = batches.get(row.application.id)
        row.batch = f"{batch.name}（{batch.status_label}）" if batch else None
    return rows


def review_data(app, user):
    """What GET /api/v1/reviews/applications/<id> returns."""
    snapshot = app.latest_snapshot
    views = [v for s in app.snapshots for v in comment_views(app, s.number)]
    batch = batch_of([app.id]).get(app.id)
    docs, checks = live_documents(snapshot.data), live_checks(snapshot.data)
    return {
        "application": app, "snapshot_number": snapshot.number, "snapshot": snapshot.data,
        "diff": diff_rows(app), "comments": views,
        "decision_problem": reviews.decision_problem(user, app), "decisions": decisions_for(app),
        "documents": list(docs.values()), "checks": list(checks.values()),
        "unverified": reviews.verification_problems(snapshot.data, docs, checks),
        "batch": f"{batch.name}（{batch.status_label}）" if batch else None,
    }


# ---------------------------------------------------------------- what changed

def snapshot_diff(app):
    """Differences between the last two snapshots, as (area, key, label, before, after) rows."""
    snaps = app.snapshots
    if len(snaps) < 2:
        return []
    before, after = snaps[-2].data, snaps[-1].data
    rows = []
    for name, value in after["organisation"].items():
        if before["organisation"].get(name) != value:
            rows.append(("organisation", name, name, before["organisation"].get(name), value))
    for area, label_key in (("documents", "label"), ("people", "name"), ("projects", "title")):
        old = {item["id"]: item for item in before.get(area, [])}
        new = {item["id"]: item for item in after.get(area, [])}
        for item_id in sorted(set(old) | set(new)):
            o, n = old.get(item_id), new.get(item_id)
            label = (n or o).get(label_key)
            if o is None:
                rows.append((area, item_id, label, None, "新增"))
            elif n is None:
                rows.append((area, item_id, label, "已删除", None))
            else:
                for name in sorted(set(o) | set(n)):
                    if o.get(name) != n.get(name):
                        rows.append((area, item_id, f"{label} · {name}", o.get(name), n.get(name)))
    return rows
