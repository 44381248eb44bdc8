"""Complaints and appeals end to end on the services (issue 17): a school's 材料费 complaint upheld as illegal
fees delists and bans; the sweep escalates an unacknowledged complaint by the calendar's working days; an
appeal decided by the original decider is refused and one that succeeds reinstates through the lifecycle."""
from datetime import date

import pytest
from sqlalchemy import select

from registry.adjustments.models import ActionKind, ProviderAction
from registry.applications import services as applications
from registry.applications.models import ApplicationStatus
from registry.audit.models import AuditLog
from registry.complaints import queries, sweep
from registry.complaints import services as complaints
from registry.complaints.models import AppealStatus, ComplaintStatus, Outcome, SanctionStatus
from registry.core.errors import Conflict, NotAllowed
from registry.notifications.models import Notification
from registry.orders import services as orders
from registry.orders.models import Order, OrderStatus
from registry.whitelist import queries as whitelist_queries
from registry.whitelist.models import ChangeFeedItem, ChangeKind, EntryStatus, WhitelistEntry
from tests.fixtures.orders import order_fields
from tests.fixtures.reviews import at


@pytest.fixture
def world(db, whitelisted, ordering_school):
    order = orders.create_order(ordering_school["school"], actor=ordering_school["admin"],
                                **order_fields(whitelisted["entry"], ordering_school["term"]))
    orders.accept_order(order, actor=whitelisted["admin"], person_ids=[whitelisted["person"].id])
    return {**whitelisted, **{k: ordering_school[k] for k in ("school", "term")},
            "school_admin": ordering_school["admin"], "order": order,
            "county": whitelisted["reviewers"]["county"], "city": whitelisted["reviewers"]["city"]}


def _inbox(db, user, contains=""):
    return db.session.scalars(select(Notification).where(Notification.user_id == user.id,
                                                         Notification.title.contains(contains))).all()


def _upheld_fee_complaint(world, create_user=None):
    case = complaints.open_case(source="school", category="illegal_fees", summary="机构向学生收取材料费每人50元",
                                order_id=world["order"].id, actor=world["school_admin"])
    complaints.acknowledge(case, actor=world["county"])
    complaints.request_response(case, actor=world["county"], request="请说明材料费的收取情况")
    complaints.respond(case, actor=world["admin"], response="材料费系家长自愿购买")
    complaints.decide(case, actor=world["county"], outcome="upheld", reason="经查，机构另行收取材料费，属违规收费")
    return case


def test_school_fee_complaint_upheld_delists_bans_and_tells(db, world, create_user):
    case = _upheld_fee_complaint(world)
    assert case.region_id == world["school"].county_id and case.subject_kind.value == "project"
    assert case.status == ComplaintStatus.decided and case.outcome == Outcome.upheld
    assert (case.sanction_kind, case.sanction_status) == ("delisting", SanctionStatus.proposed)
    assert _inbox(db, world["city"], "待确认的处理建议")
    # the decision stands proposed until a city reviewer confirms; the county reviewer cannot
    with pytest.raises(NotAllowed):
        complaints.confirm_sanction(case, actor=world["county"], confirm=True)
    assert db.session.get(WhitelistEntry, world["entry"].id).status == EntryStatus.active
    complaints.confirm_sanction(case, actor=world["city"], confirm=True)
    db.session.expire_all()
    entry = db.session.get(WhitelistEntry, world["entry"].id)
    assert entry.status == EntryStatus.delisted
    assert db.session.get(Order, world["order"].id).status == OrderStatus.suspended
    assert _inbox(db, world["school_admin"], "订单服务已终止")  # a delisted provider's orders do not resume
    feed = db.session.scalars(select(ChangeFeedItem).where(ChangeFeedItem.entry_id == entry.id,
                                                           ChangeFeedItem.kind == ChangeKind.delisted)).all()
    assert feed and feed[0].reason_category == "违规收费"
    ban = db.session.scalar(select(ProviderAction).where(ProviderAction.provider_id == world["provider"].id,
                                                         ProviderAction.kind == ActionKind.ban))
    assert ban.ends_on == date(2029, 3, 10)  # the city's ban_years (3)
    options = applications.kind_options(world["provider"])
    assert all(o.problem and o.problem.startswith("本机构被禁入") for o in options)
    with pytest.raises(NotAllowed, match="禁入"):
        applications.require_kind(world["provider"], "reinstatement", [world["project"].id])
    assert db.session.get(type(case), case.id).sanction_status == SanctionStatus.confirmed


def test_a_minor_category_proposes_a_warning(db, world):
    case = complaints.open_case(source="school", category="service_quality", summary="课程内容单一",
                                order_id=world["order"].id, actor=world["school_admin"])
    complaints.acknowledge(case, actor=world["county"])
    complaints.request_response(case, actor=world["county"], request="请说明")
    at(date(2026, 3, 20))  # the statement period (5 working days) has passed without a statement
    complaints.decide(case, actor=world["county"], outcome="upheld", reason="属实")
    assert case.sanction_kind == "warning"
    complaints.confirm_sanction(case, actor=world["city"], confirm=True)
    action = db.session.get(ProviderAction, case.sanction_action_id)
    assert action.kind == ActionKind.warning
    assert db.session.get(WhitelistEntry, world["entry"].id).status == EntryStatus.active


def test_deciding_waits_for_the_statement_or_its_deadline(db, world):
    case = complaints.open_case(source="school", category="other", summary="其他问题", order_id=world["order"].id,
                                actor=world["school_admin"])
    complaints.acknowledge(case, actor=world["county"])
    complaints.request_response(case, actor=world["county"], request="请说明")
    with pytest.raises(Conflict, match="陈述"):
        complaints.decide(case, actor=world["county"], outcome="dismissed", reason="不属实")
    with pytest.raises(NotAllowed):
        complaints.extend(case, actor=world["reviewers"]["other_county"], reason="x")


def test_extension_once_with_reason(db, world):
    case = complaints.open_case(source="school", category="other", summary="x", order_id=world["order"].id)
    before = case.resolve_due
    complaints.extend(case, actor=world["county"], reason="需要现场核查")
    assert case.resolve_due > before
    with pytest.raises(Conflict, match="一次"):
        complaints.extend(case, actor=world["county"], reason="再延一次")


def test_complaint_against_a_school_counts_in_the_county_supervision_record(db, world):
    case = complaints.open_case(source="public", category="forced_participation", summary="学校要求全体学生参加",
                                school_id=world["school"].id, complainant_name="张三", complainant_phone="13800000000")
    assert case.subject_kind.value == "school" and case.region_id == world["school"].county_id
    complaints.acknowledge(case, actor=world["county"])
    complaints.request_response(case, actor=world["county"], request="请学校说明")
    complaints.respond(case, actor=world["school_admin"], response="已整改")
    complaints.decide(case, actor=world["county"], outcome="upheld", reason="属实")
    assert case.sanction_kind is None
    assert queries.supervision_record(world["school"].county_id) == [case]
    complaints.rate(case, rating=4, comment="处理及时")
    assert case.status == ComplaintStatus.closed and case.rating == 4


# ---------------------------------------------------------------- the sweep and the calendar

def test_unacknowledged_complaint_is_escalated_by_working_days(db, world):
    at(date(2026, 9, 30))  # Wednesday before the National Day holiday (1–7 Oct off; 10 Oct, Sat, worked)
    case = complaints.open_case(source="school", category="illegal_fees", summary="收费", order_id=world["order"].id)
    assert case.ack_due == date(2026, 10, 8)
    holiday = sweep.run(date(2026, 10, 5))  # a holiday: not late, but the deadline is 1 working day away
    assert holiday["complaints_escalated"] == 0
    assert holiday["complaint_reminders"] == 1 and _inbox(db, world["county"], "即将到期")
    assert sweep.run(date(2026, 10, 7))["complaint_reminders"] == 0  # once per deadline
    assert sweep.run(date(2026, 10, 8))["complaints_escalated"] == 0
    result = sweep.run(date(2026, 10, 9))
    assert result["complaints_escalated"] == 1 and case.escalated_on == date(2026, 10, 9)
    assert _inbox(db, world["city"], "逾期上报")
    assert case in queries.queue(world["city"])
    again = sweep.run(date(2026, 10, 9))
    assert again == {"complaint_reminders": 0, "complaints_escalated": 0, "complaints_closed": 0}
    assert db.session.scalar(select(AuditLog).where(AuditLog.action == "complaint.escalate"))


def test_queue_puts_overdue_first(db, world):
    first = complaints.open_case(source="school", category="other", summary="a", order_id=world["order"].id)
    complaints.acknowledge(first, actor=world["county"])  # resolve by 2026-03-27
    at(date(2026, 3, 16))
    second = complaints.open_case(source="school", category="other", summary="b", order_id=world["order"].id)
    at(date(2026, 3, 18))  # the second one's acknowledgement (due 03-17) is overdue
    third = complaints.open_case(source="school", category="other", summary="c", order_id=world["order"].id)
    queue = queries.queue(world["county"])
    assert queue == [second, third, first]
    assert [c.overdue(date(2026, 3, 18)) for c in queue] == [True, False, False]


def test_decided_complaint_closes_when_not_rated(db, world):
    case = complaints.open_case(source="school", category="other", summary="x", order_id=world["order"].id)
    complaints.acknowledge(case, actor=world["county"])
    complaints.request_response(case, actor=world["county"], request="请说明")
    complaints.respond(case, actor=world["admin"], response="说明")
    complaints.decide(case, actor=world["county"], outcome="dismissed", reason="不属实")
    assert sweep.run(date(2026, 3, 20))["complaints_closed"] == 0
    assert sweep.run(date(2026, 3, 30))["complaints_closed"] == 1
    assert case.status == ComplaintStatus.closed


# ---------------------------------------------------------------- appeals

def test_appeal_by_original_decider_is_refused_and_a_successful_one_reinstates(db, world, create_user):
    case = _upheld_fee_complaint(world)
    complaints.confirm_sanction(case, actor=world["city"], confirm=True)
    delisting = db.session.scalar(select(ProviderAction).where(ProviderAction.provider_id == world["provider"].id,
                                                               ProviderAction.kind == ActionKind.delisting))
    options = queries.appealable(world["provider"])
    assert {o.subject for o in options} >= {"delisting", "ban", "complaint"}
    appeal = complaints.file_appeal(world["provider"], actor=world["admin"], subject="delisting",
                                    action_id=delisting.id, reasons="材料费为家长自愿代购，有收据")
    assert appeal.original_decider_id == world["city"].id and appeal.status == AppealStatus.pending
    # the decision stands while pending, and the public change feed says an appeal is pending
    assert db.session.get(WhitelistEntry, world["entry"].id).status == EntryStatus.delisted
    page = whitelist_queries.list_changes({}, 1, 20)
    assert any(getattr(i, "appeal_pending", False) for i in page.items)
    with pytest.raises(NotAllowed, match="原决定人"):
        complaints.decide_appeal(appeal, actor=world["city"], outcome="change", reason="撤销")
    with pytest.raises(Conflict, match="申诉过"):
        complaints.file_appeal(world["provider"], actor=world["admin"], subject="delisting", action_id=delisting.id,
                               reasons="再次申诉")
    second = create_user("city_reviewer", region_code="360100")
    complaints.decide_appeal(appeal, actor=second, outcome="change", reason="经复核，收费属家长自愿代购")
    db.session.expire_all()
    assert appeal.status == AppealStatus.changed
    assert db.session.get(WhitelistEntry, world["entry"].id).status == EntryStatus.active
    assert db.session.get(Order, world["order"].id).status != OrderStatus.suspended
    assert not any(getattr(i, "appeal_pending", False) for i in whitelist_queries.list_changes({}, 1, 20).items)
    assert _inbox(db, world["admin"], "申诉复核结果")
    assert applications.kind_options(world["provider"])[0].problem is None or "禁入" not in (
        applications.kind_options(world["provider"])[0].problem or "")


def test_appeal_window_is_ten_working_days(db, world):
    case = _upheld_fee_complaint(world)
    at(date(2026, 3, 25))  # 11 working days after 2026-03-10
    with pytest.raises(Conflict, match="申诉期已过"):
        complaints.file_appeal(world["provider"], actor=world["admin"], subject="complaint", complaint_id=case.id,
                               reasons="不服")


def test_confirmed_appeal_against_a_rejection_and_a_changed_one(db, submitted, reviewers, create_user, frozen_clock):
    from registry.reviews import services as reviews
    app = submitted["application"]
    at(date(2026, 3, 2))
    reviews.reject(app, actor=reviewers["county"], reason="场地不符合要求")
    appeal = complaints.file_appeal(submitted["provider"], actor=submitted["admin"], subject="rejection",
                                    application_id=app.id, reasons="场地已更换")
    assert appeal.original_decider_id == reviewers["county"].id
    complaints.decide_appeal(appeal, actor=reviewers["city"], outcome="change", reason="新场地符合要求")
    assert app.status == ApplicationStatus.city_review
