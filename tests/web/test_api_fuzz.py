"""Schemathesis fuzzes every operation of the published OpenAPI document, as an anonymous caller, a provider,
a school and a county reviewer, against real data (a provider with a published project, a submitted
application, a school with a term and an order): no response is a 5xx, and every response, errors
included, is documented and matches its documented schema. Every path also answers an undocumented
method with 405, an `Allow` header and the error schema.

Each operation gets a few positive and a few negative examples (derandomized, so a failure reproduces),
once with generated path parameters and once with the ids of the real rows. All failures are collected
and reported together, with the request that caused each.
"""
import re
from datetime import date

import pytest
import schemathesis
from flask.globals import _cv_app
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from registry.applications import services as applications
from registry.orders import services as orders
from registry.providers import services as providers
from tests.fixtures.orders import order_fields
from tests.fixtures.providers import add_cleared_person, add_documents, add_project, id_number_for, make_provider_row
from tests.fixtures.reviews import at

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_headers_conformance,
          response_schema_conformance]
EXAMPLES = 4  # per operation, generation mode and kind of path parameters
CHUNKS = 4  # the operations split over this many tests (xdist spreads them; each builds its own world)
METHODS = ("get", "post", "put", "patch", "delete")


@pytest.fixture
def world(db, whitelisted, ordering_school, reviewers, create_user, bearer):
    """Real rows for the operations to reach, and a bearer token for each role."""
    from registry.auth import services as auth

    provider, admin = whitelisted["provider"], whitelisted["admin"]
    at(date(2026, 3, 12))
    order = orders.create_order(ordering_school["school"], actor=ordering_school["admin"],
                                **order_fields(whitelisted["entry"], ordering_school["term"]))
    newcomer = make_provider_row(db, name="南昌新来科技教育中心")
    newcomer_admin = create_user("provider_admin", provider_id=newcomer.id)
    add_documents(newcomer, newcomer_admin)
    staff = add_cleared_person(newcomer, newcomer_admin, n=9001, id_number=id_number_for(9001))
    draft = add_project(newcomer, newcomer_admin, staff=[staff], title="机器人编程")
    pending = applications.create_application(newcomer, actor=newcomer_admin, project_ids=[draft.id])
    applications.submit(pending, actor=newcomer_admin)  # at county review of 红谷滩区
    document = providers.current_documents(provider.id)[0]
    spare_token, _plaintext = auth.create_token(admin, name="spare")
    from registry.complaints import services as complaints  # issue 17
    complaint = complaints.open_case(source="public", category="illegal_fees", summary="材料费", order_id=order.id,
                                     complainant_name="张三", complainant_phone="13800000000")
    from registry.schedules import services as schedules  # issue 15: a schedule revision and a non-teaching day
    schedule = schedules.working_copy(ordering_school["school"], ordering_school["term"],
                                      actor=ordering_school["admin"])
    day = schedules.add_non_teaching_day(ordering_school["school"], ordering_school["term"],
                                         actor=ordering_school["admin"], day=date(2026, 4, 3), reason="春季运动会")
    db.session.flush()
    ids = {
        "application_id": pending.id, "batch_id": whitelisted["batch"].id, "document_id": document.id,
        "check_id": whitelisted["person"].checks[0].id, "entry_id": whitelisted["entry"].id, "order_id": order.id,
        "person_id": whitelisted["person"].id, "project_id": whitelisted["project"].id, "provider_id": provider.id,
        "school_id": ordering_school["school"].id, "term_id": ordering_school["term"].id,
        "token_id": spare_token.id, "objection_id": 1, "token": "x",
        "complaint_id": complaint.id, "code": complaint.tracking_code, "appeal_id": 1,  # issue 17
        "schedule_id": schedule.id, "day_id": day.id,  # issue 15
        "pass_id": 1,  # issue 14: passes
    }
    # issue 18: supervision (no supervision rows in this world: the ids answer 404)
    ids.update({"assignment_id": 1, "visit_id": 1, "task_id": 1, "region_id": ordering_school["school"].county_id})
    ids["code"] = "x"  # issue 16: a parent survey code (an unknown one)
    roles = {
        "anonymous": {},
        "provider": bearer(admin),
        "school": bearer(ordering_school["admin"]),
        "reviewer": bearer(reviewers["county"]),
    }
    return {"ids": ids, "roles": roles}


def _wsgi(app, db):
    """The app as a server runs it, inside the test's transaction (see RequestClient in tests/conftest.py):
    what the test set up is committed first (a savepoint), and each request gets its own app context."""
    def call(environ, start_response):
        db.session.commit()
        token = _cv_app.set(None)
        try:
            return list(app(environ, start_response))
        finally:
            _cv_app.reset(token)
    return call


def _operations(schema):
    ops = [result.ok() for result in schema.get_all_operations()]
    return sorted(ops, key=lambda op: (op.path, op.method))


def _describe(case, role, exc):
    return f"{role} {case.method} {case.formatted_path} query={case.query!r} body={str(case.body)[:200]!r}: " \
           f"{str(exc).strip()[:600]}"


@pytest.mark.parametrize("chunk", range(CHUNKS))
def test_fuzzed_operations_answer_as_documented(app, db, world, chunk):
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", _wsgi(app, db))
    operations = _operations(schema)[chunk::CHUNKS]
    failures = []
    for operation in operations:
        params = {name: world["ids"][name] for name in re.findall(r"{(\w+)}", operation.path)}
        strategies = [operation.as_strategy(generation_mode=mode) for mode in GenerationMode]
        if params:
            strategies += [operation.as_strategy(generation_mode=mode, path_parameters=params)
                           for mode in GenerationMode]
        for strategy in strategies:
            @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                      suppress_health_check=list(HealthCheck))
            @given(case=strategy)
            def run(case):
                for role, headers in world["roles"].items():
                    try:
                        case.call_and_validate(headers=headers, checks=CHECKS)
                    # collected: one report for every operation that fails
                    except (Exception, BaseExceptionGroup) as exc:
                        failures.append(_describe(case, role, exc))
            try:
                run()
            except Unsatisfiable:
                pass  # negative mode of an operation with nothing to negate (no parameters, no body)
    assert not failures, f"{len(failures)} failures:\n" + "\n\n".join(failures[:40])


def test_undocumented_methods_get_405_with_allow(app, db, client, world):
    spec = client.get("/api/v1/openapi.json").get_json()
    failures = []
    for path, item in spec["paths"].items():
        documented = {m for m in item if m in METHODS}
        url = re.sub(r"{(\w+)}", lambda m: str(world["ids"][m.group(1)]), path)
        for method in set(METHODS) - documented:
            response = client.open(url, method=method.upper(), headers=world["roles"]["provider"])
            body = response.get_json(silent=True) or {}
            allow = {m.strip().lower() for m in response.headers.get("Allow", "").split(",") if m.strip()}
            if response.status_code != 405 or not documented <= allow or set(body) - {"errors"} != {
                    "code", "message", "field"}:
                failures.append(f"{method.upper()} {url}: {response.status_code} Allow={allow} {body}")
    assert not failures, "\n".join(failures)
