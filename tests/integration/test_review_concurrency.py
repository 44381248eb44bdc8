"""Two reviewers deciding on the same application at the same moment: exactly one wins, the other gets a
409 with a clear message (docs/architecture.md "Lifecycles"; the lifecycle's conditional UPDATE on status and version).

Two connections only see each other's work once it is committed, so these tests do not use the rolled-back
`db` fixture: the module creates its own PostgreSQL database, fills it through the services in its own app
context, commits, and drops the database at the end. Each request runs in its own thread against the live
app; a barrier holds both requests just before the UPDATE, so both have read the same version."""
import itertools
import threading

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from registry.applications import services as applications
from registry.applications.models import Application, ApplicationComment
from registry.audit import services as audit
from registry.auth import services as auth
from registry.core.lifecycle import StatusChange
from registry.extensions import db as _db
from registry.regions import services as regions
from tests.conftest import TEST_DB_URL
from tests.fixtures.accounts import PASSWORD, login
from tests.fixtures.providers import add_cleared_person, add_documents, add_project, id_number_for, make_provider_row
from tests.fixtures.race_db import committed_app

URL = make_url(TEST_DB_URL)

pytestmark = pytest.mark.skipif(
    URL.get_backend_name() != "postgresql",
    reason="two sessions racing need PostgreSQL: SQLite serialises writers per file and a reader that saw the "
           "old row cannot become a writer (SQLITE_BUSY_SNAPSHOT), so the loser stops at 'database is locked' "
           "before the conditional UPDATE. The stale-version 409 runs on both databases "
           "(tests/web/test_review_pages.py::test_a_stale_form_gets_409_with_the_current_state).")

_seq = itertools.count(1)




def _reviewers():
    for username in ("race_county_a", "race_county_b"):
        auth.create_user(username=username, display_name=username, role="county_reviewer", password=PASSWORD,
                         region_id=regions.get_by_code("360113").id, must_change_password=False)


@pytest.fixture(scope="module")
def race_app():
    """The app on a database of its own, with regions and two reviewers of 红谷滩区 committed."""
    with committed_app("registry_test_race", setup=_reviewers) as app:
        yield app


def _submitted_application(app):
    """A fresh provider with a complete dossier and its application at county review, committed."""
    n = next(_seq)
    with app.app_context():
        provider = make_provider_row(_db, county_code="360113", name=f"并发测试机构{n}")
        admin = auth.create_user(username=f"race_provider_{n}", display_name="机构", role="provider_admin",
                                 password=PASSWORD, provider_id=provider.id, must_change_password=False)
        add_documents(provider, admin)
        person = add_cleared_person(provider, admin, n=n, id_number=id_number_for(700 + n))
        project = add_project(provider, admin, staff=[person])
        application = applications.create_application(provider, actor=admin, project_ids=[project.id])
        applications.submit(application, actor=admin)
        from registry.auth.models import User
        from tests.fixtures.reviews import verify_all
        verify_all(application, _db.session.scalar(select(User).where(User.username == "race_county_a")))
        _db.session.commit()
        return application.id, application.version, project.id


def _client(app, username):
    client = app.test_client()
    assert login(client, username).status_code == 302
    return client


def _race(app, monkeypatch, requests):
    """Send the two (client, path, form) requests at once; both wait at a barrier before their UPDATE."""
    barrier = threading.Barrier(len(requests), timeout=30)
    original = applications.transition

    def transition(obj, action, **kwargs):
        if action in ("pass", "return", "reject"):
            barrier.wait()
        return original(obj, action, **kwargs)

    monkeypatch.setattr(applications, "transition", transition)
    responses = [None] * len(requests)

    def send(i, client, path, data):
        responses[i] = client.post(path, data=data)

    threads = [threading.Thread(target=send, args=(i, *req)) for i, req in enumerate(requests)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert all(r is not None for r in responses), "a request did not finish"
    return responses


def _outcome(app, application_id):
    """The application's status, its decision moves, its comments, and whether the audit chain is intact."""
    with app.app_context():
        status = _db.session.get(Application, application_id).status.value
        moves = _db.session.scalars(select(StatusChange.action).where(
            StatusChange.object_type == "application", StatusChange.object_id == application_id,
            StatusChange.action.in_(["pass", "return", "reject"]))).all()
        comments = _db.session.scalar(select(func.count()).select_from(ApplicationComment).where(
            ApplicationComment.application_id == application_id))
        return status, moves, comments, audit.verify_chain().ok


def test_two_reviewers_pass_at_once_exactly_one_wins(race_app, monkeypatch):
    application_id, version, _project = _submitted_application(race_app)
    a, b = _client(race_app, "race_county_a"), _client(race_app, "race_county_b")
    path = f"/review/applications/{application_id}/pass"
    responses = _race(race_app, monkeypatch, [(a, path, {"version": version}), (b, path, {"version": version})])
    assert sorted(r.status_code for r in responses) == [302, 409]
    loser = next(r for r in responses if r.status_code == 409).get_data(as_text=True)
    assert "已被他人处理，当前状态为“市级复审中”" in loser
    assert _outcome(race_app, application_id) == ("city_review", ["pass"], 0, True)


def test_return_and_reject_at_once_exactly_one_wins(race_app, monkeypatch):
    application_id, version, project_id = _submitted_application(race_app)
    a, b = _client(race_app, "race_county_a"), _client(race_app, "race_county_b")
    responses = _race(race_app, monkeypatch, [
        (a, f"/review/applications/{application_id}/return",
         {"version": version, f"comment:project:{project_id}": "收费偏高"}),
        (b, f"/review/applications/{application_id}/reject", {"version": version, "reason": "不符合要求"}),
    ])
    assert sorted(r.status_code for r in responses) == [302, 409]
    winner = "return" if responses[0].status_code == 302 else "reject"
    status, moves, comments, chain_ok = _outcome(race_app, application_id)
    assert moves == [winner] and status == {"return": "draft", "reject": "rejected"}[winner] and chain_ok
    assert comments == (1 if winner == "return" else 0)  # the loser's comments were rolled back
    loser = responses[1 if winner == "return" else 0].get_data(as_text=True)
    assert f"当前状态为“{ {'return': '草稿', 'reject': '未通过'}[winner] }”" in loser
