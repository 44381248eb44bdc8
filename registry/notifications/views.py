from flask import Blueprint, redirect, render_template, url_for
from flask_login import current_user

from registry.notifications import services

bp = Blueprint("notifications", __name__)


@bp.get("/inbox")
def inbox():
    return render_template("notifications/inbox.html", items=services.inbox(current_user))


@bp.post("/inbox/<int:notification_id>/read")
def mark_read(notification_id):
    row = services.mark_read(current_user, notification_id)
    return redirect(row.link or url_for("notifications.inbox"))


@bp.post("/inbox/read-all")
def mark_all_read():
    services.mark_all_read(current_user)
    return redirect(url_for("notifications.inbox"))
