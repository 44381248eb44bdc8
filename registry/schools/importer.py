"""School import from CSV or Excel: validate every row first, then import all or nothing.

Rows are loaded with the same SchoolIn schema as the form and the API and created through
schools.services.create_school. A file with any bad row imports no school; the page (or the JSON
answer) lists every problem with its row number and column.
"""
from marshmallow import ValidationError
from sqlalchemy import select

from registry.audit import services as audit
from registry.auth.roles import Role
from registry.core import tabular
from registry.extensions import db
from registry.regions.models import Region, RegionLevel
from registry.schools import services
from registry.schools.models import SCHOOL_TYPE_LABELS, School
from registry.schools.schemas import SCHOOL_TYPE_VALUES, SchoolIn

SHEET = "学校名单"
MAX_ROWS = 2000
TYPE_NAMES = tuple(SCHOOL_TYPE_LABELS.values())
COLUMNS = [
    tabular.Column("name", "学校名称", True, "最多 128 个字符，如 南昌市红谷滩区凤凰城小学", width=34),
    tabular.Column("code", "学校标识码", True,
                   "10 位数字（教育部学校标识码），不能与已登记的学校重复；本列已设为文本格式",
                   width=16, text=True),
    tabular.Column("county", "区县", True, "6 位行政区划代码（如 360113）或区县全称（如 红谷滩区）", width=14,
                   text=True),
    tabular.Column("school_type", "学段", True, "只能填写：" + "、".join(TYPE_NAMES), width=12, choices=TYPE_NAMES),
    tabular.Column("address", "地址", False, "最多 255 个字符", width=36),
    tabular.Column("student_count", "在校学生数", False, "0 或正整数，不填按 0 登记", width=12),
]
HEADER_OF = {c.field: c.header for c in COLUMNS}
HEADER_OF["county_code"] = HEADER_OF["county"]
TEMPLATE = tabular.Template(
    columns=COLUMNS, sheet=SHEET,
    notes=[f"在“{SHEET}”工作表中每行填写一所学校，第 1 行为表头，请勿修改或删除表头。"
           "也可以上传同样表头的 CSV 文件（UTF-8 或 GBK 编码）。",
           f"每个文件最多 {MAX_ROWS} 行。文件中任何一行有错误时，整个文件都不会导入，页面会列出出错的行号和列。",
           "县（市、区）教育局审核员只能导入本辖区的学校。"],
    example=["南昌市红谷滩区凤凰城小学", "3601130001", "360113", "小学", "红谷滩区凤凰中大道 100 号", 1500],
)


def build_template(fmt="xlsx"):
    return tabular.build_csv(TEMPLATE) if fmt == "csv" else tabular.build_xlsx(TEMPLATE, MAX_ROWS)


def _counties():
    """Every county once, by code and by name (names that occur twice are ambiguous)."""
    by_code, by_name = {}, {}
    for county in db.session.scalars(select(Region).where(Region.level == RegionLevel.county)):
        by_code[county.code] = county
        by_name.setdefault(county.name, []).append(county)
    return by_code, by_name


def validate_rows(actor, rows):
    """Check every row; returns (problems, clean rows as [(row_number, data)])."""
    schema = SchoolIn()
    by_code, by_name = _counties()
    problems, clean, seen = [], [], {}
    for number, cells in rows:
        data = {f: v for f, v in cells.items() if v != ""}
        county_text = data.pop("county", None)
        if county_text:
            county = by_code.get(county_text.upper())
            candidates = by_name.get(county_text, [])
            if county is None and len(candidates) == 1:
                county = candidates[0]
            if county is None:
                message = (f"区县“{county_text}”有重名，请填写 6 位行政区划代码" if len(candidates) > 1
                           else f"区县“{county_text}”不存在：请填写 6 位行政区划代码或区县全称")
                problems.append(tabular.RowProblem(number, HEADER_OF["county"], message))
            elif actor.role == Role.county_reviewer and county.id != actor.region_id:
                problems.append(tabular.RowProblem(number, HEADER_OF["county"],
                                                   f"{county.name}不在本辖区（{actor.region.name}）内"))
            else:
                data["county_code"] = county.code
        if "school_type" in data:
            data["school_type"] = SCHOOL_TYPE_VALUES.get(data["school_type"], data["school_type"])
        try:
            loaded = schema.load(data)
        except ValidationError as exc:
            for name, messages in exc.messages.items():
                if name == "county_code" and county_text:
                    continue  # already reported above
                for message in (messages if isinstance(messages, list) else [str(messages)]):
                    problems.append(tabular.RowProblem(number, HEADER_OF.get(name, "—"), message))
            loaded = None
        code = cells.get("code")
        if code:
            if code in seen:
                problems.append(tabular.RowProblem(number, HEADER_OF["code"], f"与第 {seen[code]} 行的学校标识码重复"))
            else:
                seen[code] = number
        if loaded is not None:
            clean.append((number, loaded))
    if seen:  # one query for every code of the file that is registered already
        for code, name in db.session.execute(select(School.code, School.name).where(School.code.in_(list(seen)))):
            problems.append(tabular.RowProblem(seen[code], HEADER_OF["code"], f"学校标识码 {code} 已被“{name}”使用"))
    problems.sort(key=lambda p: p.row)
    return problems, clean


def import_schools(*, actor, data):
    """Validate the whole file, then create every school in one savepoint. Raises ImportRejected listing every
    problem."""
    services.require_manager(actor)
    rows = tabular.read_table(data, COLUMNS, sheet=SHEET, max_rows=MAX_ROWS, noun="学校")
    problems, clean = validate_rows(actor, rows)
    if problems:
        raise tabular.ImportRejected(problems, noun="学校")
    created = []
    with db.session.begin_nested():
        for _number, fields in clean:
            created.append(services.create_school(actor=actor, **fields))
        audit.record("school.import", object_type="region", object_id=actor.region_id, actor=actor,
                     details={"rows": len(created)})
    return created

