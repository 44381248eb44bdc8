"""What was reviewed is what runs, over HTTP: a provider's in-place edit of a listed project's price, stages or
category, or of its own name, changes nothing that the public whitelist, the school catalog, the certificate
(PDF and verification) or a new order shows, until a 变更 application carrying it is published."""
import subprocess
from datetime import timedelta

from registry.applications import services as applications
from registry.applications.models import ApplicationKind
from registry.batches import services as batches
from registry.reviews import services as reviews
from tests.fixtures.orders import order_fields
from tests.fixtures.reviews import at, client_as

PROPOSAL = {"price": 4.99, "stages": ["junior"], "category": "arts"}
PUBLISHED_PROJECT = {"title": "花样跳绳", "category": "sports", "stages": ["lower_primary", "upper_primary"],
                     "price": "3.00"}


def _pdf_text(data, tmp_path):
    path = tmp_path / "certificate.pdf"
    path.write_bytes(data)
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True,
                          check=True).stdout


def _public_project(client):
    item = client.get("/api/v1/whitelist?q=跳绳").get_json()["items"][0]
    return {k: item["project"][k] for k in PUBLISHED_PROJECT}, item["provider"]["name"]


def _order(client, bearer, whitelisted, school):
    fields = {k: v for k, v in order_fields(whitelisted["entry"], school["term"]).items() if v is not None}
    return client.post("/api/v1/school/orders", json=fields, headers=bearer(school["admin"]))


def test_the_patch_is_held_and_everything_public_keeps_the_published_values(app, db, client, bearer, whitelisted,
                                                                             ordering_school, tmp_path):
    pid = whitelisted["project"].id
    response = client.patch(f"/api/v1/projects/{pid}", json=PROPOSAL, headers=bearer(whitelisted["admin"]))
    assert response.status_code == 202, response.get_json()
    body = response.get_json()
    assert (body["price"], body["stages"], body["category"]) == ("3.00", ["lower_primary", "upper_primary"], "sports")
    assert body["pending_changes"] == {"price": "4.99", "stages": ["junior"], "category": "arts"}
    assert "待审变更" in body["pending_message"] and "变更申报" in body["pending_message"]

    project, name = _public_project(client)
    assert project == PUBLISHED_PROJECT and name == whitelisted["provider"].name
    html = client.get("/whitelist").get_data(as_text=True)
    assert "3.00 元" in html and "4.99" not in html
    page = client.get(f"/whitelist/providers/{whitelisted['provider'].id}").get_data(as_text=True)
    assert "3.00" in page and "4.99" not in page

    school = ordering_school
    catalog = client.get("/api/v1/school/catalog", headers=bearer(school["admin"])).get_json()["items"]
    mine = [c for c in catalog if c["entry_id"] == whitelisted["entry"].id]
    assert len(mine) == 1 and mine[0]["price"] == "3.00" and "4.99" not in str(catalog)

    verify = client.get(f"/api/v1/whitelist/verify/{_certificate_token(db, whitelisted)}").get_json()
    assert verify["entries"][0]["project"]["price"] == "3.00" and "4.99" not in str(verify)
    pdf = client.get(f"/whitelist/providers/{whitelisted['provider'].id}/certificate.pdf")
    text = _pdf_text(pdf.data, tmp_path)
    assert "3.00" in text and "4.99" not in text

    # A school orders after the edit: the order carries the published price, and the published stages apply.
    response = _order(client, bearer, whitelisted, school)
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["price"] == "3.00" and response.get_json()["total"] == "1800.00"


def _certificate_token(db, whitelisted):
    from registry.whitelist.models import Certificate
    return db.session.query(Certificate).filter_by(provider_id=whitelisted["provider"].id).one().token


def test_a_lower_price_is_published_at_once(client, bearer, whitelisted, ordering_school):
    pid = whitelisted["project"].id
    response = client.patch(f"/api/v1/projects/{pid}", json={"price": "2.50"}, headers=bearer(whitelisted["admin"]))
    assert response.status_code == 200 and response.get_json()["price"] == "2.50"
    assert response.get_json()["pending_changes"] is None
    assert _public_project(client)[0]["price"] == "2.50"
    assert _order(client, bearer, whitelisted, ordering_school).get_json()["price"] == "2.50"


def test_a_non_reviewed_field_changes_at_once_with_200(client, bearer, whitelisted):
    pid = whitelisted["project"].id
    response = client.patch(f"/api/v1/projects/{pid}", json={"description": "修正错字后的项目简介"},
                            headers=bearer(whitelisted["admin"]))
    assert response.status_code == 200
    assert (response.get_json()["description"] == "修正错字后的项目简介"
            and response.get_json()["pending_changes"] is None)


def test_a_listed_providers_new_name_shows_nowhere_until_published(app, db, client, bearer, whitelisted, tmp_path):
    provider = whitelisted["provider"]
    published = provider.name
    response = client.patch("/api/v1/providers/me",
                            json={"name": "南昌换名教育科技有限公司", "contact_phone": "13512345678"},
                            headers=bearer(whitelisted["admin"]))
    assert response.status_code == 202, response.get_json()
    body = response.get_json()
    assert body["name"] == published and body["contact_phone"] == "13512345678"
    assert body["pending_changes"] == {"name": "南昌换名教育科技有限公司"} and "待审变更" in body["pending_message"]
    assert _public_project(client)[1] == published
    assert "南昌换名" not in client.get("/whitelist").get_data(as_text=True)
    token = _certificate_token(db, whitelisted)
    assert client.get(f"/api/v1/whitelist/verify/{token}").get_json()["provider"]["name"] == published
    assert "南昌换名" not in client.get(f"/verify/{token}").get_data(as_text=True)
    text = _pdf_text(client.get(f"/whitelist/providers/{provider.id}/certificate.pdf").data, tmp_path)
    assert published in text and "南昌换名" not in text


def test_the_html_form_saves_a_pending_change_and_says_how_to_submit_it(app, db, client, whitelisted):
    browser = client_as(app, whitelisted["admin"])
    pid = whitelisted["project"].id
    page = browser.get(f"/provider/projects/{pid}").get_data(as_text=True)
    assert 'id="reviewed-fields"' in page and "待审变更" in page
    form = {"title": "花样跳绳", "category": "arts", "stages": ["junior"], "level": "beginner",
            "description": "以花样跳绳为主的体育兴趣活动", "syllabus": "", "sessions_per_term": "16",
            "minutes_per_session": "60", "class_min": "10", "class_max": "30", "price": "4.99", "venue_needs": "",
            "safety_measures": "课前热身，专人看护，配备急救包", "required_qualification": "coach",
            "staff_ids": [str(whitelisted["person"].id)]}
    response = browser.post(f"/provider/projects/{pid}", data=form, follow_redirects=True)
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "flash-warning" in page and "已保存为待审变更" in page and "变更申报" in page
    pending = page.partition('id="pending-changes"')[2].partition("</div>")[0]
    assert "3.00" in pending and "4.99" in pending and "美育" in pending and "初中" in pending
    assert 'href="/provider/application"' in pending
    assert 'value="4.99"' in page  # the form shows what waits, so saving it again keeps it
    assert _public_project(client)[0] == PUBLISHED_PROJECT
    assert "有待审变更" in browser.get("/provider/projects").get_data(as_text=True)
    assert "有待审变更，请选入变更申报" in browser.get("/provider/application").get_data(as_text=True)


def test_the_profile_form_holds_the_name(app, db, client, whitelisted):
    browser = client_as(app, whitelisted["admin"])
    provider = whitelisted["provider"]
    form = {"name": "南昌换名教育科技有限公司", "org_type": "enterprise", "legal_representative": "张三",
            "contact_name": "李四", "contact_phone": "13512345678", "address": "南昌市红谷滩区某路1号",
            "service_county_ids": [str(a.county_id) for a in provider.service_areas], "description": ""}
    response = browser.post("/provider/profile", data=form, follow_redirects=True)
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "已保存为待审变更" in page
    assert "南昌换名教育科技有限公司" in page.partition('id="pending-changes"')[2].partition("</div>")[0]
    assert _public_project(client)[1] == provider.name != "南昌换名教育科技有限公司"
    assert 'id="pending-provider"' in browser.get("/provider/application").get_data(as_text=True)


def test_a_draft_project_is_patched_in_place(client, bearer, complete_dossier):
    d = complete_dossier
    response = client.patch(f"/api/v1/projects/{d['project'].id}", json=PROPOSAL, headers=bearer(d["admin"]))
    assert response.status_code == 200
    body = response.get_json()
    assert (body["price"], body["stages"], body["category"]) == ("4.99", ["junior"], "arts")
    assert body["pending_changes"] is None and body["pending_message"] is None


def test_the_reviewer_sees_the_change_and_publication_applies_it(app, db, client, bearer, whitelisted):
    pid, admin = whitelisted["project"].id, whitelisted["admin"]
    assert client.patch(f"/api/v1/projects/{pid}", json=PROPOSAL, headers=bearer(admin)).status_code == 202
    at(whitelisted["entry"].valid_from + timedelta(days=1))
    response = client.post("/api/v1/applications", json={"kind": "change", "project_ids": [pid]},
                           headers=bearer(admin))
    assert response.status_code == 201, response.get_json()
    app_id = response.get_json()["id"]
    response = client.post(f"/api/v1/applications/{app_id}/submit", json={}, headers=bearer(admin))
    assert response.status_code == 200, response.get_json()
    county = whitelisted["reviewers"]["county"]
    page = client_as(app, county).get(f"/review/applications/{app_id}").get_data(as_text=True)
    box = page.partition(f'id="changes-project-{pid}"')[2].partition("</div>")[0]
    assert "变更申请" in box and "3.00 元/人·课时" in box and "4.99 元/人·课时" in box and "美育（艺术）" in box
    application = applications.get_application(app_id)
    assert application.kind == ApplicationKind.change
    reviews.pass_to_city(application, actor=county)
    city = whitelisted["reviewers"]["city"]
    batch = batches.create_batch(actor=city)
    batches.add_to_batch(batch, application, actor=city)
    batches.start_publicity(batch, actor=city)
    # The publicity (公示) shows what will be published; the whitelist still shows what is published.
    publicised = client.get(f"/api/v1/publicity/{batch.id}").get_json()["providers"][0]["projects"][0]
    assert (publicised["price"], publicised["stages"], publicised["category"]) == ("4.99", ["junior"], "arts")
    html = client.get(f"/publicity/{batch.id}").get_data(as_text=True)
    assert "4.99" in html and "美育" in html
    assert _public_project(client)[0] == PUBLISHED_PROJECT
    at(batch.publicity_end + timedelta(days=1))
    assert _public_project(client)[0] == PUBLISHED_PROJECT
    batches.publish(batch, actor=city)
    assert _public_project(client)[0] == {"title": "花样跳绳", "category": "arts", "stages": ["junior"],
                                          "price": "4.99"}
