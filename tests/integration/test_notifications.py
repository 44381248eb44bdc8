"""Inbox and outbox; the outbox is sent to a real SMTP server (aiosmtpd) on loopback."""
import socket

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Message

from registry.notifications import services
from registry.notifications.models import OutboxMessage


class Collector(Message):
    def __init__(self):
        super().__init__()
        self.messages = []

    def handle_message(self, message):
        self.messages.append(message)


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def smtp_server(app):
    handler = Collector()
    controller = Controller(handler, hostname="127.0.0.1", port=_free_port())
    controller.start()
    old = app.config["SMTP_HOST"], app.config["SMTP_PORT"]
    app.config["SMTP_HOST"], app.config["SMTP_PORT"] = "127.0.0.1", controller.port
    yield handler
    app.config["SMTP_HOST"], app.config["SMTP_PORT"] = old
    controller.stop()


def test_notify_fills_inbox_and_sends_mail_once(db, create_user, smtp_server):
    user = create_user("city_reviewer", email="reviewer@example.org")
    services.notify([user], title="有新的申报待审核", body="南昌启航体育文化发展有限公司提交了准入申报",
                    link="/dashboard")
    assert services.unread_count(user) == 1
    assert services.send_outbox() == (1, 0)
    assert services.send_outbox() == (0, 0)  # already sent
    assert len(smtp_server.messages) == 1
    mail = smtp_server.messages[0]
    assert mail["To"] == "reviewer@example.org"
    from email.header import decode_header, make_header
    assert "有新的申报待审核" in str(make_header(decode_header(mail["Subject"])))
    assert "南昌启航" in mail.get_payload(decode=True).decode("utf-8")


def test_dedupe_key_notifies_once(db, create_user):
    user = create_user("provider_admin", email="p@example.org")
    for _ in range(2):
        services.notify([user], title="资质材料将于7天后到期", dedupe_key="doc:1:7")
    assert services.unread_count(user) == 1
    assert db.session.query(OutboxMessage).count() == 1


def test_unreachable_smtp_keeps_message_for_retry(db, create_user, app):
    user = create_user("provider_admin", email="p@example.org")
    services.notify([user], title="测试")
    app.config["SMTP_PORT"], old = _free_port(), app.config["SMTP_PORT"]
    try:
        assert services.send_outbox() == (0, 1)
    finally:
        app.config["SMTP_PORT"] = old
    message = db.session.query(OutboxMessage).one()
    assert message.sent_at is None and message.attempts == 1 and message.last_error


def test_inbox_pages(client, create_user):
    from tests.fixtures.accounts import login
    user = create_user("provider_admin")
    services.notify([user], title="申报已退回修改", link="/account/")
    login(client, user.username)
    page = client.get("/inbox").get_data(as_text=True)
    assert "申报已退回修改" in page and "未读" in page
    notification = services.inbox(user)[0]
    response = client.post(f"/inbox/{notification.id}/read")
    assert response.status_code == 302 and response.headers["Location"].endswith("/account/")
    assert services.unread_count(user) == 0


def test_cannot_read_someone_elses_notification(client, create_user):
    from tests.fixtures.accounts import login
    owner, other = create_user("provider_admin"), create_user("provider_admin")
    services.notify([owner], title="私密")
    login(client, other.username)
    assert client.post(f"/inbox/{services.inbox(owner)[0].id}/read").status_code == 404
