"""The public whitelist pages and API, without logging in: list, filters, search, paging, provider page,
change feed, and the statement count of the list."""
from datetime import date

import pytest
from sqlalchemy import event

from registry.whitelist import services as whitelist
from registry.whitelist.models import ChangeFeedItem, ChangeKind
from tests.fixtures.reviews import PUBLISHED_ON, add_bulk_entries, at


@pytest.fixture
def two(publish_provider):
    jump = publish_provider(name="南昌启航体育文化发展有限公司", projects=[{"title": "花样跳绳"}])
    paper = publish_provider(name="赣州章贡非遗剪纸传习社", county_code="360702", projects=[
        {"title": "剪纸入门", "category": "intangible_heritage", "stages": ["lower_primary"], "price": "2.50"}])
    return jump, paper


def test_anonymous_sees_the_list(client, two):
    html = client.get("/whitelist").get_data(as_text=True)
    for text in ("南昌启航体育文化发展有限公司", "花样跳绳", "赣州章贡非遗剪纸传习社", "剪纸入门", "3.00 元", "2.50 元",
                 "红谷滩区", "章贡区", "2026-03-10", "2026-08-31", "2026年第1批", "有效", "共 2 条"):
        assert text in html, text
    assert f'/whitelist/batches/{two[0]["batch"].id}/announcement.pdf' in html
    assert f'/whitelist/providers/{two[0]["provider"].id}"' in html


def test_html_filters_and_short_search(client, two):
    def names(query):
        html = client.get(f"/whitelist?{query}").get_data(as_text=True)
        return [n for n in ("花样跳绳", "剪纸入门") if n in html]

    assert names("city=360700") == ["剪纸入门"]
    assert names("county=360113") == ["花样跳绳"]
    assert names("category=sports&stage=&level=") == ["花样跳绳"]  # an empty select is no filter
    assert names("stage=upper_primary") == ["花样跳绳"]
    assert names("q=跳") == ["花样跳绳"]
    assert names("q=跳绳") == ["花样跳绳"]
    assert names("q=章贡") == ["剪纸入门"]
    assert names("q=剪") == ["剪纸入门"]
    assert names("q=游泳") == []


def test_api_list_returns_a_page_with_total(client, two):
    body = client.get("/api/v1/whitelist?q=跳").get_json()
    assert body["total"] == 1 and body["page"] == 1 and body["pages"] == 1
    item = body["items"][0]
    assert item["provider"]["name"] == "南昌启航体育文化发展有限公司"
    assert item["project"] == {
        "title": "花样跳绳", "category": "sports", "category_label": "体育",
        "stages": ["lower_primary", "upper_primary"],
        "stage_labels": ["小学低年级（1–3年级）", "小学高年级（4–6年级）"], "level": "beginner",
        "level_label": "零起点入门",
        "price": "3.00", "minutes_per_session": 60, "sessions_per_term": 16}
    assert item["city"] == "南昌市" and item["counties"] == ["红谷滩区"]
    assert (item["valid_from"], item["valid_until"], item["status"]) == ("2026-03-10", "2026-08-31", "active")
    assert item["batch"]["name"] == "2026年第1批" and item["batch"]["issuer"] == "南昌市教育局"
    assert client.get("/api/v1/whitelist?city=360700").get_json()["items"][0]["project"]["title"] == "剪纸入门"
    assert client.get("/api/v1/whitelist?q=剪").get_json()["total"] == 1


@pytest.mark.parametrize("query, field", [("category=maths", "category"), ("stage=senior", "stage"),
                                          ("per_page=1000", "per_page"), ("city=南昌", "city")])
def test_api_refuses_bad_filters_naming_the_field(client, db, query, field):
    response = client.get(f"/api/v1/whitelist?{query}")
    assert response.status_code == 422
    assert response.get_json()["field"] == field


def test_delisted_cannot_be_asked_for_and_tracking_arguments_are_ignored(client, published):
    assert client.get("/api/v1/whitelist?status=delisted").status_code == 422
    # Links shared in WeChat carry from=singlemessage&isappinstalled=0: the page must still open.
    shared = "from=singlemessage&isappinstalled=0&q=跳"
    assert client.get(f"/api/v1/whitelist?{shared}").get_json()["total"] == 1
    response = client.get(f"/whitelist?{shared}")
    assert response.status_code == 200 and "花样跳绳" in response.get_data(as_text=True)


def test_bad_filter_on_the_html_page_is_a_chinese_error(client, db):
    response = client.get("/whitelist?category=maths")
    assert response.status_code == 422 and "活动类别无效" in response.get_data(as_text=True)


def test_paging(client, published, db):
    add_bulk_entries(db, published["batch"], 25)
    first = client.get("/api/v1/whitelist?per_page=10").get_json()
    third = client.get("/api/v1/whitelist?per_page=10&page=3").get_json()
    assert (first["total"], first["pages"], len(first["items"]), len(third["items"])) == (26, 3, 10, 6)
    assert not {i["id"] for i in first["items"]} & {i["id"] for i in third["items"]}
    html = client.get("/whitelist?per_page=10&page=2&q=批量").get_data(as_text=True)
    assert "第 2 / 3 页" in html and "page=3" in html and "q=" in html


def test_suspended_entry_is_listed_with_a_badge_and_delisted_is_not(client, published, db):
    entry = published["entries"][0]
    whitelist.ENTRY.transition(entry, "suspend", actor=published["city_reviewer"], reason="投诉核查")
    html = client.get("/whitelist").get_data(as_text=True)
    assert "花样跳绳" in html and 'badge badge-warn">暂停' in html
    assert client.get("/api/v1/whitelist").get_json()["items"][0]["status_label"] == "暂停"
    whitelist.ENTRY.transition(entry, "delist", actor=published["city_reviewer"], reason="投诉属实")
    assert "花样跳绳" not in client.get("/whitelist").get_data(as_text=True)
    assert client.get("/api/v1/whitelist").get_json()["total"] == 0


def test_expired_entry_leaves_the_list_without_a_job(client, published, frozen_clock):
    at(date(2026, 9, 1))
    assert client.get("/api/v1/whitelist").get_json()["total"] == 0
    assert "花样跳绳" not in client.get("/whitelist").get_data(as_text=True)


def test_provider_page(client, published):
    provider = published["provider"]
    response = client.get(f"/whitelist/providers/{provider.id}")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    for text in (provider.name, provider.uscc, "企业", "红谷滩区", "花样跳绳", "体育", "零起点入门", "小学低年级",
                 "3.00 元", "2026-03-10 至 2026-08-31", "南昌市教育局2026年第1批"):
        assert text in html, text
    assert f"/whitelist/providers/{provider.id}/certificate.pdf" in html
    body = client.get(f"/api/v1/whitelist/providers/{provider.id}").get_json()
    assert body["provider"]["uscc"] == provider.uscc and body["entries"][0]["status"] == "active"
    assert body["certificate_url"] == f"/whitelist/providers/{provider.id}/certificate.pdf"


def test_provider_page_after_delisting_shows_history_and_no_certificate(client, published):
    entry = published["entries"][0]
    whitelist.ENTRY.transition(entry, "delist", actor=published["city_reviewer"], reason="投诉属实")
    html = client.get(f"/whitelist/providers/{published['provider'].id}").get_data(as_text=True)
    assert "已移出或已过期的项目" in html and "已移出" in html
    assert "certificate.pdf" not in html
    body = client.get(f"/api/v1/whitelist/providers/{published['provider'].id}").get_json()
    assert body["entries"] == [] and body["past_entries"][0]["status"] == "delisted"
    assert body["certificate_url"] is None


def test_provider_without_entries_is_404(client, provider_admin):
    for url in (f"/whitelist/providers/{provider_admin.provider_id}",
                f"/api/v1/whitelist/providers/{provider_admin.provider_id}", "/whitelist/providers/999999"):
        response = client.get(url)
        assert response.status_code == 404, url
    assert "不在白名单中" in client.get(f"/whitelist/providers/{provider_admin.provider_id}").get_data(as_text=True)


def test_change_feed_newest_first_with_reason_category_and_city_filter(client, two, db):
    jump, paper = two
    db.session.add(ChangeFeedItem(kind=ChangeKind.suspended, entry_id=jump["entries"][0].id,
                                  city_id=jump["batch"].city_id, happened_on=date(2026, 4, 2),
                                  reason_category="投诉核查"))
    db.session.flush()
    body = client.get("/api/v1/whitelist/changes").get_json()
    assert body["total"] == 3
    assert [(i["happened_on"], i["kind"]) for i in body["items"]][0] == ("2026-04-02", "suspended")
    assert body["items"][0]["reason_category"] == "投诉核查" and body["items"][0]["kind_label"] == "暂停"
    assert {i["kind"] for i in body["items"][1:]} == {"added"}
    only_ganzhou = client.get("/api/v1/whitelist/changes?city=360700").get_json()
    assert [i["provider"] for i in only_ganzhou["items"]] == ["赣州章贡非遗剪纸传习社"]
    assert client.get("/api/v1/whitelist/changes?kind=suspended").get_json()["total"] == 1
    html = client.get("/whitelist/changes").get_data(as_text=True)
    assert html.index("2026-04-02") < html.index("2026-03-10")
    for text in ("暂停", "新增", "投诉核查", "花样跳绳", "赣州市"):
        assert text in html, text
    assert "剪纸入门" not in client.get("/whitelist/changes?city=360100").get_data(as_text=True)


def _count_statements(db, client, url):
    engine = db.session.get_bind().engine
    seen = []

    def count(_conn, _cursor, statement, *_args):
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        response = client.get(url)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert response.status_code == 200
    return len(seen), response


@pytest.mark.parametrize("path", ["/api/v1/whitelist", "/whitelist", "/api/v1/whitelist/changes", "/whitelist/changes"])
def test_statement_count_is_the_same_for_20_and_100_rows(client, published, db, path):
    for entry in add_bulk_entries(db, published["batch"], 110):
        db.session.add(ChangeFeedItem(kind=ChangeKind.added, entry_id=entry.id, city_id=entry.city_id,
                                      happened_on=PUBLISHED_ON))
    db.session.flush()
    client.get(path)  # warm up: the first request also saves what the test set up
    small, r20 = _count_statements(db, client, f"{path}?per_page=20")
    large, r100 = _count_statements(db, client, f"{path}?per_page=100")
    if path.startswith("/api/"):
        assert (len(r20.get_json()["items"]), len(r100.get_json()["items"])) == (20, 100)
    assert small == large, (small, large)
    assert small <= 8  # count + page + counties + (HTML) regions and recent batches + savepoints
