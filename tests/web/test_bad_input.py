"""Bad input gets a clear Chinese message (or the JSON error format) and never a 500: oversized bodies and junk."""
import pytest

from tests.conftest import make_app
from tests.fixtures.accounts import user_form


@pytest.fixture
def small_app(db):
    return make_app(MAX_CONTENT_LENGTH=2048, MAX_UPLOAD_MB=1)


def test_oversized_form_gets_413_in_chinese(small_app, create_user):
    user = create_user("auditor")
    response = small_app.test_client().post("/login", data={"username": user.username, "password": "x" * 10000})
    assert response.status_code == 413
    page = response.get_data(as_text=True)
    assert "上传的文件过大" in page and "1 MB" in page
    assert "Traceback" not in page


def test_oversized_upload_gets_413(small_app, create_user):
    import io

    from tests.fixtures.accounts import login

    client = small_app.test_client()
    assert login(client, create_user("auditor").username).status_code == 302
    response = client.post("/account/tokens",
                           data={"name": "x", "file": (io.BytesIO(b"%PDF" + b"0" * 5000), "big.pdf")},
                           content_type="multipart/form-data")
    assert response.status_code == 413


def test_oversized_json_gets_413_json(small_app, create_user, bearer):
    user = create_user("auditor")
    response = small_app.test_client().post("/api/v1/me/tokens", json={"name": "x" * 5000}, headers=bearer(user))
    assert response.status_code == 413
    body = response.get_json()
    assert body["code"] == "too_large" and "过大" in body["message"] and "field" in body


def test_default_limit_is_the_upload_limit_plus_form_overhead():
    from registry.config import load_config

    config = load_config()
    assert config["MAX_UPLOAD_MB"] == 10
    assert config["MAX_CONTENT_LENGTH"] > 10 * 1024 * 1024


@pytest.mark.parametrize("path", ["/admin/users?page=-1&per_page=abc", "/audit/?page=999999",
                                  "/admin/users?role=nonsense"])
def test_junk_query_strings_do_not_break_lists(app, db, login_as, path):
    client, _ = login_as("sys_admin" if path.startswith("/admin") else "auditor")
    assert client.get(path).status_code == 200


def test_api_query_errors_name_the_field(client):
    response = client.get("/api/v1/regions?level=planet")
    assert response.status_code == 422
    body = response.get_json()
    assert body["field"] == "level" and "级别无效" in body["message"]


def test_admin_forms_report_errors_next_to_fields(login_as):
    client, _ = login_as("sys_admin")
    response = client.post("/admin/users/new", data=user_form("city_reviewer"))
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "该角色必须指定所属区划" in page
    response = client.post("/admin/users/new", data=user_form(region_id="not-a-number"))
    assert response.status_code == 422 and "应为整数" in response.get_data(as_text=True)
    response = client.post("/admin/users/new", data=user_form(is_admin="1"))
    assert response.status_code == 422 and "未知字段：is_admin" in response.get_data(as_text=True)
