"""Issue 18 in a browser: the inspector records a monthly visit on a phone (390 px) with one 不符合 item,
and a province supervisor reads the dashboard with its ECharts trend charts at desktop width (1366 px).
Screenshots go to test-output/screenshots/ (supervision_*.png)."""
import re

import pytest
from playwright.sync_api import Page, expect

from registry.demo import DEMO_PASSWORD
from registry.supervision.indicators import INDICATORS

pytestmark = pytest.mark.browser


def _login(page, username):
    page.goto("/login")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page).to_have_url(re.compile(r"/dashboard$"))


def test_inspector_records_a_visit_on_a_phone(page: Page, screenshot_dir):
    page.set_viewport_size({"width": 390, "height": 844})
    _login(page, "nc_inspector")
    page.goto("/supervision/visits")
    page.get_by_role("link", name="登记督导").first.click()
    expect(page.get_by_role("heading", name="到校督导")).to_be_visible()
    for group in page.locator("fieldset.check-item").all():
        group.locator(".seg-conforms").click()
    safety = page.locator("fieldset.check-item").last
    safety.locator(".seg-fails").click()
    safety.locator("textarea").fill("器材室灭火器压力不足")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the form is {width}px wide on a 390px phone"
    page.screenshot(path=str(screenshot_dir / "supervision_visit_form_390.png"), full_page=True)
    page.get_by_role("button", name="保存督导记录").click()
    expect(page.get_by_text("督导记录已保存")).to_be_visible()
    expect(page.locator("p.pre", has_text="器材室灭火器压力不足")).to_be_visible()


def test_supervisor_reads_the_dashboard_with_charts(page: Page, screenshot_dir):
    page.set_viewport_size({"width": 1366, "height": 900})
    errors = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    _login(page, "jx_supervisor")
    page.goto("/supervision/")
    expect(page.get_by_role("heading", name="江西省课后服务督导指标")).to_be_visible()
    page.get_by_role("link", name="南昌市").last.click()
    page.get_by_role("link", name="红谷滩区").last.click()
    expect(page.locator(".chart canvas").first).to_be_visible()
    assert page.locator(".chart canvas").count() == len(INDICATORS)  # every indicator's source has landed
    page.screenshot(path=str(screenshot_dir / "supervision_dashboard_1366.png"), full_page=True)
    assert errors == []
