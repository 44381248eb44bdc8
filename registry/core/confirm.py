"""The confirmation step of a destructive or public action (issue 19): 开始公示, 发布, 暂停, 移出, 禁入, 恢复,
取消 or 拒绝 an order. The form posts to its action as before; without the `confirmed` mark the action
answers with a second page that names what will happen and carries every typed value in hidden fields,
so its button posts the same form again, marked. No script is involved (the CSP allows none inline).
The JSON API has no such step: a client that calls an action means it."""
from dataclasses import dataclass, field

from flask import render_template, request

from registry.core.schema import CONFIRM_FIELD


@dataclass
class Confirmation:
    title: str                                # 确认暂停
    subject: str                              # what is acted on: 南昌星河艺术培训有限公司
    consequences: list                        # what will happen, one sentence each
    button: str                               # the confirming button's text
    back_url: str                             # 返回 (no change)
    danger: bool = True
    details: list = field(default_factory=list)  # (label, value) pairs of what was typed


def confirmed():
    """True when the form carries the confirmation step's mark."""
    return request.form.get(CONFIRM_FIELD) == "1"


def page(confirmation):
    """The confirmation page: the form's own values posted again to the same URL, marked as confirmed."""
    hidden = [(key, value) for key in request.form if key not in ("csrf_token", CONFIRM_FIELD)
              for value in request.form.getlist(key)]
    return render_template("confirm.html", c=confirmation, action=request.path, hidden=hidden,
                           confirm_field=CONFIRM_FIELD)
