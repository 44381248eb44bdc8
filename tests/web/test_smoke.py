from tests.fixtures.accounts import login


def test_healthz_reports_database(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "ok" and body["database"] == "ok"


def test_reviewer_logs_in_and_sees_dashboard(client, create_user):
    user = create_user("city_reviewer")
    response = login(client, user.username)
    assert response.status_code == 302 and response.headers["Location"].endswith("/dashboard")
    page = client.get("/dashboard").get_data(as_text=True)
    assert "市教育局审核员" in page and "南昌市" in page
