"""Service-level flow: a complete dossier submits; later edits never change the snapshot."""
import pytest

from registry.applications import services as applications
from registry.applications.models import ApplicationStatus
from registry.core.errors import Conflict, InvalidTransition, NotAllowed, ValidationFailed
from registry.people import services as people
from tests.fixtures.providers import add_project


def test_complete_dossier_submits_to_county_review(db, complete_dossier):
    d = complete_dossier
    app = applications.create_application(d["provider"], actor=d["admin"], project_ids=[d["project"].id])
    assert applications.checklist(app) == []
    applications.submit(app, actor=d["admin"])
    assert app.status == ApplicationStatus.county_review
    snap = app.latest_snapshot.data
    assert snap["organisation"]["uscc"] == d["provider"].uscc
    assert snap["people"][0]["id_masked"].count("*") == 8
    assert snap["projects"][0]["price"] == "3.00"


def test_snapshot_is_frozen_against_later_edits(db, complete_dossier):
    from registry.projects import services as projects
    d = complete_dossier
    app = applications.create_application(d["provider"], actor=d["admin"], project_ids=[d["project"].id])
    applications.submit(app, actor=d["admin"])
    projects.update_project(d["project"], actor=d["admin"], title="花样跳绳（新版）", price="4.00")
    db.session.expire_all()
    data = applications.get_application(app.id).latest_snapshot.data
    assert data["projects"][0]["title"] == "花样跳绳"
    assert data["projects"][0]["price"] == "3.00"


def test_missing_consent_blocks_submission(db, complete_dossier):
    from tests.fixtures.providers import add_cleared_person
    d = complete_dossier
    other = add_cleared_person(d["provider"], d["admin"], n=2, consent=False)
    project = add_project(d["provider"], d["admin"], staff=[other], title="趣味折纸", category="traditional_culture")
    app = applications.create_application(d["provider"], actor=d["admin"], project_ids=[project.id])
    missing = applications.checklist(app)
    assert any("授权同意书" in m.message for m in missing)
    with pytest.raises(ValidationFailed):
        applications.submit(app, actor=d["admin"])
    assert app.status == ApplicationStatus.draft


def test_one_open_application_per_provider(db, complete_dossier):
    d = complete_dossier
    applications.create_application(d["provider"], actor=d["admin"], project_ids=[d["project"].id])
    with pytest.raises(Conflict):
        applications.create_application(d["provider"], actor=d["admin"], project_ids=[d["project"].id])


def test_withdraw_then_reapply(db, complete_dossier):
    d = complete_dossier
    app = applications.create_application(d["provider"], actor=d["admin"], project_ids=[d["project"].id])
    applications.submit(app, actor=d["admin"])
    applications.withdraw(app, actor=d["admin"])
    assert app.status == ApplicationStatus.withdrawn and app.open_marker is None
    with pytest.raises(InvalidTransition):
        applications.withdraw(app, actor=d["admin"])
    applications.create_application(d["provider"], actor=d["admin"], project_ids=[d["project"].id])


def test_other_provider_cannot_submit(db, complete_dossier, create_user):
    d = complete_dossier
    app = applications.create_application(d["provider"], actor=d["admin"], project_ids=[d["project"].id])
    stranger = create_user("provider_admin")
    with pytest.raises(NotAllowed):
        applications.submit(app, actor=stranger)


def test_clearance_reasons_after_a_year(db, complete_dossier):
    from datetime import timedelta

    from registry.core import clock
    person = complete_dossier["person"]
    later = clock.today() + timedelta(days=340)
    result = people.clearance(person, later)
    assert not result.cleared
    # a date still ahead: the tense follows the date (issue 19)
    assert any("违法犯罪记录查询将于" in r and "后超过 365 天" in r for r in result.reasons), result.reasons
