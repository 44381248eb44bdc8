"""Entry passes (入校通行证) and the live check at the gate (issue 14).

A pass names a person, a school, weekdays, a time window and dates, and carries a short typed code and a QR
token signed with Ed25519 (core.crypto.sign; key id in the token, every configured key verifies). Whether it
lets someone in is computed at each scan by `judge` from the live rules: the person's clearance today (which
includes the registry-wide ban), the order's status and the whitelist entry's status in force, the person
still on the order, the school, the weekday and the time window (CityPolicy.gate_window_minutes). Every scan
is logged; the second allowed scan of a pass on a day records leaving. Offline scans are re-judged when they
sync, and an entry allowed offline that the live rules refuse raises an alert to the school and the county."""
import base64
import json
import re
import secrets
from calendar import monthrange
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone

from flask import current_app
from sqlalchemy import and_, func, select, update
from sqlalchemy.orm import joinedload

from registry.audit import services as audit
from registry.auth import services as auth
from registry.auth.models import User
from registry.auth.roles import Role
from registry.core import clock, crypto, signals
from registry.core.errors import NotAllowed, NotFound, ValidationFailed
from registry.extensions import db
from registry.files import services as files
from registry.notifications import services as notifications
from registry.orders.models import Order, OrderStaff, OrderStatus
from registry.passes.models import EntryPass, GateScan, PassKind, PassPhoto, ScanDirection, ScanResult
from registry.people import services as people
from registry.people.models import Person
from registry.policy import services as policy
from registry.schools.models import School
from registry.whitelist.models import EntryStatus

CODE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # no 0/O, 1/I: typed by a gate keeper
CODE_LENGTH = 8
TOKEN_PREFIX = "RP1"  # pass QR payloads; the certificate QR is /verify/<token> without it
VERIFY_PATH = "/passes/v/"  # the public verification page (the certificate's is /verify/)
LIVE_ORDER = (OrderStatus.accepted, OrderStatus.active)
SLOT_RE = re.compile(r"(\d{1,2})[:：](\d{2})\s*[-–—~～至到]\s*(\d{1,2})[:：](\d{2})")


# ---------------------------------------------------------------- small helpers

def _b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def normalise_slot(text):
    """'16:30-17:30' from a free-text time slot ('周三 16:30—17:30'); ValidationFailed when none is found."""
    match = SLOT_RE.search(text or "")
    if not match:
        raise ValidationFailed({"time_slot": ["时段应为“16:30-17:30”这样的起止时间"]})
    h1, m1, h2, m2 = (int(g) for g in match.groups())
    if not (0 <= h1 < 24 and 0 <= h2 < 24 and m1 < 60 and m2 < 60) or h2 * 60 + m2 <= h1 * 60 + m1:
        raise ValidationFailed({"time_slot": ["时段的结束时间须晚于开始时间"]})
    return f"{h1:02d}:{m1:02d}-{h2:02d}:{m2:02d}"


def slot_minutes(slot):
    """(start, end) minutes after midnight of a normalised slot; None when the slot cannot be read."""
    match = SLOT_RE.search(slot or "")
    if not match:
        return None
    h1, m1, h2, m2 = (int(g) for g in match.groups())
    return h1 * 60 + m1, h2 * 60 + m2


DAY_LABELS = ("周一", "周二", "周三", "周四", "周五", "周六", "周日")


def weekdays_text(days):
    days = sorted(set(days))
    return "每天" if days == list(range(7)) else "、".join(DAY_LABELS[d] for d in days)


def mask_name(name):
    """王*, 王*明, 欧阳**: the public page shows no full name."""
    name = name or ""
    if len(name) <= 1:
        return name + "*"
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]


def _new_code():
    while True:
        code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
        if db.session.scalar(select(EntryPass.id).where(EntryPass.code == code)) is None:
            return code


def clean_code(text):
    """What a gate keeper typed, as stored: upper case, no spaces or dashes."""
    return re.sub(r"[\s\-]", "", (text or "")).upper()


def format_code(code):
    return f"{code[:4]}-{code[4:]}"


# ---------------------------------------------------------------- tokens

def token_payload(entry_pass):
    """What the QR carries (issue 14, item 5): person, order, school, weekdays, window and validity."""
    return {"p": entry_pass.id, "c": entry_pass.code, "n": entry_pass.person_id, "o": entry_pass.order_id,
            "s": entry_pass.school_id, "w": sorted(entry_pass.weekdays), "t": entry_pass.time_slot,
            "f": entry_pass.valid_from.isoformat(), "u": entry_pass.valid_until.isoformat()}


def sign_token(entry_pass):
    """RP1.<kid>.<payload>.<signature>: the signed message is everything before the last dot."""
    body = _b64(json.dumps(token_payload(entry_pass), separators=(",", ":"), sort_keys=True).encode())
    kid = crypto.signing_key_id()
    message = f"{TOKEN_PREFIX}.{kid}.{body}"
    _kid, signature = crypto.sign(message.encode())
    entry_pass.token, entry_pass.key_id = f"{message}.{_b64(signature)}", kid
    return entry_pass.token


def extract_token(text):
    """The token in a scanned QR text (the verification URL, or the bare token); None when there is none."""
    text = (text or "").strip()
    if VERIFY_PATH in text:
        text = text.split(VERIFY_PATH, 1)[1].split("?", 1)[0].split("#", 1)[0]
    return text if text.startswith(TOKEN_PREFIX + ".") else None


@dataclass
class Token:
    payload: dict | None
    valid: bool
    kid: str | None = None


def read_token(token):
    """Verify a token's signature (any configured key) and decode its payload."""
    parts = (token or "").split(".")
    if len(parts) != 4 or parts[0] != TOKEN_PREFIX:
        return Token(None, False)
    message, kid = ".".join(parts[:3]), parts[1]
    try:
        signature, payload = _unb64(parts[3]), json.loads(_unb64(parts[2]))
    except (ValueError, TypeError):
        return Token(None, False, kid)
    if not crypto.verify(kid, message.encode(), signature):
        return Token(payload, False, kid)
    return Token(payload, True, kid)


def qr_text(entry_pass):
    """The QR code's text: the public verification URL of the pass's signed token."""
    base = current_app.config["BASE_URL"].rstrip("/")
    return f"{base}{VERIFY_PATH}{entry_pass.token}"


def rotate_tokens(batch_size=500):
    """Re-sign every pass under the current signing key (rotate-keys); older keys still verify printed badges
    until they are removed from REGISTRY_PASS_SIGNING_KEYS."""
    current = crypto.signing_key_id()
    rotated = 0
    while True:
        rows = db.session.scalars(select(EntryPass).where(EntryPass.key_id != current)
                                  .order_by(EntryPass.id).limit(batch_size)).all()
        if not rows:
            break
        for entry_pass in rows:
            sign_token(entry_pass)
            rotated += 1
        db.session.flush()
    if rotated:
        audit.record("crypto.rotate", object_type="entry_pass", details={"rows": rotated, "key_id": current})
    return rotated


# ---------------------------------------------------------------- issuing

def _new_pass(**fields):
    entry_pass = EntryPass(code=_new_code(), link_key=secrets.token_urlsafe(24), **fields)
    db.session.add(entry_pass)
    db.session.flush()
    sign_token(entry_pass)
    return entry_pass


def order_window(order):
    """(valid_from, valid_until) of an order's passes: the term, within the entry's validity."""
    return order.term.starts_on, min(order.term.ends_on, order.entry.valid_until)


@signals.order_staff_changed.register
def order_staff_changed(order, *, actor=None):
    """Each current person on an accepted/active order gets a pass; a removed person's pass is revoked."""
    if order.status not in LIVE_ORDER:
        return []
    existing = {p.person_id: p for p in db.session.scalars(select(EntryPass).where(EntryPass.order_id == order.id))}
    issued = []
    for link in order.staff:
        entry_pass = existing.get(link.person_id)
        if link.removed_at is not None:
            if entry_pass is not None and entry_pass.revoked_at is None:
                entry_pass.revoked_at = link.removed_at
                entry_pass.revoked_reason = (link.removed_reason or "已移出订单")[:255]
            continue
        if entry_pass is None:
            starts, ends = order_window(order)
            try:
                slot = normalise_slot(order.time_slot)
            except ValidationFailed:
                slot = order.time_slot[:32]
            issued.append(_new_pass(kind=PassKind.order, person_id=link.person_id, school_id=order.school_id,
                                    order_id=order.id, weekdays=list(order.weekdays), time_slot=slot,
                                    valid_from=starts, valid_until=ends, issued_by_id=getattr(actor, "id", None)))
        elif entry_pass.revoked_at is not None:  # back on the order
            entry_pass.revoked_at, entry_pass.revoked_reason = None, None
    db.session.flush()
    if issued:
        audit.record("entry_pass.issue", object_type="order", object_id=order.id, actor=actor,
                     details={"passes": [p.id for p in issued]})
    return issued


def issue_school_pass(school, *, actor, person_id, weekdays, time_slot, valid_from, valid_until):
    """A pass for a person the school engages itself (issue 14): the school sets the weekdays and window
    (a schedule may feed them later). The person must be the school's and cleared today."""
    person = db.session.get(Person, person_id)
    if person is None or person.school_id != school.id:
        raise ValidationFailed({"person_id": ["只能为本校自聘人员签发通行证"]})
    days = sorted(set(weekdays or []))
    if not days or any(d not in range(7) for d in days):
        raise ValidationFailed({"weekdays": ["请选择入校日（周一至周日）"]})
    if valid_until < valid_from:
        raise ValidationFailed({"valid_until": ["有效期截止日期不能早于开始日期"]})
    if valid_until < clock.today():
        raise ValidationFailed({"valid_until": ["有效期截止日期不能早于今天"]})
    slot = normalise_slot(time_slot)
    result = people.clearance(person)
    if not result.cleared:
        raise ValidationFailed({"person_id": [f"{person.name}今天未准入：{'；'.join(result.reasons)}"]})
    entry_pass = _new_pass(kind=PassKind.school, person_id=person.id, school_id=school.id, order_id=None,
                           weekdays=days, time_slot=slot, valid_from=valid_from, valid_until=valid_until,
                           issued_by_id=actor.id)
    audit.record("entry_pass.issue", object_type="entry_pass", object_id=entry_pass.id, actor=actor,
                 details={"person_id": person.id, "school_id": school.id})
    return entry_pass


@signals.schedule_accepted.register
def schedule_accepted(schedule, *, actor):
    """Passes for the school's own people on an accepted schedule (docs/domain.md "Entry passes"): their rows'
    weekdays and the span of their hours, for the rest of the term. A person not cleared today gets none (the
    schedule's check already named them); a differing earlier pass of theirs at the school is revoked."""
    rows = [r for r in schedule.rows if r.person_id is not None]
    own = {p.id: p for p in db.session.scalars(select(Person).where(
        Person.id.in_({r.person_id for r in rows} or {-1}), Person.school_id == schedule.school_id))}
    issued = []
    start, end = max(schedule.term.starts_on, clock.today()), schedule.term.ends_on
    if end < start:
        return issued
    for person_id in sorted(own):
        mine = [r for r in rows if r.person_id == person_id]
        days = sorted({r.weekday for r in mine})
        slot = f"{min(r.starts_at for r in mine) // 60:02d}:{min(r.starts_at for r in mine) % 60:02d}-" \
               f"{max(r.ends_at for r in mine) // 60:02d}:{max(r.ends_at for r in mine) % 60:02d}"
        current = db.session.scalars(select(EntryPass).where(
            EntryPass.person_id == person_id, EntryPass.school_id == schedule.school_id,
            EntryPass.kind == PassKind.school, EntryPass.revoked_at.is_(None), EntryPass.valid_until >= start)).all()
        if any(p.weekdays == days and p.time_slot == slot and p.valid_until >= end for p in current):
            continue
        if not people.clearance(own[person_id]).cleared:
            continue
        for old in current:
            revoke(old, actor=actor, reason=f"课后服务安排表第 {schedule.revision} 版备案，入校时间已变更")
        issued.append(issue_school_pass(schedule.school, actor=actor, person_id=person_id, weekdays=days,
                                        time_slot=slot, valid_from=start, valid_until=end))
    return issued


def revoke(entry_pass, *, actor, reason):
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed({"reason": ["撤销通行证须填写原因"]})
    if entry_pass.revoked_at is None:
        entry_pass.revoked_at, entry_pass.revoked_reason = clock.utcnow(), reason[:255]
        db.session.flush()
        audit.record("entry_pass.revoke", object_type="entry_pass", object_id=entry_pass.id, actor=actor,
                     details={"reason": reason[:200]})
    return entry_pass


def create_gate_keeper(school, *, actor, username, display_name, password):
    """A 门卫 account bound to the school (must change its password at first login)."""
    return auth.create_user(username=username, display_name=display_name, role=Role.gate_keeper, password=password,
                            actor=actor, school_id=school.id, must_change_password=True)


# ---------------------------------------------------------------- photos

def upload_photo(person, *, actor, upload, consent_on):
    """The optional pass photo, with the person's own consent to it (a date the person agreed)."""
    if consent_on is None:
        raise ValidationFailed({"consent_on": ["上传照片须本人同意，请填写本人同意的日期"]})
    if consent_on > clock.today():
        raise ValidationFailed({"consent_on": ["同意日期不能晚于今天"]})
    filename, data = upload
    if files.validate_upload(filename, data, field="photo") not in ("image/jpeg", "image/png"):
        raise ValidationFailed({"photo": ["照片须为 JPG 或 PNG 图片"]})
    stored = files.store(filename, data, provider_id=person.provider_id, uploaded_by=actor, field="photo")
    photo = db.session.scalar(select(PassPhoto).where(PassPhoto.person_id == person.id))
    old = None
    if photo is None:
        photo = PassPhoto(person_id=person.id, file_id=stored.id, consent_on=consent_on,
                          uploaded_by_id=getattr(actor, "id", None))
        db.session.add(photo)
    else:
        old = photo.file
        photo.file_id, photo.consent_on, photo.uploaded_by_id = stored.id, consent_on, getattr(actor, "id", None)
    db.session.flush()
    if old is not None:
        files.remove(old)
        db.session.flush()
    audit.record("entry_pass.photo", object_type="person", object_id=person.id, actor=actor,
                 details={"consent_on": consent_on.isoformat()})
    return photo


def photo_of(person_id):
    return db.session.scalar(select(PassPhoto).where(PassPhoto.person_id == person_id))


# ---------------------------------------------------------------- the live rule

@dataclass
class Decision:
    allowed: bool
    reasons: list = field(default_factory=list)
    entry_pass: EntryPass | None = None
    direction: ScanDirection = ScanDirection.entry
    session: str = ""
    scan_id: int | None = None

    @property
    def result(self):
        return ScanResult.allowed if self.allowed else ScanResult.denied


def load_pass(pass_id=None, code=None):
    """A pass with what judging it needs, in a fixed number of statements."""
    stmt = select(EntryPass).options(
        joinedload(EntryPass.person).selectinload(Person.checks),
        joinedload(EntryPass.person).selectinload(Person.qualifications),
        joinedload(EntryPass.school),
        joinedload(EntryPass.order).joinedload(Order.entry),
        joinedload(EntryPass.order).joinedload(Order.term),
        joinedload(EntryPass.order).joinedload(Order.project),
        joinedload(EntryPass.order).joinedload(Order.provider))
    stmt = stmt.where(EntryPass.id == pass_id) if pass_id is not None else stmt.where(EntryPass.code == code)
    return db.session.scalar(stmt)


def with_photo_url(decision, photo_url):
    """The decision, its pass carrying the photo's URL when the person has a pass photo (for the answer)."""
    if decision.entry_pass is not None:
        has = photo_of(decision.entry_pass.person_id) is not None
        decision.entry_pass.photo_url = photo_url(decision.entry_pass.person_id) if has else None
    return decision


def session_text(entry_pass):
    return f"{weekdays_text(entry_pass.weekdays)} {entry_pass.time_slot}"


def standing_reasons(entry_pass, day, *, staff_link=None, rules=None):
    """Reasons that hold all day, whatever the time: revoked or replaced, validity, order and entry status,
    the person's clearance today (naming the check) and ban. Used by the gate and by the deny list."""
    reasons = []
    if entry_pass.revoked_at is not None:
        reasons.append(f"通行证已撤销或人员已被更换（{entry_pass.revoked_reason or '已撤销'}）")
    if not entry_pass.valid_from <= day <= entry_pass.valid_until:
        reasons.append(f"不在通行证有效期内（{entry_pass.valid_from.isoformat()} 至 "
                       f"{entry_pass.valid_until.isoformat()}）")
    person = entry_pass.person
    if person.archived_at is not None:
        reasons.append("该人员已离职或已归档")
    order = entry_pass.order
    qualification = None
    if order is not None:
        status = order.effective_status(day)
        if status not in LIVE_ORDER:
            reasons.append(f"订单{status.label}（订单 {order.id}）")
        entry_status = order.entry.effective_status(day)
        if entry_status != EntryStatus.active:
            reasons.append(f"白名单条目{entry_status.label}")
        if staff_link is None:
            staff_link = db.session.scalar(select(OrderStaff).where(
                OrderStaff.order_id == order.id, OrderStaff.person_id == entry_pass.person_id))
        if staff_link is None or staff_link.removed_at is not None:
            why = staff_link.removed_reason if staff_link is not None else None
            if entry_pass.revoked_at is None:
                reasons.append(f"该人员已被更换或移出订单（{why or '已移出'}）")
        qualification = order.project.required_qualification
    clearance = people.clearance(person, day, qualification, rules=rules)
    reasons += [f"今日未准入：{r}" for r in clearance.reasons]
    return reasons


def judge(entry_pass, school, at):
    """Allowed or not at `school` at the naive-UTC moment `at`, with every reason (issue 14, item 4)."""
    if entry_pass is None:
        return Decision(False, ["通行证不存在（二维码或通行码无效）"])
    local = clock.to_cst(at)
    day = local.date()
    rules = policy.for_region(school.county)
    reasons = []
    if entry_pass.school_id != school.id:
        reasons.append(f"不是本校的通行证（该证用于{entry_pass.school.name}）")
    reasons += standing_reasons(entry_pass, day, rules=rules)
    if day.weekday() not in entry_pass.weekdays:
        reasons.append(f"今天（{weekdays_text([day.weekday()])}）不是服务日（服务日：{weekdays_text(entry_pass.weekdays)}）")
    span = slot_minutes(entry_pass.time_slot)
    window = rules.gate_window_minutes
    now = local.hour * 60 + local.minute
    if span is None:
        reasons.append(f"时段“{entry_pass.time_slot}”无法识别，请学校核实")
    elif not span[0] - window <= now <= span[1] + window:
        reasons.append(f"不在入校时段内（{entry_pass.time_slot}，前后 {window} 分钟；现在 {local:%H:%M}）")
    return Decision(not reasons, reasons, entry_pass, session=session_text(entry_pass))


def _open_entry(entry_pass_id, day):
    """True when the pass's allowed scans today are odd in number: the person is on site."""
    count = db.session.scalar(select(func.count()).select_from(GateScan).where(
        GateScan.pass_id == entry_pass_id, GateScan.scan_day == day, GateScan.result == ScanResult.allowed))
    return count % 2 == 1


def resolve(text):
    """(pass or None, problem or None) from a scanned QR text or a typed short code."""
    token = extract_token(text)
    if token is not None:
        read = read_token(token)
        if not read.valid or not isinstance(read.payload, dict):
            return None, "二维码签名无效（不是本系统签发或已被篡改）"
        entry_pass = load_pass(pass_id=read.payload.get("p"))
        return entry_pass, None if entry_pass is not None else "通行证不存在"
    code = clean_code(text)
    if len(code) != CODE_LENGTH or any(c not in CODE_ALPHABET for c in code):
        return None, f"通行码应为 {CODE_LENGTH} 位字母和数字（不含 0、1、I、O）"
    return load_pass(code=code), None


def scan(school, *, user, text, at=None, offline_result=None, client_id=None):
    """Judge and log one scan at the school's gate. A second allowed scan of the pass today records leaving."""
    at = at or clock.utcnow()
    entry_pass, problem = resolve(text)
    if problem:
        decision = Decision(False, [problem], entry_pass)
    else:
        day = clock.to_cst(at).date()
        if (entry_pass is not None and entry_pass.school_id == school.id and offline_result is None
                and _open_entry(entry_pass.id, day)):
            decision = Decision(True, [], entry_pass, ScanDirection.leave, session_text(entry_pass))
        else:
            decision = judge(entry_pass, school, at)
    row = GateScan(pass_id=entry_pass.id if entry_pass is not None else None, school_id=school.id,
                   user_id=getattr(user, "id", None), scanned_at=at, scan_day=clock.to_cst(at).date(),
                   result=decision.result, direction=decision.direction, reasons=decision.reasons,
                   offline=offline_result is not None, offline_result=offline_result, client_id=client_id,
                   received_at=clock.utcnow())
    db.session.add(row)
    db.session.flush()
    decision.scan_id = row.id
    return decision, row


def sync(school, *, user, items):
    """Queued offline scans: each is re-judged by the live rules at its own time and logged (once per client
    id). An entry allowed offline that the live rules refuse raises an alert to the school and the county."""
    done, alerts = [], []
    seen = set(db.session.scalars(select(GateScan.client_id).where(
        GateScan.client_id.in_([i["client_id"] for i in items]))))
    for item in items:
        if item["client_id"] in seen:
            done.append({"client_id": item["client_id"], "duplicate": True, "result": None, "reasons": [],
                         "alert": False})
            continue
        at = item["scanned_at"]
        if at.tzinfo is not None:
            at = at.astimezone(timezone.utc).replace(tzinfo=None)
        at = min(at, clock.utcnow())  # a gate phone's clock running ahead: judged as of now
        offline = ScanResult(item["offline_result"])
        decision, row = scan(school, user=user, text=item["text"], at=at, offline_result=offline,
                             client_id=item["client_id"])
        alert = offline == ScanResult.allowed and not decision.allowed
        if alert:
            alerts.append((row, decision))
        done.append({"client_id": item["client_id"], "duplicate": False, "result": decision.result.value,
                     "reasons": decision.reasons, "alert": alert})
    if alerts:
        _alert(school, alerts)
    return done


def _alert(school, alerts):
    users = db.session.scalars(notifications.recipients().where(
        (User.school_id == school.id) | ((User.role == Role.county_reviewer) & (User.region_id == school.county_id))
        | ((User.role == Role.inspector) & (User.region_id == school.county_id)))).all()
    items = []
    for row, decision in alerts:
        who = decision.entry_pass.person.name if decision.entry_pass is not None else "未知人员"
        when = clock.to_cst(row.scanned_at).strftime("%Y-%m-%d %H:%M")
        body = (f"{school.name}门岗离线时于 {when} 放行了{who}，联网复核按实时规则应禁止进入："
                f"{'；'.join(decision.reasons)}。请立即核实。")
        items += [(u, "离线放行复核未通过", body, "/gate/onsite", "gate_alert", f"gate_alert:{row.id}:{u.id}")
                  for u in users]
    notifications.notify_many(items)


# ---------------------------------------------------------------- the offline kit

def deny_list(school, day=None):
    """Pass ids of the school that its gate must refuse offline today: revoked or replaced, order or entry
    not in force, person uncleared or banned. A fixed number of statements for the whole school."""
    day = day or clock.today()
    passes = db.session.scalars(select(EntryPass).where(
        EntryPass.school_id == school.id, EntryPass.valid_until >= day - timedelta(days=1)).options(
        joinedload(EntryPass.person).selectinload(Person.checks),
        joinedload(EntryPass.person).selectinload(Person.qualifications),
        joinedload(EntryPass.order).joinedload(Order.entry), joinedload(EntryPass.order).joinedload(Order.term),
        joinedload(EntryPass.order).joinedload(Order.project),
        joinedload(EntryPass.order).selectinload(Order.staff))).unique().all()
    rules = policy.for_region(school.county)
    bans = people.bans_by_index({p.person.id_bidx for p in passes}, day)
    denied = []
    for entry_pass in passes:
        link = None
        if entry_pass.order is not None:
            link = next((s for s in entry_pass.order.staff if s.person_id == entry_pass.person_id), None)
        person = entry_pass.person
        reasons = []
        if entry_pass.revoked_at is not None or (entry_pass.order is not None and (link is None or link.removed_at)):
            reasons.append("revoked")
        else:
            qualification = entry_pass.order.project.required_qualification if entry_pass.order else None
            clearance = people.clearance(person, day, qualification, bans=bans.get(person.id_bidx, []), rules=rules)
            if not clearance.cleared or person.archived_at is not None:
                reasons.append("uncleared")
            if entry_pass.order is not None and (entry_pass.order.effective_status(day) not in LIVE_ORDER
                                                 or entry_pass.order.entry.effective_status(day) != EntryStatus.active):
                reasons.append("order")
        if reasons:
            denied.append(entry_pass.id)
    return sorted(denied)


def public_keys():
    return {kid: _b64(raw) for kid, raw in crypto.public_keys().items()}


def offline_kit(school):
    """What the gate page keeps for offline decisions: keys, deny list, school, window, server time."""
    rules = policy.for_region(school.county)
    return {"school_id": school.id, "keys": public_keys(), "deny": deny_list(school),
            "window_minutes": rules.gate_window_minutes, "generated_at": clock.utcnow()}


# ---------------------------------------------------------------- the sweep's rules

def photos_past_retention(day):
    """PassPhotos whose person's last pass ended more than the city's retention months before `day`."""
    rows = db.session.execute(
        select(PassPhoto, func.max(EntryPass.valid_until), func.min(EntryPass.school_id))
        .join(EntryPass, EntryPass.person_id == PassPhoto.person_id, isouter=True)
        .group_by(PassPhoto.id)).all()
    schools = {s.id: s for s in db.session.scalars(select(School).where(
        School.id.in_({r[2] for r in rows if r[2] is not None})).options(joinedload(School.county)))}
    expired = []
    for photo, last_until, school_id in rows:
        months = policy.for_region(schools[school_id].county).pass_photo_retention_months if school_id else 6
        end = last_until or photo.created_at.date()
        if _add_months(end, months) < day:
            expired.append(photo)
    return expired


def _add_months(day, months):
    year, month = divmod(day.month - 1 + months, 12)
    year, month = day.year + year, month + 1
    return date(year, month, min(day.day, monthrange(year, month)[1]))


def delete_photos(photos, *, actor=None):
    for photo in photos:
        stored = photo.file
        db.session.delete(photo)
        db.session.flush()
        files.remove(stored)
        audit.record("entry_pass.photo_delete", object_type="person", object_id=photo.person_id, actor=actor,
                     details={"rule": "pass_photo_retention"})
    db.session.flush()
    return len(photos)


def revoke_removed():
    """Record the revocation the live rule already applies: passes whose person left the order."""
    ids = db.session.scalars(select(EntryPass.id).join(OrderStaff, and_(
        OrderStaff.order_id == EntryPass.order_id, OrderStaff.person_id == EntryPass.person_id)).where(
        OrderStaff.removed_at.is_not(None), EntryPass.revoked_at.is_(None))).all()
    if ids:
        db.session.execute(update(EntryPass).where(EntryPass.id.in_(ids))
                           .values(revoked_at=clock.utcnow(), revoked_reason="已移出订单")
                           .execution_options(synchronize_session=False))
    return len(ids)


def get_pass(pass_id):
    entry_pass = db.session.get(EntryPass, pass_id)
    if entry_pass is None:
        raise NotFound("通行证不存在")
    return entry_pass


def ensure_school_user(user, school_id):
    if user.school_id != school_id:
        raise NotAllowed("只能处理本校的通行证")


def parse_day(value):
    return value if isinstance(value, date) else datetime.fromisoformat(value).date()


def public_view(token):
    """The public verification answer for a scanned pass (issue 14, item 6), or None for a token that is not
    one of ours: valid or not today, the masked name, the provider, the project and the school only."""
    read = read_token(token)
    if not read.valid or not isinstance(read.payload, dict):
        return None
    entry_pass = load_pass(pass_id=read.payload.get("p"))
    if entry_pass is None:
        return None
    order = entry_pass.order
    return {"valid": not standing_reasons(entry_pass, clock.today()), "name": mask_name(entry_pass.person.name),
            "provider": order.provider.name if order else f"{entry_pass.school.name}（学校自聘）",
            "project": order.project.title if order else (entry_pass.person.engagement_label or "学校课后服务"),
            "school": entry_pass.school.name}
