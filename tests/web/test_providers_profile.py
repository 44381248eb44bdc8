"""Provider profile and colleagues (issue 3 item 1), HTML and /api/v1/providers/me."""
from sqlalchemy import select

from registry.auth.models import User
from registry.regions import services as regions
from tests.fixtures.accounts import PASSWORD, login


def county(code):
    return regions.get_by_code(code).id


def profile_form(provider, **overrides):
    data = {
        "name": provider.name, "org_type": provider.org_type.value, "legal_representative": "周明",
        "contact_name": "王五", "contact_phone": "0791-86000000", "address": "南昌市东湖区八一大道 1 号",
        "service_county_ids": [county("360113"), county("360111")], "description": "新的简介",
    }
    data.update(overrides)
    return data


def test_profile_shows_the_organisation(login_as):
    client, user = login_as("provider_admin")
    page = client.get("/provider/profile").get_data(as_text=True)
    assert user.provider.uscc in page and "红谷滩区" in page
    assert "不能自行修改" in page  # the registered county is shown, not editable
    assert 'name="county_id"' not in page and 'name="uscc"' not in page


def test_profile_edit_is_saved(login_as, db):
    client, user = login_as("provider_admin")
    response = client.post("/provider/profile", data=profile_form(user.provider))
    assert response.status_code == 302
    db.session.expire_all()
    provider = user.provider
    assert provider.contact_name == "王五" and provider.contact_phone == "0791-86000000"
    assert sorted(a.county.code for a in provider.service_areas) == ["360111", "360113"]


def test_profile_cannot_move_the_registered_county_or_uscc(login_as, db):
    client, user = login_as("provider_admin")
    before = (user.provider.county_id, user.provider.uscc)
    for extra in ({"county_id": county("360102")}, {"uscc": "91360100MA35ABCD1R"}):
        response = client.post("/provider/profile", data=profile_form(user.provider, **extra))
        assert response.status_code == 422
        assert "未知字段" in response.get_data(as_text=True)
    db.session.expire_all()
    assert (user.provider.county_id, user.provider.uscc) == before


def test_profile_refuses_a_county_of_another_city(login_as, db):
    client, user = login_as("provider_admin")
    response = client.post("/provider/profile", data=profile_form(user.provider, contact_name="不该保存",
                                                                  service_county_ids=[county("360702")]))
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "不在注册地所在设区市内" in page and 'value="不该保存"' in page
    db.session.expire_all()
    assert user.provider.contact_name != "不该保存"


def test_add_colleague_who_must_change_the_initial_password(login_as, app, db):
    client, user = login_as("provider_admin")
    response = client.post("/provider/colleagues", data={"username": "colleague_a", "display_name": "同事甲",
                                                         "password": PASSWORD})
    assert response.status_code == 302
    colleague = db.session.scalar(select(User).where(User.username == "colleague_a"))
    assert colleague.provider_id == user.provider_id and colleague.must_change_password
    page = client.get("/provider/colleagues").get_data(as_text=True)
    assert "同事甲" in page and "待修改初始密码" in page
    other = app.test_client()
    assert login(other, "colleague_a").headers["Location"].endswith("/account/password")


def test_add_colleague_errors_keep_the_form(login_as):
    client, _user = login_as("provider_admin")
    response = client.post("/provider/colleagues", data={"username": "x", "display_name": "同事乙",
                                                         "password": PASSWORD})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "用户名须为" in page and 'value="同事乙"' in page


def test_colleague_list_shows_only_own_provider(login_as):
    client_a, user_a = login_as("provider_admin")
    _client_b, user_b = login_as("provider_admin")
    page = client_a.get("/provider/colleagues").get_data(as_text=True)
    assert user_a.username in page and user_b.username not in page


# ---------------------------------------------------------------- JSON

def test_api_me_get_and_patch(create_user, bearer, client, db):
    user = create_user("provider_admin")
    headers = bearer(user)
    body = client.get("/api/v1/providers/me", headers=headers).get_json()
    assert body["id"] == user.provider_id and body["county"]["code"] == "360113"
    response = client.patch("/api/v1/providers/me", headers=headers, json={"contact_phone": "13512345678"})
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["contact_phone"] == "13512345678"
    # Partial: nothing else changed.
    assert response.get_json()["name"] == body["name"]


def test_api_patch_refuses_county_and_bad_phone(create_user, bearer, client, db):
    user = create_user("provider_admin")
    headers = bearer(user)
    response = client.patch("/api/v1/providers/me", headers=headers, json={"county_id": county("360102")})
    assert response.status_code == 400 and response.get_json()["field"] == "county_id"
    response = client.patch("/api/v1/providers/me", headers=headers, json={"contact_phone": "abc"})
    assert response.status_code == 422 and response.get_json()["field"] == "contact_phone"


def test_api_colleagues(create_user, bearer, client, db):
    user = create_user("provider_admin")
    headers = bearer(user)
    response = client.post("/api/v1/providers/me/colleagues", headers=headers,
                           json={"username": "api_colleague", "display_name": "同事丙", "password": PASSWORD})
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["must_change_password"] is True
    names = {c["username"] for c in client.get("/api/v1/providers/me/colleagues", headers=headers).get_json()}
    assert names == {user.username, "api_colleague"}


def test_reviewer_cannot_use_provider_pages(login_as):
    client, _user = login_as("city_reviewer")
    assert client.get("/provider/profile").status_code == 403
    assert client.get("/provider").status_code == 403
