"""Provider registration, profile, colleagues and documents (资质材料)."""
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from stdnum.cn import uscc as uscc_std
from stdnum.exceptions import ValidationError as StdnumError

from registry.audit import services as audit
from registry.auth import services as auth
from registry.auth.models import User
from registry.core import clock, listing
from registry.core.errors import Conflict, NotAllowed, NotFound, ValidationFailed, unique_conflict
from registry.extensions import db
from registry.files import services as files
from registry.policy.services import WARNING_DAYS
from registry.providers.models import (
    DOC_TYPE_LABELS,
    EXPIRY_REQUIRED,
    REGISTRATION_DOC,
    REVIEWED_FIELDS,
    DocType,
    OrgType,
    Provider,
    ProviderDocument,
    ProviderServiceArea,
    VerificationStatus,
)
from registry.regions.models import Region, RegionLevel


def validate_uscc(value, field="uscc"):
    """Normalise and check a 统一社会信用代码 (GB 32100) with python-stdnum."""
    try:
        return uscc_std.validate(value or "")
    except StdnumError as exc:
        message = {
            "InvalidLength": "统一社会信用代码应为 18 位",
            "InvalidChecksum": "统一社会信用代码校验位不正确",
            "InvalidFormat": "统一社会信用代码格式不正确",
            "InvalidComponent": "统一社会信用代码格式不正确",
        }.get(type(exc).__name__, "统一社会信用代码无效")
        raise ValidationFailed({field: [message]}) from exc


def _county(region_id, field):
    region = db.session.get(Region, region_id) if region_id is not None else None
    if region is None or region.level != RegionLevel.county:
        raise ValidationFailed({field: ["请选择有效的县（市、区）"]})
    return region


def _service_counties(county_ids, home):
    ids = list(dict.fromkeys(county_ids or []))
    if not ids:
        raise ValidationFailed({"service_county_ids": ["请至少选择一个服务的县（市、区）"]})
    counties = [_county(cid, "service_county_ids") for cid in ids]
    for county in counties:
        if county.parent_id != home.parent_id:
            raise ValidationFailed({"service_county_ids": [
                f"服务区域“{county.name}”不在注册地所在设区市内，请向该市另行申报"]})
    return counties


# Account fields as the registration form and POST /api/v1/providers name them.
ADMIN_FIELDS = {"username": "admin_username", "display_name": "admin_display_name", "password": "admin_password",
                "email": "admin_email"}


def register_provider(*, name, uscc, org_type, legal_representative, contact_name, contact_phone, address,
                      county_id, service_county_ids, description="", admin_username, admin_display_name,
                      admin_password, admin_email=None):
    """Self-registration: the organisation and its first provider_admin account."""
    code = validate_uscc(uscc)
    if db.session.scalar(select(Provider.id).where(Provider.uscc == code)) is not None:
        raise Conflict("该统一社会信用代码已注册。如需加入该机构，请联系机构管理员为您添加账户。", field="uscc",
                       code="duplicate_uscc")
    home = _county(county_id, "county_id")
    counties = _service_counties(service_county_ids, home)
    provider = Provider(
        name=name.strip(), uscc=code, org_type=OrgType(org_type), legal_representative=legal_representative.strip(),
        contact_name=contact_name.strip(), contact_phone=contact_phone.strip(), address=address.strip(),
        county=home, city_id=home.parent_id, description=(description or "").strip(),
        service_areas=[ProviderServiceArea(county=c) for c in counties],
    )
    try:
        # A savepoint: when a concurrent registration took the USCC or the username after the checks, the
        # unique constraint refuses the insert, and the session stays usable for the form's error page.
        with db.session.begin_nested():
            db.session.add(provider)
            db.session.flush()
            admin = auth.create_user(username=admin_username, display_name=admin_display_name,
                                     role="provider_admin", password=admin_password, email=admin_email,
                                     provider_id=provider.id, must_change_password=False)
    except ValidationFailed as exc:  # name the registration form's fields, not the account's
        raise ValidationFailed({ADMIN_FIELDS.get(k, k): v for k, v in exc.errors.items()}) from exc
    except Conflict as exc:
        raise Conflict(exc.message, field=ADMIN_FIELDS.get(exc.field, exc.field), code=exc.code) from exc
    except IntegrityError as exc:
        raise (unique_conflict(exc, rename=ADMIN_FIELDS) or exc) from exc
    audit.record("provider.register", object_type="provider", object_id=provider.id, actor=admin,
                 details={"uscc": code})
    return provider, admin


PROFILE_FIELDS = ("name", "org_type", "legal_representative", "contact_name", "contact_phone", "address", "description")


def _profile_values(provider):
    values = {key: getattr(provider, key) for key in PROFILE_FIELDS}
    values["org_type"] = provider.org_type.value
    values["service_county_ids"] = sorted(area.county_id for area in provider.service_areas)
    return values


def _audit_value(key, value):
    """A profile value as the audit log may keep it: a phone number masked, long text cut."""
    if key == "contact_phone" and isinstance(value, str) and len(value) > 7:
        return value[:3] + "*" * (len(value) - 7) + value[-4:]
    if isinstance(value, str) and len(value) > 120:
        return value[:120] + "…"
    return value


def update_profile(provider, *, actor, **fields):
    """Edit the profile. While the provider is listed (registry.core.listing) its reviewed fields (name,
    organisation type) keep the published values and an edit of one is kept as a pending change, reviewed in
    a 变更 application and applied when that is published; the other fields change in place."""
    if "county_id" in fields:
        raise NotAllowed("注册地不能自行修改，请联系审核部门", field="county_id")
    before, pending_before = _profile_values(provider), dict(provider.pending_changes or {})
    if "service_county_ids" in fields:
        counties = _service_counties(fields.pop("service_county_ids"), provider.county)
        # Keep the rows of counties that stay: a new row for the same county would be inserted
        # before the old one is deleted and break the (provider, county) unique constraint.
        existing = {area.county_id: area for area in provider.service_areas}
        provider.service_areas = [existing.get(c.id) or ProviderServiceArea(county=c) for c in counties]
    wanted = {**pending_before, **{k: v for k, v in fields.items() if k in PROFILE_FIELDS}}
    for key in ("name", "legal_representative", "contact_name", "contact_phone", "address", "description"):
        if key in wanted:
            wanted[key] = (wanted[key] or "").strip()
    if "org_type" in wanted:
        wanted["org_type"] = OrgType(wanted["org_type"]).value
    published = provider.reviewed_values()
    listed = listing.is_listed(provider.id)
    pending = {}
    for key, value in wanted.items():
        if key in REVIEWED_FIELDS and listed and value != published[key]:
            pending[key] = value
            continue
        setattr(provider, key, OrgType(value) if key == "org_type" else value)
    provider.pending_changes = pending or None
    db.session.flush()
    after = _profile_values(provider)
    details = {"fields": sorted(set(fields) | ({"service_county_ids"} if before["service_county_ids"] !=
                                               after["service_county_ids"] else set())),
               "changes": {k: [_audit_value(k, before[k]), _audit_value(k, after[k])]
                           for k in after if before[k] != after[k]}}
    if pending != pending_before:
        details["pending"] = {k: [published[k], v] for k, v in pending.items()}
        details["pending_withdrawn"] = sorted(set(pending_before) - set(pending))
    audit.record("provider.update", object_type="provider", object_id=provider.id, actor=actor, details=details)
    return provider


def apply_reviewed(provider, reviewed, *, actor, was_listed):
    """Publication of an application of `provider`: its reviewed fields take the values of the snapshot the
    reviewers reviewed (`reviewed`, the snapshot's organisation). An in-place edit made after submitting while
    the provider was not listed yet becomes a pending change; pending changes now published are cleared."""
    live = provider.reviewed_values()
    pending = dict(provider.pending_changes or {})
    changes = {}
    for key in REVIEWED_FIELDS:
        target = reviewed[key]
        if live[key] != target:
            changes[key] = [live[key], target]
            if not was_listed and key not in pending:
                pending[key] = live[key]
            setattr(provider, key, OrgType(target) if key == "org_type" else target)
        if pending.get(key) == target:
            pending.pop(key)
    if changes or pending != (provider.pending_changes or {}):
        provider.pending_changes = pending or None
        db.session.flush()
        audit.record("provider.publish_reviewed", object_type="provider", object_id=provider.id, actor=actor,
                     details={"changes": changes, "pending": sorted(pending)})
    return changes


def add_colleague(provider, *, actor, username, display_name, password, email=None):
    if actor.provider_id != provider.id:
        raise NotAllowed("只能为本机构添加账户")
    return auth.create_user(username=username, display_name=display_name, role="provider_admin", password=password,
                            email=email, provider_id=provider.id, actor=actor, must_change_password=True)


def list_colleagues(provider):
    """The provider's accounts, oldest first."""
    return db.session.scalars(select(User).where(User.provider_id == provider.id).order_by(User.id)).all()


def get_provider(provider_id):
    provider = db.session.get(Provider, provider_id)
    if provider is None:
        raise NotFound("机构不存在")
    return provider


# ---------------------------------------------------------------- documents

def _check_document_fields(doc_type, issue_date, expiry_date):
    if expiry_date is not None and expiry_date < issue_date:
        raise ValidationFailed({"expiry_date": ["有效期截止日期不能早于发证日期"]})
    if doc_type in EXPIRY_REQUIRED and expiry_date is None:
        raise ValidationFailed({"expiry_date": [f"{DOC_TYPE_LABELS[doc_type]}必须填写有效期截止日期"]})
    if issue_date > clock.today():
        raise ValidationFailed({"issue_date": ["发证日期不能晚于今天"]})


def upload_document(provider, *, actor, doc_type, number, issuer, issue_date, expiry_date=None, title="",
                    filename, data, replaces_id=None):
    """Add a document, or a new version of one. The previous version is kept and marked superseded."""
    doc_type = DocType(doc_type)
    _check_document_fields(doc_type, issue_date, expiry_date)
    previous = None
    if replaces_id is not None:
        previous = db.session.get(ProviderDocument, replaces_id)
        if previous is None or previous.provider_id != provider.id:
            raise NotFound("要替换的材料不存在")
        if previous.superseded_at is not None:
            raise Conflict("该材料已被新版本替换，请替换最新版本", code="already_superseded")
        if previous.doc_type != doc_type:
            raise ValidationFailed({"doc_type": ["替换的新版本必须是同一种材料"]})
    stored = files.store(filename, data, provider_id=provider.id, uploaded_by=actor)
    document = ProviderDocument(
        provider_id=provider.id, doc_type=doc_type, title=(title or "").strip(), number=number.strip(),
        issuer=issuer.strip(), issue_date=issue_date, expiry_date=expiry_date, file_id=stored.id,
        sha256=stored.sha256, replaces_id=previous.id if previous else None, uploaded_by_id=actor.id,
    )
    db.session.add(document)
    if previous is not None:
        previous.superseded_at = clock.utcnow()
    db.session.flush()
    audit.record("document.upload", object_type="provider_document", object_id=document.id, actor=actor,
                 details={"doc_type": doc_type.value, "sha256": stored.sha256, "replaces": replaces_id})
    return document


def current_documents(provider_id):
    return db.session.scalars(
        select(ProviderDocument)
        .where(ProviderDocument.provider_id == provider_id, ProviderDocument.superseded_at.is_(None))
        .order_by(ProviderDocument.doc_type, ProviderDocument.id)
    ).all()


def document_history(document):
    """The chain of versions ending at `document`, newest first."""
    chain, node = [], document
    while node is not None:
        chain.append(node)
        node = db.session.get(ProviderDocument, node.replaces_id) if node.replaces_id else None
    return chain


def expiry_flag(expiry_date, day=None):
    """'expired', 'within_7', 'within_30' or None (docs/domain.md "Providers and documents")."""
    if expiry_date is None:
        return None
    day = day or clock.today()
    if expiry_date < day:
        return "expired"
    for window in sorted(WARNING_DAYS):
        if expiry_date <= day + timedelta(days=window):
            return f"within_{window}"
    return None


EXPIRY_FLAG_LABELS = {"expired": "已过期", "within_7": "7天内到期", "within_30": "30天内到期"}


def get_document(provider, document_id):
    """One of the provider's documents; another provider's document is 'not found', never 'forbidden'."""
    document = db.session.get(ProviderDocument, document_id)
    if document is None or document.provider_id != provider.id:
        raise NotFound("材料不存在")
    return document


def latest_version(document):
    """Follow the replacements forward to the newest version of `document`."""
    node = document
    while node.superseded_at is not None:
        newer = db.session.scalar(select(ProviderDocument).where(ProviderDocument.replaces_id == node.id))
        if newer is None:
            break
        node = newer
    return node


def required_document_types(provider):
    """docs/domain.md "Providers and documents": the registration document for the organisation type, insurance,
    safety plan."""
    return [provider.registration_doc_type, DocType.liability_insurance, DocType.safety_plan]


# Every type that is required of some provider (bulk callers load only these).
ANY_REQUIRED_DOC_TYPES = frozenset(REGISTRATION_DOC.values()) | {DocType.liability_insurance, DocType.safety_plan}


@dataclass
class RequiredDocument:
    doc_type: DocType
    label: str
    document: ProviderDocument | None
    problem: str | None  # Chinese; None when the document is present and usable


def required_document_problem(doc_type, doc, day):
    """What is wrong with the current document of a required type on `day` (None when usable).
    The one statement of docs/domain.md "Providers and documents" used by the checklist, the application and
    ordering."""
    label = DOC_TYPE_LABELS[doc_type]
    if doc is None:
        return f"缺少{label}"
    if doc.verification_status == VerificationStatus.rejected:
        return f"{label}（编号 {doc.number}）未通过审核核验，请上传新版本"
    if doc.issue_date > day:
        return f"{label}（编号 {doc.number}）尚未生效（发证日期 {doc.issue_date.isoformat()}）"
    if doc.expiry_date is not None and doc.expiry_date < day:
        if doc.expiry_date >= clock.today():  # asked about a later day: it has not lapsed yet
            return f"{label}（编号 {doc.number}）将于{doc.expiry_date.isoformat()}到期，请及时上传新版本"
        return f"{label}（编号 {doc.number}）已于{doc.expiry_date.isoformat()}过期，请上传新版本"
    return None


def document_checklist(provider, day=None, documents=None):
    """Each required document with what is wrong with it (missing, rejected, expired), if anything.
    `documents` may be passed in by bulk callers that loaded the current documents already."""
    day = day or clock.today()
    current = {}
    for doc in (documents if documents is not None else current_documents(provider.id)):
        current.setdefault(doc.doc_type, doc)
    return [RequiredDocument(doc_type, DOC_TYPE_LABELS[doc_type], current.get(doc_type),
                             required_document_problem(doc_type, current.get(doc_type), day))
            for doc_type in required_document_types(provider)]


def expiring_documents(provider_id, day=None):
    """Current documents that have expired or expire within a warning window: [(document, flag)]."""
    day = day or clock.today()
    flagged = [(doc, expiry_flag(doc.expiry_date, day)) for doc in current_documents(provider_id)]
    return sorted(((d, f) for d, f in flagged if f), key=lambda pair: pair[0].expiry_date)
