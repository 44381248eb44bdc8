"""Issue 17 browser test at 390 px (a phone): a parent files a complaint with a photo on the public form,
keeps the tracking code and follows the complaint by it; the county's handler sees it in the queue, overdue
ones first. Screenshots go to test-output/screenshots/ (and /work/wt/_shots/complaints/ when it exists)."""
import re
import shutil
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from registry.demo import DEMO_PASSWORD
from tests.fixtures.providers import png_bytes

pytestmark = pytest.mark.browser

PHONE_VIEWPORT = {"width": 390, "height": 844}
SHOTS = Path("/work/wt/_shots/complaints")


def _shot(page, screenshot_dir, name):
    path = screenshot_dir / f"complaint-{name}.png"
    page.screenshot(path=str(path), full_page=True)
    if SHOTS.is_dir():
        shutil.copy(path, SHOTS / path.name)


def test_file_with_a_photo_and_follow_by_tracking_code(browser: Browser, live_server, screenshot_dir, tmp_path):
    photo = tmp_path / "收费通知照片.png"
    photo.write_bytes(png_bytes())
    context = browser.new_context(base_url=live_server.url, locale="zh-CN", viewport=PHONE_VIEWPORT,
                                  device_scale_factor=2, is_mobile=True, has_touch=True)
    page = context.new_page()
    page.goto("/")
    page.locator("label.nav-toggle-label").click()   # on a phone the navigation folds behind 菜单
    page.get_by_role("link", name="投诉", exact=True).click()
    expect(page.get_by_role("heading", name="投诉课后服务问题")).to_be_visible()
    page.get_by_label("投诉类别").select_option("illegal_fees")
    page.get_by_label("涉及的学校").select_option(label="南昌市红谷滩区凤凰城小学")
    page.get_by_label("被投诉的机构").select_option(label="南昌启航体育文化发展有限公司")
    page.get_by_label("投诉内容").fill("老师在群里通知每名学生交跳绳材料费30元，说不交不能参加课后服务。")
    page.get_by_label("证据（照片或 PDF，可选，最多 6 个）").set_input_files(str(photo))
    page.get_by_label("您的真实姓名").fill("赵敏")
    page.get_by_label("联系电话").fill("13979112345")
    _shot(page, screenshot_dir, "1-form-390")
    # the form fits the phone: nothing wider than the viewport
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE_VIEWPORT["width"]
    page.get_by_role("button", name="提交投诉").click()
    expect(page).to_have_url(re.compile(r"/complaints/track\?code=TS-"))
    expect(page.get_by_text("投诉已提交")).to_be_visible()
    code = re.search(r"TS-[A-Z0-9]{16}", page.url).group(0)
    _shot(page, screenshot_dir, "2-filed-390")
    assert "赵敏" not in page.content() and "13979112345" not in page.content()

    # later, from another phone: type the code
    other = browser.new_context(base_url=live_server.url, locale="zh-CN", viewport=PHONE_VIEWPORT,
                                device_scale_factor=2, is_mobile=True, has_touch=True).new_page()
    other.goto("/complaints/track")
    other.get_by_label("查询码").fill(code.lower())
    other.get_by_role("button", name="查询").click()
    status = other.locator("#status")
    expect(status).to_contain_text("已受理")
    expect(status).to_contain_text("红谷滩区教育局")
    expect(status).to_contain_text("违规收费")
    _shot(other, screenshot_dir, "3-track-390")
    assert other.evaluate("document.documentElement.scrollWidth") <= PHONE_VIEWPORT["width"]

    # the county's handler: the queue on a phone, with the complainant's contact on the detail page
    handler = browser.new_context(base_url=live_server.url, locale="zh-CN", viewport=PHONE_VIEWPORT,
                                  device_scale_factor=2, is_mobile=True, has_touch=True).new_page()
    handler.goto("/login")
    handler.get_by_label("用户名").fill("nc_honggutan")
    handler.get_by_label("密码").fill(DEMO_PASSWORD)
    handler.get_by_role("button", name="登录").click()
    handler.goto("/complaints/queue")
    expect(handler.get_by_role("heading", name="投诉办理")).to_be_visible()
    _shot(handler, screenshot_dir, "4-queue-390")
    handler.locator(".case-list a").filter(has_text="违规收费").first.click()
    expect(handler.get_by_role("heading", name=re.compile("投诉 #"))).to_be_visible()
    _shot(handler, screenshot_dir, "5-detail-390")

    # the public: the change feed says 青禾's delisting (违规收费) is under appeal; statistics are counts only
    other.goto("/whitelist/changes")
    row = other.locator("tr", has_text="南昌青禾劳动教育服务中心").first
    expect(row).to_contain_text("违规收费")
    expect(row).to_contain_text("申诉复核中")
    _shot(other, screenshot_dir, "6-changes-390")
    other.goto("/complaints/stats")
    expect(other.get_by_role("heading", name="课后服务投诉统计")).to_be_visible()
    assert "跳绳材料费" not in other.content()
    _shot(other, screenshot_dir, "7-stats-390")
    context.close()
