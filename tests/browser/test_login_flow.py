"""Foundation browser test (issue 2): a demo reviewer logs in with a second factor and reaches the dashboard."""
import re
import time

import pyotp
import pytest
from playwright.sync_api import Page, expect

from registry.auth.services import LOGIN_FAILED_MESSAGE
from registry.demo import DEMO_PASSWORD

pytestmark = pytest.mark.browser


def next_step_code(secret):
    """A code for the time step after the current one.

    Enrolment consumed the step that was current then, and a step is accepted only once,
    so the current step may already be used up. The server accepts the neighbouring steps,
    so the next step's code is valid now and strictly later than the enrolment step.
    """
    totp = pyotp.TOTP(secret)
    return totp.generate_otp(int(time.time() // totp.interval) + 1)


def test_reviewer_logs_in_with_second_factor_and_reaches_dashboard(page: Page, reviewer_totp_secret, screenshot_dir):
    page.goto("/login")
    expect(page).to_have_title(re.compile("登录"))
    page.get_by_label("用户名").fill("nc_city")
    page.get_by_label("密码").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="登录").click()

    expect(page).to_have_url(re.compile(r"/login/mfa$"))
    code_field = page.get_by_label("动态验证码")
    expect(code_field).to_be_visible()
    code_field.fill(next_step_code(reviewer_totp_secret))
    page.get_by_role("button", name="验证并登录").click()

    expect(page).to_have_url(re.compile(r"/dashboard$"))
    heading = page.get_by_role("heading", name="工作台")
    expect(heading).to_be_visible()
    card = page.locator("section").filter(has=heading)
    expect(card).to_contain_text("您好，南昌市教育局审核员")
    expect(card.locator("strong").first).to_have_text("市教育局审核员")
    page.screenshot(path=str(screenshot_dir / "reviewer-dashboard.png"), full_page=True)


def test_wrong_password_shows_chinese_error(page: Page, live_server, screenshot_dir):
    page.goto("/login")
    page.locator("input[name=username]").fill("gz_city")
    page.locator("input[name=password]").fill(DEMO_PASSWORD + "x")
    page.get_by_role("button", name="登录").click()

    expect(page).to_have_url(re.compile(r"/login$"))
    alert = page.get_by_role("alert")
    expect(alert).to_have_text(LOGIN_FAILED_MESSAGE)
    expect(alert).to_contain_text("用户名或密码错误")
    # The username is kept, the password is not.
    expect(page.locator("input[name=username]")).to_have_value("gz_city")
    expect(page.locator("input[name=password]")).to_have_value("")
    page.screenshot(path=str(screenshot_dir / "login-error.png"), full_page=True)
