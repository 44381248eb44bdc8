"""The application lifecycle, parametrized over every state x action: the allowed moves succeed, every
other combination is an InvalidTransition (409) naming the current state."""
import itertools

import pytest

from registry.applications import services as applications
from registry.applications.models import STATUS_LABELS, Application, ApplicationKind, ApplicationStatus
from registry.core.errors import InvalidTransition
from registry.core.lifecycle import history

# The domain's table (docs/domain.md "Applications and review"), written out here rather than read from the code
# under test.
EXPECTED = {
    "submit": {"draft": "submitted"},
    "route_county": {"submitted": "county_review"},
    "route_city": {"submitted": "city_review"},
    "pass": {"county_review": "city_review"},
    "return": {"county_review": "draft", "city_review": "draft", "publicity": "draft"},
    "reject": {"county_review": "rejected", "city_review": "rejected", "publicity": "rejected"},
    "start_publicity": {"city_review": "publicity"},
    "approve": {"publicity": "approved"},
    "withdraw": {"draft": "withdrawn", "submitted": "withdrawn", "county_review": "withdrawn",
                 "city_review": "withdrawn"},
    "reconsider": {"rejected": "city_review"},  # issue 17: an appeal (复核) overturns a rejection
}
STATES = [s.value for s in ApplicationStatus]
ACTIONS = sorted(EXPECTED)


def test_the_code_has_exactly_these_actions():
    assert {m.action for m in applications.LIFECYCLE.moves} == set(EXPECTED)


def _application(provider, status):
    app = Application(provider_id=provider.id, kind=ApplicationKind.admission, status=ApplicationStatus(status),
                      version=1, city_id=provider.city_id, county_id=provider.county_id)
    from registry.extensions import db
    db.session.add(app)
    db.session.flush()
    return app


@pytest.mark.parametrize("state, action", list(itertools.product(STATES, ACTIONS)))
def test_every_state_and_action(db, provider_admin, state, action):
    app = _application(provider_admin.provider, state)
    target = EXPECTED[action].get(state)
    if target is None:
        with pytest.raises(InvalidTransition) as err:
            applications.transition(app, action, actor=provider_admin)
        assert err.value.status == 409
        assert f"当前状态为“{STATUS_LABELS[state]}”" in err.value.message
        assert app.status.value == state and app.version == 1
        assert history("application", app.id) == []
    else:
        applications.transition(app, action, actor=provider_admin, reason="测试")
        db.session.expire_all()
        row = db.session.get(Application, app.id)
        assert row.status.value == target and row.version == 2
        change = history("application", app.id)[-1]
        assert (change.from_status, change.to_status, change.action) == (state, target, action)
        assert change.actor_id == provider_admin.id


@pytest.mark.parametrize("action", ["submit", "withdraw"])
def test_provider_moves_need_a_member_of_the_provider(db, provider_admin, create_user, action):
    from registry.core.errors import NotAllowed
    app = _application(provider_admin.provider, "draft")
    with pytest.raises(NotAllowed):
        applications.transition(app, action, actor=create_user("provider_admin"))
    assert app.status.value == "draft"
