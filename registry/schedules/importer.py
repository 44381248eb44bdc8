"""The schedule in Excel (issue 15, item 4): the template to download, the all-or-nothing import of a
revision's rows and the export of a filed revision in the same columns (so an export can be imported again).

Rows are read through core/tabular.py and loaded with the same ScheduleRowIn schema as the form and the API; any bad
cell stops the whole file with every problem named by row and column. Policy problems (1+N, science, …) do not
stop an import: the editor shows them, and they stop filing.
"""
import io

from marshmallow import ValidationError

from registry.core import tabular
from registry.core.errors import ValidationFailed
from registry.extensions import db
from registry.projects.models import Category
from registry.schedules import services
from registry.schedules.models import RowKind, RowSource
from registry.schedules.schemas import ScheduleRowIn
from registry.schedules.validation import WEEKDAYS, hhmm

SHEET = "课后服务安排表"
MAX_ROWS = 1000
KINDS = {"1": "one", "N": "n", "n": "n", **{k.label: k.value for k in RowKind}}
KIND_OUT = {"one": "1", "n": "N"}
SOURCES = {s.label: s.value for s in RowSource}
CATEGORIES = {c.label: c.value for c in Category}
COLUMNS = [
    tabular.Column("grades", "年级", True, "一个年级填 3；几个年级合为一组填 1-2", width=10, text=True),
    tabular.Column("class_name", "班级", False, "按班安排时填写，如 （2）班；整个年级组不填", width=12),
    tabular.Column("weekday", "星期", True, "周一至周五", width=8, choices=tuple(WEEKDAYS)),
    tabular.Column("starts_at", "开始时间", True, "HH:MM，如 16:00；本列已设为文本格式", width=10, text=True),
    tabular.Column("ends_at", "结束时间", True, "HH:MM，如 16:40", width=10, text=True),
    tabular.Column("kind", "类型", True, "1（作业辅导）或 N（拓展活动）", width=8, choices=("1", "N")),
    tabular.Column("category", "活动类别", False, "N 类必填：" + "、".join(CATEGORIES), width=14,
                   choices=tuple(CATEGORIES)),
    tabular.Column("source", "内容来源", True, "、".join(SOURCES), width=16, choices=tuple(SOURCES)),
    tabular.Column("content", "内容", False, "如 作业辅导、篮球；本校项目和点单项目不填时用项目名称", width=20),
    tabular.Column("order_id", "点单编号", False, "第三方点单项目必填：订单编号（见“我的点单”）", width=10),
    tabular.Column("person_id", "人员编号", False, "校聘人员活动必填；点单项目填机构指派的授课人员编号", width=10),
    tabular.Column("teacher_name", "授课教师", False, "本校教师姓名", width=12),
    tabular.Column("venue", "地点", True, "如 三（1）班教室、操场", width=16),
    tabular.Column("class_size", "班额", True, "每班人数，1–200", width=8),
]
HEADER_OF = {c.field: c.header for c in COLUMNS}
HEADER_OF.update(grade_from=HEADER_OF["grades"], grade_to=HEADER_OF["grades"],
                 school_project_id=HEADER_OF["content"])
TEMPLATE = tabular.Template(
    columns=COLUMNS, sheet=SHEET,
    notes=[f"在“{SHEET}”工作表中每行填写一个年级组（或班级）某一天的一个时段，第 1 行为表头，请勿修改或删除表头。",
           "1+N：1 为作业辅导，N 为拓展活动（科普/科技、体育、美育、劳动、阅读、社团拓展…）；"
           "每个教学日 N 类时长须不少于当天课后服务时长的 50%，每周至少一次科学教育（以本市政策为准）。",
           f"每个文件最多 {MAX_ROWS} 行。任何一行有错误时整个文件都不会导入，页面会列出出错的行号和列；"
           "导入会替换当前草稿中的全部行。"],
    example=["1-2", "", "周一", "16:00", "16:40", "1", "", "本校项目", "作业辅导", "", "", "王老师", "一（1）班教室",
             45],
)


def build_template():
    return tabular.build_xlsx(TEMPLATE, MAX_ROWS)


def _grades(text):
    parts = [p for p in str(text).replace("—", "-").replace("–", "-").replace("至", "-").split("-") if p.strip()]
    try:
        values = [int(p.strip().rstrip("年级")) for p in parts]
    except ValueError:
        return None
    if len(values) == 1:
        return values[0], values[0]
    if len(values) == 2:
        return values[0], values[1]
    return None


def validate_rows(rows):
    """(problems, [loaded ScheduleRowIn dicts with their line])."""
    schema = ScheduleRowIn()
    problems, clean = [], []
    for number, cells in rows:
        data = {f: v for f, v in cells.items() if v != ""}
        found = []
        grades = data.pop("grades", None)
        if grades is not None:
            pair = _grades(grades)
            if pair is None:
                found.append(tabular.RowProblem(number, HEADER_OF["grades"], f"“{grades}”不是年级，应如 3 或 1-2"))
            else:
                data["grade_from"], data["grade_to"] = pair
        if "weekday" in data:
            if data["weekday"] in WEEKDAYS:
                data["weekday"] = WEEKDAYS.index(data["weekday"])
            else:
                found.append(tabular.RowProblem(number, HEADER_OF["weekday"], "星期只能填写周一至周五"))
                data.pop("weekday")
        for key, mapping in (("kind", KINDS), ("source", SOURCES), ("category", CATEGORIES)):
            if key in data:
                data[key] = mapping.get(data[key], data[key])
        try:
            loaded = schema.load(data)
        except ValidationError as exc:
            for name, messages in exc.messages.items():
                if name in ("grade_from", "grade_to", "weekday") and any(p.column == HEADER_OF[name] for p in found):
                    continue
                for message in (messages if isinstance(messages, list) else [str(messages)]):
                    found.append(tabular.RowProblem(number, HEADER_OF.get(name, "—"), message))
            loaded = None
        problems += found
        if loaded is not None and not found:
            clean.append({**loaded, "line": number})
    return problems, clean


def import_rows(schedule, *, actor, data):
    """Replace the revision's rows with the file's, all or nothing (ImportRejected lists every problem)."""
    services.own_school(actor, schedule.school)
    rows = tabular.read_table(data, COLUMNS, sheet=SHEET, max_rows=MAX_ROWS, noun="安排")
    problems, clean = validate_rows(rows)
    if problems:
        raise tabular.ImportRejected(problems, noun="安排")
    with db.session.begin_nested():
        try:
            services.replace_rows(schedule, clean, actor=actor)
        except ValidationFailed as exc:
            lines = [item["line"] for item in clean]
            mapped = []
            for key, messages in exc.errors.items():
                parts = key.split(".")
                if parts[0] == "rows" and len(parts) == 3:
                    for message in messages:
                        mapped.append(tabular.RowProblem(lines[int(parts[1])], HEADER_OF.get(parts[2], "—"), message))
                else:
                    mapped += [tabular.RowProblem(lines[0] if lines else 1, "—", m) for m in messages]
            raise tabular.ImportRejected(mapped, noun="安排") from exc
    return schedule


def export_xlsx(schedule):
    """The revision in the template's columns, with a title row in the instructions sheet."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    ws = wb.active
    ws.title = SHEET
    for col, column in enumerate(COLUMNS, start=1):
        ws.cell(row=1, column=col, value=column.header).font = Font(bold=True)
        ws.column_dimensions[ws.cell(row=1, column=col).column_letter].width = column.width
    for r, row in enumerate(schedule.rows, start=2):
        grades = str(row.grade_from) if row.grade_from == row.grade_to else f"{row.grade_from}-{row.grade_to}"
        values = [grades, row.class_name, WEEKDAYS[row.weekday], hhmm(row.starts_at), hhmm(row.ends_at),
                  KIND_OUT[RowKind(row.kind).value], row.category.label if row.category else "",
                  RowSource(row.source).label, row.content, row.order_id or "", row.person_id or "", row.teacher_name,
                  row.venue, row.class_size]
        for c, value in enumerate(values, start=1):
            ws.cell(row=r, column=c, value=value)
    info = wb.create_sheet("备案信息")
    for r, (a, b) in enumerate([("学校", schedule.school.name), ("学期", schedule.term.name),
                                ("版本", f"第 {schedule.revision} 版"), ("状态", schedule.status_label),
                                ("报备日期", schedule.submitted_on.isoformat() if schedule.submitted_on else "")],
                               start=1):
        info.cell(row=r, column=1, value=a)
        info.cell(row=r, column=2, value=b)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
