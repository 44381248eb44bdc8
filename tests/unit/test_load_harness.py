"""The mixed-load harness's own arithmetic (bench/load, issue 20), without a server: what counts as an
error, which rate is held, how the term-start slots split, and that every scenario has its user class.
(The locustfile is read, not imported: importing Locust monkey-patches the process with gevent.)"""
import ast
import collections
import json

from bench.load import adapters, run


def rows(name, latencies_ms, ok=True):
    return [(name, i, ms / 1000, 200 if ok else 500, ok) for i, ms in enumerate(latencies_ms)]


def test_summary_counts_unanswered_requests_as_errors_and_takes_percentiles_per_name():
    measured = rows("catalog list", range(1, 101)) + rows("order create", [50, 60], ok=False)
    summary = run.summarize(measured, unanswered=3, seconds=10)
    assert summary["catalog list"]["p50_ms"] == 50 and summary["catalog list"]["p99_ms"] == 99
    assert summary["catalog list"]["rps"] == 10.0 and summary["order create"]["errors"] == 2
    assert summary["all"]["errors"] == 2 + 3 and summary["all"]["count"] == 102
    assert not run.held(summary)


def test_a_rate_is_held_with_p99_at_most_the_target_and_no_error():
    assert run.held(run.summarize(rows("catalog list", [run.P99_TARGET_MS] * 100), 0, 10))
    assert not run.held(run.summarize(rows("catalog list", [run.P99_TARGET_MS + 1] * 100), 0, 10))


def test_the_acceptance_pool_moves_on_by_what_a_run_accepted(tmp_path):
    world = tmp_path / "world.json"
    world.write_text(json.dumps({"accept_pool": [{"id": i, "entry_id": 1} for i in range(5)]}))
    run._consume_pool(world, 2)
    assert [o["id"] for o in json.loads(world.read_text())["accept_pool"]] == [2, 3, 4]


def test_term_start_slots_follow_the_mix():
    weights = collections.Counter(dict(adapters.TERM_START_MIX))
    assert sum(weights.values()) == 100
    assert weights["catalog list"] + weights["catalog entry"] == 90
    assert (weights["order create"], weights["order accept"]) == (8, 2)


def test_every_scenario_has_a_user_class_and_the_fixed_rates_asked():
    from pathlib import Path
    source = ast.parse((Path(run.__file__).parent / "locustfile.py").read_text())
    classes = {node.name for node in ast.walk(source) if isinstance(node, ast.ClassDef)}
    assert {run.SCENARIO_CLASS[name] for name in adapters.SCENARIOS} <= classes
    assert adapters.SCENARIOS["gate_rush"] == (adapters.GATE_PROBE, 300)
    assert adapters.SCENARIOS["survey_evening"][1] * adapters.SURVEY_SUBMIT_SHARE == 200
    assert adapters.SCENARIOS["term_start"] == (None, None)


def _route(app, method, path):
    """The endpoint the app routes `method path` to (raises when none)."""
    adapter = app.url_map.bind("localhost")
    return adapter.match(path.split("?")[0], method=method)[0]


def test_the_gate_calls_reach_the_scan_and_roll_call_with_a_valid_scan_body(app):
    from registry.passes.schemas import ScanIn
    gate = {"token": "t", "passes": ["ABCD2345"]}
    scan, roll = adapters.gate_scan(gate, adapters.rng(1)), adapters.gate_roll_call(gate, adapters.rng(1))
    assert _route(app, scan.method, scan.path) == "api_passes.GateScan"
    assert _route(app, roll.method, roll.path) == "api_passes.GateOnSite"
    assert scan.token == roll.token == "t" and 200 in scan.expect
    with app.app_context():
        assert ScanIn().load(scan.json) == {"text": "ABCD2345"}


def test_the_survey_calls_reach_the_public_survey_with_a_valid_answer(app):
    from registry.quality.schemas import SurveyAnswerIn
    rnd = adapters.rng(2)
    page, submit = adapters.survey_page("ABCD-2345", rnd), adapters.survey_submit("ABCD-2345", rnd)
    assert _route(app, page.method, page.path) == _route(app, submit.method, submit.path) == "api_survey.Survey"
    assert page.token is None and submit.token is None and submit.expect == (201,)
    assert adapters.SURVEY_PROBE.format(code="X") == page.path.replace("ABCD-2345", "X")
    with app.app_context():
        for _ in range(20):
            SurveyAnswerIn().load(adapters.survey_submit("C", rnd).json)


def test_survey_codes_are_submitted_once_each_and_pages_open_fresh_ones():
    codes = adapters.SurveyCodes([f"c{i}" for i in range(6)])
    assert [codes.page(), codes.page()] == ["c0", "c1"]
    submitted = [codes.submit(), codes.submit(), codes.submit()]   # the two opened, then a fresh one
    assert submitted == ["c0", "c1", "c2"]
    assert codes.page() == "c3" and codes.submit() == "c3"
    assert [codes.submit(), codes.submit(), codes.submit()] == ["c4", "c5", None]
    assert codes.page() is None
