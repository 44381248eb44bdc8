"""/verify/<token>: the live status behind a certificate's QR code, in HTML and JSON; cheap to serve."""
from datetime import date

import pytest
from sqlalchemy import event

from registry.whitelist import services as whitelist
from tests.fixtures.reviews import at


def _page(client, token):
    response = client.get(f"/verify/{token}")
    return response.status_code, response.get_data(as_text=True)


def test_valid_certificate(client, published):
    status, html = _page(client, published["certificate"].token)
    provider = published["provider"]
    assert status == 200
    for text in ("准入证明核验", 'badge badge-ok">有效', provider.name, provider.uscc, "花样跳绳",
                 "2026-03-10<br>至 2026-08-31", "核验日期"):
        assert text in html, text
    body = client.get(f"/api/v1/whitelist/verify/{published['certificate'].token}").get_json()
    assert (body["status"], body["status_label"], body["checked_on"]) == ("valid", "有效", "2026-03-10")
    assert body["provider"]["uscc"] == provider.uscc
    assert body["entries"][0]["project"]["title"] == "花样跳绳" and body["entries"][0]["valid_until"] == "2026-08-31"


@pytest.mark.parametrize("actions, status, label", [
    (["suspend"], "suspended", "暂停"),
    (["delist"], "delisted", "已移出"),
    (["suspend", "delist"], "delisted", "已移出"),
    (["suspend", "lift"], "valid", "有效"),
])
def test_live_status_follows_the_entry(client, published, actions, status, label):
    entry = published["entries"][0]
    for action in actions:
        whitelist.ENTRY.transition(entry, action, actor=published["city_reviewer"], reason="测试")
    code, html = _page(client, published["certificate"].token)
    assert code == 200 and f">{label}</span>" in html.split("</h1>")[0]
    body = client.get(f"/api/v1/whitelist/verify/{published['certificate'].token}").get_json()
    assert (body["status"], body["status_label"]) == (status, label)


def test_expired_without_any_job(client, published, frozen_clock):
    at(date(2026, 9, 1))
    code, html = _page(client, published["certificate"].token)
    assert code == 200 and ">已过期</span>" in html.split("</h1>")[0]
    assert published["entries"][0].status.value == "active"  # only the date changed
    body = client.get(f"/api/v1/whitelist/verify/{published['certificate'].token}").get_json()
    assert (body["status"], body["checked_on"]) == ("expired", "2026-09-01")


def test_unknown_token_is_a_chinese_404(client, db):
    code, html = _page(client, "no-such-token")
    assert code == 404 and "证明不存在或二维码无效" in html
    response = client.get("/api/v1/whitelist/verify/no-such-token")
    assert response.status_code == 404 and response.get_json()["code"] == "not_found"


def test_verify_page_is_cheap_and_does_not_grow_with_the_projects(client, publish_provider, db):
    one = publish_provider(projects=[{"title": "花样跳绳"}])
    five = publish_provider(projects=[{"title": f"体育项目{i}"} for i in range(5)])
    engine = db.session.get_bind().engine

    def statements(token):
        client.get(f"/verify/{token}")  # warm-up: the first request also saves the setup
        seen = []

        def count(*_args):
            seen.append(1)

        event.listen(engine, "before_cursor_execute", count)
        try:
            assert client.get(f"/verify/{token}").status_code == 200
        finally:
            event.remove(engine, "before_cursor_execute", count)
        return len(seen)

    small, large = statements(one["certificate"].token), statements(five["certificate"].token)
    assert small == large and small <= 7, (small, large)
