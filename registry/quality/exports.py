"""The standings as XLSX, for a county or a city: one row per provider, project and term."""
import io
from urllib.parse import quote

from flask import current_app

HEADERS = [("学期", 22), ("机构", 30), ("服务项目", 24), ("家长问卷份数", 12), ("家长满意率", 11), ("学校评价份数", 12),
           ("学校满意率", 11), ("家长权重", 9), ("合成满意率", 11), ("未到岗率", 9), ("反映额外收费", 12),
           ("反映非自愿", 11), ("评估结果", 16), ("处理", 8)]
OUTCOMES = {"warning": "警告", "delisting": "移出", None: ""}


def _percent(value):
    return None if value is None else float(value)


def row(s):
    return [s.term.name, s.provider.name, s.project.title, s.parent_responses, _percent(s.parent_rate),
            s.school_responses, _percent(s.school_rate), float(s.parent_weight), _percent(s.rate),
            _percent(s.no_show_rate), s.extra_fee_count, s.not_voluntary_count, s.level.label, OUTCOMES[s.outcome]]


def to_xlsx(standings, title):
    from openpyxl import Workbook
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    book = Workbook()
    sheet = book.active
    sheet.title = "质量评估"
    sheet.append([title])
    sheet.append([name for name, _width in HEADERS])
    for cell in sheet[2]:
        cell.font = Font(bold=True)
    for s in standings:
        sheet.append([ILLEGAL_CHARACTERS_RE.sub("", v) if isinstance(v, str) else v for v in row(s)])
    for column in sheet.iter_cols(min_row=3):
        for cell in column:
            if cell.data_type == "f":
                cell.data_type = "s"  # a name starting with "=" stays text
            if cell.column in (5, 7, 9, 10) and cell.value is not None:
                cell.number_format = "0.0%"
    for index, (_name, width) in enumerate(HEADERS, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.freeze_panes = "A3"
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()


def response(data, region_name, day):
    filename = f"课后服务质量评估-{region_name}-{day.isoformat()}.xlsx"
    resp = current_app.response_class(
        data, mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    resp.headers["Content-Disposition"] = (f"attachment; filename=standings-{day.isoformat()}.xlsx; "
                                           f"filename*=UTF-8''{quote(filename)}")
    return resp
