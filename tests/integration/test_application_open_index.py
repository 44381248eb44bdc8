"""At most one open application per provider: a partial unique index over the open statuses (no marker
column). The service's check answers first; two requests racing past it meet the index, which the error
handler turns into the same 409 (registry/core/errors.py DUPLICATES)."""
import pytest
from sqlalchemy.exc import IntegrityError

from registry.applications import services as applications
from registry.applications.models import OPEN_STATUSES, Application, ApplicationKind, ApplicationStatus
from registry.core.errors import unique_conflict


def _row(provider, status, kind=ApplicationKind.admission):
    return Application(provider_id=provider.id, kind=kind, status=status, version=1,
                       city_id=provider.city_id, county_id=provider.county_id)


def _insert(db, row):
    with db.session.begin_nested():
        db.session.add(row)
        db.session.flush()
    return row


def test_a_second_open_application_breaks_the_index_with_a_409(db, complete_dossier):
    d = complete_dossier
    applications.create_application(d["provider"], actor=d["admin"], project_ids=[d["project"].id])
    for status in OPEN_STATUSES:
        with pytest.raises(IntegrityError) as exc:
            _insert(db, _row(d["provider"], status, kind=ApplicationKind.annual))
        conflict = unique_conflict(exc.value)
        assert (conflict.status, conflict.code) == (409, "open_application_exists")


def test_closed_applications_do_not_count(db, complete_dossier):
    d = complete_dossier
    for status in (ApplicationStatus.withdrawn, ApplicationStatus.rejected, ApplicationStatus.approved):
        _insert(db, _row(d["provider"], status))
        _insert(db, _row(d["provider"], status))
    app = applications.create_application(d["provider"], actor=d["admin"], project_ids=[d["project"].id])
    assert app.open_marker == 1
    applications.withdraw(app, actor=d["admin"])
    assert app.open_marker is None
    again = applications.create_application(d["provider"], actor=d["admin"], project_ids=[d["project"].id])
    assert again.status == ApplicationStatus.draft


def test_a_request_racing_past_the_service_check_gets_the_409(db, complete_dossier, monkeypatch):
    d = complete_dossier
    applications.create_application(d["provider"], actor=d["admin"], project_ids=[d["project"].id])
    monkeypatch.setattr(applications, "open_application", lambda provider_id: None)  # the race: both saw none
    with pytest.raises(IntegrityError) as exc, db.session.begin_nested():
        applications.create_application(d["provider"], actor=d["admin"], project_ids=[d["project"].id])
    conflict = unique_conflict(exc.value)
    assert (conflict.status, conflict.code, conflict.message) == (
        409, "open_application_exists", "本机构已有一份未办结的申报，请先完成或撤回该申报")
