from datetime import datetime
from decimal import Decimal

from sqlalchemy import DateTime, ForeignKey, Numeric, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from registry.core import clock
from registry.extensions import db
from registry.regions.models import Region


class CityPolicy(db.Model):
    """Per-city policy numbers (docs/domain.md "Per-city numbers": every policy number is per-city configuration).

    A city without a row uses the defaults below.
    """

    __tablename__ = "city_policy"

    id: Mapped[int] = mapped_column(primary_key=True)
    city_id: Mapped[int] = mapped_column(ForeignKey("region.id"), unique=True, nullable=False)
    price_cap: Mapped[Decimal] = mapped_column(Numeric(8, 2), nullable=False, default=Decimal("5.00"))
    county_review_required: Mapped[bool] = mapped_column(nullable=False, default=True)
    publicity_working_days: Mapped[int] = mapped_column(nullable=False, default=5)
    check_max_age_days: Mapped[int] = mapped_column(nullable=False, default=365)
    health_validity_days: Mapped[int] = mapped_column(nullable=False, default=365)
    referral_working_days: Mapped[int] = mapped_column(nullable=False, default=10)
    validity_end_month: Mapped[int] = mapped_column(nullable=False, default=8)
    validity_end_day: Mapped[int] = mapped_column(nullable=False, default=31)
    renewal_window_days: Mapped[int] = mapped_column(nullable=False, default=60)
    third_party_share_max: Mapped[Decimal] = mapped_column(Numeric(4, 3), nullable=False, default=Decimal("0.300"))
    satisfaction_threshold: Mapped[Decimal] = mapped_column(Numeric(4, 3), nullable=False, default=Decimal("0.800"))
    satisfaction_min_evaluations: Mapped[int] = mapped_column(nullable=False, default=10)
    ban_years: Mapped[int] = mapped_column(nullable=False, default=3)
    # issue 18: supervision (the responsible inspector's visits to each assigned school per teaching month)
    visits_per_month: Mapped[int] = mapped_column(nullable=False, default=1)
    # issue 17: complaints and appeals (working days, 12345 practice)
    complaint_ack_working_days: Mapped[int] = mapped_column(nullable=False, default=1)
    complaint_resolve_working_days: Mapped[int] = mapped_column(nullable=False, default=13)
    complaint_extension_working_days: Mapped[int] = mapped_column(nullable=False, default=13)
    complaint_response_working_days: Mapped[int] = mapped_column(nullable=False, default=5)
    complaint_remind_working_days: Mapped[int] = mapped_column(nullable=False, default=2)
    complaint_rating_working_days: Mapped[int] = mapped_column(nullable=False, default=10)
    appeal_working_days: Mapped[int] = mapped_column(nullable=False, default=10)
    # issue 16: quality. The parents' share of the combined satisfaction rate (schools get the rest).
    satisfaction_parent_weight: Mapped[Decimal] = mapped_column(Numeric(4, 3), nullable=False,
                                                                default=Decimal("0.700"))
    # issue 19: public-notice conventions (the 公示 page, its notice PDF and the announcement); "" = not set
    notice_contact: Mapped[str] = mapped_column(String(64), nullable=False, default="", server_default="")
    notice_phone: Mapped[str] = mapped_column(String(32), nullable=False, default="", server_default="")
    objection_address: Mapped[str] = mapped_column(String(255), nullable=False, default="", server_default="")
    supervision_phone: Mapped[str] = mapped_column(String(32), nullable=False, default="", server_default="")
    doc_number_pattern: Mapped[str] = mapped_column(String(64), nullable=False, default="", server_default="")
    # issue 15: schedules (after-school window, 1+N, filing deadline, class-hour length per stage)
    after_school_end_earliest: Mapped[int] = mapped_column(nullable=False, default=1050)  # minutes: 17:30
    n_share_min: Mapped[Decimal] = mapped_column(Numeric(4, 3), nullable=False, default=Decimal("0.500"))
    science_per_week: Mapped[int] = mapped_column(nullable=False, default=1)
    filing_deadline_days: Mapped[int] = mapped_column(nullable=False, default=30)
    class_minutes_primary: Mapped[int] = mapped_column(nullable=False, default=40)
    class_minutes_junior: Mapped[int] = mapped_column(nullable=False, default=45)
    # issue 14: passes (the gate's time window around a session; how long a pass photo outlives the last pass)
    gate_window_minutes: Mapped[int] = mapped_column(nullable=False, default=60)
    pass_photo_retention_months: Mapped[int] = mapped_column(nullable=False, default=6)
    updated_at: Mapped[datetime] = mapped_column(DateTime, nullable=False, default=clock.utcnow, onupdate=clock.utcnow)

    city: Mapped[Region] = relationship()

    def __repr__(self):
        return f"<CityPolicy city={self.city_id} cap={self.price_cap}>"
