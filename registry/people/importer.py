"""Staff import from an Excel (.xlsx) template: validate every row first, then import all or nothing.

Rows are checked with the same PersonIn schema as the form and the API, and created
through people.services.create_person. A file with any bad row imports nobody; the
provider gets every problem as (row number, column, Chinese message). Messages never
repeat the ID number itself. The file is read through core/tabular.py (container checks, header,
rows), as the school import is; this module keeps what is the staff import's own: .xlsx only, its
messages, the flag on an ID number Excel stored as a number, and its row checks.
"""
import io
from dataclasses import dataclass

from marshmallow import ValidationError
from sqlalchemy import select

from registry.audit import services as audit
from registry.core import tabular
from registry.core.errors import ValidationFailed
from registry.extensions import db
from registry.people import services
from registry.people.models import GENDER_LABELS, STAFF_ROLE_LABELS, Person
from registry.people.schemas import PersonIn

SHEET_TITLE = "人员名单"
# (field, column header, required)
COLUMNS = [
    tabular.Column("name", "姓名", True, width=14),
    tabular.Column("id_number", "身份证号", True, width=24, text=True),
    tabular.Column("gender", "性别", True, width=8),
    tabular.Column("phone", "手机号", True, width=16, text=True),
    tabular.Column("staff_role", "岗位", True, width=12),
    tabular.Column("specialties", "专长", False, width=36),
]
HEADER_OF = {c.field: c.header for c in COLUMNS}
GENDER_VALUES = {label: g.value for g, label in GENDER_LABELS.items()}
ROLE_VALUES = {label: r.value for r, label in STAFF_ROLE_LABELS.items()}
MAX_ROWS = 2000
NOT_XLSX = "文件不是有效的 Excel .xlsx 文件（按文件内容识别）。请下载模板填写，并以 .xlsx 格式保存后上传"


@dataclass
class RowProblem:
    row: int  # the Excel row number (the header is row 1)
    field: str  # schema field name; "" for a problem with the whole row
    message: str

    @property
    def column(self):
        return HEADER_OF.get(self.field, "—")


class ImportRejected(ValidationFailed):
    """At least one row is wrong; nothing was imported. `problems` lists every one."""

    code = "import_rejected"

    def __init__(self, problems):
        self.problems = problems
        errors = {}
        for p in problems:
            errors.setdefault(f"row{p.row}.{p.field or '_row'}", []).append(p.message)
        super().__init__(errors, message=f"导入文件中有 {len(problems)} 处错误，未导入任何人员")


# ---------------------------------------------------------------- template

def build_template():
    """The downloadable .xlsx: a data sheet with Chinese headers and a sheet of instructions."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.worksheet.datavalidation import DataValidation

    wb = Workbook()
    ws = wb.active
    ws.title = SHEET_TITLE
    header_fill = PatternFill("solid", fgColor="FDECEC")
    for col, column in enumerate(COLUMNS, start=1):
        cell = ws.cell(row=1, column=col, value=column.header)
        cell.font = Font(bold=True, color="B3261E" if column.required else "1F2328")
        cell.fill = header_fill
        cell.alignment = Alignment(horizontal="center")
        letter = cell.column_letter
        ws.column_dimensions[letter].width = column.width
        if column.text:
            # Text format, so Excel keeps all 18 digits (a number would lose the last ones).
            for row in range(2, MAX_ROWS + 2):
                ws.cell(row=row, column=col).number_format = "@"
    ws.freeze_panes = "A2"
    last = MAX_ROWS + 1
    for field, values, title in (("gender", GENDER_VALUES, "性别"), ("staff_role", ROLE_VALUES, "岗位")):
        letter = ws.cell(row=1, column=_col(field)).column_letter
        rule = DataValidation(type="list", formula1='"' + ",".join(values) + '"', allow_blank=True,
                              showErrorMessage=True, errorTitle=f"{title}取值无效",
                              error=f"{title}只能填写：" + "、".join(values))
        rule.add(f"{letter}2:{letter}{last}")
        ws.add_data_validation(rule)

    notes = wb.create_sheet("填写说明")
    notes.column_dimensions["A"].width = 14
    notes.column_dimensions["B"].width = 80
    lines = [
        ("填写说明", ""),
        ("", f"在“{SHEET_TITLE}”工作表中每行填写一名人员，第 1 行为表头，请勿修改或删除表头。"),
        ("", f"每个文件最多 {MAX_ROWS} 行。文件中任何一行有错误时，整个文件都不会导入，页面会列出出错的行号和列。"),
        ("", "导入后请在每位人员的详情页补充查询记录、资格证书和本人签署的授权同意书。"),
        ("列", "要求"),
        ("姓名", "必填，最多 64 个字符"),
        ("身份证号", "必填，18 位居民身份证号码（末位可为 X）；本列已设为文本格式，请勿改为数字格式"),
        ("性别", "必填，只能填写：" + "、".join(GENDER_VALUES)),
        ("手机号", "必填，11 位手机号码，如 13900000000；或带区号的固定电话，如 0791-86000000"),
        ("岗位", "必填，只能填写：" + "、".join(ROLE_VALUES)),
        ("专长", "选填，如 跳绳、围棋、书法，多项用顿号分隔，最多 255 个字符"),
        ("示例", "王老师 | 360102199003071236 | 女 | 13900000000 | 授课教师 | 花样跳绳、啦啦操"),
    ]
    for r, (a, b) in enumerate(lines, start=1):
        notes.cell(row=r, column=1, value=a or None)
        notes.cell(row=r, column=2, value=b or None)
    for r in (1, 5):
        for c in (1, 2):
            notes.cell(row=r, column=c).font = Font(bold=True)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _col(field):
    return [c.field for c in COLUMNS].index(field) + 1


# ---------------------------------------------------------------- reading
# Through core/tabular.py (the container checks, the header and the rows), with the messages of an .xlsx-only
# upload and one rule of its own: an ID number Excel stored as a number has lost digits and is flagged.

def _cell_text(value, field):
    if isinstance(value, float) and field == "id_number":
        return _NumericId()
    return tabular.cell_text(value)


class _NumericId(str):
    """An ID number Excel stored as a number (it has lost its last digits)."""


def read_rows(data):
    """Return [(row_number, {field: text})] for the non-empty data rows; refuse files that are not usable."""
    if not data:
        raise tabular.file_error("请选择要上传的 Excel 文件")
    if not data.startswith(tabular.XLSX_MAGIC):
        raise tabular.file_error(NOT_XLSX)
    header, rows = tabular.xlsx_rows(data, SHEET_TITLE, NOT_XLSX)
    if header is None:
        raise tabular.file_error("文件是空的：第 1 行应为表头（姓名、身份证号、性别、手机号、岗位、专长）")
    out = tabular.data_rows(rows, tabular.header_positions(header, COLUMNS), max_rows=MAX_ROWS,
                            too_many=f"每个文件最多导入 {MAX_ROWS} 名人员，请拆分后分批导入", cell=_cell_text)
    if not out:
        raise tabular.file_error("文件中没有人员数据：请从第 2 行开始填写")
    return out


# ---------------------------------------------------------------- validating and importing

def validate_rows(provider, rows):
    """Check every row; returns (problems, clean rows as [(row_number, data)])."""
    schema = PersonIn()
    problems, clean = [], []
    seen = {}  # normalised ID number -> first row it appeared on
    for number, cells in rows:
        if isinstance(cells.get("id_number"), _NumericId):
            problems.append(RowProblem(number, "id_number",
                                       "身份证号被 Excel 存成了数字，末几位已经丢失：请把该列设为文本格式后重新填写"))
            cells = {**cells, "id_number": ""}
            numeric_id = True
        else:
            numeric_id = False
        data = {f: v for f, v in cells.items() if v != ""}
        if "gender" in data:
            data["gender"] = GENDER_VALUES.get(data["gender"], data["gender"])
        if "staff_role" in data:
            data["staff_role"] = ROLE_VALUES.get(data["staff_role"], data["staff_role"])
        try:
            loaded = schema.load(data)
        except ValidationError as exc:
            for field, messages in exc.messages.items():
                if numeric_id and field == "id_number":
                    continue
                for message in (messages if isinstance(messages, list) else [str(messages)]):
                    problems.append(RowProblem(number, field, message))
            loaded = None
        number_ok = _normalised(data.get("id_number"))
        if number_ok:
            if number_ok in seen:
                problems.append(RowProblem(number, "id_number", f"与第 {seen[number_ok]} 行的身份证号码重复"))
            else:
                seen[number_ok] = number
        if loaded is not None:
            loaded["id_number"] = number_ok
            clean.append((number, loaded))
    # One query for all the file's people already registered with this provider.
    if seen:
        indexes = {services.id_blind_index(n): row for n, row in seen.items()}
        existing = db.session.scalars(
            select(Person.id_bidx).where(Person.provider_id == provider.id, Person.id_bidx.in_(list(indexes)))
        ).all()
        for bidx in existing:
            problems.append(RowProblem(indexes[bidx], "id_number", "本机构已登记过该身份证号码的人员"))
        # Banned anywhere (a ban row, or an adverse check at any provider): refused at once, naming no provider.
        for bidx in services.banned_indexes(set(indexes) - set(existing)):
            problems.append(RowProblem(indexes[bidx], "id_number", services.BANNED_MESSAGE))
    problems.sort(key=lambda p: (p.row, _col(p.field) if p.field in HEADER_OF else 99))
    return problems, clean


def _normalised(value):
    if not value:
        return None
    try:
        return services.validate_id_number(value)
    except ValidationFailed:
        return None


def import_people(provider, *, actor, data):
    """Validate the whole file, then create everyone in one savepoint. Raises ImportRejected listing every problem."""
    rows = read_rows(data)
    problems, clean = validate_rows(provider, rows)
    if problems:
        raise ImportRejected(problems)
    created = []
    with db.session.begin_nested():
        for _number, fields in clean:
            created.append(services.create_person(provider, actor=actor, **fields))
        audit.record("person.import", object_type="provider", object_id=provider.id, actor=actor,
                     details={"rows": len(created)})
    return created
