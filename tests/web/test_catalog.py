"""The school's catalog (白名单点单) and project page: only what the school can order today, the others
with their Chinese reasons on request, filters and sorting, the same in JSON, and no N+1."""
from sqlalchemy import event

from tests.fixtures.orders import add_orderable_bulk_entries
from tests.fixtures.reviews import client_as

UNORDERABLE = {
    "suspended": ("暂停的篮球课", "白名单条目状态为“暂停”（原因：安全隐患整改）"),
    "donghu": ("区域外科普", "该项目的服务区域不包括红谷滩区"),
    "junior": ("初中篮球", "项目适用学段为初中（7–9年级），与小学不符"),
    "lapsed": ("保险过期的合唱", "机构公众责任保险（编号 PICC-LAPSE）已于2026-03-12过期"),
}


def _browser(app, world):
    return client_as(app, world["admin"])


def test_catalog_lists_only_what_the_school_can_order(app, db, catalog_world):
    page = _browser(app, catalog_world).get("/school/catalog").get_data(as_text=True)
    assert "花样跳绳" in page and "围棋入门" in page
    for title, _reason in UNORDERABLE.values():
        assert title not in page, title
    assert "另有 4 个本市白名单项目今天不能由本校点单" in page


def test_show_all_gives_each_reason(app, db, catalog_world):
    page = _browser(app, catalog_world).get("/school/catalog?show=all").get_data(as_text=True)
    for title, reason in UNORDERABLE.values():
        assert title in page and reason in page, (title, reason)
    # Orderable entries come first and carry an order button.
    assert page.index("花样跳绳") < page.index("暂停的篮球课")
    assert f"/school/orders/new?entry_id={catalog_world['entry'].id}" in page
    assert f"/school/orders/new?entry_id={catalog_world['suspended'].id}" not in page


def test_filters_and_sorting(app, db, catalog_world):
    browser = _browser(app, catalog_world)

    def titles(query):
        page = browser.get(f"/school/catalog?{query}").get_data(as_text=True)
        return [t for t in ("花样跳绳", "围棋入门") if t in page]

    assert titles("category=clubs") == ["围棋入门"]
    assert titles("category=sports") == ["花样跳绳"]
    assert titles("level=advanced") == ["围棋入门"]
    assert titles("stage=upper_primary") == ["花样跳绳", "围棋入门"]
    assert titles("stage=junior") == []
    assert titles("max_price=2") == ["围棋入门"]
    assert titles("max_price=3.00") == ["花样跳绳", "围棋入门"]
    assert titles("q=跳") == ["花样跳绳"]
    assert titles(f"provider_id={catalog_world['go'].provider_id}") == ["围棋入门"]
    page = browser.get("/school/catalog?sort=price").get_data(as_text=True)
    assert page.index("围棋入门") < page.index("花样跳绳")
    page = browser.get("/school/catalog?sort=-price").get_data(as_text=True)
    assert page.index("花样跳绳") < page.index("围棋入门")
    response = browser.get("/school/catalog?sort=cheapest")
    assert response.status_code == 422 and "排序方式无效" in response.get_data(as_text=True)


def test_catalog_json(app, db, client, catalog_world, bearer):
    headers = bearer(catalog_world["admin"])
    body = client.get("/api/v1/school/catalog", headers=headers).json
    # Sorted by provider name (code-point order, as the public list): 南昌弈林… before 测试科技…
    assert [i["project"]["title"] for i in body["items"]] == ["围棋入门", "花样跳绳"]
    assert body["total"] == 2 and body["hidden"] == 4
    item = body["items"][1]
    assert item["orderable"] is True and item["reasons"] == [] and item["price"] == "3.00"
    assert item["cleared_staff"] == 1 and item["batch"]["name"] == "2026年第1批"
    body = client.get("/api/v1/school/catalog?show=all&sort=title&per_page=3&page=2", headers=headers).json
    assert body["total"] == 6 and body["pages"] == 2 and len(body["items"]) == 3
    reasons = {i["project"]["title"]: i["reasons"] for i in client.get(
        "/api/v1/school/catalog?show=all", headers=headers).json["items"]}
    for title, reason in UNORDERABLE.values():
        assert any(reason in r for r in reasons[title]), (title, reasons[title])
    response = client.get("/api/v1/school/catalog?max_price=-1", headers=headers)
    assert response.status_code == 422 and response.json["field"] == "max_price"


def test_project_page(app, db, catalog_world):
    browser = _browser(app, catalog_world)
    entry = catalog_world["entry"]
    page = browser.get(f"/school/catalog/{entry.id}").get_data(as_text=True)
    provider = catalog_world["whitelisted"]["provider"]
    for part in (provider.name, "3.00 元/人·课时", "2026-03-10 至 2026-08-31", "南昌市教育局2026年第1批",
                 "准入合格授课人员</dt><dd>1 人", "10–30 人", "可以点单"):
        assert part in page, part
    page = browser.get(f"/school/catalog/{catalog_world['lapsed'].id}").get_data(as_text=True)
    assert "今天不能点单" in page and UNORDERABLE["lapsed"][1] in page
    assert browser.get("/school/catalog/999999").status_code == 404


def test_catalog_only_for_school_admins(app, db, login_as, catalog_world):
    for role in ("provider_admin", "county_reviewer", "sys_admin"):
        client, _user = login_as(role)
        assert client.get("/school/catalog").status_code == 403


class _Counter:
    def __init__(self):
        self.count = 0

    def __call__(self, *_args, **_kwargs):
        self.count += 1


def _statements(browser, engine, url):
    counter = _Counter()
    event.listen(engine, "before_cursor_execute", counter)
    try:
        response = browser.get(url)
    finally:
        event.remove(engine, "before_cursor_execute", counter)
    assert response.status_code == 200
    return counter.count, response.get_data(as_text=True)


def test_statement_count_does_not_grow_with_the_catalog(app, db, whitelisted, ordering_school):
    engine = db.session.get_bind().engine
    browser = client_as(app, ordering_school["admin"])
    add_orderable_bulk_entries(db, whitelisted, 19)
    counts = {}
    for size in (20, 100):
        if size == 100:
            add_orderable_bulk_entries(db, whitelisted, 80)
        for url in ("/school/catalog?per_page=100", "/school/catalog?per_page=100&show=all&sort=price"):
            n, page = _statements(browser, engine, url)
            assert page.count("/school/orders/new?entry_id=") == size, (size, url)
            counts[(size, url)] = n
    for url in ("/school/catalog?per_page=100", "/school/catalog?per_page=100&show=all&sort=price"):
        assert counts[(20, url)] == counts[(100, url)], counts
