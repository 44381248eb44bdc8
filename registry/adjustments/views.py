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


def _act(provider_id, name, schema, call):
    """Load the form `name` with `schema`, call the service; on refusal show the page again with the reasons
    under that form and everything typed kept."""
    provider = queries.reviewer_provider(_actor(), provider_id)
    typed = form_data(multi=("project_ids",))
    try:
        message = call(provider, load(schema, typed))
    except DomainError as exc:
        db.session.rollback()
        return _page(provider_id, status=exc.status, errors={name: errors_of(exc)}, forms={name: typed})
    flash(message, "success")
    return redirect(url_for("adjustments.provider", provider_id=provider_id) + "#history")


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
    return _act(provider_id, "suspend", schemas.SuspendIn(), call)


@bp.post("/review/providers/<int:provider_id>/delist")
def delist(provider_id):
    def call(provider, data):
        action = adjustments.delist(provider, actor=_actor(), **data)
        text = _entries_text(action, "移出") + "；受影响的订单已暂停，学校和机构已收到通知"
        return text + (f"；并禁入至 {data['ban_until'].isoformat()}" if data.get("ban_until") else "")
    return _act(provider_id, "delist", schemas.DelistIn(), call)


@bp.post("/review/providers/<int:provider_id>/ban")
def ban(provider_id):
    def call(provider, data):
        data["ends_on"] = data.get("ends_on") or adjustments.default_ban_end(provider)
        adjustments.ban(provider, actor=_actor(), **data)
        return f"已禁入至 {data['ends_on'].isoformat()}：禁入期内该机构不能申报，其白名单条目已移出"
    return _act(provider_id, "ban", schemas.BanIn(), call)


@bp.post("/review/providers/<int:provider_id>/reinstate")
def reinstate(provider_id):
    def call(provider, data):
        action = adjustments.reinstate(provider, actor=_actor(), **data)
        return _entries_text(action, "恢复") + "；暂停的订单已恢复，禁入已结束"
    return _act(provider_id, "reinstate", schemas.ReinstateIn(), call)


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
