"""Bureau review (审核) of submitted applications: queues, the four-eyes rule, decisions,
verification of documents and checks, and what changed between two submissions."""
from sqlalchemy import select

from registry.applications import services as applications
from registry.applications.models import ApplicationComment, ApplicationStatus
from registry.applications.queries import ORG_FIELDS, readable_application
from registry.audit import services as audit
from registry.auth.jurisdiction import can_read_provider
from registry.auth.models import User
from registry.auth.roles import Role
from registry.calendar import services as calendar
from registry.core import clock, signals
from registry.core.errors import Conflict, InvalidTransition, NotAllowed, NotFound, ValidationFailed
from registry.extensions import db
from registry.notifications import services as notifications
from registry.people import services as people
from registry.people.models import CheckResult, CheckType, PersonBan, PersonCheck
from registry.policy import services as policy
from registry.providers.models import ProviderDocument, VerificationStatus

S = ApplicationStatus
STAGE_OF = {S.county_review: "county", S.city_review: "city"}


# ---------------------------------------------------------------- who may decide

def stage(app):
    return STAGE_OF.get(app.status)


def decision_problem(user, app):
    """Why `user` may not decide on `app` now (None when they may)."""
    current = stage(app)
    if current is None:
        return f"申报当前状态为“{app.status_label}”，不在审核阶段"
    if user.role not in (Role.county_reviewer, Role.city_reviewer):
        return "只有审核员可以作出审核决定"
    if current == "county" and not (user.role == Role.county_reviewer and user.region_id == app.county_id):
        return "该申报处于县级初审阶段，只有注册地所在县（市、区）的审核员可以处理"
    if current == "city" and not (user.role == Role.city_reviewer and user.region_id == app.city_id):
        return "该申报处于市级复审阶段，只有本市审核员可以处理"
    if app.submitted_by_id == user.id or app.created_by_id == user.id:
        return "不能审核自己提交的申报（四眼原则）"
    if user.provider_id is not None and user.provider_id == app.provider_id:
        return "不能审核本人所属机构的申报（四眼原则）"
    return None


def require_decider(user, app):
    problem = decision_problem(user, app)
    if problem:
        raise NotAllowed(problem, code="four_eyes" if "四眼" in problem else "not_your_stage")


# Which decision a reviewer may take from which state (the review screen's buttons). Anything else is an
# illegal transition: 409 naming the current state.
DECISION_SOURCES = {
    "pass": {S.county_review},
    "return": {S.county_review, S.city_review},
    "reject": {S.county_review, S.city_review},
    "approve": {S.city_review},
}
DECISION_LABELS = {"pass": "报送市级复审", "return": "退回修改", "reject": "不予通过", "approve": "同意纳入公示批次"}


def expect_version(app, version):
    """The reviewer decided on what their page showed: refuse (409) when the application moved on since."""
    if version is not None and int(version) != app.version:
        raise Conflict(f"该申报已被他人处理，当前状态为“{app.status_label}”，请刷新页面查看最新情况后再操作",
                       code="concurrent_update")


def require_decision(app, decision):
    if app.status not in DECISION_SOURCES[decision]:
        raise InvalidTransition(f"当前状态为“{app.status_label}”，不能{DECISION_LABELS[decision]}",
                                code="invalid_transition")


# ---------------------------------------------------------------- every item verified before a pass

class Unverified(Conflict):
    """A pass (报送市级复审, 同意纳入公示批次, 开始公示) refused: items of the submission are not verified, or were
    rejected (then the way on is a return). `items` lists them in words; the JSON body carries them as
    errors.items."""

    code = "unverified_items"

    def __init__(self, items, prefix=""):
        self.items = list(items)
        self.errors = {"items": self.items}
        rejected = any("驳回" in item or "不良记录" in item for item in self.items)
        hint = "；有已驳回或有不良记录的项目，请退回修改" if rejected else "；请逐项核验后再作出通过决定"
        super().__init__(f"{prefix}尚有 {len(self.items)} 项未核验通过，不能通过：{'；'.join(self.items)}{hint}",
                         field="items")


def live_items(snapshots):
    """The live documents and checks that `snapshots` (their data) name: ({id: ProviderDocument},
    {id: PersonCheck}), in two statements whatever their number."""
    doc_ids = {d["id"] for data in snapshots for d in data.get("documents", [])}
    check_ids = {c["id"] for data in snapshots for p in data.get("people", []) for c in p.get("checks", [])}
    docs = {d.id: d for d in db.session.scalars(
        select(ProviderDocument).where(ProviderDocument.id.in_(doc_ids)))} if doc_ids else {}
    checks = {c.id: c for c in db.session.scalars(
        select(PersonCheck).where(PersonCheck.id.in_(check_ids)))} if check_ids else {}
    return docs, checks


def verification_problems(data, docs, checks):
    """Every document and every check of every person in the snapshot `data` that is not verified (or was
    rejected, or turned out adverse), in words, in the order of the review screen. `docs` and `checks` are
    the live rows by id (live_items)."""
    V = VerificationStatus
    problems = []
    for d in data.get("documents", []):
        live = docs.get(d["id"])
        status = live.verification_status if live is not None else V.pending
        if status == V.rejected:
            problems.append(f"资质材料「{d['label']}」已驳回")
        elif status != V.verified:
            problems.append(f"资质材料「{d['label']}」未核验")
    for p in data.get("people", []):
        for c in sorted(p.get("checks", []), key=lambda c: c["id"]):
            live = checks.get(c["id"])
            status = live.verification_status if live is not None else V.pending
            if status == V.rejected:
                problems.append(f"{p['name']} 的 {c['label']} 已驳回")
            elif status != V.verified:
                problems.append(f"{p['name']} 的 {c['label']} 未核验")
            elif live.result == CheckResult.adverse:
                problems.append(f"{p['name']} 的 {c['label']} 有不良记录")
    return problems


def unverified(app):
    """verification_problems of the application's latest submission."""
    data = app.latest_snapshot.data
    return verification_problems(data, *live_items([data]))


def require_verified(app):
    """Refuse a pass (409) while any item of the submission is unverified, rejected or adverse."""
    problems = unverified(app)
    if problems:
        raise Unverified(problems)


def require_verified_many(apps):
    """require_verified for many applications in a fixed number of statements (a batch's publicity)."""
    apps = list(apps)
    datas = {app.id: app.latest_snapshot.data for app in apps}
    docs, checks = live_items(list(datas.values()))
    problems = []
    for app in apps:
        problems += [f"{app.provider.name}：{item}" for item in verification_problems(datas[app.id], docs, checks)]
    if problems:
        raise Unverified(problems)


# ---------------------------------------------------------------- decisions

def pass_to_city(app, *, actor, note=""):
    require_decider(actor, app)
    if stage(app) != "county":
        raise NotAllowed("只有县级初审阶段的申报可以报送市级复审")
    require_verified(app)
    applications.transition(app, "pass", actor=actor, reason=note or None)
    notify_provider(app, "申报已通过县级初审", "已报送市级复审。")
    _notify_city_reviewers(app)
    return app


def return_for_revision(app, *, actor, comments, general="", from_objection=False):
    """退回修改： comments maps snapshot item keys (e.g. "doc:12", "person:3", "project:5") to text."""
    if not from_objection:
        require_decider(actor, app)
    comments = {k: (v or "").strip() for k, v in (comments or {}).items() if (v or "").strip()}
    if not comments and not (general or "").strip():
        raise ValidationFailed({"comments": ["退回修改时请至少对一项内容填写修改意见"]})
    number = app.latest_snapshot.number
    rows = []
    for key, text in comments.items():
        item_type, _, item_key = key.partition(":")
        if item_type not in {"organisation", "doc", "person", "project"}:
            raise ValidationFailed({"comments": [f"无法识别的审核项 {key}"]})
        rows.append(ApplicationComment(application_id=app.id, snapshot_number=number, item_type=item_type,
                                       item_key=item_key or "-", text=text, author_id=actor.id))
    if (general or "").strip():
        rows.append(ApplicationComment(application_id=app.id, snapshot_number=number, item_type="general",
                                       item_key="-", text=general.strip(), author_id=actor.id))
    applications.transition(app, "return", actor=actor, reason=(general or "").strip() or "见逐项意见",
                            details={"items": sorted(comments)})
    # The comments are written after the application row is ours: inserting them first would take a key-share
    # lock on that row (their foreign key), and a concurrent reject that took a key lock on the row would
    # deadlock with us instead of one of us getting a clean 409 (PostgreSQL).
    db.session.add_all(rows)
    db.session.flush()
    # The message leads to the page where the provider fixes the items and resubmits (issue 19), not the
    # read-only submitted copy.
    notify_provider(app, "申报被退回修改", (general or "").strip() or "请按审核员的逐项意见修改后重新提交。",
                    link="/provider/application#review-comments")
    return app


def reject(app, *, actor, reason, from_objection=False):
    """不予通过. During publicity only an upheld objection (batches.services) rejects."""
    if not (reason or "").strip():
        raise ValidationFailed({"reason": ["不予通过时必须填写理由"]})
    if not from_objection:
        require_decider(actor, app)
    applications.transition(app, "reject", actor=actor, reason=reason.strip())
    notify_provider(app, "申报未通过审核", reason.strip())
    return app


def approve_in_principle(app, *, actor, batch=None):
    """同意纳入公示 (city stage): put the application into one of the city's draft batches (a new one when
    `batch` is None; registry.batches, through registry.core.signals.approved_in_principle). The application
    stays at city review until the batch's publicity starts; its version moves on through the lifecycle's
    conditional UPDATE (Lifecycle.hold), so two reviewers cannot both decide."""
    require_decision(app, "approve")
    require_decider(actor, app)
    require_verified(app)
    applications.LIFECYCLE.hold(app, conflict_message=_taken_message)
    item = signals.approved_in_principle(app, actor=actor, batch=batch)
    notify_provider(app, "申报已通过市级复审", f"已同意纳入{item.batch.name}公示，公示开始后将另行通知。")
    return item


def _taken_message(app):
    return f"该申报已被他人处理，当前状态为“{app.status_label}”，请刷新页面查看最新情况后再操作"


# ---------------------------------------------------------------- one decision (HTML and JSON)

def allowed_comment_keys(data):
    """The items of a submission a reviewer may comment on."""
    keys = {f"organisation:{key}" for key, _label, _sources in ORG_FIELDS}
    keys |= {f"doc:{d['id']}" for d in data.get("documents", [])}
    keys |= {f"person:{p['id']}" for p in data.get("people", [])}
    keys |= {f"project:{p['id']}" for p in data.get("projects", [])}
    return keys


def check_comment_keys(app, comments):
    """Per-item comments must name items of the submission under review."""
    comments = {k: v for k, v in (comments or {}).items() if (v or "").strip()}
    allowed = allowed_comment_keys(app.latest_snapshot.data)
    unknown = sorted(set(comments) - allowed)
    if unknown:
        raise ValidationFailed({"comments": [f"无法识别的审核项：{'、'.join(unknown)}"]})
    return comments


def decide(app, decision, data, actor):
    """One reviewer decision: the version the reviewer saw (409 when stale), the state (409 naming it),
    then the decision, which applies jurisdiction, stage and four-eyes (403). A returned or rejected
    application leaves the draft batch holding it (registry.core.signals.left_review)."""
    expect_version(app, data.get("version"))
    require_decision(app, decision)
    if decision == "pass":
        return pass_to_city(app, actor=actor, note=data.get("note", ""))
    if decision == "approve":
        batch = signals.draft_batch(actor, data["batch_id"]) if data.get("batch_id") else None
        return approve_in_principle(app, actor=actor, batch=batch)
    require_decider(actor, app)
    if decision == "return":
        comments = check_comment_keys(app, data.get("comments"))
        signals.left_review(app, actor=actor)
        return return_for_revision(app, actor=actor, comments=comments, general=data.get("general", ""))
    signals.left_review(app, actor=actor)
    return reject(app, actor=actor, reason=data.get("reason", ""))


# ---------------------------------------------------------------- verification

def _covers(actor, provider):
    if actor.role not in (Role.city_reviewer, Role.county_reviewer) or not can_read_provider(actor, provider):
        raise NotAllowed("只能核验本辖区机构的材料")


def _in_snapshot(app, model, item_id):
    data = app.latest_snapshot.data
    if model is ProviderDocument:
        return any(d["id"] == item_id for d in data["documents"])
    return any(c["id"] == item_id for p in data["people"] for c in p["checks"])


def _verify_for(model, item_id, data, actor):
    """Verify a document or a check while reviewing an application that carries it: only whoever may decide
    on the application now (stage, jurisdiction, four-eyes) may verify its items."""
    item = db.session.get(model, item_id)
    app = readable_application(actor, data["application_id"])
    if item is None or not _in_snapshot(app, model, item_id):
        raise NotFound("该申报中没有这份材料" if model is ProviderDocument else "该申报中没有这条查询记录")
    require_decider(actor, app)
    verify = verify_document if model is ProviderDocument else verify_check
    verify(item, actor=actor, ok=data["decision"] == "verified", note=data.get("note", ""))
    return app, item


def verify_document_for(document_id, data, actor):
    return _verify_for(ProviderDocument, document_id, data, actor)


def verify_check_for(check_id, data, actor):
    return _verify_for(PersonCheck, check_id, data, actor)


def verify_document(document: ProviderDocument, *, actor, ok, note=""):
    _covers(actor, document.provider)
    if not ok and not (note or "").strip():
        raise ValidationFailed({"note": ["驳回材料时必须填写原因"]})
    document.verification_status = VerificationStatus.verified if ok else VerificationStatus.rejected
    document.verified_by_id, document.verified_at = actor.id, clock.utcnow()
    document.verification_note = (note or "").strip() or None
    db.session.flush()
    audit.record("document.verify", object_type="provider_document", object_id=document.id, actor=actor,
                 details={"result": document.verification_status.value})
    return document


def verify_check(check: PersonCheck, *, actor, ok, note=""):
    """Confirm a check against its evidence, or mark it adverse (which bans the person registry-wide)."""
    _covers(actor, check.person.provider)
    if ok:
        check.verification_status = VerificationStatus.verified
        check.verified_by_id, check.verified_at = actor.id, clock.utcnow()
        check.verification_note = (note or "").strip() or None
        db.session.flush()
        audit.record("check.verify", object_type="person_check", object_id=check.id, actor=actor)
        return check
    if not (note or "").strip():
        raise ValidationFailed({"note": ["标记为有不良记录时必须填写依据"]})
    return mark_adverse(check, actor=actor, note=note)


def mark_adverse(check: PersonCheck, *, actor, note):
    """An adverse result (domain.md rule 5): ban the person by blind index across the registry —
    permanently for a sexual-offence hit — and refer the provider to the city reviewers."""
    check.result = CheckResult.adverse
    check.verification_status = VerificationStatus.verified
    check.verified_by_id, check.verified_at = getattr(actor, "id", None), clock.utcnow()
    check.verification_note = note.strip()
    person = check.person
    rules = policy.for_region(person.provider.county)
    today = clock.today()
    permanent = check.check_type == CheckType.sexual_offence
    ends = people.ban_end(check.check_type, today, rules.ban_years)
    ban = PersonBan(id_bidx=person.id_bidx, reason=f"{check.check_type_label}结果有不良记录", source_check_id=check.id,
                    starts_on=today, ends_on=ends, created_by_id=getattr(actor, "id", None))
    db.session.add(ban)
    db.session.flush()
    audit.record("person.ban", object_type="person", object_id=person.id, actor=actor,
                 details={"check_id": check.id, "permanent": permanent, "ends_on": ends.isoformat() if ends else None})
    deadline = calendar.add_working_days(today, rules.referral_working_days).end
    reviewers = db.session.scalars(select(User).where(User.role == Role.city_reviewer,
                                                      User.region_id == person.provider.city_id)).all()
    notifications.notify(reviewers, title=f"机构人员查询结果异常：{person.provider.name}",
                         body=f"{person.name}（{person.id_masked}）的{check.check_type_label}有不良记录，已列入禁入名单。"
                              f"请于{deadline.isoformat()}前完成对该机构的核查处理。",
                         link=None, category="referral", dedupe_key=f"referral:check:{check.id}")
    return check


# ---------------------------------------------------------------- notifications

def _provider_users(provider_id):
    return db.session.scalars(select(User).where(User.provider_id == provider_id)).all()


def notify_provider(app, title, body, link=None):
    """Tell the provider's users about their application (also used by registry.whitelist on publication)."""
    notifications.notify(_provider_users(app.provider_id), title=title, body=body,
                         link=link or f"/provider/applications/{app.id}", category="application")


def _notify_city_reviewers(app):
    reviewers = db.session.scalars(select(User).where(User.role == Role.city_reviewer,
                                                      User.region_id == app.city_id)).all()
    notifications.notify(reviewers, title=f"有申报待市级复审：{app.provider.name}",
                         link=f"/review/applications/{app.id}",
                         category="review", email=False)
