"""Issue 18, supervision pages and API: the inspector's visit on the form (with photos), a task from a
不符合 item answered by the school and closed by the inspector, an inspector (or reviewer) of another county
gets 404 for every record of this one, the dashboards drill down province → city → county → school for the
read-only supervisors, and the exports (XLSX, the monthly report PDF and XLSX) carry the same numbers."""
from datetime import date
from io import BytesIO

from openpyxl import load_workbook
from sqlalchemy import select

from registry.complaints.models import Complaint, ComplaintCategory, ComplaintSource
from registry.regions import services as regions
from registry.supervision.models import Task, TaskStatus, Visit
from tests.fixtures.accounts import login
from tests.fixtures.providers import png_bytes
from tests.fixtures.reviews import at
from tests.fixtures.supervision import visit as make_visit


def _client(app, user):
    client = app.test_client()
    assert login(client, user.username).status_code == 302
    return client


def _visit_form(**fails):
    data = {"visited_at": "2026-03-10T15:30", "summary": "课后服务秩序良好"}
    for key in ("schedule_published", "activities_match", "one_plus_n", "passes_valid", "fees_disclosed",
                "voluntary", "no_new_lessons", "safety"):
        data[f"item_{key}"] = "fails" if key in fails else "conforms"
        data[f"note_{key}"] = fails.get(key, "")
    return data


def test_inspector_records_a_visit_and_raises_a_task_the_school_answers(app, db, world):
    inspector = _client(app, world["inspector"])
    page = inspector.get("/supervision/visits")
    assert page.status_code == 200 and world["a"].name in page.get_data(as_text=True)
    form = inspector.get(f"/supervision/visits/new/{world['a'].id}")
    assert form.status_code == 200 and "课表已公示并备案" in form.get_data(as_text=True)
    data = _visit_form(safety="消防通道堆放杂物")
    data["photo_safety"] = (BytesIO(png_bytes()), "现场.png")
    response = inspector.post(f"/supervision/visits/new/{world['a'].id}", data=data,
                              content_type="multipart/form-data")
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    visit = db.session.scalars(select(Visit).where(Visit.school_id == world["a"].id)).one()
    assert len(visit.photos) == 1 and visit.visited_on == date(2026, 3, 10)
    photo_url = f"/supervision/files/{visit.photos[0].file_id}"
    assert inspector.get(photo_url).status_code == 200
    assert app.test_client().get(photo_url).status_code == 302   # anonymous: to the login page
    response = inspector.post(f"/supervision/visits/{visit.id}/tasks", data={
        "item": "safety", "target": "school", "requirement": "清理消防通道", "deadline": "2026-03-20"})
    assert response.status_code == 302
    task = db.session.scalars(select(Task).where(Task.visit_id == visit.id)).one()
    school = _client(app, world["school_admin"])
    assert "清理消防通道" in school.get(f"/supervision/tasks/{task.id}").get_data(as_text=True)
    refused = inspector.post(f"/supervision/tasks/{task.id}/close", data={"note": ""})
    assert refused.status_code == 409                            # no response yet
    response = school.post(f"/supervision/tasks/{task.id}/respond", data={
        "response": "已清理", "evidence": (BytesIO(png_bytes()), "整改后.png")}, content_type="multipart/form-data")
    assert response.status_code == 302
    assert inspector.post(f"/supervision/tasks/{task.id}/close", data={"note": "复查合格"}).status_code == 302
    db.session.refresh(task)
    assert task.status == TaskStatus.closed and len(task.evidence) == 1


def test_a_bad_visit_form_comes_back_with_the_reason_and_what_was_typed(app, db, world):
    inspector = _client(app, world["inspector"])
    data = _visit_form(safety="")
    data["summary"] = "请保留这段小结"
    response = inspector.post(f"/supervision/visits/new/{world['a'].id}", data=data)
    body = response.get_data(as_text=True)
    assert response.status_code == 422 and "请在备注中写明发现的问题" in body and "请保留这段小结" in body


def test_another_countys_inspector_and_reviewer_get_404(app, db, world, bearer):
    visit = make_visit(world["a"], world["inspector"], date(2026, 3, 10), safety="fails")
    from registry.supervision import services as supervision
    task = supervision.open_task(visit, "safety", actor=world["inspector"], target="school", requirement="整改",
                                 deadline=date(2026, 3, 20))
    db.session.flush()
    outsider = _client(app, world["other_inspector"])
    county = regions.get_by_code("360113")
    for url in (f"/supervision/visits/{visit.id}", f"/supervision/tasks/{task.id}",
                f"/supervision/visits/new/{world['a'].id}", f"/supervision/schools/{world['a'].id}",
                f"/supervision/regions/{county.id}", f"/supervision/files/{visit.photos[0].file_id}"
                if visit.photos else f"/supervision/visits/{visit.id}"):
        assert outsider.get(url).status_code == 404, url
    assert outsider.post(f"/supervision/visits/{visit.id}/tasks", data={
        "item": "safety", "target": "school", "requirement": "x", "deadline": "2026-03-20"}).status_code == 404
    headers = bearer(world["other_inspector"])
    for url in (f"/api/v1/supervision/visits/{visit.id}", f"/api/v1/supervision/tasks/{task.id}",
                f"/api/v1/supervision/dashboard/regions/{county.id}"):
        response = outsider.get(url, headers=headers)
        assert response.status_code == 404 and response.get_json()["code"], url
    reviewer = _client(app, world["reviewers"]["other_county"])
    assert reviewer.get(f"/supervision/visits/{visit.id}").status_code == 404


def test_supervisors_drill_down_from_province_to_school(app, db, world, create_user):
    make_visit(world["a"], world["inspector"], date(2026, 3, 10))
    province = create_user("province_supervisor")
    client = _client(app, province)
    root = client.get("/supervision/")
    assert root.status_code == 302
    body = client.get(root.headers["Location"]).get_data(as_text=True)
    assert "江西省课后服务督导指标" in body and "dashboard-data" in body
    city = regions.get_by_code("360100")
    county = regions.get_by_code("360113")
    assert "红谷滩区" in client.get(f"/supervision/regions/{city.id}").get_data(as_text=True)
    county_page = client.get(f"/supervision/regions/{county.id}").get_data(as_text=True)
    assert world["a"].name in county_page and "echarts.min.js" in county_page
    assert client.get(f"/supervision/schools/{world['a'].id}").status_code == 200
    city_supervisor = _client(app, create_user("city_supervisor", region_code="360700"))
    assert city_supervisor.get(f"/supervision/regions/{city.id}").status_code == 404
    assert city_supervisor.post("/supervision/assignments", data={}).status_code == 403   # read-only


def test_exports_and_monthly_report_carry_the_same_numbers(app, db, world, bearer):
    make_visit(world["a"], world["inspector"], date(2026, 3, 10))
    at(date(2026, 4, 2))
    county = regions.get_by_code("360113")
    client = _client(app, world["county"])
    api = client.get(f"/api/v1/supervision/reports/regions/{county.id}?month=2026-03",
                     headers=bearer(world["county"])).get_json()
    visits = next(i for i in api["indicators"] if i["key"] == "visits_this_month")
    assert visits["total"]["value"] == 50.0 and visits["landed"]
    assert all(i["landed"] for i in api["indicators"])  # every source domain has landed
    assert [r["school_name"] for r in api["overdue_visits"]] == [world["b"].name]
    workbook = load_workbook(BytesIO(client.get(f"/supervision/regions/{county.id}/report/2026-03.xlsx").data))
    first = {row[0]: row[2] for row in workbook["月度指标"].iter_rows(min_row=2, values_only=True)}
    assert first["本月督导完成率"] == 50.0 and first["晒课表率（课表已审核且按时备案的学校）"] != "暂无数据"
    assert [r[0] for r in workbook["未按月督导学校"].iter_rows(min_row=2, values_only=True)] == [world["b"].name]
    pdf = client.get(f"/supervision/regions/{county.id}/report/2026-03.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    dashboard = load_workbook(BytesIO(client.get(f"/supervision/regions/{county.id}/export.xlsx").data))
    assert dashboard.sheetnames == ["指标", "按学校", "学期趋势"]
    assert client.get(f"/supervision/regions/{county.id}/report/2026-13.pdf").status_code == 422


def test_county_reviewer_assigns_a_school(app, db, world, create_user):
    newcomer = create_user("inspector", region_code="360113")
    client = _client(app, world["county"])
    assert world["a"].name in client.get("/supervision/assignments").get_data(as_text=True)
    response = client.post("/supervision/assignments", data={"school_id": world["b"].id, "inspector_id": newcomer.id})
    assert response.status_code == 302
    refused = client.post("/supervision/assignments", data={"school_id": world["b"].id,
                                                            "inspector_id": world["other_inspector"].id})
    assert refused.status_code == 422 and "在岗的责任督学" in refused.get_data(as_text=True)
    assert client.post("/supervision/assignments", data={"school_id": world["c"].id,
                                                         "inspector_id": newcomer.id}).status_code == 404


def test_api_visit_and_task_flow(app, db, world, bearer):
    inspector = app.test_client()
    headers = bearer(world["inspector"])
    items = {k: {"result": "conforms"} for k in ("schedule_published", "activities_match", "one_plus_n",
                                                  "passes_valid", "fees_disclosed", "voluntary", "no_new_lessons")}
    items["safety"] = {"result": "fails", "note": "无安全员"}
    response = inspector.post("/api/v1/supervision/visits", headers=headers, json={
        "school_id": world["a"].id, "visited_at": "2026-03-10T16:00:00", "items": items})
    assert response.status_code == 201, response.get_json()
    visit_id = response.get_json()["id"]
    bad = inspector.post("/api/v1/supervision/visits", headers=headers, json={
        "school_id": world["a"].id, "visited_at": "2026-03-10T16:00:00", "items": {**items, "x": {"result": "y"}}})
    assert bad.status_code == 422 and bad.get_json()["field"]
    response = inspector.post(f"/api/v1/supervision/visits/{visit_id}/tasks", headers=headers, json={
        "item": "safety", "target": "school", "requirement": "配备安全员", "deadline": "2026-03-12"})
    assert response.status_code == 201
    task_id = response.get_json()["id"]
    at(date(2026, 3, 13))
    task = inspector.get(f"/api/v1/supervision/tasks/{task_id}", headers=bearer(world["inspector"])).get_json()
    assert task["overdue"] is True and task["status"] == "open"
    closing = inspector.post(f"/api/v1/supervision/tasks/{task_id}/close", headers=bearer(world["inspector"]),
                             json={})
    assert closing.status_code == 409
    complaint = inspector.post(f"/api/v1/supervision/visits/{visit_id}/complaint",
                               headers=bearer(world["inspector"]), json={"item": "safety"})
    assert complaint.status_code == 201
    case = db.session.scalars(select(Complaint).where(Complaint.source == ComplaintSource.visit)).one()
    assert case.category == ComplaintCategory.safety_incident and case.school_id == world["school_admin"].school_id
    again = inspector.post(f"/api/v1/supervision/visits/{visit_id}/complaint",
                           headers=bearer(world["inspector"]), json={"item": "safety"})
    assert again.status_code == 409 and again.get_json()["code"] == "already_referred"


def test_the_visit_form_shows_todays_gate_scans_beside_the_passes_item(app, db, world):
    from datetime import datetime

    from registry.core import clock
    from registry.passes.models import EntryPass, GateScan, PassKind, ScanDirection, ScanResult
    today = clock.today()
    worn = EntryPass(kind=PassKind.school, code="VIST0001", link_key="visit-form-test", person_id=world["person"].id,
                     school_id=world["a"].id, weekdays=[0, 1, 2, 3, 4], time_slot="16:30-17:30",
                     valid_from=today, valid_until=today, token="", key_id="")
    db.session.add(worn)
    db.session.flush()
    came = datetime(today.year, today.month, today.day, 8, 25)   # 16:25 in Beijing
    db.session.add(GateScan(pass_id=worn.id, school_id=world["a"].id, scanned_at=came, scan_day=today,
                            result=ScanResult.allowed, direction=ScanDirection.entry, reasons=[], received_at=came))
    db.session.flush()
    html = _client(app, world["inspector"]).get(f"/supervision/visits/new/{world['a'].id}").get_data(as_text=True)
    assert "当日入校扫码记录（1 条" in html and "16:25" in html and world["person"].name in html
