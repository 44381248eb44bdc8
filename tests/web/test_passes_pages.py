"""Issue 14 over HTTP: the gate page and its JSON (CSRF in a header), a gate keeper's API token, the typed-code
form, the on-site list, the person's phone page by secret link, the badge PDF, the public verification page
(no ID number, phone or check; a different path and prefix than the certificate QR), photo visibility, and
replacing staff from the provider's order page."""
import io
import re

import pytest
from sqlalchemy import select

from registry.passes import services
from registry.passes.models import EntryPass, GateScan
from tests.fixtures.accounts import PASSWORD, login
from tests.fixtures.providers import add_cleared_person, png_bytes
from tests.integration.test_passes import TUESDAY, accepted, at_time  # noqa: F401  (the fixture)

FULL_ID = re.compile(r"\d{17}[\dXx]")


@pytest.fixture
def keeper(app, db, accepted, create_user):  # noqa: F811
    """A gate keeper logged in at 16:40 on the Tuesday (a session times out after 30 idle minutes)."""
    at_time(TUESDAY, 16, 40)
    user = create_user("gate_keeper", school_id=accepted["school"].id)
    client = app.test_client()
    assert login(client, user.username).status_code == 302
    return client, user


def test_gate_keeper_scans_over_the_api_with_a_token(app, db, accepted, create_user, bearer):  # noqa: F811
    at_time(TUESDAY, 16, 40)
    user = create_user("gate_keeper", school_id=accepted["school"].id)
    headers = bearer(user)
    response = app.test_client().post("/api/v1/gate/scan", json={"text": accepted["pass"].code}, headers=headers)
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["allowed"] and body["result"] == "allowed" and body["pass"]["name"] == accepted["person"].name
    onsite = app.test_client().get("/api/v1/gate/onsite", headers=headers).get_json()
    assert [o["pass"]["id"] for o in onsite] == [accepted["pass"].id]
    keys = app.test_client().get("/api/v1/gate/keys", headers=headers).get_json()
    assert accepted["pass"].key_id in keys["keys"] and keys["deny"] == []
    assert app.test_client().get("/api/v1/gate/deny-list", headers=headers).get_json()["deny"] == []
    # A gate keeper reaches neither the pass list nor another school's people.
    assert app.test_client().get("/api/v1/passes", headers=headers).status_code == 403


def test_gate_page_json_needs_csrf_and_answers_red_with_reasons(db, accepted, create_user):  # noqa: F811
    from tests.conftest import make_app
    csrf_app = make_app(WTF_CSRF_ENABLED=True)
    at_time(TUESDAY, 18, 40)
    user = create_user("gate_keeper", school_id=accepted["school"].id)
    client = csrf_app.test_client()
    form = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").get_data(as_text=True)).group(1)
    assert client.post("/login", data={"username": user.username, "password": PASSWORD,
                                       "csrf_token": form}).status_code == 302
    page = client.get("/gate")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "vendor/jsQR.js" in html and "passes/gate.js" in html and "<script>" not in html
    token = re.search(r'name="csrf-token" content="([^"]+)"', html).group(1)
    at_time(TUESDAY, 18, 45)  # outside the window (17:30 + 60 minutes)
    assert client.post("/gate/scan.json", json={"text": accepted["pass"].code}).status_code == 400  # no CSRF
    response = client.post("/gate/scan.json", json={"text": accepted["pass"].code}, headers={"X-CSRFToken": token})
    body = response.get_json()
    assert response.status_code == 200 and not body["allowed"]
    assert any("不在入校时段内" in r for r in body["reasons"])
    kit = client.get("/gate/kit.json").get_json()
    assert kit["school_id"] == accepted["school"].id and kit["keys"]


def test_typed_code_form_and_on_site_list(db, keeper, accepted):  # noqa: F811
    client, _user = keeper
    page = client.get("/gate").get_data(as_text=True)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    code = services.format_code(accepted["pass"].code).lower()
    response = client.post("/gate", data={"text": code, "csrf_token": csrf})
    assert response.status_code == 200 and "允许进入" in response.get_data(as_text=True)
    onsite = client.get("/gate/onsite").get_data(as_text=True)
    assert accepted["person"].name in onsite and "共 1 人在校" in onsite and not FULL_ID.search(onsite)


def test_phone_page_badge_and_public_verification(app, db, accepted, login_as):  # noqa: F811
    p = accepted["pass"]
    phone = app.test_client().get(f"/pass/{p.link_key}")
    assert phone.status_code == 200 and "data:image/svg+xml" in phone.get_data(as_text=True)
    assert phone.headers["Cache-Control"] == "private, no-store"
    assert app.test_client().get("/pass/not-a-key").status_code == 404
    verify_url = services.qr_text(p)
    assert "/passes/v/RP1." in verify_url and "/verify/" not in verify_url.replace("/passes/v/", "")
    public = app.test_client().get(verify_url.split("127.0.0.1:5000", 1)[-1])
    text = public.get_data(as_text=True)
    assert public.status_code == 200 and "有效" in text and services.mask_name(accepted["person"].name) in text
    assert accepted["person"].name not in text or len(accepted["person"].name) == 1
    assert not FULL_ID.search(text) and accepted["person"].id_masked not in text and "13900000000" not in text
    assert app.test_client().get("/passes/v/RP1.bad.token.sig").status_code == 404
    client = app.test_client()
    assert login(client, accepted["admin"].username).status_code == 302
    pdf = client.get(f"/passes/{p.id}/badge.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")


def test_photo_only_for_gate_staff_and_provider(app, db, accepted, keeper, create_user):  # noqa: F811
    wl = accepted["whitelisted"]
    provider_client = app.test_client()
    assert login(provider_client, wl["admin"].username).status_code == 302
    page = provider_client.get("/provider/passes").get_data(as_text=True)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    person_id = accepted["person"].id
    response = provider_client.post(f"/passes/people/{person_id}/photo", data={
        "csrf_token": csrf, "consent_on": TUESDAY.isoformat(), "photo": (io.BytesIO(png_bytes()), "me.png")},
        content_type="multipart/form-data")
    assert response.status_code == 302
    assert provider_client.get(f"/passes/people/{person_id}/photo").status_code == 200
    keeper_client, _user = keeper
    assert keeper_client.get(f"/passes/people/{person_id}/photo").status_code == 200
    stranger = create_user("gate_keeper")
    other = app.test_client()
    assert login(other, stranger.username).status_code == 302
    assert other.get(f"/passes/people/{person_id}/photo").status_code == 404
    assert app.test_client().get(f"/passes/people/{person_id}/photo").status_code == 302  # login first


def test_provider_replaces_staff_on_the_order_page(app, db, accepted):  # noqa: F811
    wl = accepted["whitelisted"]
    substitute = add_cleared_person(wl["provider"], wl["admin"], n=43, name="周教练")
    client = app.test_client()
    assert login(client, wl["admin"].username).status_code == 302
    page = client.get(f"/provider/orders/{accepted['order'].id}").get_data(as_text=True)
    assert "更换授课人员" in page
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    response = client.post(f"/provider/orders/{accepted['order'].id}/replace-staff", data={
        "csrf_token": csrf, "old_person_id": accepted["person"].id, "new_person_id": substitute.id, "reason": ""})
    assert response.status_code == 422 and "更换人员时须填写原因" in response.get_data(as_text=True)
    response = client.post(f"/provider/orders/{accepted['order'].id}/replace-staff", data={
        "csrf_token": csrf, "old_person_id": accepted["person"].id, "new_person_id": substitute.id,
        "reason": "病假"})
    assert response.status_code == 302
    assert db.session.scalar(select(EntryPass).where(EntryPass.person_id == substitute.id)) is not None
    assert db.session.get(EntryPass, accepted["pass"].id).revoked_at is not None


def test_scans_are_logged_with_the_user(db, keeper, accepted):  # noqa: F811
    client, user = keeper
    page = client.get("/gate").get_data(as_text=True)
    assert 'name="csrf-token"' in page
    client.post("/gate/scan.json", json={"text": "ZZZZ-ZZZZ"})
    row = db.session.scalar(select(GateScan).where(GateScan.user_id == user.id))
    assert row is not None and row.pass_id is None and row.reasons == ["通行证不存在（二维码或通行码无效）"]


def test_school_issues_a_pass_and_creates_a_gate_keeper_on_its_page(app, db, accepted):  # noqa: F811
    from tests.web.test_school_people import add_cleared_school_person
    at_time(TUESDAY, 9, 0)
    person = add_cleared_school_person(accepted["school"], accepted["admin"], n=9)
    client = app.test_client()
    assert login(client, accepted["admin"].username).status_code == 302
    page = client.get("/school/passes").get_data(as_text=True)
    assert person.name in page and "门卫账号" in page
    refused = client.post("/school/passes", data={"person_id": person.id, "time_slot": "16:00-17:00",
                                                  "valid_from": "2026-03-10", "valid_until": "2026-06-30"})
    assert refused.status_code == 422 and "请选择入校日" in refused.get_data(as_text=True)
    done = client.post("/school/passes", data={"person_id": person.id, "weekdays": ["0", "2"],
                                               "time_slot": "16:00—17:00", "valid_from": "2026-03-10",
                                               "valid_until": "2026-06-30"})
    assert done.status_code == 302
    made = db.session.scalar(select(EntryPass).where(EntryPass.person_id == person.id))
    assert made.weekdays == [0, 2] and made.time_slot == "16:00-17:00" and made.order_id is None
    keeper = client.post("/school/gate-keepers", data={"username": "gate_new_1", "display_name": "李门卫",
                                                       "password": "Xk9#mQ2v!pL7-gate"})
    assert keeper.status_code == 302
    from registry.auth.models import User
    user = db.session.scalar(select(User).where(User.username == "gate_new_1"))
    assert user.role.value == "gate_keeper" and user.school_id == accepted["school"].id and user.must_change_password
