"""Self-registration of a provider (issue 3 item 1): HTML form and POST /api/v1/providers, same service."""
import pytest
from sqlalchemy import func, select

from registry.auth.models import User
from registry.providers.models import Provider
from registry.regions import services as regions
from tests.fixtures.accounts import PASSWORD
from tests.fixtures.providers import uscc_for

EXAMPLE_USCC = "91360100MA35ABCD1R"  # a valid USCC (GB 32100 check character)


def county(code):
    return regions.get_by_code(code).id


def registration(n=1, **overrides):
    """Form data for /register (南昌 红谷滩区, serving 红谷滩区 and 东湖区)."""
    data = {
        "name": f"南昌市青禾科技教育中心{n}", "uscc": uscc_for(5000 + n), "org_type": "enterprise",
        "legal_representative": "周明", "contact_name": "刘芳", "contact_phone": "13907910000",
        "address": "南昌市红谷滩区丰和中大道 100 号", "county_id": county("360113"),
        "service_county_ids": [county("360113"), county("360102")], "description": "科普与体育类课后服务",
        "admin_username": f"qinghe{n}", "admin_display_name": "刘芳", "admin_password": PASSWORD,
        "admin_password_confirm": PASSWORD,
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def api_registration(n=1, **overrides):
    data = registration(n, **overrides)
    data.pop("admin_password_confirm", None)
    return data


def count(db, model):
    return db.session.scalar(select(func.count()).select_from(model))


@pytest.fixture
def regions_loaded(seeded_regions):
    return seeded_regions


# ---------------------------------------------------------------- HTML

def test_form_shows_counties_grouped_by_city(client, regions_loaded):
    page = client.get("/register").get_data(as_text=True)
    assert '<optgroup label="南昌市">' in page and '<optgroup label="赣州市">' in page
    assert "红谷滩区" in page and 'name="service_county_ids"' in page
    assert 'name="admin_password_confirm"' in page


def test_registration_creates_provider_and_admin_and_logs_in(client, db, regions_loaded):
    response = client.post("/register", data=registration(1, uscc=EXAMPLE_USCC))
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/provider")
    provider = db.session.scalar(select(Provider).where(Provider.uscc == EXAMPLE_USCC))
    assert provider.name == "南昌市青禾科技教育中心1"
    assert provider.county.code == "360113" and provider.city.code == "360100"
    assert sorted(a.county.code for a in provider.service_areas) == ["360102", "360113"]
    admin = db.session.scalar(select(User).where(User.username == "qinghe1"))
    assert admin.provider_id == provider.id and admin.role.value == "provider_admin"
    assert not admin.must_change_password
    # Logged in: the dashboard answers, and shows the organisation.
    page = client.get("/provider")
    assert page.status_code == 200
    assert "南昌市青禾科技教育中心1" in page.get_data(as_text=True)
    # main.dashboard sends a provider admin to the provider dashboard.
    assert client.get("/dashboard").headers["Location"].endswith("/provider")


def test_wrong_check_character_is_a_chinese_message_on_the_uscc_field(client, db, regions_loaded):
    before = count(db, Provider)
    response = client.post("/register", data=registration(2, uscc="91360100MA35ABCD1X"))
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "统一社会信用代码校验位不正确" in page
    assert 'id="f-uscc" name="uscc" type="text" value="91360100MA35ABCD1X"' in page  # nothing typed is lost
    assert "南昌市青禾科技教育中心2" in page
    assert count(db, Provider) == before


def test_duplicate_uscc_is_refused_with_a_clear_message(client, db, regions_loaded):
    assert client.post("/register", data=registration(3, uscc=EXAMPLE_USCC)).status_code == 302
    other = client.application.test_client()
    response = other.post("/register", data=registration(4, uscc=" 91360100ma35abcd1r "))
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert "该统一社会信用代码已注册" in page
    assert db.session.scalar(select(func.count()).select_from(Provider).where(Provider.uscc == EXAMPLE_USCC)) == 1
    assert db.session.scalar(select(User).where(User.username == "qinghe4")) is None


def test_service_county_in_another_city_is_refused(client, db, regions_loaded):
    data = registration(5, service_county_ids=[county("360113"), county("360702")])  # 章贡区, 赣州市
    response = client.post("/register", data=data)
    assert response.status_code == 422
    assert "不在注册地所在设区市内" in response.get_data(as_text=True)
    assert db.session.scalar(select(Provider).where(Provider.uscc == data["uscc"])) is None


def test_no_service_county_and_mismatched_password_are_explained(client, regions_loaded):
    page = client.post("/register", data=registration(6, service_county_ids=[])).get_data(as_text=True)
    assert "请至少选择一个服务的县（市、区）" in page
    response = client.post("/register", data=registration(7, admin_password_confirm="Other#Pass123"))
    assert response.status_code == 422
    assert "两次输入的密码不一致" in response.get_data(as_text=True)


def test_missing_fields_and_bad_phone_are_each_named(client, regions_loaded):
    response = client.post("/register", data=registration(8, name="", legal_representative="", contact_phone="12345"))
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert page.count("此项为必填项") >= 2
    assert "联系电话应为 11 位手机号或带区号的固定电话" in page


def test_weak_password_is_reported_on_the_admin_password_field(client, db, regions_loaded):
    data = registration(9, admin_password="password", admin_password_confirm="password")
    response = client.post("/register", data=data)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'id="f-admin_password"' in page and "field-error" in page
    assert db.session.scalar(select(Provider).where(Provider.uscc == data["uscc"])) is None


def test_taken_username_is_refused_and_no_provider_is_left_behind(client, db, create_user):
    taken = create_user("auditor")
    data = registration(10, admin_username=taken.username)
    response = client.post("/register", data=data)
    assert response.status_code == 409
    assert "该用户名已被使用" in response.get_data(as_text=True)
    assert db.session.scalar(select(Provider).where(Provider.uscc == data["uscc"])) is None


def test_logged_in_user_is_sent_to_the_dashboard(login_as):
    client, _user = login_as("provider_admin")
    assert client.get("/register").status_code == 302


# ---------------------------------------------------------------- JSON

def test_api_registration(client, db, regions_loaded):
    response = client.post("/api/v1/providers", json=api_registration(11))
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["provider"]["uscc"] == uscc_for(5011)
    assert body["provider"]["county"]["code"] == "360113"
    assert {c["code"] for c in body["provider"]["service_counties"]} == {"360113", "360102"}
    assert body["admin"]["username"] == "qinghe11"
    assert PASSWORD not in str(body) and "password_hash" not in str(body)


def test_api_wrong_check_character_is_422_naming_uscc(client, db, regions_loaded):
    response = client.post("/api/v1/providers", json=api_registration(12, uscc="91360100MA35ABCD1X"))
    assert response.status_code == 422
    body = response.get_json()
    assert body["code"] == "invalid" and body["field"] == "uscc"
    assert "统一社会信用代码校验位不正确" in body["message"]


def test_api_duplicate_uscc_is_409_naming_uscc(client, db, regions_loaded):
    assert client.post("/api/v1/providers", json=api_registration(13, uscc=EXAMPLE_USCC)).status_code == 201
    response = client.post("/api/v1/providers", json=api_registration(14, uscc=EXAMPLE_USCC))
    assert response.status_code == 409
    body = response.get_json()
    assert body == {"code": "duplicate_uscc", "field": "uscc", "message": body["message"]}
    assert "已注册" in body["message"]


def test_api_refuses_unknown_fields(client, db, regions_loaded):
    response = client.post("/api/v1/providers", json=api_registration(15, verification_status="verified"))
    assert response.status_code == 400
    assert response.get_json()["field"] == "verification_status"
    assert db.session.scalar(select(Provider).where(Provider.uscc == uscc_for(5015))) is None


def test_api_taken_username_names_admin_username(client, create_user):
    taken = create_user("auditor")
    response = client.post("/api/v1/providers", json=api_registration(16, admin_username=taken.username))
    assert response.status_code == 409
    assert response.get_json()["field"] == "admin_username"


# ---------------------------------------------------------------- rate limit

@pytest.mark.parametrize("path", ["/register", "/api/v1/providers"])
def test_registration_is_rate_limited_like_login(ratelimited_app, seeded_regions, path):
    client = ratelimited_app.test_client()
    send = (lambda: client.post(path, data={"uscc": "x"})) if path == "/register" else (
        lambda: client.post(path, json={"uscc": "x"}))
    codes = [send().status_code for _ in range(11)]
    assert 429 not in codes[:10] and codes[-1] == 429
    assert client.get("/register").status_code == 200  # viewing the form is not limited
