"""Order lists as CSV or XLSX (issue 19): the school's 我的订单 and the provider's 订单管理, with the page's
filters. Cells are text; registry.core.tabular keeps text that starts like a formula a formula-free string."""
from registry.core import clock, tabular
from registry.orders.models import ORDER_STATUS_LABELS, WEEKDAY_LABELS
from registry.orders.schemas import GRADE_LABELS

COLUMNS = [("订单号", 8), ("服务项目", 24), ("机构", 32), ("学校", 30), ("学期", 24), ("年级", 16), ("班级", 20),
           ("服务日", 14), ("时间段", 12), ("服务次数", 8), ("预计人数", 8), ("单价（元/人·课时）", 12),
           ("总价（元）", 12), ("状态", 10), ("状态原因", 30), ("提交时间", 18)]
MAX_ROWS = 10000


def rows(orders, day):
    for o in orders:
        status = o.effective_status(day).value
        yield [o.id, o.project.title, o.provider.name, o.school.name, o.term.name,
               "、".join(GRADE_LABELS[g] for g in o.grades), o.classes,
               "、".join(WEEKDAY_LABELS[d] for d in o.weekdays), o.time_slot, o.sessions, o.expected_students,
               f"{o.price:.2f}", f"{o.total:.2f}", ORDER_STATUS_LABELS[status], o.status_reason or "",
               clock.to_cst(o.created_at).strftime("%Y-%m-%d %H:%M")]


def response(orders, fmt, day, who):
    data = tabular.export_table(COLUMNS, rows(orders, day), fmt, sheet="订单")
    return tabular.export_response(data, fmt, f"{who}订单-{day.isoformat()}", f"orders-{day.isoformat()}")
