"""Dynamic adjustment (动态调整) pages.

A city reviewer sees the whitelisted providers of their city (/review/providers) and, on a provider's page,
its entries, the orders affected, the whole action history (manual actions and the sweep's automatic rules
with their evidence) and the forms for 警告, 暂停, 移出, 禁入 and 恢复. Each form carries a reason category,
a reason the provider will read and an effective date; the services refuse what breaks a rule and the form
comes back with the reason and what was typed. A provider outside the reviewer's city answers 404.

The provider reads its own actions and their reasons at /provider/adjustments
(templates/adjustments/_provider_actions.html can also be included elsewhere with `panel`).
"""
from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user
from marshmallow import EXCLUDE

from registry.adjustments import queries, schemas
from registry.adjustments import services as adjustments
from registry.core import clock
from registry.core import confirm as confirmation
from registry.core.errors import DomainError
from registry.core.pagination import paginate
from registry.core.schema import form_data, load
from registry.extensions import db
from registry.orders.models import ORDER_STATUS_LABELS
from registry.orders.views.provider import errors_of
from registry.providers.views import dashboard_panel

bp = Blueprint("adjustments", __name__)


def _actor():
    return current_user._get_current_object()


def labels():
    return {"order_labels": ORDER_STATUS_LABELS}


# ---------------------------------------------------------------- the city reviewer

@bp.get("/review/providers")
def index():
    args = load(schemas.ProviderQueryIn(unknown=EXCLUDE), request.args.to_dict())
    day = clock.today()
    page = paginate(queries.city_providers_stmt(_actor(), args, day), args["page"], args["per_page"])
    page.items = queries.provider_rows(page.items, day)
    return render_template("adjustments/index.html", page=page, args=args, today=day,
                           statuses=schemas.ENTRY_STATUS_CHOICES, **labels())


def _page(provider_id, status=200, errors=None, forms=None):
    provider = queries.reviewer_provider(_actor(), provider_id)
    row = queries.provider_detail(provider)
    return render_template(
        "adjustments/provider.html", provider=provider, row=row, today=clock.today(), errors=errors or {},
        forms=forms or {}, reasons=schemas.REASON_CHOICES,
        suspendable=queries.entry_choices(row, {"active"}),
        delistable=queries.entry_choices(row, {"active", "suspended"}),
        reinstatable=queries.entry_choices(row, {"suspended", "delisted"}), **labels()), status


@bp.get("/review/providers/<int:provider_id>")
def provider(provider_id):
    return _page(provider_id)


def _act(provider_id, name, schema, call, confirm=None):
    """Load the form `name` with `schema`, call the service; on refusal show the page again with the reasons
    under that form and everything typed kept. With `confirm`, valid input first gets the confirmation page
    (core/confirm.py) that `confirm(provider, data)` describes."""
    provider = queries.reviewer_provider(_actor(), provider_id)
    typed = form_data(multi=("project_ids",))
    try:
        data = load(schema, typed)
        if confirm is not None and not confirmation.confirmed():
            return confirmation.page(confirm(provider, data))
        message = call(provider, data)
    except DomainError as exc:
        db.session.rollback()
        return _page(provider_id, status=exc.status, errors={name: errors_of(exc)}, forms={name: typed})
    flash(message, "success")
    return redirect(url_for("adjustments.provider", provider_id=provider_id) + "#history")


def _confirmation(provider, data, *, title, statuses, verb, consequences, button):
    """The confirmation page of an action on some or all of the provider's entries: names the provider,
    the entries and the orders it touches, and what will follow."""
    day = clock.today()
    row = queries.provider_detail(provider, day)
    chosen = set(data.get("project_ids") or [])
    entries = [e for e in row.entries if e.effective_status(day).value in statuses
               and (not chosen or e.project_id in chosen)]
    entry_ids = {e.id for e in entries}
    moving = {"suspended"} if verb == "恢复" else {"accepted", "active"}
    orders = [o for o in row.orders if o.entry_id in entry_ids and o.status.value in moving]
    details = [("原因类别", schemas.REASON_LABELS.get(data.get("reason_category"), data.get("reason_category"))),
               ("具体原因", data.get("reason", "")),
               ("生效日期", (data.get("effective_on") or day).isoformat())]
    titles = "、".join(f"“{e.project.title}”" for e in entries) or "无"
    lines = [f"{verb}以下白名单项目：{titles}。"] if statuses else []
    if orders:
        schools = "、".join(o.school.name for o in orders[:5]) + ("等" if len(orders) > 5 else "")
        lines.append(f"{len(orders)} 个已接单或服务中的订单（{schools}）同时{'恢复' if verb == '恢复' else '暂停'}，"
                     "学校和机构会收到通知。")
    lines += consequences
    return confirmation.Confirmation(
        title=title, subject=f"{provider.name}（统一社会信用代码 {provider.uscc}）", consequences=lines,
        button=button, back_url=url_for("adjustments.provider", provider_id=provider.id), details=details,
        danger=verb != "恢复")


def _entries_text(action, verb):
    count = len((action.evidence or {}).get("entries", []))
    return f"已{verb} {count} 个白名单条目"


@bp.post("/review/providers/<int:provider_id>/warn")
def warn(provider_id):
    def call(provider, data):
        adjustments.warn(provider, actor=_actor(), **data)
        return "已对该机构作出警告，机构将在消息和“动态调整记录”中看到原因"
    return _act(provider_id, "warn", schemas.WarnIn(), call)


@bp.post("/review/providers/<int:provider_id>/suspend")
def suspend(provider_id):
    def call(provider, data):
        action = adjustments.suspend(provider, actor=_actor(), **data)
        return _entries_text(action, "暂停") + "；受影响的订单已暂停，学校和机构已收到通知"

    def confirm(provider, data):
        lift = data.get("lift_on")
        return _confirmation(provider, data, title="确认暂停", statuses={"active"}, verb="暂停", button="确认暂停",
                             consequences=[
                                 "暂停期间学校不能点单这些项目；暂停在公开的“白名单变更公告”中公布，核验页显示暂停。",
                                 f"暂停至 {lift.isoformat()}，此后若没有其他暂停原因系统自动解除。" if lift else
                                 "未填写自动解除日期：暂停不会自动解除，须由审核员在本页“恢复”。",
                                 "机构会收到消息，看到原因和整改要求。"])
    return _act(provider_id, "suspend", schemas.SuspendIn(), call, confirm)


@bp.post("/review/providers/<int:provider_id>/delist")
def delist(provider_id):
    def call(provider, data):
        action = adjustments.delist(provider, actor=_actor(), **data)
        text = _entries_text(action, "移出") + "；受影响的订单已暂停，学校和机构已收到通知"
        return text + (f"；并禁入至 {data['ban_until'].isoformat()}" if data.get("ban_until") else "")

    def confirm(provider, data):
        ban_until = data.get("ban_until")
        return _confirmation(provider, data, title="确认移出白名单", statuses={"active", "suspended"}, verb="移出",
                             button="确认移出", consequences=[
                                 "移出在公开的“白名单变更公告”中公布；相关订单不能继续服务，也不会自动恢复。",
                                 f"同时禁入至 {ban_until.isoformat()}：禁入期内该机构不能申报。" if ban_until else
                                 "未同时禁入：该机构今后仍可重新申报。",
                                 "机构会收到消息，看到原因。"])
    return _act(provider_id, "delist", schemas.DelistIn(), call, confirm)


@bp.post("/review/providers/<int:provider_id>/ban")
def ban(provider_id):
    def call(provider, data):
        data["ends_on"] = data.get("ends_on") or adjustments.default_ban_end(provider)
        adjustments.ban(provider, actor=_actor(), **data)
        return f"已禁入至 {data['ends_on'].isoformat()}：禁入期内该机构不能申报，其白名单条目已移出"

    def confirm(provider, data):
        ends_on = data.get("ends_on") or adjustments.default_ban_end(provider)
        return _confirmation(provider, data, title="确认禁入", statuses={"active", "suspended"}, verb="移出",
                             button="确认禁入", consequences=[
                                 f"该机构禁入至 {ends_on.isoformat()}，禁入期内不能提交任何申报。",
                                 "移出在公开的“白名单变更公告”中公布；相关订单不能继续服务。",
                                 "机构会收到消息，看到原因。"])
    return _act(provider_id, "ban", schemas.BanIn(), call, confirm)


@bp.post("/review/providers/<int:provider_id>/reinstate")
def reinstate(provider_id):
    def call(provider, data):
        action = adjustments.reinstate(provider, actor=_actor(), **data)
        return _entries_text(action, "恢复") + "；暂停的订单已恢复，禁入已结束"

    def confirm(provider, data):
        return _confirmation(provider, data, title="确认恢复", statuses={"suspended", "delisted"}, verb="恢复",
                             button="确认恢复", consequences=[
                                 "有效期内的项目回到白名单，学校可以重新点单；恢复在公开的“白名单变更公告”中公布。",
                                 "该机构的禁入（如有）同时结束。", "机构会收到消息。"])
    return _act(provider_id, "reinstate", schemas.ReinstateIn(), call, confirm)


# ---------------------------------------------------------------- the provider

def panel_context(provider):
    """What templates/adjustments/_provider_actions.html needs as `panel` (entries, actions, ban)."""
    return queries.provider_detail(provider, with_orders=False)


@dashboard_panel("adjustments/_provider_actions.html", position=20)
def _provider_dashboard_panel(provider):
    """Whitelist entries and every dynamic-adjustment action with its reasons, on the provider's dashboard."""
    return {"panel": panel_context(provider)}


@bp.get("/provider/adjustments")
def mine():
    provider = current_user.provider
    return render_template("adjustments/mine.html", provider=provider, panel=panel_context(provider),
                           today=clock.today(), **labels())
