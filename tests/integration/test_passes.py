"""Issue 14: entry passes and the live check at the gate.

Rules (each with the reason the gate shows): a green scan on a scheduled weekday; red once the clock passes
the criminal check's 365th day; red at another school; red after the entry is delisted; green again for a
cleared replacement and red for the replaced person; not a scheduled day; outside the time window; a second
scan the same day records leaving; 在校人员 and 未到岗. Offline: a signed token verifies; a tampered one does
not; a revoked pass is on the deny list; a synced offline entry the live rules refuse raises the alert.
Public verification shows only valid/masked name/provider/project/school."""
import json
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import select, update

from registry.core import clock
from registry.notifications.models import Notification
from registry.orders import services as orders
from registry.passes import queries, services
from registry.passes import sweep as passes_sweep
from registry.passes.models import EntryPass, GateScan, PassPhoto, ScanDirection, ScanResult
from registry.people import services as people
from registry.people.models import CheckType, PersonCheck
from registry.whitelist.services import ENTRY
from tests.fixtures.orders import order_fields
from tests.fixtures.providers import add_cleared_person, png_bytes
from tests.fixtures.reviews import at
from tests.fixtures.schools import make_school_row
from tests.web.test_school_people import add_cleared_school_person

TUESDAY = date(2026, 3, 10)  # the whitelisted fixture's publication day; the order's weekdays are Tue and Thu


def at_time(day, hour, minute=0):
    """Freeze the clock at hour:minute Beijing time on `day`."""
    clock.freeze(datetime(day.year, day.month, day.day, hour, minute) - timedelta(hours=8))


@pytest.fixture
def accepted(db, whitelisted, ordering_school):
    order = orders.create_order(ordering_school["school"], actor=ordering_school["admin"],
                                **order_fields(whitelisted["entry"], ordering_school["term"]))
    orders.accept_order(order, actor=whitelisted["admin"], person_ids=[whitelisted["person"].id])
    entry_pass = db.session.scalar(select(EntryPass).where(EntryPass.order_id == order.id))
    return {**ordering_school, "whitelisted": whitelisted, "order": order, "pass": entry_pass,
            "person": whitelisted["person"]}


def _scan(ctx, text=None, school=None, user=None):
    return services.scan(school or ctx["school"], user=user or ctx["admin"], text=text or ctx["pass"].code)


def test_accepting_issues_a_signed_pass(db, accepted):
    p = accepted["pass"]
    assert p.person_id == accepted["person"].id and p.school_id == accepted["school"].id
    assert p.weekdays == [1, 3] and p.time_slot == "16:30-17:30"
    assert p.valid_from == accepted["term"].starts_on and p.valid_until == date(2026, 7, 10)
    read = services.read_token(services.extract_token(services.qr_text(p)))
    assert read.valid and read.payload["p"] == p.id and read.payload["s"] == p.school_id
    assert read.payload["w"] == [1, 3] and read.payload["u"] == "2026-07-10"


def test_green_on_a_scheduled_weekday_then_leaving_and_on_site(db, accepted):
    at_time(TUESDAY, 16, 40)
    decision, row = _scan(accepted)
    assert decision.allowed and decision.reasons == [] and decision.direction == ScanDirection.entry
    assert row.result == ScanResult.allowed and row.pass_id == accepted["pass"].id and not row.offline
    assert [o.entry_pass.id for o in queries.on_site(accepted["school"].id)] == [accepted["pass"].id]
    at_time(TUESDAY, 17, 35)
    decision, row = _scan(accepted, text=services.qr_text(accepted["pass"]))  # the QR this time
    assert decision.allowed and decision.direction == ScanDirection.leave
    assert queries.on_site(accepted["school"].id) == []


def test_red_once_the_criminal_check_passes_its_365th_day(db, accepted):
    person = accepted["person"]
    db.session.execute(update(PersonCheck).where(PersonCheck.person_id == person.id,
                                                 PersonCheck.check_type == CheckType.criminal)
                       .values(check_date=date(2025, 3, 20)))
    db.session.expire_all()
    at_time(TUESDAY, 16, 40)  # 355 days
    assert _scan(accepted)[0].allowed
    at_time(TUESDAY + timedelta(days=14), 16, 40)  # 369 days, a Tuesday
    decision, _row = _scan(accepted)
    assert not decision.allowed
    assert any("违法犯罪记录查询已超过 365 天" in r for r in decision.reasons), decision.reasons


def test_red_at_another_school(db, accepted, create_user):
    other = make_school_row(db)
    keeper = create_user("gate_keeper", school_id=other.id)
    at_time(TUESDAY, 16, 40)
    decision, row = services.scan(other, user=keeper, text=accepted["pass"].code)
    assert not decision.allowed and row.school_id == other.id
    assert any(r.startswith("不是本校的通行证") for r in decision.reasons)


def test_red_after_the_entry_is_delisted(db, accepted):
    ENTRY.transition(accepted["whitelisted"]["entry"], "delist", reason="测试移出")
    at_time(TUESDAY, 16, 40)
    decision, _row = _scan(accepted)
    assert not decision.allowed and "白名单条目已移出" in decision.reasons
    assert accepted["pass"].id in services.deny_list(accepted["school"])


def test_not_a_scheduled_day_and_outside_the_window(db, accepted):
    at_time(TUESDAY + timedelta(days=1), 16, 40)  # Wednesday
    decision, _row = _scan(accepted)
    assert any("不是服务日" in r for r in decision.reasons)
    at_time(TUESDAY, 15, 20)  # 70 minutes early, window 60
    decision, _row = _scan(accepted)
    assert decision.reasons == ["不在入校时段内（16:30-17:30，前后 60 分钟；现在 15:20）"]
    at_time(TUESDAY, 15, 31)
    assert _scan(accepted)[0].allowed


def test_replacement_green_and_replaced_person_red(db, accepted):
    wl = accepted["whitelisted"]
    substitute = add_cleared_person(wl["provider"], wl["admin"], n=42, name="李教练")
    at(TUESDAY)
    orders.replace_staff(accepted["order"], actor=wl["admin"], old_person_id=accepted["person"].id,
                         new_person_id=substitute.id, reason="原教练调岗")
    new_pass = db.session.scalar(select(EntryPass).where(EntryPass.order_id == accepted["order"].id,
                                                         EntryPass.person_id == substitute.id))
    at_time(TUESDAY, 16, 40)
    assert _scan(accepted, text=new_pass.code)[0].allowed
    decision, _row = _scan(accepted)
    assert not decision.allowed and any("已被更换" in r and "原教练调岗" in r for r in decision.reasons)
    assert accepted["pass"].id in services.deny_list(accepted["school"])
    told = db.session.scalars(select(Notification).where(Notification.user_id == accepted["admin"].id)).all()
    assert any("更换了授课人员" in n.title and "原教练调岗" in n.body for n in told)


def test_replacement_must_be_cleared_and_order_live(db, accepted):
    from registry.core.errors import ValidationFailed
    wl = accepted["whitelisted"]
    uncleared = people.create_person(wl["provider"], actor=wl["admin"], name="赵助教",
                                     id_number="360102199003071236", gender="male", phone="13900000009",
                                     staff_role="assistant")
    with pytest.raises(ValidationFailed) as err:
        orders.replace_staff(accepted["order"], actor=wl["admin"], old_person_id=accepted["person"].id,
                             new_person_id=uncleared.id, reason="调岗")
    assert "今天未准入" in err.value.errors["new_person_id"][0]
    with pytest.raises(ValidationFailed):
        orders.replace_staff(accepted["order"], actor=wl["admin"], old_person_id=accepted["person"].id,
                             new_person_id=uncleared.id, reason=" ")


def test_offline_token_verifies_tampering_fails_and_revoked_is_denied(db, accepted):
    token = accepted["pass"].token
    assert services.read_token(token).valid
    head, kid, body, sig = token.split(".")
    payload = json.loads(services._unb64(body))
    payload["s"] = 999999  # another school, same signature
    forged = services._b64(json.dumps(payload, separators=(",", ":"), sort_keys=True).encode())
    assert not services.read_token(".".join([head, kid, forged, sig])).valid
    kit = services.offline_kit(accepted["school"])
    assert kid in kit["keys"] and kit["deny"] == [] and kit["window_minutes"] == 60
    services.revoke(accepted["pass"], actor=accepted["admin"], reason="证件遗失")
    assert services.offline_kit(accepted["school"])["deny"] == [accepted["pass"].id]


def test_synced_offline_entry_refused_live_raises_the_alert(db, accepted, create_user):
    county = create_user("county_reviewer", region_code="360113")
    keeper = create_user("gate_keeper", school_id=accepted["school"].id)
    services.revoke(accepted["pass"], actor=accepted["admin"], reason="证件遗失")
    at_time(TUESDAY, 17, 0)
    scanned = clock.utcnow() - timedelta(minutes=20)
    from datetime import timezone
    items = [{"client_id": "offline-0001", "text": services.qr_text(accepted["pass"]),
              "scanned_at": scanned.replace(tzinfo=timezone.utc), "offline_result": "allowed"}]
    done = services.sync(accepted["school"], user=keeper, items=items)
    assert done[0]["alert"] and done[0]["result"] == "denied"
    row = db.session.scalar(select(GateScan).where(GateScan.client_id == "offline-0001"))
    assert row.offline and row.offline_result == ScanResult.allowed and row.result == ScanResult.denied
    assert row.scanned_at == scanned
    for user in (county, accepted["admin"], keeper):
        assert db.session.scalar(select(Notification).where(Notification.user_id == user.id,
                                                            Notification.title == "离线放行复核未通过"))
    again = services.sync(accepted["school"], user=keeper, items=items)  # synced twice: logged once
    assert again[0]["duplicate"]


def test_public_view_shows_only_the_masked_name_provider_project_school(db, accepted):
    view = services.public_view(accepted["pass"].token)
    name = accepted["person"].name
    assert view == {"valid": True, "name": services.mask_name(name), "provider": accepted["order"].provider.name,
                    "project": accepted["order"].project.title, "school": accepted["school"].name}
    assert services.public_view("RP1.x.y.z") is None


def test_school_person_pass_and_no_shows(db, accepted):
    at(TUESDAY)
    person = add_cleared_school_person(accepted["school"], accepted["admin"], n=3)
    entry_pass = services.issue_school_pass(accepted["school"], actor=accepted["admin"], person_id=person.id,
                                            weekdays=[1], time_slot="15:00-16:00", valid_from=TUESDAY,
                                            valid_until=date(2026, 6, 30))
    at_time(TUESDAY, 15, 10)
    assert _scan(accepted, text=entry_pass.code)[0].allowed
    at_time(TUESDAY + timedelta(days=8), 9, 0)  # the next Wednesday: last Thursday and Tuesday are due
    missed = queries.no_shows(school_id=accepted["school"].id, start=TUESDAY)
    got = {(n.entry_pass.id, n.day) for n in missed}
    assert (accepted["pass"].id, TUESDAY) in got and (entry_pass.id, TUESDAY) not in got
    assert (accepted["pass"].id, TUESDAY + timedelta(days=2)) in got
    assert (entry_pass.id, TUESDAY + timedelta(days=7)) in got
    assert TUESDAY not in {n.day for n in queries.no_shows(school_id=accepted["school"].id)}  # last 7 days
    by_provider = queries.no_shows(provider_id=accepted["order"].provider_id)
    assert {n.entry_pass.id for n in by_provider} == {accepted["pass"].id}


def test_sweep_deletes_photos_after_retention_and_is_idempotent(db, accepted):
    at(TUESDAY)
    services.upload_photo(accepted["person"], actor=accepted["whitelisted"]["admin"], upload=("a.png", png_bytes()),
                          consent_on=TUESDAY)
    assert passes_sweep.run(date(2026, 12, 1))["photos_deleted"] == 0  # last pass ended 2026-07-10
    assert passes_sweep.run(date(2027, 1, 11))["photos_deleted"] == 1
    assert db.session.scalar(select(PassPhoto)) is None
    assert passes_sweep.run(date(2027, 1, 11)) == {"passes_issued": 0, "passes_revoked": 0, "photos_deleted": 0}


def test_scan_statements_are_constant(db, accepted, whitelisted):
    from sqlalchemy import event
    seen = []

    def count(*_args):
        seen.append(1)

    at_time(TUESDAY, 16, 40)
    db.session.expunge_all()
    event.listen(db.engine, "before_cursor_execute", count)
    try:
        services.scan(db.session.merge(accepted["school"]), user=None, text=accepted["pass"].code)
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    assert len(seen) <= 16, len(seen)


def test_rotation_re_signs_and_old_badges_still_verify(db, app, accepted, monkeypatch):
    old_token = accepted["pass"].token
    old = app.config["PASS_SIGNING_KEYS"][0]
    monkeypatch.setitem(app.config, "PASS_SIGNING_KEYS", [("p2027", bytes(range(32))), old])
    assert services.rotate_tokens() == 1
    assert accepted["pass"].key_id == "p2027" and accepted["pass"].token.split(".")[1] == "p2027"
    assert services.read_token(accepted["pass"].token).valid and services.read_token(old_token).valid
    assert services.rotate_tokens() == 0
    monkeypatch.setitem(app.config, "PASS_SIGNING_KEYS", [("p2027", bytes(range(32)))])
    assert not services.read_token(old_token).valid  # the old key removed: a badge under it no longer verifies
