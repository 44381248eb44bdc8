"""Bad input is refused before it reaches the database (issue 12, hole 9), and errors answer as the OpenAPI
document says (hole 13): one test per rule, each failing without it."""
import json
from decimal import Decimal

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from registry.auth.models import User
from registry.core.api import INT_MAX
from registry.core.errors import Conflict, unique_conflict
from registry.core.inputs import MAX_JSON_DEPTH
from registry.projects.models import Project
from tests.fixtures.accounts import login
from tests.fixtures.providers import PROJECT_DEFAULTS

HUGE = [2 ** 31, 2 ** 63, 10 ** 30]


def assert_error(response, status, field=None):
    assert response.status_code == status, response.get_data(as_text=True)[:500]
    body = response.get_json()
    assert set(body) - {"errors"} == {"code", "message", "field"}, body
    assert any("\u4e00" <= ch <= "\u9fff" for ch in body["message"]), body
    if field is not None:
        assert body["field"] == field, body
    return body


def project_json(**overrides):
    return {**PROJECT_DEFAULTS, "staff_ids": [], **overrides}


def project_count(db):
    return db.session.scalar(select(func.count()).select_from(Project))


@pytest.fixture
def provider_client(app, provider_admin):
    client = app.test_client()
    assert login(client, provider_admin.username).status_code == 302
    return client


# ---------------------------------------------------------------- integers

@pytest.mark.parametrize("number", HUGE)
@pytest.mark.parametrize("path", ["/api/v1/whitelist/providers/{}", "/api/v1/publicity/{}", "/whitelist/providers/{}",
                                  "/whitelist/batches/{}/announcement.pdf"])
def test_out_of_range_ids_in_anonymous_paths_are_404(client, path, number):
    response = client.get(path.format(number))
    assert response.status_code == 404


@pytest.mark.parametrize("number", HUGE)
def test_out_of_range_ids_in_signed_in_paths_are_404(client, provider_admin, bearer, provider_client, number):
    assert_error(client.get(f"/api/v1/people/{number}", headers=bearer(provider_admin)), 404)
    assert provider_client.get(f"/provider/projects/{number}").status_code == 404


@pytest.mark.parametrize("number", HUGE)
def test_out_of_range_integers_in_queries_are_422_naming_the_field(client, create_user, bearer, number):
    from registry.extensions import db
    from tests.fixtures.schools import make_school_row
    school = make_school_row(db)
    headers = bearer(create_user("school_admin", school_id=school.id))
    body = assert_error(client.get(f"/api/v1/school/catalog?provider_id={number}", headers=headers), 422,
                        "provider_id")
    assert "整数" in body["message"]


@pytest.mark.parametrize("number", HUGE)
def test_out_of_range_integers_in_bodies_are_422_naming_the_field(db, client, provider_admin, bearer, number):
    before = project_count(db)
    response = client.post("/api/v1/projects", json=project_json(staff_ids=[number]), headers=bearer(provider_admin))
    assert_error(response, 422, "staff_ids.0")
    assert project_count(db) == before


@pytest.mark.parametrize("number", HUGE)
def test_out_of_range_entry_on_the_order_form_gets_a_chinese_error(app, db, create_user, number):
    from tests.fixtures.schools import make_school_row
    user = create_user("school_admin", school_id=make_school_row(db).id)
    client = app.test_client()
    assert login(client, user.username).status_code == 302
    response = client.get(f"/school/orders/new?entry_id={number}")
    assert response.status_code == 422 and "请先在白名单点单页选择项目" in response.get_data(as_text=True)


def test_out_of_range_integers_in_forms_get_a_chinese_error(login_as):
    client, _ = login_as("sys_admin")
    from tests.fixtures.accounts import user_form
    response = client.post("/admin/users/new", data=user_form("county_reviewer", region_id=str(2 ** 63)))
    assert response.status_code == 422
    assert "之间的整数" in response.get_data(as_text=True)


@pytest.mark.parametrize("path", ["/admin/users?page={}", "/audit/?page={}"])
def test_huge_page_numbers_of_html_lists_are_clamped(login_as, path):
    client, _ = login_as("sys_admin" if path.startswith("/admin") else "auditor")
    response = client.get(path.format(10 ** 30))
    assert response.status_code == 200, response.get_data(as_text=True)[:300]


def test_the_openapi_document_states_the_integer_bounds(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    for path, item in spec["paths"].items():
        for parameter in item.get("parameters", []):
            if parameter["schema"].get("type") == "integer":
                assert parameter["schema"]["maximum"] <= INT_MAX, (path, parameter)

    def walk(node, where):
        if isinstance(node, dict):
            if node.get("type") == "integer":
                assert node.get("maximum", INT_MAX + 1) <= INT_MAX, where
            for key, value in node.items():
                walk(value, f"{where}.{key}")
        elif isinstance(node, list):
            for value in node:
                walk(value, where)
    walk({name: schema for name, schema in spec["components"]["schemas"].items()
          if name != "PaginationMetadata"}, "components")  # flask-smorest's own, registered before our rule


# ---------------------------------------------------------------- control characters

@pytest.mark.parametrize("text", ["花样\x00跳绳", "花样\x1b跳绳", "花样\x7f跳绳"])
def test_control_characters_in_json_are_422_naming_the_field(db, client, provider_admin, bearer, text):
    before = project_count(db)
    response = client.post("/api/v1/projects", json=project_json(title=text), headers=bearer(provider_admin))
    body = assert_error(response, 422, "title")
    assert "控制字符" in body["message"]
    assert project_count(db) == before


def test_control_characters_in_nested_json_name_the_path(db, client, submitted, reviewers, bearer):
    application = submitted["application"]
    response = client.post(f"/api/v1/reviews/applications/{application.id}/return",
                           json={"comments": {"organisation:name": "名称\x00有误"}},
                           headers=bearer(reviewers["county"]))
    assert_error(response, 422, "comments.organisation:name")
    db.session.refresh(application)
    assert application.status.value == "county_review"


def test_tabs_and_newlines_in_multi_line_text_are_kept(db, client, provider_admin, bearer):
    response = client.post("/api/v1/projects", json=project_json(description="第一段\r\n\t第二段"),
                           headers=bearer(provider_admin))
    assert response.status_code == 201, response.get_data(as_text=True)
    assert db.session.get(Project, response.get_json()["id"]).description == "第一段\r\n\t第二段"


@pytest.mark.parametrize("path", ["/api/v1/whitelist?q=a%00b", "/api/v1/school/catalog?q=%00"])
def test_nul_in_query_strings_is_422_naming_the_parameter(client, path):
    assert_error(client.get(path), 422, "q")


def test_nul_in_the_anonymous_whitelist_page_search_gets_a_chinese_error(client):
    response = client.get("/whitelist?q=%E8%B7%B3%00")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "不能包含控制字符" in page and "Traceback" not in page


def test_nul_in_an_html_form_gets_a_chinese_error_and_stores_nothing(db, provider_client):
    before = project_count(db)
    form = {**PROJECT_DEFAULTS, "title": "花样\x00跳绳"}
    response = provider_client.post("/provider/projects/new", data=form)
    assert response.status_code == 422
    assert "title不能包含控制字符" in response.get_data(as_text=True)
    assert project_count(db) == before


@pytest.mark.parametrize("text", ["凤凰城\x01小学", "凤凰城\x1f小学"])  # NUL: not a text file at all
def test_control_characters_in_an_uploaded_csv_row_are_reported_and_nothing_is_stored(db, client, create_user,
                                                                                       bearer, text):
    import io

    from registry.schools.models import School
    header = "学校名称,学校标识码,区县,学段,地址,在校学生数"
    data = f"{header}\r\n南昌市红谷滩区{text},3601130201,360113,小学,凤凰中大道 100 号,1500\r\n".encode("utf-8-sig")
    before = db.session.scalar(select(func.count()).select_from(School))
    response = client.post("/api/v1/schools/import", data={"file": (io.BytesIO(data), "学校.csv")},
                           content_type="multipart/form-data", headers=bearer(create_user("sys_admin")))
    body = assert_error(response, 422)
    assert "控制字符" in json.dumps(body, ensure_ascii=False)
    assert db.session.scalar(select(func.count()).select_from(School)) == before


# ---------------------------------------------------------------- nesting depth

def _nested(depth):
    return "[" * (depth - 1) + "1" + "]" * (depth - 1)


@pytest.mark.parametrize("depth", [MAX_JSON_DEPTH + 1, 100, 100_000])
def test_deeply_nested_json_on_public_posts_is_400(client, depth):
    body = '{"name": ' + _nested(depth) + "}"
    for path in ("/api/v1/providers", "/api/v1/publicity/1/objections"):
        response = client.post(path, data=body, content_type="application/json")
        answer = assert_error(response, 400)
        assert answer["code"] == "too_deep" and str(MAX_JSON_DEPTH) in answer["message"]


def test_json_within_the_depth_limit_reaches_the_schema(client):
    response = client.post("/api/v1/providers", data=json.dumps({"name": json.loads(_nested(MAX_JSON_DEPTH - 1))}),
                           content_type="application/json")
    assert response.status_code in (400, 422) and response.get_json()["code"] != "too_deep"


# ---------------------------------------------------------------- unique races

def test_a_unique_violation_becomes_a_conflict_naming_the_field(db, create_user):
    """The mapping the race test (tests/integration/test_registration_race.py, PostgreSQL) relies on, on the
    current database: a duplicate that slipped past the service's check is a 409 naming the column."""
    user = create_user("auditor")
    try:
        with db.session.begin_nested():
            db.session.add(User(username=user.username, display_name="重复", role=user.role, password_hash="x"))
            db.session.flush()
    except IntegrityError as exc:
        conflict = unique_conflict(exc, rename={"username": "admin_username"})
    else:
        pytest.fail("the duplicate username was stored")
    assert isinstance(conflict, Conflict) and conflict.status == 409
    assert conflict.field == "admin_username" and conflict.message == "该用户名已被使用"


# ---------------------------------------------------------------- prices

@pytest.mark.parametrize("price", ["0.001", 0.001, "3.005", "1e-3"])
def test_prices_with_more_than_two_decimals_are_refused(db, client, provider_admin, bearer, price):
    before = project_count(db)
    response = client.post("/api/v1/projects", json=project_json(price=price), headers=bearer(provider_admin))
    body = assert_error(response, 422, "price")
    assert "两位小数" in body["message"]
    assert project_count(db) == before


def test_prices_with_two_decimals_are_stored_exactly(db, client, provider_admin, bearer):
    response = client.post("/api/v1/projects", json=project_json(price="4.5"), headers=bearer(provider_admin))
    assert response.status_code == 201, response.get_data(as_text=True)
    assert db.session.get(Project, response.get_json()["id"]).price == Decimal("4.50")


def test_the_project_form_refuses_a_fraction_of_a_fen(db, provider_client):
    before = project_count(db)
    response = provider_client.post("/provider/projects/new", data={**PROJECT_DEFAULTS, "price": "0.001"})
    assert response.status_code == 422
    assert "金额最多保留两位小数" in response.get_data(as_text=True)
    assert project_count(db) == before


# ---------------------------------------------------------------- LIKE wildcards

def _queue_names(client, headers, q):
    response = client.get("/api/v1/reviews/queue", query_string={"q": q}, headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    return [row["application"]["provider"]["name"] for row in response.get_json()]


def test_review_queue_search_treats_percent_and_underscore_literally(db, client, submitted, reviewers, bearer):
    headers = bearer(reviewers["county"])
    provider = submitted["provider"]
    provider.name = "百分百科技中心"
    db.session.flush()
    assert _queue_names(client, headers, "科技") == ["百分百科技中心"]
    assert _queue_names(client, headers, "%") == [] and _queue_names(client, headers, "_") == []
    provider.name = "百分_百%科技中心"
    db.session.flush()
    assert _queue_names(client, headers, "%") == ["百分_百%科技中心"]
    assert _queue_names(client, headers, "_百%") == ["百分_百%科技中心"]


def test_admin_user_search_treats_percent_literally(login_as, create_user):
    client, _ = login_as("sys_admin")
    create_user("auditor", display_name="张%三")
    create_user("auditor", display_name="李四")
    page = client.get("/admin/users", query_string={"q": "%"}).get_data(as_text=True)
    assert "张%三" in page and "李四" not in page


def test_audit_action_filter_treats_wildcards_literally(login_as):
    from registry.audit import services as audit
    client, _ = login_as("auditor")
    audit.record("fuzz.wildcard_check", object_type="thing", object_id=1)
    assert "fuzz.wildcard_check" in client.get("/audit/", query_string={"action": "fuzz."}).get_data(as_text=True)
    for pattern in ("%", "_uzz", "fuzz%check"):
        page = client.get("/audit/", query_string={"action": pattern}).get_data(as_text=True)
        rows = page.split("<tbody>", 1)[1]  # the action filter's options list every action (issue 19)
        assert "fuzz.wildcard_check" not in rows, pattern


# ---------------------------------------------------------------- the error schema

def test_every_documented_error_uses_the_one_error_schema(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    error = spec["components"]["schemas"]["Error"]
    assert set(error["properties"]) == {"code", "message", "field", "errors"}
    assert error["properties"]["code"]["type"] == "string" and error["properties"]["field"].get("nullable")
    shared = spec["components"]["responses"]
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if method == "parameters":
                continue
            for status, response in operation["responses"].items():
                if status == "default" or status.startswith(("4", "5")):
                    response = shared[response["$ref"].rsplit("/", 1)[1]] if "$ref" in response else response
                    assert response["content"]["application/json"]["schema"] == {
                        "$ref": "#/components/schemas/Error"}, (method, path, status)


def test_405_carries_allow_and_the_error_body(client):
    response = client.delete("/api/v1/regions")
    body = assert_error(response, 405)
    assert body["code"] == "method_not_allowed"
    assert set(response.headers["Allow"].replace(" ", "").split(",")) >= {"GET", "HEAD", "OPTIONS"}
    page = client.delete("/whitelist")
    assert page.status_code == 405 and "GET" in page.headers["Allow"]
