"""GET /healthz: 200 with each dependency's state when all is well, 503 naming the dependencies that failed
(the database and Redis cases are in tests/integration/test_db_timeouts.py and tests/web/test_redis_down.py)."""
import pytest

from tests.conftest import make_app


def test_all_well_is_200_with_each_dependency(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "ok"
    assert {key: body[key] for key in ("database", "cache", "rate_limit_storage", "upload_store")} == {
        "database": "ok", "cache": "not_configured", "rate_limit_storage": "not_configured", "upload_store": "ok"}
    assert body["disk"] in ("ok", "low") and isinstance(body["disk_free_mb"], int)
    assert "failed" not in body


def test_an_unwritable_upload_store_is_named(db, tmp_path):
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    application = make_app(UPLOAD_DIR=str(blocker / "uploads"), HEALTH_MIN_FREE_MB=0)
    response = application.test_client().get("/healthz")
    assert response.status_code == 503
    body = response.get_json()
    assert body["upload_store"] == "not_writable" and body["database"] == "ok"
    assert body["failed"] == ["upload_store"] and "上传文件存储" in body["message"]


def test_free_disk_below_the_threshold_is_named(db):
    application = make_app(HEALTH_MIN_FREE_MB=10 ** 12)   # a petabyte: more than any test machine has free
    response = application.test_client().get("/healthz")
    assert response.status_code == 503
    body = response.get_json()
    assert body["disk"] == "low" and body["failed"] == ["disk"] and "磁盘空间" in body["message"]


def test_a_reachable_redis_is_ok(db):
    import redis
    url = "redis://127.0.0.1:6379/0"
    try:
        redis.Redis.from_url(url, socket_connect_timeout=0.5).ping()
    except redis.RedisError:
        pytest.skip("no Redis at 127.0.0.1:6379")
    application = make_app(CACHE_URL=url, HEALTH_MIN_FREE_MB=0)
    response = application.test_client().get("/healthz")
    assert response.status_code == 200
    assert response.get_json()["cache"] == "ok"
