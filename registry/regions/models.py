from sqlalchemy import CheckConstraint, Enum, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from registry.core.enums import LabelledEnum
from registry.extensions import db


class RegionLevel(LabelledEnum):
    province = "province", "省"
    city = "city", "设区市"
    county = "county", "县（市、区）"


LEVEL_LABELS = RegionLevel.labels()


class Region(db.Model):
    """A GB/T 2260 division. 赣江新区 has no official code and uses an internal one containing a letter."""

    __tablename__ = "region"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(12), unique=True, nullable=False)
    name: Mapped[str] = mapped_column(String(64), nullable=False)
    level: Mapped[RegionLevel] = mapped_column(Enum(RegionLevel, native_enum=False, length=16), nullable=False)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("region.id"), index=True)

    parent: Mapped["Region | None"] = relationship(remote_side=[id], back_populates="children")
    children: Mapped[list["Region"]] = relationship(back_populates="parent", order_by="Region.code")

    __table_args__ = (
        CheckConstraint("(level = 'province') = (parent_id IS NULL)", name="root_is_province"),
    )

    def __repr__(self):
        return f"<Region {self.code} {self.name}>"

    @property
    def city(self):
        """The city-level region this one belongs to (itself for a city)."""
        if self.level == RegionLevel.city:
            return self
        if self.level == RegionLevel.county:
            return self.parent
        return None

    @property
    def full_name(self):
        """A county with its city's name in front, once: 南昌市红谷滩区, but 赣江新区儒乐湖新城 (its name
        already carries the new area's) rather than 赣江新区赣江新区儒乐湖新城. A city or province: its name."""
        parent = self.parent
        if self.level != RegionLevel.county or parent is None or self.name.startswith(parent.name):
            return self.name
        return parent.name + self.name

    def covers(self, other):
        """True when `other` is this region or lies inside it."""
        node = other
        while node is not None:
            if node.id == self.id:
                return True
            node = node.parent
        return False
