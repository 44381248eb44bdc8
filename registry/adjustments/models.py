from datetime import date, datetime

from sqlalchemy import JSON, Date, DateTime, Enum, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from registry.core.enums import LabelledEnum
from registry.core.models import TimestampMixin
from registry.extensions import db
from registry.providers.models import Provider


class ActionKind(LabelledEnum):
    warning = "warning", "警告"
    suspension = "suspension", "暂停"
    lift = "lift", "解除暂停"
    delisting = "delisting", "移出"
    ban = "ban", "禁入"
    reinstatement = "reinstatement", "恢复"
    expiry = "expiry", "到期失效"
    referral = "referral", "移交核查"


ACTION_LABELS = ActionKind.value_labels()


class ReasonCategory(LabelledEnum):
    document_expired = "document_expired", "资质材料过期"
    staff_not_cleared = "staff_not_cleared", "无合格从业人员"
    adverse_check = "adverse_check", "人员违法犯罪信息查询异常"
    low_satisfaction = "low_satisfaction", "满意度不达标"
    safety_incident = "safety_incident", "发生安全事故"
    illegal_fees = "illegal_fees", "违规收费"
    new_lessons = "new_lessons", "讲授新课或学科培训"
    selling = "selling", "推销或变相营销"
    forced_participation = "forced_participation", "强制学生参加"
    validity_ended = "validity_ended", "有效期届满未年审"
    other = "other", "其他"


REASON_LABELS = ReasonCategory.value_labels()


class ProviderAction(TimestampMixin, db.Model):
    """A dynamic-adjustment action (动态调整) on a provider, manual or by a named automatic rule,
    with the evidence that triggered it. Providers see these with their reasons."""

    __tablename__ = "provider_action"

    id: Mapped[int] = mapped_column(primary_key=True)
    provider_id: Mapped[int] = mapped_column(ForeignKey("provider.id"), index=True, nullable=False)
    entry_id: Mapped[int | None] = mapped_column(ForeignKey("whitelist_entry.id"))
    kind: Mapped[ActionKind] = mapped_column(Enum(ActionKind, native_enum=False, length=16), nullable=False)
    reason_category: Mapped[ReasonCategory] = mapped_column(Enum(ReasonCategory, native_enum=False, length=32),
                                                            nullable=False)
    reason: Mapped[str] = mapped_column(Text, nullable=False, default="")
    effective_on: Mapped[date] = mapped_column(Date, nullable=False)
    lift_on: Mapped[date | None] = mapped_column(Date)      # a suspension that lifts itself
    ends_on: Mapped[date | None] = mapped_column(Date)      # the end of a ban
    rule: Mapped[str | None] = mapped_column(String(64))    # automatic rule name; None = manual
    evidence: Mapped[dict] = mapped_column(JSON, nullable=False, default=dict)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    dedupe_key: Mapped[str | None] = mapped_column(String(128), unique=True)
    lifted_at: Mapped[datetime | None] = mapped_column(DateTime)

    provider: Mapped[Provider] = relationship()

    __table_args__ = (Index("ix_provider_action_kind", "provider_id", "kind"),)

    @property
    def kind_label(self):
        return self.kind.label

    @property
    def reason_label(self):
        return self.reason_category.label

    def __repr__(self):
        return f"<ProviderAction {self.kind.value} provider={self.provider_id}>"
