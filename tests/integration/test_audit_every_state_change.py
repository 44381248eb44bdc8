"""Every service function that changes a status or a ban writes its audit row in the same transaction
(issue 12, hole 6; security.md 24).

`DECLARED` lists those functions, each with a case: the case prepares the data and returns the call to make; the
test makes it and fails unless the audit chain gained the rows named. `test_the_list_covers_every_state_change`
scans the services modules (and the sweep) with `ast` for what changes a status or a ban — a lifecycle transition,
an assignment to a `status`/`*_status` column, a model built with a status, a PersonBan written, a ban or a ban's
lifting — and fails when such a function is missing from the list, so the list cannot silently rot."""
import ast
import importlib
import inspect
import itertools
from collections import defaultdict
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from registry.adjustments import services as adjustments
from registry.adjustments import sweep
from registry.applications import services as applications
from registry.audit.models import AuditLog
from registry.batches import services as batches
from registry.complaints import services as complaints
from registry.core import clock
from registry.orders import services as orders
from registry.people import services as people
from registry.reviews import services as reviews
from registry.supervision import services as supervision
from tests.fixtures.orders import order_fields
from tests.fixtures.providers import (
    add_cleared_person,
    add_documents,
    add_project,
    id_number_for,
    make_provider_row,
)
from tests.fixtures.reviews import OBJECTION, at, verify_all
from tests.fixtures.supervision import visit as supervision_visit

REPO = Path(__file__).resolve().parents[2]
SCANNED_MODULES = sorted(p.relative_to(REPO) for p in (REPO / "registry").glob("*/services.py")) + [
    Path("registry/adjustments/sweep.py")]
_n = itertools.count(1)


# ---------------------------------------------------------------- the world the cases start from

@pytest.fixture
def ctx(db, whitelisted, ordering_school, create_user):
    """The whitelisted provider (entry valid to 2026-08-31), a school with a term, reviewers; 2026-03-10."""
    return {**whitelisted, "school": ordering_school["school"], "term": ordering_school["term"],
            "school_admin": ordering_school["admin"], "county": whitelisted["reviewers"]["county"],
            "city": whitelisted["reviewers"]["city"], "create_user": create_user, "db": db}


def _dossier(ctx, create=True, submit=False):
    """A new provider in 红谷滩区 with a complete dossier and (optionally) its application."""
    n = next(_n)
    provider = make_provider_row(ctx["db"], name=f"审计遍历机构{n}")
    admin = ctx["create_user"]("provider_admin", provider_id=provider.id)
    docs = add_documents(provider, admin)
    person = add_cleared_person(provider, admin, n=900 + n, id_number=id_number_for(900 + n))
    project = add_project(provider, admin, staff=[person])
    app = applications.create_application(provider, actor=admin, project_ids=[project.id]) if create else None
    if submit:
        applications.submit(app, actor=admin)
    return {"provider": provider, "admin": admin, "documents": docs, "person": person, "project": project,
            "application": app}


def _bare_provider(ctx):
    return make_provider_row(ctx["db"], name=f"无条目机构{next(_n)}")


def _order(ctx, accept=False, suspend=False):
    order = orders.create_order(ctx["school"], actor=ctx["school_admin"], **order_fields(ctx["entry"], ctx["term"]))
    if accept:
        orders.accept_order(order, actor=ctx["admin"], person_ids=[ctx["person"].id])
    if suspend:
        orders.suspend_for_entries([ctx["entry"].id], reason="测试暂停")
    return order


def _verified(ctx):
    """A submitted dossier whose documents and checks the county reviewer has verified (a pass needs it)."""
    d = _dossier(ctx, submit=True)
    verify_all(d["application"], ctx["county"])
    return d


def _in_publicity(ctx):
    d = _verified(ctx)
    reviews.pass_to_city(d["application"], actor=ctx["county"])
    batch = batches.create_batch(actor=ctx["city"])
    batches.add_to_batch(batch, d["application"], actor=ctx["city"])
    batches.start_publicity(batch, actor=ctx["city"])
    return d, batch


def _objection(ctx):
    d, batch = _in_publicity(ctx)
    return batches.file_objection(batch, application_id=d["application"].id, **OBJECTION)


def _ready_to_publish(ctx):
    _d, batch = _in_publicity(ctx)
    at(batch.publicity_end + timedelta(days=1))
    return batch


REASON = {"reason_category": "safety_incident", "reason": "活动场地护栏松动，整改前停止服务"}


# ---------------------------------------------------------------- the cases: prepare, then return the call

def case_warn(ctx):
    return lambda: adjustments.warn(ctx["provider"], actor=ctx["city"], **REASON), {"provider.warning"}


def case_suspend(ctx):
    _order(ctx, accept=True)
    return (lambda: adjustments.suspend(ctx["provider"], actor=ctx["city"], **REASON),
            {"provider.suspension", "whitelist_entry.suspend", "order.suspend"})


def case_delist(ctx):
    return (lambda: adjustments.delist(ctx["provider"], actor=ctx["city"], **REASON),
            {"provider.delisting", "whitelist_entry.delist"})


def case_delist_no_entries_with_ban(ctx):
    provider = _bare_provider(ctx)
    return (lambda: adjustments.delist(provider, actor=ctx["city"], ban_until=date(2029, 3, 1), **REASON),
            {"provider.delisting", "provider.ban"})


def case_ban_no_entries(ctx):
    provider = _bare_provider(ctx)
    return (lambda: adjustments.ban(provider, actor=ctx["city"], ends_on=date(2029, 3, 1), **REASON),
            {"provider.ban"})


def case_ban(ctx):
    return (lambda: adjustments.ban(ctx["provider"], actor=ctx["city"], ends_on=date(2029, 3, 1), **REASON),
            {"provider.ban", "whitelist_entry.delist"})


def case_reinstate_lifts_a_ban(ctx):
    provider = _bare_provider(ctx)
    adjustments.ban(provider, actor=ctx["city"], ends_on=date(2029, 3, 1), **REASON)
    return (lambda: adjustments.reinstate(provider, actor=ctx["city"], reason="整改完成"),
            {"provider.reinstatement", "provider.ban_lift"})


def case_reinstate(ctx):
    adjustments.suspend(ctx["provider"], actor=ctx["city"], **REASON)
    return (lambda: adjustments.reinstate(ctx["provider"], actor=ctx["city"], reason="整改完成"),
            {"provider.reinstatement", "whitelist_entry.lift"})


def case_create_application(ctx):
    d = _dossier(ctx, create=False)
    return (lambda: applications.create_application(d["provider"], actor=d["admin"], project_ids=[d["project"].id]),
            {"application.create"})


def case_submit(ctx):
    d = _dossier(ctx)
    return lambda: applications.submit(d["application"], actor=d["admin"]), {"application.submit"}


def case_withdraw(ctx):
    d = _dossier(ctx)
    return lambda: applications.withdraw(d["application"], actor=d["admin"]), {"application.withdraw"}


def case_application_transition(ctx):
    d = _dossier(ctx)
    return (lambda: applications.transition(d["application"], "withdraw", actor=d["admin"]),
            {"application.withdraw"})


def case_pass_to_city(ctx):
    d = _verified(ctx)
    return lambda: reviews.pass_to_city(d["application"], actor=ctx["county"]), {"application.pass"}


def case_return_for_revision(ctx):
    d = _dossier(ctx, submit=True)
    return (lambda: reviews.return_for_revision(d["application"], actor=ctx["county"], comments={},
                                                general="请补充安全管理制度"), {"application.return"})


def case_reject(ctx):
    d = _dossier(ctx, submit=True)
    return lambda: reviews.reject(d["application"], actor=ctx["county"], reason="材料不实"), {"application.reject"}


def case_verify_document(ctx):
    d = _dossier(ctx, submit=True)
    return lambda: reviews.verify_document(d["documents"][0], actor=ctx["county"], ok=True), {"document.verify"}


def case_verify_check(ctx):
    d = _dossier(ctx, submit=True)
    return lambda: reviews.verify_check(d["person"].checks[0], actor=ctx["county"], ok=True), {"check.verify"}


def case_mark_adverse(ctx):
    d = _dossier(ctx, submit=True)
    return (lambda: reviews.mark_adverse(d["person"].checks[0], actor=ctx["county"], note="公安机关出具不良记录"),
            {"person.ban"})


def case_create_order(ctx):
    return (lambda: orders.create_order(ctx["school"], actor=ctx["school_admin"],
                                        **order_fields(ctx["entry"], ctx["term"])), {"order.create"})


def case_accept_order(ctx):
    order = _order(ctx)
    return lambda: orders.accept_order(order, actor=ctx["admin"], person_ids=[ctx["person"].id]), {"order.accept"}


def case_decline_order(ctx):
    order = _order(ctx)
    return lambda: orders.decline_order(order, actor=ctx["admin"], reason="授课人员不足"), {"order.decline"}


def case_cancel_order(ctx):
    order = _order(ctx)
    return lambda: orders.cancel_order(order, actor=ctx["school_admin"], reason="课表调整"), {"order.cancel"}


def case_suspend_orders(ctx):
    _order(ctx, accept=True)
    return lambda: orders.suspend_for_entries([ctx["entry"].id], reason="白名单暂停"), {"order.suspend"}


def case_resume_orders(ctx):
    _order(ctx, accept=True, suspend=True)
    return lambda: orders.resume_for_entries([ctx["entry"].id], reason="白名单恢复"), {"order.resume"}


def case_create_batch(ctx):
    return lambda: batches.create_batch(actor=ctx["city"]), {"release_batch.create"}


def case_start_publicity(ctx):
    d = _verified(ctx)
    reviews.pass_to_city(d["application"], actor=ctx["county"])
    batch = batches.create_batch(actor=ctx["city"])
    batches.add_to_batch(batch, d["application"], actor=ctx["city"])
    return (lambda: batches.start_publicity(batch, actor=ctx["city"]),
            {"release_batch.start_publicity", "application.start_publicity"})


def case_file_objection(ctx):
    d, batch = _in_publicity(ctx)
    return (lambda: batches.file_objection(batch, application_id=d["application"].id, **OBJECTION),
            {"objection.file"})


def case_dismiss_objection(ctx):
    objection = _objection(ctx)
    return (lambda: batches.resolve_objection(objection, actor=ctx["city"], upheld=False, resolution="经核查不属实"),
            {"objection.dismiss"})


def case_uphold_objection(ctx):
    objection = _objection(ctx)
    return (lambda: batches.resolve_objection(objection, actor=ctx["city"], upheld=True, resolution="经核查属实"),
            {"objection.uphold", "application.return"})


def case_publish(ctx):
    batch = _ready_to_publish(ctx)
    return (lambda: batches.publish(batch, actor=ctx["city"]),
            {"release_batch.publish", "application.approve", "whitelist_entry.create"})


def case_sweep_expire(ctx):
    return lambda: sweep._expire_entries(date(2026, 9, 2), None), {"whitelist_entry.expire"}


def case_sweep_suspend(ctx):
    _order(ctx, accept=True)
    return (lambda: sweep._suspend_entries([ctx["entry"]], clock.today(), None, "staff_not_cleared",
                                           "staff_not_cleared", evidence_for=lambda e: {},
                                           message_for=lambda e: "测试"),
            {"whitelist_entry.suspend", "order.suspend"})


def case_sweep_ban_adverse(ctx):
    people.add_check(ctx["person"], actor=ctx["admin"], check_type="criminal", result="adverse",
                     check_date=clock.today(), authority="南昌市公安局")
    return lambda: sweep._ban_adverse(clock.today(), None), {"person.ban"}


def case_sweep_lift(ctx):
    today = clock.today()
    adjustments.suspend(ctx["provider"], actor=ctx["city"], reason_category="other", reason="待核查",
                        lift_on=today + timedelta(days=5))
    return lambda: sweep._lift(today + timedelta(days=6), None, defaultdict(list)), {"whitelist_entry.lift"}


def case_sweep_order_terms(ctx):
    _order(ctx, accept=True)
    return lambda: sweep._order_terms(date(2026, 7, 11), None), {"order.complete"}


# ---- issue 17: complaints and appeals

def _complaint(ctx, stage="received", category="illegal_fees"):
    case = complaints.open_case(source="school", category=category, summary="收取材料费",
                                provider_id=ctx["provider"].id, school_id=ctx["school"].id, actor=ctx["school_admin"])
    if stage == "received":
        return case
    complaints.acknowledge(case, actor=ctx["county"])
    if stage == "acknowledged":
        return case
    complaints.request_response(case, actor=ctx["county"], request="请说明")
    complaints.respond(case, actor=ctx["admin"], response="说明")
    if stage == "awaiting_response":
        return case
    complaints.decide(case, actor=ctx["county"], outcome="upheld", reason="属实")
    return case


def case_complaint_acknowledge(ctx):
    case = _complaint(ctx)
    return lambda: complaints.acknowledge(case, actor=ctx["county"]), {"complaint.acknowledge"}


def case_complaint_request_response(ctx):
    case = _complaint(ctx, "acknowledged")
    return (lambda: complaints.request_response(case, actor=ctx["county"], request="请说明"),
            {"complaint.request_response"})


def case_complaint_decide(ctx):
    case = _complaint(ctx, "awaiting_response")
    return (lambda: complaints.decide(case, actor=ctx["county"], outcome="upheld", reason="属实"),
            {"complaint.decide"})


def case_complaint_sanction(ctx):
    case = _complaint(ctx, "decided")
    return (lambda: complaints.confirm_sanction(case, actor=ctx["city"], confirm=True),
            {"complaint.sanction_confirm", "provider.delisting", "provider.ban"})


def case_complaint_rate(ctx):
    case = _complaint(ctx, "decided")
    return lambda: complaints.rate(case, rating=5), {"complaint.close"}


def _appeal(ctx):
    case = _complaint(ctx, "decided", category="service_quality")
    complaints.confirm_sanction(case, actor=ctx["city"], confirm=True)
    return case


def case_file_appeal(ctx):
    case = _appeal(ctx)
    return (lambda: complaints.file_appeal(ctx["provider"], actor=ctx["admin"], subject="complaint",
                                           complaint_id=case.id, reasons="不服"), {"appeal.file"})


def case_decide_appeal(ctx):
    case = _appeal(ctx)
    appeal = complaints.file_appeal(ctx["provider"], actor=ctx["admin"], subject="complaint", complaint_id=case.id,
                                    reasons="不服")
    return (lambda: complaints.decide_appeal(appeal, actor=ctx["city"], outcome="change", reason="撤销"),
            {"appeal.change", "complaint.overturn"})
# issue 16: quality's delisting after two terms below the satisfaction threshold goes through this rule path.
def case_sweep_delist_by_rule(ctx):
    _order(ctx, accept=True)
    return (lambda: sweep.delist_entries([ctx["entry"]], clock.today(), None, "low_satisfaction", "low_satisfaction",
                                         evidence_for=lambda e: {}, message_for=lambda e: "测试"),
            {"whitelist_entry.delist", "order.suspend"})
# ---- issue 15: schedules

def _schedule(ctx, submit=False):
    from registry.schedules import services as schedules
    from tests.integration.test_schedules import week_rows
    schedule = schedules.working_copy(ctx["school"], ctx["term"], actor=ctx["school_admin"])
    schedules.replace_rows(schedule, week_rows(), actor=ctx["school_admin"])
    if submit:
        schedules.submit(schedule, actor=ctx["school_admin"])
    return schedule


def case_schedule_create(ctx):
    from registry.schedules import services as schedules
    return (lambda: schedules.working_copy(ctx["school"], ctx["term"], actor=ctx["school_admin"]),
            {"schedule.create"})


def case_schedule_submit(ctx):
    from registry.schedules import services as schedules
    schedule = _schedule(ctx)
    return lambda: schedules.submit(schedule, actor=ctx["school_admin"]), {"schedule.submit"}


def case_schedule_accept(ctx):
    from registry.schedules import services as schedules
    schedule = _schedule(ctx, submit=True)
    return lambda: schedules.accept(schedule, actor=ctx["county"]), {"schedule.accept"}


def case_schedule_accept_supersedes(ctx):
    from registry.schedules import services as schedules
    first = _schedule(ctx, submit=True)
    schedules.accept(first, actor=ctx["county"])
    second = schedules.working_copy(ctx["school"], ctx["term"], actor=ctx["school_admin"])
    schedules.submit(second, actor=ctx["school_admin"])
    return lambda: schedules.accept(second, actor=ctx["county"]), {"schedule.accept", "schedule.supersede"}


def case_schedule_return(ctx):
    from registry.schedules import services as schedules
    schedule = _schedule(ctx, submit=True)
    return (lambda: schedules.return_schedule(schedule, actor=ctx["county"], comment="请补充科普活动"),
            {"schedule.return"})


FEE = {"fee_standard": "每生每月 100 元", "service_time": "周一至周五 16:00–17:40", "content": "作业辅导与拓展活动"}


def case_fee_notice_save(ctx):
    from registry.schedules import services as schedules
    school = ctx["create_user"]("school_admin")  # a school without the fixture's published notice
    return (lambda: schedules.save_fee_notice(school.school, ctx["term"], actor=school, **FEE), {"fee_notice.save"})


def case_fee_notice_publish(ctx):
    from registry.schedules import services as schedules
    school = ctx["create_user"]("school_admin")
    notice = schedules.save_fee_notice(school.school, ctx["term"], actor=school, **FEE)
    return lambda: schedules.publish_fee_notice(notice, actor=school), {"fee_notice.publish"}


# "module:function" -> the cases that call it (directly or through the public function that is its only caller).
# ---- issue 18: supervision (rectification tasks)

def _task(ctx, respond=False):
    inspector = ctx["create_user"]("inspector", region_code="360113")
    supervision.assign(ctx["school"], inspector_id=inspector.id, actor=ctx["county"])
    visit = supervision_visit(ctx["school"], inspector, clock.today(), safety="fails")
    task = supervision.open_task(visit, "safety", actor=inspector, target="school", requirement="清理消防通道",
                                 deadline=clock.today() + timedelta(days=7))
    if respond:
        supervision.respond(task, actor=ctx["school_admin"], response="已清理")
    return inspector, visit, task


def case_open_task(ctx):
    inspector, visit, _task_row = _task(ctx)
    return (lambda: supervision.open_task(visit, "safety", actor=inspector, target="school", requirement="再查",
                                          deadline=clock.today() + timedelta(days=3)), {"rectification_task.open"})


def case_respond_task(ctx):
    _inspector, _visit, task = _task(ctx)
    return (lambda: supervision.respond(task, actor=ctx["school_admin"], response="已清理"),
            {"rectification_task.respond"})


def case_close_task(ctx):
    inspector, _visit, task = _task(ctx, respond=True)
    return lambda: supervision.close(task, actor=inspector), {"rectification_task.close"}


def case_reopen_task(ctx):
    inspector, _visit, task = _task(ctx, respond=True)
    return lambda: supervision.reopen(task, actor=inspector, note="仍有杂物"), {"rectification_task.reopen"}


DECLARED = {
    "registry.adjustments.services:warn": [case_warn],
    "registry.adjustments.services:suspend": [case_suspend],
    "registry.adjustments.services:delist": [case_delist, case_delist_no_entries_with_ban],
    "registry.adjustments.services:ban": [case_ban, case_ban_no_entries],
    "registry.adjustments.services:reinstate": [case_reinstate, case_reinstate_lifts_a_ban],
    "registry.applications.services:create_application": [case_create_application],
    "registry.applications.services:submit": [case_submit],
    "registry.applications.services:withdraw": [case_withdraw],
    "registry.applications.services:transition": [case_application_transition],
    "registry.reviews.services:pass_to_city": [case_pass_to_city],
    "registry.reviews.services:return_for_revision": [case_return_for_revision],
    "registry.reviews.services:reject": [case_reject],
    "registry.reviews.services:verify_document": [case_verify_document],
    "registry.reviews.services:verify_check": [case_verify_check],
    "registry.reviews.services:mark_adverse": [case_mark_adverse],
    "registry.orders.services:create_order": [case_create_order],
    "registry.orders.services:accept_order": [case_accept_order],
    "registry.orders.services:decline_order": [case_decline_order],
    "registry.orders.services:cancel_order": [case_cancel_order],
    "registry.orders.services:suspend_for_entries": [case_suspend_orders],
    "registry.orders.services:resume_for_entries": [case_resume_orders],
    "registry.batches.services:create_batch": [case_create_batch],
    "registry.batches.services:start_publicity": [case_start_publicity],
    "registry.batches.services:file_objection": [case_file_objection],
    "registry.batches.services:resolve_objection": [case_dismiss_objection, case_uphold_objection],
    "registry.batches.services:publish": [case_publish],
    "registry.whitelist.services:admit_published": [case_publish],
    "registry.whitelist.services:_apply_approval": [case_publish],
    "registry.adjustments.sweep:_expire_entries": [case_sweep_expire],
    "registry.adjustments.sweep:_suspend_entries": [case_sweep_suspend],
    "registry.adjustments.sweep:_ban_adverse": [case_sweep_ban_adverse],
    "registry.adjustments.sweep:_lift": [case_sweep_lift],
    "registry.adjustments.sweep:_order_terms": [case_sweep_order_terms],
    # issue 18: supervision
    "registry.supervision.services:open_task": [case_open_task],
    "registry.supervision.services:respond": [case_respond_task],
    "registry.supervision.services:close": [case_close_task],
    "registry.supervision.services:reopen": [case_reopen_task],
    # issue 17: complaints and appeals
    "registry.complaints.services:acknowledge": [case_complaint_acknowledge],
    "registry.complaints.services:request_response": [case_complaint_request_response],
    "registry.complaints.services:decide": [case_complaint_decide],
    "registry.complaints.services:confirm_sanction": [case_complaint_sanction],
    "registry.complaints.services:rate": [case_complaint_rate],
    "registry.complaints.services:file_appeal": [case_file_appeal],
    "registry.complaints.services:decide_appeal": [case_decide_appeal],
    "registry.complaints.services:_overturn": [case_decide_appeal],
    "registry.adjustments.sweep:delist_entries": [case_sweep_delist_by_rule],  # issue 16
    # issue 15: schedules
    "registry.schedules.services:working_copy": [case_schedule_create],
    "registry.schedules.services:submit": [case_schedule_submit],
    "registry.schedules.services:accept": [case_schedule_accept, case_schedule_accept_supersedes],
    "registry.schedules.services:return_schedule": [case_schedule_return],
    "registry.schedules.services:save_fee_notice": [case_fee_notice_save],
    "registry.schedules.services:publish_fee_notice": [case_fee_notice_publish],
}

CASES = sorted({(name, case) for name, cases in DECLARED.items() for case in cases}, key=lambda c: c[0] + c[1].__name__)


@pytest.mark.parametrize("name,case", CASES, ids=[f"{n.split('.')[1]}.{c.__name__[5:]}" for n, c in CASES])
def test_the_call_writes_its_audit_rows(ctx, db, name, case):
    act, expected = case(ctx)
    db.session.flush()
    before = db.session.scalar(select(func.coalesce(func.max(AuditLog.seq), 0)))
    act()
    db.session.flush()
    written = set(db.session.scalars(select(AuditLog.action).where(AuditLog.seq > before)))
    assert written, f"{name} ({case.__name__}) changed a status or a ban and wrote no audit row"
    assert expected <= written, (
        f"{name} ({case.__name__}): missing {sorted(expected - written)}; wrote {sorted(written)}")


# ---------------------------------------------------------------- the guard

def _name(node):
    return node.attr if isinstance(node, ast.Attribute) else getattr(node, "id", None)


def _is_status(name):
    return bool(name) and (name == "status" or name.endswith("_status"))


def changes_state(function):
    """What in `function`'s own body changes a status or a ban (empty when nothing does)."""
    found = set()
    for node in ast.walk(function):
        if isinstance(node, ast.Call):
            called = _name(node.func)
            arguments = list(node.args) + [k.value for k in node.keywords]
            if called in ("transition", "transition_many"):
                found.add("lifecycle transition")
            if called == "PersonBan" or (called in ("insert_rows", "insert", "update") and node.args
                                         and _name(node.args[0]) == "PersonBan"):
                found.add("person ban written")
            if any(isinstance(a, ast.Attribute) and a.attr == "ban" and _name(a.value) == "ActionKind"
                   for a in arguments):
                found.add("provider ban")
            if called and called[0].isupper() and any(_is_status(k.arg) for k in node.keywords):
                found.add("row created with a status")
            if called == "values" and any(k.arg == "lifted_at" or _is_status(k.arg) for k in node.keywords):
                found.add("status or lift set by UPDATE")
        elif isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                for element in (target.elts if isinstance(target, ast.Tuple) else [target]):
                    if isinstance(element, ast.Attribute) and (_is_status(element.attr) or element.attr == "lifted_at"):
                        found.add(f"assigns .{element.attr}")
    return found


def scan():
    hits = {}
    for path in SCANNED_MODULES:
        module = ".".join(path.with_suffix("").parts)
        for node in ast.walk(ast.parse((REPO / path).read_text(encoding="utf-8"))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                found = changes_state(node)
                if found:
                    hits[f"{module}:{node.name}"] = found
    return hits


def test_the_list_covers_every_state_change():
    hits = scan()
    missing = {name: sorted(why) for name, why in hits.items() if name not in DECLARED}
    assert not missing, ("service functions that change a status or a ban are missing from DECLARED "
                         f"(add a case that proves they write an audit row): {missing}")
    for name in DECLARED:
        module, _, function = name.partition(":")
        assert inspect.isfunction(getattr(importlib.import_module(module), function, None)), f"{name} is gone"


def test_the_scanner_sees_what_it_looks_for():
    """The guard itself: each kind of state change in a new function would be caught."""
    samples = {
        "def f(x):\n    ENTRY.transition(x, 'suspend')\n": "lifecycle transition",
        "def f(x):\n    x.status = 'active'\n": "assigns .status",
        "def f(x):\n    db.session.add(PersonBan(id_bidx=x))\n": "person ban written",
        "def f(x):\n    bulk.insert_rows(PersonBan, [])\n": "person ban written",
        "def f(p):\n    _record(p, ActionKind.ban, 1)\n": "provider ban",
        "def f(p):\n    db.session.add(Order(status=OrderStatus.requested))\n": "row created with a status",
        "def f(p):\n    db.session.execute(update(PersonBan).values(lifted_at=now))\n": "status or lift set by UPDATE",
    }
    for source, expected in samples.items():
        assert expected in changes_state(ast.parse(source).body[0]), source
    assert changes_state(ast.parse("def f(x):\n    return select(PersonBan).where(x)\n").body[0]) == set()
