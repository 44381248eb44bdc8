"""Quality's rules (issue 16): 12 answers at 75 % warn at term end and a repeat next term delists; 9 answers do
nothing; a code answers once; a guessed code gets nothing; an expired code is refused; an "extra fee" answer
raises the county's alert; the weighting; the evaluation window; the step is idempotent."""
from datetime import date, datetime
from decimal import Decimal

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from registry.adjustments.models import ActionKind, ProviderAction, ReasonCategory
from registry.audit.models import AuditLog
from registry.core.errors import Conflict, NotFound
from registry.orders.models import Order, OrderStatus
from registry.passes.models import EntryPass, GateScan, PassKind, ScanDirection, ScanResult
from registry.quality import services as quality
from registry.quality import sweep as quality_sweep
from registry.quality.models import (
    Grade,
    Interest,
    ProjectStanding,
    SafetyFeeling,
    Satisfaction,
    SchoolEvaluation,
    StandingLevel,
    StandingRun,
    SurveyAlert,
    SurveyCode,
    SurveyResponse,
)
from registry.whitelist.models import ChangeFeedItem, ChangeKind, EntryStatus
from tests.fixtures.quality import answer_all, served_order, term_end
from tests.fixtures.reviews import at

ANSWER = {"satisfaction": Satisfaction.satisfied, "interest": Interest.high, "safety": SafetyFeeling.safe,
          "extra_fee": False, "voluntary": True}


def _count(db, model, *where):
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def _actions(db, provider_id, kind):
    return db.session.scalars(select(ProviderAction).where(ProviderAction.provider_id == provider_id,
                                                           ProviderAction.kind == kind)).all()


def test_twelve_answers_at_75_percent_warn_then_a_repeat_next_term_delists(db, quality_world):
    w = quality_world
    autumn_order = served_order(db, w["entry"], w["school"], w["autumn"], expected=12, status=OrderStatus.completed)
    answer_all(autumn_order, satisfied=9, dissatisfied=3, day=date(2026, 1, 10))

    summary = term_end(date(2026, 1, 21))
    assert summary == {"standings": 1, "warnings": 1, "delisted": 0}
    standing = db.session.scalar(select(ProjectStanding).where(ProjectStanding.term_id == w["autumn"].id))
    assert (standing.parent_responses, standing.parent_satisfied, standing.rate) == (12, 9, Decimal("0.7500"))
    assert standing.level == StandingLevel.below and standing.outcome == "warning"
    warnings = _actions(db, w["provider"].id, ActionKind.warning)
    assert len(warnings) == 1 and warnings[0].reason_category == ReasonCategory.low_satisfaction
    assert "75.0%" in warnings[0].reason and warnings[0].rule == "low_satisfaction"
    assert db.session.get(type(w["entry"]), w["entry"].id).status == EntryStatus.active

    # Idempotent: a second run the same day (or any later day) records nothing new for the autumn term.
    assert term_end(date(2026, 1, 21)) == {"standings": 0, "warnings": 0, "delisted": 0}
    assert len(_actions(db, w["provider"].id, ActionKind.warning)) == 1

    spring_order = served_order(db, w["entry"], w["school"], w["term"], expected=12)
    answer_all(spring_order, satisfied=9, dissatisfied=3, day=date(2026, 7, 1))
    summary = term_end(date(2026, 7, 11))
    assert summary == {"standings": 1, "warnings": 0, "delisted": 1}
    db.session.expire_all()
    assert db.session.get(type(w["entry"]), w["entry"].id).status == EntryStatus.delisted
    delisting = _actions(db, w["provider"].id, ActionKind.delisting)
    assert len(delisting) == 1 and delisting[0].reason_category == ReasonCategory.low_satisfaction
    feed = db.session.scalars(select(ChangeFeedItem).where(ChangeFeedItem.entry_id == w["entry"].id)).all()
    assert [f.kind for f in feed if f.kind == ChangeKind.delisted] == [ChangeKind.delisted]
    assert feed[-1].reason_category == "满意度不达标"
    assert _count(db, AuditLog, AuditLog.action == "whitelist_entry.delist",
                  AuditLog.object_id == str(w["entry"].id)) == 1

    assert term_end(date(2026, 7, 12)) == {"standings": 0, "warnings": 0, "delisted": 0}
    assert _count(db, StandingRun) == 2


def test_nine_answers_at_low_satisfaction_give_no_action(db, quality_world):
    w = quality_world
    order = served_order(db, w["entry"], w["school"], w["autumn"], expected=12, status=OrderStatus.completed)
    answer_all(order, satisfied=4, dissatisfied=5, day=date(2026, 1, 10))
    assert term_end(date(2026, 1, 21)) == {"standings": 1, "warnings": 0, "delisted": 0}
    standing = db.session.scalar(select(ProjectStanding))
    assert standing.level == StandingLevel.few and standing.parent_responses == 9
    assert _actions(db, w["provider"].id, ActionKind.warning) == []


def test_the_city_weighting_combines_parents_and_schools(db):
    # 0.7 × 10/12 + 0.3 × 0/1 = 0.5833
    assert quality_sweep.combined_rate(12, 10, 1, 0, Decimal("0.700")) == Decimal("0.5833")
    assert quality_sweep.combined_rate(0, 0, 2, 1, Decimal("0.700")) == Decimal("0.5000")
    assert quality_sweep.combined_rate(4, 3, 0, 0, Decimal("0.700")) == Decimal("0.7500")
    assert quality_sweep.combined_rate(0, 0, 0, 0, Decimal("0.700")) is None


def test_school_evaluations_count_apart_and_combined(db, quality_world):
    w = quality_world
    order = served_order(db, w["entry"], w["school"], w["autumn"], expected=12, status=OrderStatus.completed)
    answer_all(order, satisfied=10, dissatisfied=2, day=date(2026, 1, 10))
    quality.save_evaluation(order, actor=w["school_admin"], content=Grade.poor, punctuality=Grade.fair,
                            safety=Grade.good, engagement=Grade.fair, overall=Satisfaction.dissatisfied)
    term_end(date(2026, 1, 21))
    standing = db.session.scalar(select(ProjectStanding))
    assert (standing.school_responses, standing.school_satisfied) == (1, 0)
    assert standing.parent_rate == Decimal("0.8333") and standing.school_rate == Decimal("0.0000")
    assert standing.rate == Decimal("0.5833") and standing.level == StandingLevel.below
    assert standing.no_show_rate is None   # no passes: no gate data


def test_gate_scans_give_the_evaluation_its_no_show_count_and_the_standing_its_rate(db, quality_world):
    """Where the order's staff have passes, 未到岗 comes from the gate: sessions due without an entry scan."""
    w = quality_world
    order = served_order(db, w["entry"], w["school"], w["autumn"], expected=12, status=OrderStatus.completed)
    entry_pass = EntryPass(kind=PassKind.order, code="QLTY0001", link_key="quality-test-link", person_id=w["person"].id,
                           school_id=w["school"].id, order_id=order.id, weekdays=[1, 3], time_slot="16:30-17:30",
                           valid_from=date(2025, 12, 1), valid_until=date(2025, 12, 31), token="", key_id="")
    db.session.add(entry_pass)
    db.session.flush()
    sessions = [date(2025, 12, d) for d in range(1, 32) if date(2025, 12, d).weekday() in (1, 3)]
    for day in sessions[:6]:   # came on the first six scheduled days only
        at_ = datetime(day.year, day.month, day.day, 8, 25)
        db.session.add(GateScan(pass_id=entry_pass.id, school_id=w["school"].id, scanned_at=at_, scan_day=day,
                                result=ScanResult.allowed, direction=ScanDirection.entry, reasons=[], received_at=at_))
    db.session.flush()
    at(date(2026, 1, 10))
    evaluation = quality.save_evaluation(order, actor=w["school_admin"], content=Grade.good, punctuality=Grade.fair,
                                         safety=Grade.good, engagement=Grade.good, overall=Satisfaction.satisfied)
    assert evaluation.no_show_count == len(sessions) - 6 > 0
    answer_all(order, satisfied=10, dissatisfied=2, day=date(2026, 1, 10))
    term_end(date(2026, 1, 21))
    standing = db.session.scalar(select(ProjectStanding))
    expected = (Decimal(len(sessions) - 6) / Decimal(len(sessions))).quantize(Decimal("0.0001"))
    assert standing.no_show_rate == expected


def test_the_evaluation_opens_in_the_last_four_weeks(db, quality_world):
    w = quality_world
    order = served_order(db, w["entry"], w["school"], w["term"])
    at(date(2026, 6, 12))   # the term ends 2026-07-10: the window opens 2026-06-13
    with pytest.raises(Conflict) as refused:
        quality.save_evaluation(order, actor=w["school_admin"], content=Grade.good, punctuality=Grade.good,
                                safety=Grade.good, engagement=Grade.good, overall=Satisfaction.satisfied)
    assert refused.value.code == "evaluation_closed" and "2026-06-13" in refused.value.message
    at(date(2026, 6, 13))
    first = quality.save_evaluation(order, actor=w["school_admin"], content=Grade.good, punctuality=Grade.good,
                                    safety=Grade.good, engagement=Grade.good, overall=Satisfaction.satisfied)
    again = quality.save_evaluation(order, actor=w["school_admin"], content=Grade.fair, punctuality=Grade.good,
                                    safety=Grade.good, engagement=Grade.good, overall=Satisfaction.basic, comment="改")
    assert first.id == again.id and again.overall == Satisfaction.basic
    assert _count(db, SchoolEvaluation) == 1
    at(date(2026, 7, 11))
    with pytest.raises(Conflict):
        quality.save_evaluation(order, actor=w["school_admin"], content=Grade.good, punctuality=Grade.good,
                                safety=Grade.good, engagement=Grade.good, overall=Satisfaction.satisfied)


def test_codes_are_one_per_pupil_unguessable_and_stored_only_as_hashes(db, quality_world):
    w = quality_world
    order = served_order(db, w["entry"], w["school"], w["term"], expected=25)
    at(date(2026, 6, 20))
    codes = quality.issue_codes(order, actor=w["school_admin"])
    assert len(codes) == 25 and len(set(codes)) == 25
    assert all(len(c) == 16 and set(c) <= set(quality.CODE_ALPHABET) for c in codes)  # 16 × 5 = 80 bits
    stored = db.session.scalars(select(SurveyCode.code_hash).where(SurveyCode.order_id == order.id)).all()
    assert not set(codes) & set(stored) and {quality.hash_code(c) for c in codes} == set(stored)
    assert {c.expires_on for c in db.session.scalars(select(SurveyCode))} == {w["term"].ends_on}
    quality.answer(codes[0], **ANSWER)
    # A reprint voids the unused codes and issues one per pupil not yet answered.
    again = quality.issue_codes(order, actor=w["school_admin"])
    assert len(again) == 24
    with pytest.raises(NotFound):
        quality.find_code(codes[1])
    quality.find_code(quality.format_code(again[0]).lower())   # dashes and case do not matter


def test_a_code_answers_once(db, quality_world):
    w = quality_world
    order = served_order(db, w["entry"], w["school"], w["term"], expected=10)
    at(date(2026, 6, 20))
    code = quality.issue_codes(order, actor=None)[0]
    quality.answer(code, **ANSWER)
    with pytest.raises(Conflict) as refused:
        quality.answer(code, **ANSWER)
    assert refused.value.code == "code_used"
    assert _count(db, SurveyResponse) == 1
    # The database holds the rule too: a second response row for the code is refused.
    first = db.session.scalar(select(SurveyResponse))
    with pytest.raises(IntegrityError), db.session.begin_nested():
        db.session.add(SurveyResponse(code_id=first.code_id, order_id=order.id, term_id=order.term_id,
                                      project_id=order.project_id, provider_id=order.provider_id, **ANSWER))
        db.session.flush()


def test_a_guessed_code_gets_nothing(db, quality_world):
    w = quality_world
    order = served_order(db, w["entry"], w["school"], w["term"], expected=10)
    at(date(2026, 6, 20))
    quality.issue_codes(order, actor=None)
    messages = set()
    for guess in ("0000-0000-0000-0000", "ABCD-EFGH-JKMN-PQRS", "short", ""):
        with pytest.raises(NotFound) as refused:
            quality.answer(guess, **ANSWER)
        messages.add((refused.value.code, refused.value.message))
    assert messages == {("unknown_code", quality.UNKNOWN_CODE)}
    assert _count(db, SurveyResponse) == 0


def test_an_expired_code_is_refused(db, quality_world):
    w = quality_world
    order = served_order(db, w["entry"], w["school"], w["term"], expected=10)
    at(date(2026, 7, 10))
    code = quality.issue_codes(order, actor=None)[0]
    at(date(2026, 7, 11))
    with pytest.raises(Conflict) as refused:
        quality.answer(code, **ANSWER)
    assert refused.value.code == "code_expired" and "2026-07-10" in refused.value.message
    assert _count(db, SurveyResponse) == 0
    with pytest.raises(Conflict):
        quality.issue_codes(order, actor=None)   # no new sheet after the term


def test_an_extra_fee_answer_opens_a_case_for_the_county_once_per_order(db, quality_world):
    from registry.complaints.models import Complaint

    w = quality_world
    order = served_order(db, w["entry"], w["school"], w["term"], expected=10)
    at(date(2026, 6, 20))
    codes = quality.issue_codes(order, actor=None)
    quality.answer(codes[0], **{**ANSWER, "extra_fee": True})
    quality.answer(codes[1], **{**ANSWER, "extra_fee": True, "voluntary": False})
    alerts = db.session.scalars(select(SurveyAlert).where(SurveyAlert.order_id == order.id)).all()
    assert sorted(a.kind for a in alerts) == ["extra_fee", "not_voluntary"]
    cases = db.session.scalars(select(Complaint).where(Complaint.order_id == order.id).order_by(Complaint.id)).all()
    assert [(c.source.value, c.category.value) for c in cases] == [("survey", "illegal_fees"),
                                                                    ("survey", "forced_participation")]
    assert {a.case_id for a in alerts} == {c.id for c in cases}
    assert cases[0].region_id == w["school"].county_id   # the county of the school
    assert "家长满意度问卷" in cases[0].summary
    assert _count(db, AuditLog, AuditLog.action == "survey.alert_extra_fee", AuditLog.object_id == str(order.id)) == 1
    term_end(date(2026, 7, 11))
    standing = db.session.scalar(select(ProjectStanding).where(ProjectStanding.term_id == w["term"].id))
    assert (standing.extra_fee_count, standing.not_voluntary_count) == (2, 1)


def test_orders_that_did_not_run_are_neither_evaluated_nor_surveyed(db, quality_world):
    w = quality_world
    order = served_order(db, w["entry"], w["school"], w["term"], status=OrderStatus.declined)
    at(date(2026, 6, 20))
    with pytest.raises(Conflict):
        quality.issue_codes(order, actor=None)
    assert db.session.get(Order, order.id).status == OrderStatus.declined


def test_the_sweep_command_runs_the_term_end_step(app, db, quality_world):
    w = quality_world
    order = served_order(db, w["entry"], w["school"], w["autumn"], expected=12, status=OrderStatus.completed)
    answer_all(order, satisfied=9, dissatisfied=3, day=date(2026, 1, 10))
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["registry", "sweep", "--as-of", "2026-01-21"])
    assert result.exit_code == 0, result.output
    assert "term standings recorded: 1" in result.output and "low-satisfaction warnings: 1" in result.output
    assert _count(db, ProjectStanding) == 1
