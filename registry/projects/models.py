from datetime import datetime
from decimal import Decimal

from sqlalchemy import (
    JSON,
    CheckConstraint,
    DateTime,
    Enum,
    ForeignKey,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from registry.core.enums import LabelledEnum
from registry.core.models import TimestampMixin
from registry.extensions import db
from registry.people.models import Person, QualificationType
from registry.providers.models import Provider


class Category(LabelledEnum):
    science = "science", "科普/科技"
    sports = "sports", "体育"
    arts = "arts", "美育（艺术）"
    labour = "labour", "劳动"
    reading = "reading", "阅读"
    traditional_culture = "traditional_culture", "传统文化"
    intangible_heritage = "intangible_heritage", "非遗"
    career = "career", "职业体验"
    mental_health = "mental_health", "心理健康"
    clubs = "clubs", "社团拓展"


CATEGORY_LABELS = Category.labels()


class Stage(LabelledEnum):
    lower_primary = "lower_primary", "小学低年级（1–3年级）"
    upper_primary = "upper_primary", "小学高年级（4–6年级）"
    junior = "junior", "初中（7–9年级）"


STAGE_LABELS = Stage.labels()
STAGE_BITS = {Stage.lower_primary: 1, Stage.upper_primary: 2, Stage.junior: 4}


def stages_to_mask(stages):
    mask = 0
    for stage in stages:
        mask |= STAGE_BITS[Stage(stage)]
    return mask


def mask_to_stages(mask):
    return [stage for stage, bit in STAGE_BITS.items() if mask & bit]


class Level(LabelledEnum):
    beginner = "beginner", "零起点入门"
    advanced = "advanced", "提高拓展"


LEVEL_LABELS = Level.labels()

# The fields a reviewer reviewed and the whitelist publishes ("what was reviewed is what runs", see
# registry.core.listing): on a listed project an edit of one of them waits as a pending change.
REVIEWED_FIELDS = ("title", "category", "stages", "price", "required_qualification")
REVIEWED_LABELS = {"title": "项目名称", "category": "活动类别", "stages": "适用学段", "price": "收费标准（元/人·课时）",
                   "required_qualification": "授课人员须持有的资质"}


def money(value):
    """A price as its canonical text ("3.00")."""
    return str(Decimal(str(value)).quantize(Decimal("0.01")))


class Project(TimestampMixin, db.Model):
    """A service project (服务项目). Price is per student per class hour (元/人·课时)."""

    __tablename__ = "project"

    id: Mapped[int] = mapped_column(primary_key=True)
    provider_id: Mapped[int] = mapped_column(ForeignKey("provider.id"), index=True, nullable=False)
    title: Mapped[str] = mapped_column(String(128), nullable=False)
    category: Mapped[Category] = mapped_column(Enum(Category, native_enum=False, length=32), nullable=False)
    stages_mask: Mapped[int] = mapped_column(Integer, nullable=False)
    level: Mapped[Level] = mapped_column(Enum(Level, native_enum=False, length=16), nullable=False)
    description: Mapped[str] = mapped_column(Text, nullable=False)
    syllabus: Mapped[str] = mapped_column(Text, nullable=False, default="")
    sessions_per_term: Mapped[int] = mapped_column(Integer, nullable=False)
    minutes_per_session: Mapped[int] = mapped_column(Integer, nullable=False)
    class_min: Mapped[int] = mapped_column(Integer, nullable=False)
    class_max: Mapped[int] = mapped_column(Integer, nullable=False)
    price: Mapped[Decimal] = mapped_column(Numeric(8, 2), nullable=False)
    venue_needs: Mapped[str] = mapped_column(Text, nullable=False, default="")
    safety_measures: Mapped[str] = mapped_column(Text, nullable=False)
    required_qualification: Mapped[QualificationType] = mapped_column(
        Enum(QualificationType, native_enum=False, length=16), nullable=False)
    archived_at: Mapped[datetime | None] = mapped_column(DateTime)
    # Proposed values of reviewed fields of a listed project, waiting for review and publication:
    # {field: value as in an application snapshot}. The columns above always hold the published values.
    pending_changes: Mapped[dict | None] = mapped_column(JSON)

    provider: Mapped[Provider] = relationship()
    staff: Mapped[list["ProjectStaff"]] = relationship(back_populates="project", cascade="all, delete-orphan")

    __table_args__ = (
        CheckConstraint("stages_mask > 0 AND stages_mask < 8", name="has_stage"),
        CheckConstraint("class_min >= 1 AND class_max >= class_min", name="class_size"),
        CheckConstraint("price >= 0", name="price_not_negative"),
        CheckConstraint("sessions_per_term > 0 AND minutes_per_session > 0", name="positive_schedule"),
    )

    @property
    def stages(self):
        return mask_to_stages(self.stages_mask)

    def reviewed_values(self, proposed=False):
        """The reviewed fields as snapshot values; with `proposed`, pending changes replace the published ones."""
        values = {"title": self.title, "category": self.category.value, "stages": [s.value for s in self.stages],
                  "price": money(self.price), "required_qualification": self.required_qualification.value}
        if proposed:
            values.update({k: v for k, v in (self.pending_changes or {}).items() if k in REVIEWED_FIELDS})
        return values

    @property
    def pending_message(self):
        """What waits for review, in words (None when nothing does)."""
        if not self.pending_changes:
            return None
        names = "、".join(REVIEWED_LABELS[k] for k in REVIEWED_FIELDS if k in self.pending_changes)
        return (f"该项目已列入白名单，{names}的修改已保存为待审变更：须通过变更申报审核、公示并发布后才生效，"
                "此前白名单、准入证明和学校点单仍按公布的内容执行（降价立即生效）")

    @property
    def category_label(self):
        return Category(self.category).label

    @property
    def level_label(self):
        return Level(self.level).label

    @property
    def stage_labels(self):
        return [Stage(s).label for s in self.stages]

    def __repr__(self):
        return f"<Project {self.id} {self.title}>"


class ProjectStaff(db.Model):
    __tablename__ = "project_staff"

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id", ondelete="CASCADE"), nullable=False)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True, nullable=False)

    project: Mapped[Project] = relationship(back_populates="staff")
    person: Mapped[Person] = relationship()

    __table_args__ = (UniqueConstraint("project_id", "person_id"),)

    def __repr__(self):
        return f"<ProjectStaff project={self.project_id} person={self.person_id}>"
