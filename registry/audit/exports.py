"""The audit log as CSV or XLSX (issue 19): the rows the page's filters select, in the page's words."""
from urllib.parse import quote

from flask import current_app

from registry.audit import queries
from registry.core import clock, tabular

MAX_ROWS = 50000
COLUMNS = [("序号", 8), ("时间（北京时间）", 20), ("操作人", 16), ("角色", 18), ("操作", 24), ("操作代码", 22),
           ("对象", 20), ("结果", 8), ("IP", 16), ("详情", 60)]
HEADERS = [name for name, _width in COLUMNS]


def row(log):
    return [log.seq, clock.to_cst(log.created_at).strftime("%Y-%m-%d %H:%M:%S"), log.actor_name or "",
            queries.ROLE_WORDS.get(log.actor_role, log.actor_role or ""), queries.action_words(log.action), log.action,
            queries.object_words(log.object_type, log.object_id), queries.RESULTS.get(log.result, log.result),
            log.ip or "", queries.details_words(log)]


def response(logs, fmt):
    rows = [row(log) for log in logs]
    if fmt == "csv":
        data = tabular.write_csv(HEADERS, rows)
    else:
        data = tabular.write_xlsx(HEADERS, rows, widths=[w for _n, w in COLUMNS], title="审计日志")
    stamp = clock.today().isoformat()
    resp = current_app.response_class(data, mimetype=tabular.EXPORT_MIMETYPES[fmt])
    resp.headers["Content-Disposition"] = (f"attachment; filename=audit-log-{stamp}.{fmt}; "
                                           f"filename*=UTF-8''{quote(f'审计日志-{stamp}.{fmt}')}")
    return resp
