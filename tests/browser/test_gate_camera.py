"""Issue 14 browser test: the gate page scans a real QR code through the camera path. Chromium's fake camera
(--use-fake-device-for-media-stream --use-file-for-fake-video-capture) plays a Y4M video of a pass's QR code,
written here from the PNG `qrcode` renders (luma from the grey image, chroma 128); jsQR decodes it in the page
and the answer turns green. Offline: with the scan request failing, the page decides from the signature
(WebCrypto Ed25519), says 离线判定, queues the scan and syncs it once online. Screenshots at 390 px (the pass's
phone page, the gate green, red and offline, the on-site list) go to $REGISTRY_SHOTS_DIR (default
/work/wt/_shots/passes/)."""
import os
from datetime import timedelta
from pathlib import Path

import pytest
import qrcode
from PIL import Image
from playwright.sync_api import expect
from sqlalchemy import select

from registry.auth import services as auth
from registry.auth.models import User
from registry.core import clock
from registry.demo import DEMO_PASSWORD
from registry.extensions import db as _db
from registry.passes import services as passes
from registry.people import services as people
from registry.schools.models import School
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS

pytestmark = pytest.mark.browser

SHOTS = Path(os.environ.get("REGISTRY_SHOTS_DIR", "/work/wt/_shots/passes"))
W, H = 640, 480


def write_y4m(path, text, frames=10):
    """A YUV4MPEG2 4:2:0 video: every frame the QR code of `text`, centred on white."""
    image = qrcode.make(text, box_size=5, border=4).get_image().convert("L")
    side = min(W, H) - 20
    image = image.resize((side, side))
    canvas = Image.new("L", (W, H), 255)
    canvas.paste(image, ((W - side) // 2, (H - side) // 2))
    luma = canvas.tobytes()
    chroma = bytes([128]) * (W // 2 * H // 2)
    with open(path, "wb") as handle:
        handle.write(f"YUV4MPEG2 W{W} H{H} F10:1 Ip A1:1 C420jpeg\n".encode())
        for _ in range(frames):
            handle.write(b"FRAME\n" + luma + chroma + chroma)


@pytest.fixture
def gate_world(live_server):
    """A school-engaged coach, cleared, with a pass for every day and all day, and a gate keeper; plus a
    revoked pass for the red answer."""
    with live_server.app.app_context():
        clock.freeze(None)
        school = _db.session.scalar(select(School).order_by(School.id))
        admin = _db.session.scalar(select(User).where(User.school_id == school.id, User.role == "school_admin"))
        keeper = auth.create_user(username="gate_keeper_t", display_name="张门卫", role="gate_keeper",
                                  password=DEMO_PASSWORD, school_id=school.id, must_change_password=False)
        today = clock.today()
        made = []
        for n, name in ((1, "陈教练"), (2, "吴志愿")):
            person = people.create_school_person(school, actor=admin, name=name,
                                                 id_number=_id(700 + n), gender="male", phone="13900000005",
                                                 engagement="coach" if n == 1 else "volunteer")
            for check_type in ("criminal", "sexual_offence", "health", "moral"):
                people.add_check(person, actor=admin, check_type=check_type, result="clear",
                                 check_date=today - timedelta(days=20), authority="南昌市公安局")
            people.add_qualification(person, actor=admin, qual_type="coach", number=f"B{n}", issuer="江西省体育局",
                                     issue_date=today - timedelta(days=300))
            made.append(passes.issue_school_pass(school, actor=admin, person_id=person.id,
                                                 weekdays=list(range(7)), time_slot="00:00-23:59",
                                                 valid_from=today, valid_until=today + timedelta(days=90)))
        passes.revoke(made[1], actor=admin, reason="志愿服务已结束")
        _db.session.commit()
        world = {"text": passes.qr_text(made[0]), "code": made[0].code, "revoked": made[1].code,
                 "link": made[0].link_key, "name": "陈教练", "keeper": keeper.username}
        _db.session.remove()
    return world


def _id(n):
    from stdnum.cn import ric
    body = f"36010219850101{n % 1000:03d}"[:17]
    return body + ric.calc_check_digit(body + "0")


def test_camera_scan_turns_green(playwright, live_server, gate_world, tmp_path):
    video = tmp_path / "pass.y4m"
    write_y4m(video, gate_world["text"])
    browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS + [
        "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-video-capture={video}"])
    try:
        SHOTS.mkdir(parents=True, exist_ok=True)
        context = browser.new_context(base_url=live_server.url, locale="zh-CN",
                                      viewport={"width": 390, "height": 844}, permissions=["camera"])
        page = context.new_page()
        page.goto(f"/pass/{gate_world['link']}")
        expect(page.locator("h1.pass-title")).to_have_text("入校通行证")
        page.screenshot(path=str(SHOTS / "pass-phone.png"), full_page=True)
        page.goto("/login")
        page.get_by_label("用户名").fill(gate_world["keeper"])
        page.get_by_label("密码").fill(DEMO_PASSWORD)
        page.get_by_role("button", name="登录").click()
        page.goto("/gate")
        page.get_by_role("button", name="扫描二维码").click()
        result = page.locator("#result")
        expect(result).to_have_class("gate-result ok", timeout=15000)
        expect(result.locator(".verdict")).to_have_text("允许进入")
        expect(result).to_contain_text(gate_world["name"])
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        page.screenshot(path=str(SHOTS / "gate-green.png"), full_page=True)
        page.goto("/gate")
        page.get_by_label("或输入通行码").fill(gate_world["revoked"])
        page.get_by_role("button", name="核验").click()
        expect(result).to_have_class("gate-result bad")
        expect(result.locator(".verdict")).to_have_text("禁止进入")
        expect(result).to_contain_text("志愿服务已结束")
        page.screenshot(path=str(SHOTS / "gate-red.png"), full_page=True)
        page.goto("/gate/onsite")
        expect(page.locator(".roll")).to_contain_text(gate_world["name"])
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        page.screenshot(path=str(SHOTS / "onsite.png"), full_page=True)
        # Offline: the scan endpoint cannot be reached; the page decides from the signature (WebCrypto Ed25519),
        # the deny list and the clock, says so, queues the scan, and syncs it once back online.
        page.goto("/gate")
        expect(page.locator("#net")).to_have_text("在线")
        page.route("**/gate/scan.json", lambda route: route.abort())
        page.get_by_role("button", name="扫描二维码").click()
        expect(result).to_have_class("gate-result ok", timeout=15000)
        expect(result.locator(".offline-note")).to_contain_text("离线判定")
        expect(page.locator("#queued")).not_to_have_text("0")
        page.screenshot(path=str(SHOTS / "gate-offline.png"), full_page=True)
        page.unroute("**/gate/scan.json")
        page.evaluate("window.dispatchEvent(new Event('online'))")
        expect(page.locator("#queued")).to_have_text("0", timeout=10000)
        context.close()
    finally:
        browser.close()
