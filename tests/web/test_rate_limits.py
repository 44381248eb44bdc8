"""Flask-Limiter does not run for GETs of reads_only endpoints (registry.core.reads.RegistryLimiter), so
none of them may carry a limit of its own: the skip would drop it silently."""
from flask import request
from flask_limiter.util import get_qualified_name

from registry.core import reads
from registry.extensions import limiter


def _view_names(app, endpoint):
    """What Flask-Limiter records a limit under for an endpoint: its view function, and a class-based
    view's methods."""
    view = app.view_functions[endpoint]
    names = {get_qualified_name(view)}
    view_class = getattr(view, "view_class", None)
    if view_class is not None:
        names |= {get_qualified_name(getattr(view_class, method)) for method in ("get", "post", "put", "delete")
                  if hasattr(view_class, method)}
    return names


def _limited(app, endpoint):
    return bool(_view_names(app, endpoint) & limiter._marked_for_limiting) or limiter.limit_manager.has_hints(endpoint)


def test_no_read_only_endpoint_has_a_rate_limit(app):
    assert reads._READ_ONLY, "no endpoint is declared reads_only"
    assert {endpoint for endpoint in reads._READ_ONLY if _limited(app, endpoint)} == set()


def test_the_check_sees_a_limited_endpoint(app):
    """The control: the login form and the announcement PDF are limited, and the check says so."""
    assert _limited(app, "auth.login")
    assert _limited(app, "whitelist.announcement")
    assert not _limited(app, "main.healthz")


def test_the_filter_skips_only_gets_of_read_only_endpoints(app):
    with app.test_request_context("/verify/some-token"):
        assert reads.read_only_get()
    with app.test_request_context("/verify/some-token", method="POST"):
        assert not reads.read_only_get()
    with app.test_request_context("/login", method="POST"):
        assert not reads.read_only_get()


def test_the_limiter_check_runs_for_every_request_but_reads(ratelimited_app, monkeypatch):
    """The check's first step (identify_request) is seen for the login page, not for a read."""
    checked = []
    original = limiter.identify_request

    def spy():
        checked.append(request.path)
        return original()

    monkeypatch.setattr(limiter, "identify_request", spy)
    client = ratelimited_app.test_client()
    client.get("/verify/some-token")          # reads_only: skipped
    assert checked == []
    client.get("/login")                      # limited on POST, checked on every request
    assert checked and set(checked) == {"/login"}


def test_the_limiter_hook_the_registry_overrides_is_the_one_flask_limiter_registers(ratelimited_app):
    """RegistryLimiter overrides Flask-Limiter's before_request check (no public hook skips it as cheaply:
    ~2 µs a read against ~25 µs with a request_filter); setup.cfg pins flask-limiter below 5. Should a release
    rename the method, the override would silently never run: this fails instead."""
    from flask_limiter import Limiter

    assert "_check_request_limit" in vars(Limiter)
    hooks = ratelimited_app.before_request_funcs[None]
    assert any(getattr(hook, "__func__", None) is type(limiter)._check_request_limit for hook in hooks)


def test_a_new_app_starts_with_live_rate_limit_storage(db, monkeypatch):
    """The limiter is shared by every app of a process; RegistryLimiter.init_app clears the "storage dead"
    state (a private attribute of Flask-Limiter, pinned below 5) a previous app's unreachable Redis left."""
    from tests.conftest import make_app

    monkeypatch.setattr(limiter, "_storage_dead", True)
    was_enabled = limiter.enabled
    try:
        make_app(RATELIMIT_ENABLED=True)
        assert limiter._storage_dead is False
    finally:
        limiter.enabled = was_enabled
