from datetime import date

from sqlalchemy import CheckConstraint, Date, Enum, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from registry.core.enums import LabelledEnum
from registry.core.models import TimestampMixin
from registry.extensions import db
from registry.projects.models import Category, Stage
from registry.regions.models import Region


class SchoolType(LabelledEnum):
    primary = "primary", "小学"
    junior = "junior", "初中"
    nine_year = "nine_year", "九年一贯制"


SCHOOL_TYPE_LABELS = SchoolType.labels()
SCHOOL_STAGES = {
    SchoolType.primary: (Stage.lower_primary, Stage.upper_primary),
    SchoolType.junior: (Stage.junior,),
    SchoolType.nine_year: (Stage.lower_primary, Stage.upper_primary, Stage.junior),
}
STAGE_MASK = {SchoolType.primary: 3, SchoolType.junior: 4, SchoolType.nine_year: 7}


class School(TimestampMixin, db.Model):
    __tablename__ = "school"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(128), nullable=False)
    code: Mapped[str] = mapped_column(String(10), unique=True, nullable=False)  # 学校标识码
    county_id: Mapped[int] = mapped_column(ForeignKey("region.id"), index=True, nullable=False)
    city_id: Mapped[int] = mapped_column(ForeignKey("region.id"), index=True, nullable=False)
    school_type: Mapped[SchoolType] = mapped_column(Enum(SchoolType, native_enum=False, length=16), nullable=False)
    address: Mapped[str] = mapped_column(String(255), nullable=False, default="")
    student_count: Mapped[int] = mapped_column(Integer, nullable=False, default=0)

    county: Mapped[Region] = relationship(foreign_keys=[county_id])
    city: Mapped[Region] = relationship(foreign_keys=[city_id])

    __table_args__ = (CheckConstraint("student_count >= 0", name="students_not_negative"),)

    @property
    def stage_mask(self):
        return STAGE_MASK[self.school_type]

    @property
    def type_label(self):
        return SchoolType(self.school_type).label

    def __repr__(self):
        return f"<School {self.code} {self.name}>"


class Term(TimestampMixin, db.Model):
    """A school term (学期), e.g. 2026—2027学年第一学期."""

    __tablename__ = "term"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    starts_on: Mapped[date] = mapped_column(Date, nullable=False)
    ends_on: Mapped[date] = mapped_column(Date, nullable=False)

    __table_args__ = (CheckConstraint("ends_on > starts_on", name="term_range"),)

    def __repr__(self):
        return f"<Term {self.name}>"


class SchoolProject(TimestampMixin, db.Model):
    """One of the school's own after-school projects in a term; the third-party share is counted against these."""

    __tablename__ = "school_project"

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id"), nullable=False)
    term_id: Mapped[int] = mapped_column(ForeignKey("term.id"), nullable=False)
    name: Mapped[str] = mapped_column(String(128), nullable=False)
    category: Mapped[Category] = mapped_column(Enum(Category, native_enum=False, length=32), nullable=False)
    teacher: Mapped[str] = mapped_column(String(64), nullable=False)

    __table_args__ = (UniqueConstraint("school_id", "term_id", "name"),)

    def __repr__(self):
        return f"<SchoolProject {self.name}>"
