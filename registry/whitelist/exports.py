"""Exports of the public whitelist: CSV (UTF-8 with BOM, so Excel reads Chinese), XLSX and JSON.

Same rows, same columns, same filters as /whitelist. Text that a provider typed could start with
"=", "+", "-" or "@"; spreadsheet programs would run it as a formula (CSV injection), so such cells
are written as plain text.
"""
import csv
import io
from urllib.parse import quote

from flask import current_app, json

from registry.core import clock
from registry.whitelist.models import ENTRY_STATUS_LABELS
from registry.whitelist.queries import county_names
from registry.whitelist.schemas import WhitelistEntryOut

COLUMNS = [
    ("城市", 10), ("覆盖区县", 22), ("机构名称", 34), ("统一社会信用代码", 22), ("机构类型", 14),
    ("服务项目", 24), ("活动类别", 12), ("适用学段", 30), ("层次", 12), ("价格（元/人·课时）", 16),
    ("每次时长（分钟）", 14), ("每学期次数", 10),  # issue 15: the session next to the price
    ("有效期起", 12), ("有效期至", 12), ("批次", 26), ("状态", 8),
]
HEADERS = [name for name, _width in COLUMNS]
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def row(entry):
    project, provider, batch = entry.project, entry.provider, entry.batch
    return [
        batch.city.name,
        "、".join(county_names(entry)),
        provider.name,
        provider.uscc,
        provider.org_type_label,
        project.title,
        project.category_label,
        "、".join(project.stage_labels),
        project.level_label,
        f"{project.price:.2f}",
        str(project.minutes_per_session),
        str(project.sessions_per_term),
        entry.valid_from.isoformat(),
        entry.valid_until.isoformat(),
        f"{batch.issuer}{batch.name}",
        ENTRY_STATUS_LABELS[entry.effective_status(clock.today()).value],
    ]


def _plain(value):
    return "'" + value if isinstance(value, str) and value.startswith(FORMULA_START) else value


def to_csv(entries):
    buf = io.StringIO()
    buf.write("\ufeff")
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(HEADERS)
    for entry in entries:
        writer.writerow([_plain(v) for v in row(entry)])
    return buf.getvalue().encode("utf-8")


def to_xlsx(entries, title="白名单"):
    from openpyxl import Workbook
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    book = Workbook()
    sheet = book.active
    sheet.title = title
    sheet.append(HEADERS)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for entry in entries:
        sheet.append([ILLEGAL_CHARACTERS_RE.sub("", v) for v in row(entry)])
    for column in sheet.iter_cols(min_row=2):
        for cell in column:
            if cell.data_type == "f":
                cell.data_type = "s"  # text that starts with "=" stays text, never a formula
    for index, (_name, width) in enumerate(COLUMNS, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.freeze_panes = "A2"
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()


def to_json(entries, day):
    body = {"generated_on": day.isoformat(), "total": len(entries), "items": WhitelistEntryOut(many=True).dump(entries)}
    return json.dumps(body, ensure_ascii=False).encode("utf-8")


MIMETYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "json": "application/json; charset=utf-8",
}


def response(data, fmt, day):
    filename = f"课后服务白名单-{day.isoformat()}.{fmt}"
    resp = current_app.response_class(data, mimetype=MIMETYPES[fmt])
    resp.headers["Content-Disposition"] = (f"attachment; filename=whitelist-{day.isoformat()}.{fmt}; "
                                           f"filename*=UTF-8''{quote(filename)}")
    return resp


# ---------------------------------------------------------------- the change feed (issue 19)

CHANGE_COLUMNS = [("日期", 12), ("变更", 10), ("城市", 10), ("机构", 34), ("统一社会信用代码", 22), ("服务项目", 24),
                  ("原因类别", 16)]
MAX_CHANGES = 20000


def change_rows(items):
    for c in items:
        entry = c.entry
        yield [c.happened_on.isoformat(), c.kind_label, entry.batch.city.name, entry.provider.name,
               entry.provider.uscc, entry.project.title, c.reason_category or ""]
