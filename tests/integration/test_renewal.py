"""Annual review (年审), change (变更) and reinstatement (恢复) applications through the same workflow.

`whitelisted` (tests/fixtures/orders.py): the dossier's project 花样跳绳 published on 2026-03-10, valid until
2026-08-31; the county (红谷滩区) and city (南昌市) reviewers; the clock frozen."""
from datetime import date, timedelta

import pytest

from registry.adjustments import services as adjustments
from registry.applications import services as applications
from registry.applications.models import ApplicationKind as K
from registry.applications.models import ApplicationStatus as S
from registry.batches import services as batches
from registry.core.errors import NotAllowed, ValidationFailed
from registry.reviews import services as reviews
from registry.whitelist.models import ChangeFeedItem, EntryStatus, WhitelistEntry
from tests.fixtures.providers import add_project
from tests.fixtures.reviews import at


def _problems(provider):
    return {o.kind: o.problem for o in applications.kind_options(provider)}


def through_publication(app, admin, reviewers):
    """Submit, pass the county stage, approve in principle, run the publicity and publish (from a Monday)."""
    applications.submit(app, actor=admin)
    reviews.pass_to_city(app, actor=reviewers["county"])
    item = reviews.approve_in_principle(app, actor=reviewers["city"])
    batches.start_publicity(item.batch, actor=reviewers["city"])
    at(item.batch.publicity_end + timedelta(days=1))
    batches.publish(item.batch, actor=reviewers["city"])
    assert app.status == S.approved
    return item.batch


def test_which_kinds_right_after_publication(db, whitelisted):
    problems = _problems(whitelisted["provider"])
    assert problems[K.admission] == "本机构已列入过白名单，请按条目情况选择年审、变更或恢复申报"
    assert problems[K.annual] == "年审于 2026-07-02 起开放（有效期至 2026-08-31，到期前 60 天开放）"
    assert problems[K.change] is None
    assert problems[K.reinstatement] == "本机构没有被暂停或移出的白名单项目"


def test_a_first_admission_is_the_only_kind_before_any_entry(db, complete_dossier):
    problems = _problems(complete_dossier["provider"])
    assert problems[K.admission] is None
    assert all(problems[k] for k in (K.annual, K.change, K.reinstatement))


def test_the_renewal_window_opens_60_days_before_the_validity_ends(db, whitelisted):
    d = whitelisted
    at(date(2026, 7, 1))
    with pytest.raises(ValidationFailed, match="年审于 2026-07-02 起开放") as err:
        applications.create_application(d["provider"], actor=d["admin"], project_ids=[d["project"].id], kind="annual")
    assert list(err.value.errors) == ["kind"]
    at(date(2026, 7, 2))
    app = applications.create_application(d["provider"], actor=d["admin"], project_ids=[d["project"].id], kind="annual")
    assert app.kind == K.annual


def test_an_approved_renewal_extends_the_entry_to_the_next_31_august(db, whitelisted):
    d = whitelisted
    entry = d["entry"]
    at(date(2026, 7, 6))  # a Monday inside the renewal window
    app = applications.create_application(d["provider"], actor=d["admin"], project_ids=[d["project"].id], kind="annual")
    batch = through_publication(app, d["admin"], d["reviewers"])
    db.session.expire_all()
    entry = db.session.get(WhitelistEntry, entry.id)
    assert entry.valid_until == date(2027, 8, 31)
    assert entry.status == EntryStatus.active and entry.batch_id == batch.id and entry.application_id == app.id
    assert db.session.query(WhitelistEntry).filter_by(provider_id=d["provider"].id).count() == 1
    kinds = [f.kind.value
             for f in db.session.query(ChangeFeedItem).filter_by(entry_id=entry.id).order_by(ChangeFeedItem.id)]
    assert kinds == ["added", "renewed"]


def test_an_entry_that_expired_without_renewal_can_still_be_renewed(db, whitelisted):
    d = whitelisted
    at(date(2026, 9, 7))
    problems = _problems(d["provider"])
    assert problems[K.annual] is None
    assert problems[K.change] == "变更申报仅适用于白名单内有效的机构"
    app = applications.create_application(d["provider"], actor=d["admin"], project_ids=[d["project"].id], kind="annual")
    through_publication(app, d["admin"], d["reviewers"])
    db.session.expire_all()
    entry = db.session.get(WhitelistEntry, d["entry"].id)
    assert entry.valid_until == date(2027, 8, 31) and entry.effective_status(date(2026, 10, 1)) == EntryStatus.active


def test_an_annual_review_carries_only_renewable_projects(db, whitelisted):
    d = whitelisted
    at(date(2026, 7, 6))
    new = add_project(d["provider"], d["admin"], staff=[d["person"]], title="趣味踢毽子")
    with pytest.raises(ValidationFailed, match="以下项目不符合：趣味踢毽子") as err:
        applications.create_application(d["provider"], actor=d["admin"], project_ids=[d["project"].id, new.id],
                                        kind="annual")
    assert list(err.value.errors) == ["project_ids"]


def test_a_change_adds_an_entry_and_leaves_the_active_ones_alone(db, whitelisted):
    d = whitelisted
    old = d["entry"]
    before = (old.valid_from, old.valid_until, old.status, old.batch_id, old.application_id, old.version)
    at(date(2026, 4, 6))  # a Monday
    new = add_project(d["provider"], d["admin"], staff=[d["person"]], title="趣味踢毽子")
    # The change carries the new project, and the old one with its (unchanged) staff.
    app = applications.create_application(d["provider"], actor=d["admin"], project_ids=[d["project"].id, new.id],
                                          kind="change")
    batch = through_publication(app, d["admin"], d["reviewers"])
    db.session.expire_all()
    old = db.session.get(WhitelistEntry, old.id)
    assert (old.valid_from, old.valid_until, old.status, old.batch_id, old.application_id, old.version) == before
    added = db.session.query(WhitelistEntry).filter_by(project_id=new.id).one()
    assert added.status == EntryStatus.active and added.batch_id == batch.id
    assert added.valid_from == batch.published_on and added.valid_until == date(2026, 8, 31)
    feed = [(f.entry_id, f.kind.value) for f in db.session.query(ChangeFeedItem).order_by(ChangeFeedItem.id)]
    assert feed == [(old.id, "added"), (added.id, "added")]


def test_reinstatement_needs_a_suspended_or_delisted_entry(db, whitelisted):
    d = whitelisted
    at(date(2026, 4, 6))
    adjustments.suspend(d["provider"], actor=d["reviewers"]["city"], reason_category="document_expired",
                        reason="公众责任保险过期")
    problems = _problems(d["provider"])
    assert problems[K.reinstatement] is None and problems[K.change] is not None
    app = applications.create_application(d["provider"], actor=d["admin"], project_ids=[d["project"].id],
                                          kind="reinstatement")
    through_publication(app, d["admin"], d["reviewers"])
    db.session.expire_all()
    assert db.session.get(WhitelistEntry, d["entry"].id).status == EntryStatus.active


def test_a_banned_provider_cannot_apply_until_the_ban_ends(db, whitelisted):
    d = whitelisted
    at(date(2026, 4, 6))
    draft = applications.create_application(d["provider"], actor=d["admin"], project_ids=[d["project"].id],
                                            kind="change")
    adjustments.ban(d["provider"], actor=d["reviewers"]["city"], reason_category="illegal_fees",
                    reason="违规收费", ends_on=date(2029, 4, 5))
    with pytest.raises(NotAllowed, match="本机构被禁入至 2029-04-05") as err:
        applications.submit(draft, actor=d["admin"])
    assert err.value.code == "banned" and draft.status == S.draft
    applications.withdraw(draft, actor=d["admin"])
    for kind in K:
        with pytest.raises(NotAllowed, match="2029-04-05"):
            applications.create_application(d["provider"], actor=d["admin"], project_ids=[d["project"].id], kind=kind)
    at(date(2029, 4, 6))
    assert _problems(d["provider"])[K.reinstatement] is None  # the entries were delisted with the ban
