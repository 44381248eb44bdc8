"""Loading administrative divisions."""
import csv
import io
from importlib import resources

from sqlalchemy import select

from registry.core.errors import ValidationFailed
from registry.extensions import db
from registry.regions.models import Region, RegionLevel

# 赣江新区 is a national-level new area without a GB/T 2260 code. Its internal codes
# contain a letter, so they can never collide with an official (all-digit) code.
GANJIANG_NEW_AREA = [
    ("36X100", "赣江新区", "city", "360000"),
    ("36X101", "赣江新区儒乐湖新城", "county", "36X100"),
    ("36X102", "赣江新区中医药科创城", "county", "36X100"),
    ("36X103", "赣江新区临空组团", "county", "36X100"),
    ("36X104", "赣江新区永修组团", "county", "36X100"),
]

PARENT_LEVEL = {"city": "province", "county": "city"}


def _parse_rows(text):
    reader = csv.DictReader(io.StringIO(text))
    missing = {"code", "name", "level", "parent_code"} - set(reader.fieldnames or [])
    if missing:
        raise ValidationFailed({"file": [f"缺少列：{'、'.join(sorted(missing))}"]})
    rows, errors = [], {}
    for lineno, row in enumerate(reader, start=2):
        code, name = (row["code"] or "").strip(), (row["name"] or "").strip()
        level, parent = (row["level"] or "").strip(), (row["parent_code"] or "").strip() or None
        if not code or not name:
            errors[f"第{lineno}行"] = ["代码和名称不能为空"]
        elif level not in RegionLevel.__members__:
            errors[f"第{lineno}行"] = [f"级别“{level}”无效，应为 province、city 或 county"]
        elif (level == "province") != (parent is None):
            errors[f"第{lineno}行"] = ["只有省级区划没有上级代码"]
        else:
            rows.append((code, name, level, parent))
    if errors:
        raise ValidationFailed(errors)
    return rows


def import_regions(text):
    """Upsert divisions from CSV text (code,name,level,parent_code). Returns (created, updated)."""
    rows = _parse_rows(text)
    existing = {r.code: r for r in db.session.scalars(select(Region))}
    created = updated = 0
    # Parents first: provinces, then cities, then counties.
    order = {"province": 0, "city": 1, "county": 2}
    for code, name, level, parent_code in sorted(rows, key=lambda r: order[r[2]]):
        parent = None
        if parent_code:
            parent = existing.get(parent_code)
            if parent is None:
                raise ValidationFailed({"parent_code": [f"区划 {code} 的上级代码 {parent_code} 不存在"]})
            if parent.level.value != PARENT_LEVEL[level]:
                raise ValidationFailed({"parent_code": [f"区划 {code} 的上级 {parent_code} 级别不符"]})
        region = existing.get(code)
        if region is None:
            region = Region(code=code, name=name, level=RegionLevel(level), parent=parent)
            db.session.add(region)
            existing[code] = region
            created += 1
        elif (region.name, region.level.value, region.parent) != (name, level, parent):
            region.name, region.level, region.parent = name, RegionLevel(level), parent
            updated += 1
    db.session.flush()
    return created, updated


def seed_jiangxi():
    """Load Jiangxi's divisions shipped with the package, plus 赣江新区. Safe to run again."""
    text = resources.files("registry.regions").joinpath("data/jiangxi-divisions.csv").read_text(encoding="utf-8")
    extra = "".join(f"{c},{n},{lvl},{p}\n" for c, n, lvl, p in GANJIANG_NEW_AREA)
    return import_regions(text + extra)


def get_by_code(code):
    return db.session.scalar(select(Region).where(Region.code == code))


def cities():
    return db.session.scalars(
        select(Region).where(Region.level == RegionLevel.city).order_by(Region.code)
    ).all()


def counties_of(city_id):
    return db.session.scalars(
        select(Region).where(Region.parent_id == city_id, Region.level == RegionLevel.county).order_by(Region.code)
    ).all()
