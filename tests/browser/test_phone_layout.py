"""Issue 19, phones: at 390 px every public page and one main page per role has no horizontal overflow
(document scrollWidth <= window innerWidth); the navigation collapses behind a menu button at least 44 px
high; tables become cards whose cells carry their column's label. Screenshots go to test-output/screenshots."""
import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from registry.demo import DEMO_PASSWORD
from registry.extensions import db as _db
from registry.whitelist.models import Certificate

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}

# (username, the role's main pages); the city reviewer (second factor) is replaced by a county reviewer
ROLE_PAGES = [
    ("qihang_admin", ["/provider", "/provider/application", "/provider/orders", "/provider/people"]),
    ("fhc_school", ["/dashboard", "/school/catalog", "/school/orders"]),
    ("nc_honggutan", ["/dashboard", "/review/applications"]),
    ("nc_inspector", ["/dashboard"]),
    ("admin", ["/dashboard", "/admin/users"]),
    ("auditor", ["/dashboard", "/audit/"]),
]


def _no_overflow(page: Page, path, screenshot_dir, name):
    response = page.goto(path)
    assert response.status < 400, f"{path}: {response.status}"
    widths = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    page.screenshot(path=str(screenshot_dir / f"phone-{name}.png"), full_page=True)
    assert widths[0] <= widths[1], f"{path} overflows at 390 px: scrollWidth {widths[0]} > {widths[1]}"


def _public_paths(live_server, page: Page):
    with live_server.app.app_context():
        token = _db.session.scalar(select(Certificate.token).limit(1))
        _db.session.remove()
    page.goto("/whitelist")
    provider = page.locator("a[href^='/whitelist/providers/']").first.get_attribute("href")
    page.goto("/publicity")
    batch = page.locator("a[href^='/publicity/']").first.get_attribute("href")
    return ["/", "/login", "/register", "/whitelist", "/whitelist/changes", "/publicity", batch, provider,
            f"/verify/{token}", "/no-such-page"]


def test_public_pages_fit_a_phone(browser, live_server, screenshot_dir):
    context = browser.new_context(viewport=PHONE, base_url=live_server.url)
    page = context.new_page()
    try:
        for i, path in enumerate(_public_paths(live_server, page)):
            page.goto(path)
            widths = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
            page.screenshot(path=str(screenshot_dir / f"phone-public-{i}.png"), full_page=True)
            assert widths[0] <= widths[1], f"{path} overflows at 390 px: {widths}"
    finally:
        context.close()


@pytest.mark.parametrize("username,paths", ROLE_PAGES, ids=[u for u, _p in ROLE_PAGES])
def test_each_role_main_pages_fit_a_phone(browser, live_server, screenshot_dir, username, paths):
    context = browser.new_context(viewport=PHONE, base_url=live_server.url)
    page = context.new_page()
    try:
        page.goto("/login")
        page.get_by_label("用户名").fill(username)
        page.get_by_label("密码").fill(DEMO_PASSWORD)
        page.get_by_role("button", name="登录").click()
        page.wait_for_load_state()
        for i, path in enumerate(paths):
            _no_overflow(page, path, screenshot_dir, f"{username}-{i}")
    finally:
        context.close()


def test_menu_collapses_and_tables_become_labelled_cards(browser, live_server):
    context = browser.new_context(viewport=PHONE, base_url=live_server.url)
    page = context.new_page()
    try:
        page.goto("/login")
        page.get_by_label("用户名").fill("qihang_admin")
        page.get_by_label("密码").fill(DEMO_PASSWORD)
        page.get_by_role("button", name="登录").click()
        page.goto("/provider")
        nav = page.locator("nav.mainnav")
        expect(nav).to_be_hidden()
        toggle = page.locator("label.nav-toggle-label")
        assert toggle.bounding_box()["height"] >= 44
        toggle.click()
        expect(nav).to_be_visible()
        link = nav.get_by_role("link", name="从业人员")
        assert link.bounding_box()["height"] >= 44
        # a table cell shows its column's header as a label (static/app.js + the stacked-card CSS)
        cell = page.locator("table.table tbody td").first
        label = cell.get_attribute("data-label")
        assert label
        before = cell.evaluate("td => getComputedStyle(td, '::before').content")
        assert label in before
        # form controls are full width and at least 44 px high
        page.goto("/provider/profile")
        box = page.locator(".field input").first.bounding_box()
        assert box["height"] >= 44 and box["width"] >= 300
    finally:
        context.close()


def test_wide_screens_keep_the_inline_menu_and_tables(browser, live_server):
    context = browser.new_context(viewport={"width": 1366, "height": 900}, base_url=live_server.url)
    page = context.new_page()
    try:
        page.goto("/whitelist")
        expect(page.locator("label.nav-toggle-label")).to_be_hidden()
        expect(page.locator("nav.mainnav")).to_be_visible()
        assert page.locator("table.table thead").first.evaluate("t => getComputedStyle(t).position") != "absolute"
    finally:
        context.close()
