"""Redis unreachable (both the rate-limit storage and the cache point at a closed port on 127.0.0.1): the
rate-limited routes answer as usual, counting in memory (Flask-Limiter's in-memory fallback, a warning
logged), the cache degrades to no cache, and /healthz says which dependency is down."""
import socket
from datetime import date

import pytest
from sqlalchemy import func, select

from registry.batches.models import Objection
from registry.extensions import limiter
from registry.providers.models import Provider
from tests.conftest import make_app
from tests.fixtures.accounts import PASSWORD
from tests.fixtures.reviews import OBJECTION, batch_in_publicity


def closed_port():
    """A port on 127.0.0.1 where nothing listens (connections are refused at once)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def redis_down_app(db):
    url = f"redis://127.0.0.1:{closed_port()}/0"
    was_enabled = limiter.enabled
    application = make_app(RATELIMIT_ENABLED=True, RATELIMIT_STORAGE_URI=url, CACHE_URL=url,
                           LOGIN_RATE_LIMIT="4 per minute")
    yield application
    limiter.enabled = was_enabled


def test_public_and_login_routes_answer_with_redis_down(redis_down_app, published, seeded_regions, caplog):
    client = redis_down_app.test_client()
    provider = published["provider"]

    csv = client.get("/whitelist/export.csv")
    assert csv.status_code == 200 and provider.name in csv.get_data(as_text=True)
    exported = client.get("/whitelist/export.json")
    assert exported.status_code == 200 and provider.name in exported.get_data(as_text=True)
    certificate = client.get(f"/whitelist/providers/{provider.id}/certificate.pdf")
    assert certificate.status_code == 200 and certificate.data.startswith(b"%PDF-")
    listed = client.get("/api/v1/whitelist")   # the cached public JSON: answered from the database
    assert listed.status_code == 200

    response = client.post("/login", data={"username": published["admin"].username, "password": PASSWORD})
    assert response.status_code == 302 and response.headers["Location"].endswith("/dashboard")
    assert "falling back to in-memory storage" in caplog.text


def test_registration_answers_with_redis_down(redis_down_app, db, seeded_regions):
    from tests.web.test_providers_register import registration

    response = redis_down_app.test_client().post("/register", data=registration(71))
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    assert db.session.scalar(select(func.count()).select_from(Provider).where(
        Provider.name == registration(71)["name"])) == 1


def test_objections_answer_with_redis_down(redis_down_app, db, submitted, reviewers):
    batch = batch_in_publicity(submitted, reviewers, date(2026, 3, 2))
    client = redis_down_app.test_client()
    response = client.post(f"/publicity/{batch.id}/objections",
                           data={"application_id": submitted["application"].id, **OBJECTION})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    response = client.post(f"/api/v1/publicity/{batch.id}/objections",
                           json={"application_id": submitted["application"].id, **OBJECTION})
    assert response.status_code == 201, response.get_json()
    assert db.session.scalar(select(func.count()).select_from(Objection)) == 2


def test_limits_still_apply_in_memory_with_redis_down(redis_down_app, create_user):
    """The fallback counts in this process: the 5th login POST of a minute (limit 4) is refused."""
    user = create_user("provider_admin")
    client = redis_down_app.test_client()
    statuses = [client.post("/login", data={"username": user.username, "password": "wrong"}).status_code
                for _ in range(5)]
    assert statuses[:4] == [401] * 4 and statuses[4] == 429


def test_healthz_names_the_unreachable_redis(redis_down_app):
    response = redis_down_app.test_client().get("/healthz")
    assert response.status_code == 503
    body = response.get_json()
    assert body["status"] == "error" and body["database"] == "ok"
    assert body["cache"] == body["rate_limit_storage"] == "unreachable"
    assert set(body["failed"]) == {"cache", "rate_limit_storage"}
    assert "缓存（Redis）" in body["message"] and body["code"] == "unhealthy"
