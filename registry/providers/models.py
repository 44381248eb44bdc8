from datetime import date, datetime

from sqlalchemy import JSON, CheckConstraint, Date, DateTime, Enum, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from registry.core.enums import LabelledEnum
from registry.core.models import TimestampMixin
from registry.extensions import db
from registry.files.models import StoredFile
from registry.regions.models import Region


class OrgType(LabelledEnum):
    enterprise = "enterprise", "企业"
    private_non_enterprise = "private_non_enterprise", "民办非企业单位"
    public_institution = "public_institution", "事业单位"
    social_organization = "social_organization", "社会团体"
    university_research = "university_research", "高校·科研院所"
    youth_center = "youth_center", "青少年校外活动中心"


ORG_TYPE_LABELS = OrgType.labels()


class DocType(LabelledEnum):
    business_license = "business_license", "营业执照"
    private_non_enterprise_certificate = "private_non_enterprise_certificate", "民办非企业单位登记证书"
    public_institution_certificate = "public_institution_certificate", "事业单位法人证书"
    social_organization_certificate = "social_organization_certificate", "社会团体法人登记证书"
    school_license = "school_license", "办学许可证"
    liability_insurance = "liability_insurance", "公众责任保险"
    safety_plan = "safety_plan", "安全管理制度及应急预案"
    other = "other", "其他材料"


DOC_TYPE_LABELS = DocType.labels()

# The registration document that matches each organisation type (docs/domain.md "Providers and documents").
REGISTRATION_DOC = {
    OrgType.enterprise: DocType.business_license,
    OrgType.private_non_enterprise: DocType.private_non_enterprise_certificate,
    OrgType.public_institution: DocType.public_institution_certificate,
    OrgType.social_organization: DocType.social_organization_certificate,
    OrgType.university_research: DocType.public_institution_certificate,
    OrgType.youth_center: DocType.public_institution_certificate,
}
# Documents whose validity period is mandatory.
EXPIRY_REQUIRED = {DocType.liability_insurance}


class VerificationStatus(LabelledEnum):
    pending = "pending", "待核验"
    verified = "verified", "已核验"
    rejected = "rejected", "已驳回"


VERIFICATION_LABELS = VerificationStatus.labels()


# The organisation fields the whitelist and the certificate publish after review (registry.core.listing):
# while the provider is listed an edit of one of them waits as a pending change.
REVIEWED_FIELDS = ("name", "org_type")
REVIEWED_LABELS = {"name": "机构名称", "org_type": "机构类型"}


class Provider(TimestampMixin, db.Model):
    """A third-party organisation (第三方机构)."""

    __tablename__ = "provider"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(128), nullable=False)
    uscc: Mapped[str] = mapped_column(String(18), unique=True, nullable=False)
    org_type: Mapped[OrgType] = mapped_column(Enum(OrgType, native_enum=False, length=32), nullable=False)
    legal_representative: Mapped[str] = mapped_column(String(64), nullable=False)
    contact_name: Mapped[str] = mapped_column(String(64), nullable=False)
    contact_phone: Mapped[str] = mapped_column(String(32), nullable=False)
    address: Mapped[str] = mapped_column(String(255), nullable=False)
    county_id: Mapped[int] = mapped_column(ForeignKey("region.id"), index=True, nullable=False)
    city_id: Mapped[int] = mapped_column(ForeignKey("region.id"), index=True, nullable=False)
    description: Mapped[str] = mapped_column(Text, nullable=False, default="")
    # Proposed values of reviewed fields while listed: {field: value as in an application snapshot}.
    # The columns above always hold the published values.
    pending_changes: Mapped[dict | None] = mapped_column(JSON)

    county: Mapped[Region] = relationship(foreign_keys=[county_id])
    city: Mapped[Region] = relationship(foreign_keys=[city_id])
    service_areas: Mapped[list["ProviderServiceArea"]] = relationship(
        back_populates="provider", cascade="all, delete-orphan", order_by="ProviderServiceArea.county_id")

    @property
    def org_type_label(self):
        return OrgType(self.org_type).label

    @property
    def pending_message(self):
        """What waits for review, in words (None when nothing does)."""
        if not self.pending_changes:
            return None
        names = "、".join(REVIEWED_LABELS[k] for k in REVIEWED_FIELDS if k in self.pending_changes)
        return (f"本机构已列入白名单，{names}的修改已保存为待审变更：须通过变更申报审核、公示并发布后才生效，"
                "此前白名单和准入证明仍显示公布的内容")

    def reviewed_values(self, proposed=False):
        """The reviewed fields as snapshot values; with `proposed`, pending changes replace the published ones."""
        values = {"name": self.name, "org_type": self.org_type.value}
        if proposed:
            values.update({k: v for k, v in (self.pending_changes or {}).items() if k in REVIEWED_FIELDS})
        return values

    @property
    def registration_doc_type(self):
        return REGISTRATION_DOC[self.org_type]

    def __repr__(self):
        return f"<Provider {self.id} {self.name}>"


class ProviderServiceArea(db.Model):
    """A county the provider wants to serve."""

    __tablename__ = "provider_service_area"

    id: Mapped[int] = mapped_column(primary_key=True)
    provider_id: Mapped[int] = mapped_column(ForeignKey("provider.id", ondelete="CASCADE"), nullable=False)
    county_id: Mapped[int] = mapped_column(ForeignKey("region.id"), index=True, nullable=False)

    provider: Mapped[Provider] = relationship(back_populates="service_areas")
    county: Mapped[Region] = relationship(lazy="joined")

    __table_args__ = (UniqueConstraint("provider_id", "county_id"),)

    def __repr__(self):
        return f"<ProviderServiceArea provider={self.provider_id} county={self.county_id}>"


class ProviderDocument(TimestampMixin, db.Model):
    """A qualification document (资质材料). Replacing one adds a new row; the old row keeps
    its content and gets `superseded_at`, so history is never overwritten."""

    __tablename__ = "provider_document"

    id: Mapped[int] = mapped_column(primary_key=True)
    provider_id: Mapped[int] = mapped_column(ForeignKey("provider.id"), nullable=False)
    doc_type: Mapped[DocType] = mapped_column(Enum(DocType, native_enum=False, length=48), nullable=False)
    title: Mapped[str] = mapped_column(String(128), nullable=False, default="")
    number: Mapped[str] = mapped_column(String(64), nullable=False)
    issuer: Mapped[str] = mapped_column(String(128), nullable=False)
    issue_date: Mapped[date] = mapped_column(Date, nullable=False)
    expiry_date: Mapped[date | None] = mapped_column(Date)  # None = permanent
    file_id: Mapped[int] = mapped_column(ForeignKey("stored_file.id"), nullable=False)
    sha256: Mapped[str] = mapped_column(String(64), nullable=False)
    verification_status: Mapped[VerificationStatus] = mapped_column(
        Enum(VerificationStatus, native_enum=False, length=16), nullable=False, default=VerificationStatus.pending)
    verified_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    verified_at: Mapped[datetime | None] = mapped_column(DateTime)
    verification_note: Mapped[str | None] = mapped_column(String(500))
    replaces_id: Mapped[int | None] = mapped_column(ForeignKey("provider_document.id"))
    superseded_at: Mapped[datetime | None] = mapped_column(DateTime)
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))

    provider: Mapped[Provider] = relationship()
    file: Mapped[StoredFile] = relationship(lazy="joined")

    __table_args__ = (
        Index("ix_provider_document_current", "provider_id", "doc_type", "superseded_at"),
        CheckConstraint("expiry_date IS NULL OR expiry_date >= issue_date", name="expiry_after_issue"),
        CheckConstraint("(verification_status = 'pending') = (verified_at IS NULL)", name="verified_has_time"),
    )

    @property
    def doc_type_label(self):
        return DocType(self.doc_type).label

    @property
    def is_current(self):
        return self.superseded_at is None

    def is_valid_on(self, day):
        return self.issue_date <= day and (self.expiry_date is None or self.expiry_date >= day)

    def __repr__(self):
        return f"<ProviderDocument {self.id} {self.doc_type.value} provider={self.provider_id}>"
