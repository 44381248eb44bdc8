"""Issue 15 browser test: the school's schedule editor checks the policy as the school types (static/schedules.js
posts the row being typed to the check endpoint and redraws the 1 : N grid and the problems), at desktop width
and at 390 px; the public page (晒课表) with its QR code and PDF. Demo data: 凤凰城小学 (fhc_school) has an
accepted schedule. Screenshots go to test-output/screenshots/."""
import re

import pytest
from playwright.sync_api import Browser, expect

from registry.demo import DEMO_PASSWORD

pytestmark = pytest.mark.browser


def _login(browser: Browser, live_server, username, width):
    context = browser.new_context(base_url=live_server.url, locale="zh-CN", viewport={"width": width, "height": 900})
    page = context.new_page()
    page.goto("/login")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page).not_to_have_url(re.compile(r"/login"))
    return context, page


def test_the_editor_checks_the_row_being_typed(browser: Browser, live_server, screenshot_dir):
    context, page = _login(browser, live_server, "fhc_school", 1366)
    page.goto("/school/schedules")
    expect(page.locator("#schedule-check")).to_contain_text("可以报备")
    page.get_by_role("button", name=re.compile("修改（新建修订版本")).click()
    expect(page.locator("h1")).to_contain_text("第 2 版")
    page.select_option("#f-grade_from", "1")
    page.select_option("#f-grade_to", "2")
    page.select_option("#f-weekday", "4")
    page.select_option("#f-kind", "one")
    page.select_option("#f-source", "own")
    page.fill("#f-content", "作业辅导")
    page.fill("#f-starts_at", "17:00")
    page.fill("#f-ends_at", "17:40")
    page.fill("#f-venue", "一（1）班教室")
    page.fill("#f-class_size", "40")
    check = page.locator("#schedule-check")
    expect(check).to_contain_text("周五，一至二年级", timeout=10000)  # the typed row overlaps Friday's N
    expect(check).to_contain_text("时间重叠")
    page.screenshot(path=str(screenshot_dir / "schedule-editor-1366.png"), full_page=True)
    context.close()

    context, page = _login(browser, live_server, "fhc_school", 390)
    page.goto("/school/schedules")
    expect(page.locator("#schedule-check")).to_be_visible()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 400, width  # nothing but the grid's own scroller is wider than the phone
    page.screenshot(path=str(screenshot_dir / "schedule-editor-390.png"), full_page=True)
    context.close()


def test_the_public_page_has_a_qr_code_and_a_pdf(browser: Browser, live_server, screenshot_dir):
    context = browser.new_context(base_url=live_server.url, locale="zh-CN", viewport={"width": 390, "height": 900})
    page = context.new_page()
    page.goto("/schedules/1/1")
    expect(page.locator("h1")).to_contain_text("课后服务安排表")
    expect(page.locator("img[alt='本页二维码']")).to_be_visible()
    expect(page.get_by_text("收费公示")).to_be_visible()
    expect(page.locator("body")).to_contain_text("王*娟（南昌启航体育文化发展有限公司）")
    page.screenshot(path=str(screenshot_dir / "schedule-public-390.png"), full_page=True)
    response = page.request.get("/schedules/1/1.pdf")
    assert response.status == 200 and response.body().startswith(b"%PDF")
    context.close()
