"""Notifications: an in-app inbox per user, and email through an outbox table sent by a CLI command."""
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from flask import current_app
from sqlalchemy import Integer, String, func, select, update
from sqlalchemy.orm import lazyload

from registry.auth.models import User
from registry.core import bulk, clock
from registry.core.errors import NotFound
from registry.extensions import db
from registry.notifications.models import Notification, OutboxMessage

MAX_ATTEMPTS = 5


def notify(users, *, title, body="", link=None, category="info", email=True, dedupe_key=None):
    """Put a notification in each user's inbox and queue an email for those with an address.

    With `dedupe_key`, a user who already has that key is skipped (a sweep run twice notifies once).
    """
    created = []
    for user in users:
        if user is None or not user.is_active:
            continue
        if dedupe_key and db.session.scalar(select(Notification.id).where(
                Notification.user_id == user.id, Notification.dedupe_key == dedupe_key)):
            continue
        created.append(Notification(user_id=user.id, title=title[:200], body=body, link=link, category=category,
                                    dedupe_key=dedupe_key))
        if email and user.email:
            db.session.add(OutboxMessage(to_addr=user.email, subject=f"【课后服务白名单】{title}"[:200],
                                         body=_email_body(user, title, body, link)))
    db.session.add_all(created)
    db.session.flush()
    return created


def recipients():
    """SELECT of users for jobs that notify many: without the school, provider and region a User joins
    eagerly for pages (a notification needs none of them)."""
    return select(User).options(lazyload(User.region), lazyload(User.provider), lazyload(User.school))


def notify_many(items, email=True):
    """Set-based notify for jobs: items are (user, title, body, link, category, dedupe_key) tuples.
    A fixed number of statements however many items there are."""
    items = [i for i in items if i[0] is not None and i[0].is_active]
    keyed = [(i[0].id, i[5]) for i in items if i[5]]
    existing = set()
    if keyed:
        # The (user, key) pairs travel as one JSON parameter: an IN list of pairs would hit the drivers'
        # parameter limits on a busy night.
        pairs = bulk.json_rows([("user_id", Integer()), ("dedupe_key", String())], keyed)
        existing = set(db.session.execute(
            select(Notification.user_id, Notification.dedupe_key).join(
                pairs, (pairs.c.c0 == Notification.user_id) & (pairs.c.c1 == Notification.dedupe_key))).all())
    rows, mails, seen = [], [], set()
    now = clock.utcnow()
    for user, title, body, link, category, key in items:
        if key and ((user.id, key) in existing or (user.id, key) in seen):
            continue
        if key:
            seen.add((user.id, key))
        rows.append({"user_id": user.id, "title": title[:200], "body": body, "link": link, "category": category,
                     "dedupe_key": key, "created_at": now})
        if email and user.email:
            mails.append({"to_addr": user.email, "subject": f"【课后服务白名单】{title}"[:200],
                          "body": _email_body(user, title, body, link), "attempts": 0, "created_at": now})
    bulk.insert_rows(Notification, rows)
    bulk.insert_rows(OutboxMessage, mails)
    return len(rows)


def _email_body(user, title, body, link):
    base = current_app.config["BASE_URL"].rstrip("/")
    lines = [f"{user.display_name}:", "", title, ""]
    if body:
        lines += [body, ""]
    if link:
        lines += [f"详情请登录系统查看：{base}{link}", ""]
    lines += ["本邮件由课后服务第三方机构白名单系统自动发送，请勿直接回复。"]
    return "\n".join(lines)


def inbox(user, limit=100):
    return db.session.scalars(select(Notification).where(Notification.user_id == user.id)
                              .order_by(Notification.id.desc()).limit(limit)).all()


def unread_count(user):
    return db.session.scalar(select(func.count()).select_from(Notification)
                             .where(Notification.user_id == user.id, Notification.read_at.is_(None)))


def mark_read(user, notification_id):
    row = db.session.get(Notification, notification_id)
    if row is None or row.user_id != user.id:
        raise NotFound("通知不存在")
    if row.read_at is None:
        row.read_at = clock.utcnow()
    db.session.flush()
    return row


def mark_all_read(user):
    db.session.execute(update(Notification).where(Notification.user_id == user.id, Notification.read_at.is_(None))
                       .values(read_at=clock.utcnow()))


def _smtp():
    cfg = current_app.config
    client = smtplib.SMTP(cfg["SMTP_HOST"], cfg["SMTP_PORT"], timeout=30)
    if cfg["SMTP_STARTTLS"]:
        client.starttls(context=ssl.create_default_context())
    if cfg["SMTP_USER"]:
        client.login(cfg["SMTP_USER"], cfg["SMTP_PASSWORD"] or "")
    return client


def send_outbox(limit=200):
    """Send pending emails; returns (sent, failed). Rows are locked (SKIP LOCKED on PostgreSQL)
    so two senders running at once never send the same message twice."""
    stmt = (select(OutboxMessage).where(OutboxMessage.sent_at.is_(None), OutboxMessage.attempts < MAX_ATTEMPTS)
            .order_by(OutboxMessage.id).limit(limit))
    if db.session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update(skip_locked=True)
    messages = db.session.scalars(stmt).all()
    if not messages:
        return 0, 0
    sent = failed = 0
    sender = current_app.config["MAIL_FROM"]
    try:
        client = _smtp()
    except (OSError, smtplib.SMTPException) as exc:
        for message in messages:
            message.attempts += 1
            message.last_error = f"connect: {exc}"[:500]
        db.session.flush()
        return 0, len(messages)
    with client:
        for message in messages:
            email = EmailMessage()
            email["From"], email["To"], email["Subject"] = sender, message.to_addr, message.subject
            email["Date"], email["Message-ID"] = formatdate(localtime=True), make_msgid(domain="registry")
            email.set_content(message.body, charset="utf-8")
            message.attempts += 1
            try:
                client.send_message(email)
            except smtplib.SMTPException as exc:
                message.last_error = str(exc)[:500]
                failed += 1
            else:
                message.sent_at, message.last_error = clock.utcnow(), None
                sent += 1
    db.session.flush()
    return sent, failed
