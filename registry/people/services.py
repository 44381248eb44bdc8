"""Staff (从业人员): identity, checks, qualifications, consent, and clearance computed for a date."""
import functools
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import column, func, select, table
from sqlalchemy.orm import selectinload
from stdnum.cn import ric
from stdnum.exceptions import ValidationError as StdnumError

from registry.audit import services as audit
from registry.core import clock, crypto
from registry.core.db import keep_changes_on_error
from registry.core.errors import Conflict, DomainError, NotFound, ValidationFailed
from registry.extensions import db
from registry.files import services as files
from registry.people.models import (
    CHECK_TYPE_LABELS,
    QUALIFICATION_LABELS,
    CheckResult,
    CheckType,
    Consent,
    EngagementKind,
    Gender,
    Person,
    PersonBan,
    PersonCheck,
    Qualification,
    QualificationType,
    StaffRole,
)
from registry.policy import services as policy
from registry.policy.models import CityPolicy
from registry.providers.models import Provider

ID_CONTEXT = "person.id_number"
ID_PURPOSE = "person-id"
# The school's table, by name only: schools is a higher domain (a school-engaged person's city; issue 14).
SCHOOL = table("school", column("id"), column("name"), column("city_id"))
REQUIRED_CHECKS = (CheckType.criminal, CheckType.sexual_offence, CheckType.health, CheckType.moral)
AGE_LIMITED_CHECKS = (CheckType.criminal, CheckType.sexual_offence)


# ---------------------------------------------------------------- identity numbers

def validate_id_number(value, field="id_number"):
    """Normalise and check a 居民身份证号 (GB 11643, ISO 7064 MOD 11-2) with python-stdnum."""
    try:
        return ric.validate((value or "").strip().upper())
    except StdnumError as exc:
        message = {
            "InvalidLength": "身份证号码应为 18 位",
            "InvalidChecksum": "身份证号码校验位不正确",
            "InvalidFormat": "身份证号码格式不正确",
            "InvalidComponent": "身份证号码中的出生日期或地区码无效",
        }.get(type(exc).__name__, "身份证号码无效")
        raise ValidationFailed({field: [message]}) from exc


def mask_id(number):
    return number[:6] + "*" * 8 + number[-4:]


def id_blind_index(number):
    return crypto.blind_index(number, ID_PURPOSE)


def _set_id(person, number):
    person.id_enc = crypto.encrypt(number, ID_CONTEXT)
    person.id_key_id = crypto.current_key_id()
    person.id_bidx = id_blind_index(number)
    person.id_masked = mask_id(number)


def reveal_id(person, *, actor, reason):
    """Decrypt the ID number for someone who states why; the reveal is audited."""
    reason = (reason or "").strip()
    if len(reason) < 4:
        raise ValidationFailed({"reason": ["查看完整身份证号码须填写理由（至少 4 个字）"]})
    number = crypto.decrypt(person.id_enc, ID_CONTEXT)
    audit.record("person.reveal_id", object_type="person", object_id=person.id, actor=actor,
                 details={"reason": reason[:200]})
    return number



class IdUnreadable(DomainError):
    """The stored ciphertext does not decrypt (tampered, or its key was removed from REGISTRY_DATA_KEYS)."""

    status = 500
    code = "decryption_failed"


def reveal_number(person, *, actor, reason):
    """reveal_id, plus a clear error (and an audit row that survives the rollback) when decryption fails."""
    try:
        return reveal_id(person, actor=actor, reason=reason)
    except crypto.DecryptionError:
        audit.record("person.reveal_id", object_type="person", object_id=person.id, actor=actor, result="failure",
                     details={"reason": (reason or "").strip()[:200], "error": "decryption_failed"})
        keep_changes_on_error()
        raise IdUnreadable("该人员的身份证号码无法解密（数据可能被篡改或密钥缺失），"
                           "本次查看已记入审计日志，请联系系统管理员") from None


def rotate_keys(batch_size=500):
    """Re-encrypt every ID number under the current key. Rows under older keys stay readable until then."""
    current = crypto.current_key_id()
    rotated = 0
    while True:
        people = db.session.scalars(
            select(Person).where(Person.id_key_id != current).order_by(Person.id).limit(batch_size)
        ).all()
        if not people:
            break
        for person in people:
            number = crypto.decrypt(person.id_enc, ID_CONTEXT)
            person.id_enc = crypto.encrypt(number, ID_CONTEXT)
            person.id_key_id = current
            rotated += 1
        db.session.flush()
    if rotated:
        audit.record("crypto.rotate", object_type="person", details={"rows": rotated, "key_id": current})
    return rotated


# ---------------------------------------------------------------- people

def _clean(value):
    return (value or "").strip()


def create_person(provider, *, actor, name, id_number, gender, phone, staff_role, specialties=""):
    return _create_person({"provider_id": provider.id}, "本机构", actor=actor, name=name, id_number=id_number,
                          gender=gender, phone=phone, staff_role=staff_role, specialties=specialties)


def create_school_person(school, *, actor, name, id_number, gender, phone, engagement,
                         staff_role=StaffRole.teacher, specialties=""):
    """A person the school engages itself (退休教师、家长、志愿者、非遗传承人、教练; issue 14): vetted like a
    provider's staff, with the same registry-wide ban by blind index."""
    return _create_person({"school_id": school.id, "engagement": EngagementKind(engagement)}, "本校", actor=actor,
                          name=name, id_number=id_number, gender=gender, phone=phone, staff_role=staff_role,
                          specialties=specialties)


def _create_person(owner, owner_word, *, actor, name, id_number, gender, phone, staff_role, specialties):
    """Create a person for `owner` ({"provider_id": ..} or {"school_id": .., "engagement": ..})."""
    number = validate_id_number(id_number)
    bidx = id_blind_index(number)
    (column, owner_id), = ((k, v) for k, v in owner.items() if k.endswith("_id"))
    if db.session.scalar(select(Person.id).where(getattr(Person, column) == owner_id, Person.id_bidx == bidx)):
        raise Conflict(f"{owner_word}已登记过该身份证号码的人员", field="id_number", code="duplicate_person")
    if banned_indexes([bidx]):
        # Whoever recorded the ban or the adverse check, the message names no provider.
        raise Conflict(BANNED_MESSAGE, field="id_number", code="banned_person")
    if not _clean(name):
        raise ValidationFailed({"name": ["姓名不能为空"]})
    person = Person(**owner, name=_clean(name), gender=Gender(gender), phone=_clean(phone),
                    staff_role=StaffRole(staff_role), specialties=_clean(specialties))
    _set_id(person, number)
    db.session.add(person)
    db.session.flush()
    audit.record("person.create", object_type="person", object_id=person.id, actor=actor,
                 details={column: owner_id})
    return person


def update_person(person, *, actor, **fields):
    for key in ("name", "phone", "specialties"):
        if key in fields:
            setattr(person, key, _clean(fields[key]))
    if "gender" in fields:
        person.gender = Gender(fields["gender"])
    if "staff_role" in fields:
        person.staff_role = StaffRole(fields["staff_role"])
    if fields.get("engagement") and person.school_id is not None:
        person.engagement = EngagementKind(fields["engagement"])
    db.session.flush()
    audit.record("person.update", object_type="person", object_id=person.id, actor=actor,
                 details={"fields": sorted(fields)})
    return person


def get_person(person_id):
    person = db.session.get(Person, person_id)
    if person is None:
        raise NotFound("人员不存在")
    return person


def rules_for(person):
    """The city policy over the person's provider or school."""
    return policy.for_region(person.owner.county)


def _attach(provider_id, actor, upload, required, field):
    if upload is None:
        if required:
            raise ValidationFailed({field: ["请上传文件"]})
        return None
    filename, data = upload
    return files.store(filename, data, provider_id=provider_id, uploaded_by=actor, field=field)


def add_check(person, *, actor, check_type, result, check_date, authority, reference_no="", valid_until=None,
              upload=None):
    check_type, result = CheckType(check_type), CheckResult(result)
    today = clock.today()
    if check_date > today:
        raise ValidationFailed({"check_date": ["查询/体检日期不能晚于今天"]})
    if valid_until is not None and valid_until < check_date:
        raise ValidationFailed({"valid_until": ["有效期截止日期不能早于查询日期"]})
    if not _clean(authority):
        raise ValidationFailed({"authority": ["请填写出具机关"]})
    if check_type == CheckType.health and valid_until is None:
        days = rules_for(person).health_validity_days
        valid_until = check_date + timedelta(days=days)
    stored = _attach(person.provider_id, actor, upload, False, "file")
    check = PersonCheck(person_id=person.id, check_type=check_type, result=result, check_date=check_date,
                        valid_until=valid_until, authority=_clean(authority), reference_no=_clean(reference_no),
                        file_id=stored.id if stored else None, recorded_by_id=getattr(actor, "id", None))
    person.checks.append(check)  # through the relationship, so a loaded person sees it at once
    db.session.flush()
    audit.record("person.check_add", object_type="person", object_id=person.id, actor=actor,
                 details={"check_id": check.id, "check_type": check_type.value})
    return check


def add_qualification(person, *, actor, qual_type, number, issuer, issue_date, expiry_date=None, name="",
                      upload=None):
    qual_type = QualificationType(qual_type)
    if expiry_date is not None and expiry_date < issue_date:
        raise ValidationFailed({"expiry_date": ["有效期截止日期不能早于发证日期"]})
    if issue_date > clock.today():
        raise ValidationFailed({"issue_date": ["发证日期不能晚于今天"]})
    for key, value in (("number", number), ("issuer", issuer)):
        if not _clean(value):
            raise ValidationFailed({key: ["此项为必填项"]})
    stored = _attach(person.provider_id, actor, upload, False, "file")
    qualification = Qualification(person_id=person.id, qual_type=qual_type, name=_clean(name), number=_clean(number),
                                  issuer=_clean(issuer), issue_date=issue_date, expiry_date=expiry_date,
                                  file_id=stored.id if stored else None)
    person.qualifications.append(qualification)
    db.session.flush()
    audit.record("person.qualification_add", object_type="person", object_id=person.id, actor=actor,
                 details={"qualification_id": qualification.id, "qual_type": qual_type.value})
    return qualification


def record_consent(person, *, actor, consent_date, upload, note=""):
    """The signed consent form to the checks (PIPL); required before the person can be submitted."""
    if consent_date > clock.today():
        raise ValidationFailed({"consent_date": ["签署日期不能晚于今天"]})
    stored = _attach(person.provider_id, actor, upload, True, "file")
    consent = Consent(person_id=person.id, consent_date=consent_date, file_id=stored.id, note=_clean(note),
                      recorded_by_id=getattr(actor, "id", None))
    person.consents.append(consent)
    db.session.flush()
    audit.record("person.consent", object_type="person", object_id=person.id, actor=actor,
                 details={"consent_id": consent.id})
    return consent


# ---------------------------------------------------------------- clearance

@dataclass
class Clearance:
    cleared: bool
    reasons: list = field(default_factory=list)  # Chinese, one per unmet condition
    expiring: list = field(default_factory=list)  # (label, date) lapsing within the warning window


def latest_checks(person):
    """The newest check of each type (by check date, then by id), whatever order the list is in."""
    latest = {}
    for check in person.checks:
        current = latest.get(check.check_type)
        if current is None or (check.check_date, check.id or 0) > (current.check_date, current.id or 0):
            latest[check.check_type] = check
    return latest


def add_years(day, years):
    """The same day `years` later (29 February becomes 28 February in a common year)."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def ban_end(check_type, starts_on, ban_years):
    """The last day of the ban an adverse check brings (domain.md rule 5): none for a sexual-offence hit
    (permanent), else `ban_years` from its start."""
    if CheckType(check_type) == CheckType.sexual_offence:
        return None
    return add_years(starts_on, ban_years) - timedelta(days=1)


@dataclass
class AdverseBan:
    """The ban an adverse check brings from the moment it is recorded, whoever recorded it, before the sweep
    (or a reviewer) writes its PersonBan row: in force from the check's date, permanently for a
    sexual-offence hit, else for the city's ban years. The sweep writes exactly this row later."""
    id_bidx: str
    source_check_id: int
    check_type: CheckType
    starts_on: object
    ends_on: object
    reason: str = "查询结果有不良记录"
    lifted_at: object = None

    def is_active_on(self, day):
        return self.starts_on <= day and (self.ends_on is None or self.ends_on >= day)


def adverse_checks_without_ban(indexes=None):
    """Select of (check id, check type, check date, blind index, provider, city, ban years) of the adverse
    checks, at any provider, that no PersonBan row records yet; only for the blind indexes `indexes` (a
    collection or a subquery) when given."""
    city_id = func.coalesce(Provider.city_id, SCHOOL.c.city_id)
    stmt = (select(PersonCheck.id, PersonCheck.check_type, PersonCheck.check_date, Person.id_bidx,
                   Person.id.label("person_id"), Person.name, Person.id_masked, Provider.id.label("provider_id"),
                   func.coalesce(Provider.name, SCHOOL.c.name).label("provider_name"), Person.school_id,
                   city_id.label("city_id"), CityPolicy.ban_years)
            .join(Person, Person.id == PersonCheck.person_id)
            .outerjoin(Provider, Provider.id == Person.provider_id)
            .outerjoin(SCHOOL, SCHOOL.c.id == Person.school_id)
            .outerjoin(CityPolicy, CityPolicy.city_id == city_id)
            .where(PersonCheck.result == CheckResult.adverse,
                   ~select(PersonBan.id).where(PersonBan.source_check_id == PersonCheck.id).exists()))
    if indexes is not None:
        stmt = stmt.where(Person.id_bidx.in_(indexes))
    return stmt


def adverse_bans(rows):
    """AdverseBan for each row of adverse_checks_without_ban."""
    default_years = policy.defaults().ban_years
    return [AdverseBan(r.id_bidx, r.id, CheckType(r.check_type), r.check_date,
                       ban_end(r.check_type, r.check_date, r.ban_years or default_years)) for r in rows]


def bans_by_index(indexes, day=None):
    """Bans for many blind indexes in two queries: {bidx: [ban, ...]}; only those in force on `day` when given.
    Besides the PersonBan rows, an adverse check recorded anywhere for the same blind index bans at once
    (AdverseBan) until its row is written, so nothing waits for the nightly sweep."""
    found = defaultdict(list)
    indexes = set(indexes)
    if indexes:
        for ban in db.session.scalars(select(PersonBan).where(PersonBan.id_bidx.in_(indexes))):
            if day is None or ban.is_active_on(day):
                found[ban.id_bidx].append(ban)
        for ban in adverse_bans(db.session.execute(adverse_checks_without_ban(indexes))):
            if day is None or ban.is_active_on(day):
                found[ban.id_bidx].append(ban)
    return found


BANNED_MESSAGE = "该身份证号码对应人员存在禁入记录，不能登记"


def banned_indexes(indexes, day=None):
    """The blind indexes among `indexes` under a ban in force on `day` (rows or adverse checks anywhere)."""
    day = day or clock.today()
    return {bidx for bidx, bans in bans_by_index(indexes, day).items() if bans}


def active_bans(bidx, day):
    return bans_by_index([bidx], day).get(bidx, [])


def check_expiry(check, max_age_days):
    """The last day a check counts: age-limited checks by date, others by their validity end."""
    if check.check_type in AGE_LIMITED_CHECKS:
        by_age = check.check_date + timedelta(days=max_age_days)
        return min(by_age, check.valid_until) if check.valid_until else by_age
    return check.valid_until


@functools.lru_cache(maxsize=100_000)
def _id_number_valid(id_enc, _key_ring):
    """Does this stored (encrypted) ID number decrypt (under these keys) and validate? The answer for one
    ciphertext and key ring never changes, and clearance asks it for every person of every entry evaluated:
    decrypting and checking the birthplace table cost ~8 % of the catalog's eligibility under load."""
    try:
        validate_id_number(crypto.decrypt(id_enc, ID_CONTEXT))
    except (ValidationFailed, crypto.DecryptionError):
        return False
    return True


def clearance(person, day=None, required_qualification=None, bans=None, rules=None):
    """Is `person` cleared (准入) on `day`? Computed from records (docs/domain.md "People, checks and clearance"),
    never stored.

    `required_qualification` is the project's; without one, any valid qualification will do.
    `bans` may be passed in by list queries that loaded them in bulk.
    """
    day = day or clock.today()
    rules = rules or rules_for(person)
    reasons, expiring = [], []
    if not _id_number_valid(bytes(person.id_enc), crypto.key_ring()):
        reasons.append("身份证号码无效或无法核验")
    latest = latest_checks(person)
    for check_type in REQUIRED_CHECKS:
        label = CHECK_TYPE_LABELS[check_type]
        check = latest.get(check_type)
        if check is None:
            reasons.append(f"未登记{label}")
            continue
        if check.result == CheckResult.pending:
            reasons.append(f"{label}结果待出")
            continue
        if check.result == CheckResult.adverse:
            reasons.append(f"{label}结果为有不良记录")
            continue
        last_day = check_expiry(check, rules.check_max_age_days)
        if last_day is not None and last_day < day:
            # The tense follows the real date: a clearance asked for a later day (the term's end) speaks of
            # what will happen, not of what has happened.
            ahead = last_day >= clock.today()
            if (check.check_type in AGE_LIMITED_CHECKS
                    and check.check_date + timedelta(days=rules.check_max_age_days) < day):
                reasons.append(f"{label}将于{last_day.isoformat()}后超过 {rules.check_max_age_days} 天"
                               f"（查询日期 {check.check_date.isoformat()}），届时须重新查询" if ahead else
                               f"{label}已超过 {rules.check_max_age_days} 天"
                               f"（查询日期 {check.check_date.isoformat()}），须重新查询")
            else:
                reasons.append(f"{label}将于{last_day.isoformat()}到期" if ahead
                               else f"{label}已于{last_day.isoformat()}过期")
        elif last_day is not None and last_day <= day + timedelta(days=30):
            expiring.append((label, last_day))
    valid_quals = [q for q in person.qualifications if q.is_valid_on(day)]
    if required_qualification is not None:
        required_qualification = QualificationType(required_qualification)
        fitting = [q for q in valid_quals if q.qual_type == required_qualification]
        if not fitting:
            reasons.append(f"无有效的{QUALIFICATION_LABELS[required_qualification]}")
        valid_quals = fitting
    elif not valid_quals:
        reasons.append("无有效的资格证书")
    for q in valid_quals:
        if q.expiry_date is not None and q.expiry_date <= day + timedelta(days=30):
            expiring.append((q.qual_type_label, q.expiry_date))
    ban_list = bans if bans is not None else active_bans(person.id_bidx, day)
    if ban_list:
        until = ban_list[0].ends_on
        reasons.append("该人员已被列入禁入名单" + (f"（至{until.isoformat()}）" if until else "（永久）"))
    return Clearance(not reasons, reasons, sorted(expiring, key=lambda item: item[1]))


def has_consent(person):
    return bool(person.consents)


def list_people(provider_id, include_archived=False, *, school_id=None):
    """A provider's people, or (school_id given) the people a school engages itself."""
    owned = Person.school_id == school_id if school_id is not None else Person.provider_id == provider_id
    stmt = (select(Person).where(owned)
            .options(selectinload(Person.checks), selectinload(Person.qualifications), selectinload(Person.consents))
            .order_by(Person.id))
    if not include_archived:
        stmt = stmt.where(Person.archived_at.is_(None))
    return db.session.scalars(stmt).all()


def ban_query(bidx):
    return select(PersonBan).where(PersonBan.id_bidx == bidx)

