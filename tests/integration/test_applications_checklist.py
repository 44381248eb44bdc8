"""The completeness checklist names every kind of missing item; the snapshot is frozen; the dashboard summary."""
import copy
from datetime import timedelta
from decimal import Decimal

import pytest

from registry.applications import queries
from registry.applications import services as applications
from registry.applications.models import ApplicationStatus
from registry.core import clock
from registry.core.errors import ValidationFailed
from registry.people import services as people
from registry.policy.models import CityPolicy
from registry.projects import services as projects
from registry.providers import services as providers
from tests.fixtures.providers import add_cleared_person, add_documents, add_project, pdf_bytes


def _draft(d, project=None):
    return applications.create_application(d["provider"], actor=d["admin"],
                                           project_ids=[(project or d["project"]).id])


def _messages(app):
    return [(m.area, m.key, m.message) for m in applications.checklist(app)]


def test_complete_dossier_has_an_empty_checklist(db, complete_dossier):
    assert applications.checklist(_draft(complete_dossier)) == []


def test_no_insurance_is_listed(db, provider_admin):
    provider = provider_admin.provider
    for doc_type in (provider.registration_doc_type.value, "safety_plan"):  # everything but the insurance
        providers.upload_document(provider, actor=provider_admin, doc_type=doc_type, number="N1", issuer="某机关",
                                  issue_date=clock.today() - timedelta(days=10), filename="a.pdf", data=pdf_bytes())
    person = add_cleared_person(provider, provider_admin)
    project = add_project(provider, provider_admin, staff=[person])
    app = applications.create_application(provider, actor=provider_admin, project_ids=[project.id])
    assert ("documents", "doc:liability_insurance", "缺少公众责任保险") in _messages(app)


def test_expired_insurance_is_listed(db, provider_admin):
    provider = provider_admin.provider
    expired = clock.today() - timedelta(days=1)
    add_documents(provider, provider_admin, insurance_expiry=expired)
    person = add_cleared_person(provider, provider_admin)
    project = add_project(provider, provider_admin, staff=[person])
    app = applications.create_application(provider, actor=provider_admin, project_ids=[project.id])
    assert ("documents", "doc:liability_insurance",
            f"公众责任保险（编号 NO-liability_insurance）已于{expired.isoformat()}过期，请上传新版本") in _messages(app)


def test_person_without_consent_is_listed(db, complete_dossier):
    d = complete_dossier
    other = add_cleared_person(d["provider"], d["admin"], n=2, consent=False, name="赵老师")
    projects.update_project(d["project"], actor=d["admin"], staff_ids=[d["person"].id, other.id])
    app = _draft(d)
    assert ("people", f"person:{other.id}", "赵老师：缺少本人签署的查询授权同意书") in _messages(app)
    assert all(key != f"person:{d['person'].id}" for _area, key, _msg in _messages(app))


def test_person_not_cleared_is_listed_with_the_reason(db, complete_dossier):
    d = complete_dossier
    stale = add_cleared_person(d["provider"], d["admin"], n=3, check_age_days=400, name="钱老师")
    projects.update_project(d["project"], actor=d["admin"], staff_ids=[stale.id])
    messages = [m for _a, key, m in _messages(_draft(d)) if key == f"person:{stale.id}"]
    assert any(m.startswith("钱老师（项目“花样跳绳”）：违法犯罪记录查询已超过 365 天") for m in messages)
    assert any("性侵违法犯罪信息查询已超过 365 天" in m for m in messages)


def test_person_without_the_projects_qualification_is_listed(db, complete_dossier):
    d = complete_dossier
    projects.update_project(d["project"], actor=d["admin"], required_qualification="heritage")
    messages = [m for _a, key, m in _messages(_draft(d)) if key == f"person:{d['person'].id}"]
    assert messages == ["王老师1（项目“花样跳绳”）：无有效的非遗传承人证书"]


def test_project_without_staff_is_listed(db, complete_dossier):
    d = complete_dossier
    bare = add_project(d["provider"], d["admin"], title="趣味折纸", category="traditional_culture")
    app = _draft(d, bare)
    assert ("projects", f"project:{bare.id}", "项目“趣味折纸”尚未指派授课人员") in _messages(app)


def test_price_above_the_cap_is_listed_when_the_city_lowers_it(db, complete_dossier):
    d = complete_dossier
    projects.update_project(d["project"], actor=d["admin"], price="5.00")
    db.session.add(CityPolicy(city_id=d["provider"].city_id, price_cap=Decimal("4.00")))
    db.session.flush()
    assert ("projects", f"project:{d['project'].id}", "项目“花样跳绳”收费 5.00 元超过上限 4.00 元") \
        in _messages(_draft(d))


def test_submit_is_refused_until_complete_and_names_each_item(db, complete_dossier):
    d = complete_dossier
    other = add_cleared_person(d["provider"], d["admin"], n=4, consent=False, check_age_days=400, name="孙老师")
    projects.update_project(d["project"], actor=d["admin"], staff_ids=[other.id])
    app = _draft(d)
    with pytest.raises(ValidationFailed) as refused:
        applications.submit(app, actor=d["admin"])
    messages = refused.value.errors[f"person:{other.id}"]
    assert "孙老师：缺少本人签署的查询授权同意书" in messages
    assert len(messages) >= 3  # consent and each stale check: none of them is lost
    assert app.status == ApplicationStatus.draft and app.snapshots == []
    people.record_consent(other, actor=d["admin"], consent_date=clock.today(), upload=("同意书.pdf", pdf_bytes()))
    for check_type in ("criminal", "sexual_offence", "health"):
        people.add_check(other, actor=d["admin"], check_type=check_type, result="clear",
                         check_date=clock.today(), authority="南昌市公安局")
    db.session.expire_all()
    app = applications.get_application(app.id)
    assert applications.checklist(app) == []
    applications.submit(app, actor=d["admin"])
    assert app.status == ApplicationStatus.county_review


def test_snapshot_is_unchanged_by_later_edits_to_project_person_and_document(db, complete_dossier):
    d = complete_dossier
    app = _draft(d)
    applications.submit(app, actor=d["admin"])
    frozen = copy.deepcopy(app.latest_snapshot.data)
    projects.update_project(d["project"], actor=d["admin"], title="花样跳绳进阶", price="4.50", class_max=40,
                            staff_ids=[])
    people.update_person(d["person"], actor=d["admin"], name="王老师（改名）", phone="13911112222")
    people.add_check(d["person"], actor=d["admin"], check_type="health", result="adverse",
                     check_date=clock.today(), authority="南昌市第一医院")
    insurance = next(doc for doc in d["documents"] if doc.doc_type.value == "liability_insurance")
    providers.upload_document(d["provider"], actor=d["admin"], doc_type="liability_insurance", number="NEW-1",
                              issuer="新保险公司", issue_date=clock.today(),
                              expiry_date=clock.today() + timedelta(days=365), filename="新保单.pdf",
                              data=pdf_bytes("new"), replaces_id=insurance.id)
    providers.update_profile(d["provider"], actor=d["admin"], name="改名后的机构")
    db.session.flush()
    db.session.expire_all()
    data = applications.get_application(app.id).latest_snapshot.data
    assert data == frozen
    assert data["projects"][0]["title"] == "花样跳绳" and data["people"][0]["name"] == "王老师1"
    assert [doc["number"] for doc in data["documents"] if doc["doc_type"] == "liability_insurance"] == \
        ["NO-liability_insurance"]


def test_review_query_filters_by_jurisdiction_in_sql(db, complete_dossier, create_user):
    d = complete_dossier
    app = _draft(d)
    applications.submit(app, actor=d["admin"])
    own_county = create_user("county_reviewer")  # 360113, the provider's county
    other_county = create_user("county_reviewer", region_code="360111")
    city = create_user("city_reviewer")  # 360100
    other_city = create_user("city_reviewer", region_code="360700")

    def ids(user):
        return [a.id for a in db.session.scalars(queries.review_query(user, "all"))]
    assert ids(own_county) == [app.id] and ids(city) == [app.id]
    assert ids(other_county) == [] and ids(other_city) == []
    sql = str(queries.review_query(other_county).compile())
    assert "application.county_id" in sql


def test_waiting_days_counts_from_submission(db, complete_dossier):
    d = complete_dossier
    app = _draft(d)
    assert queries.waiting_days(app) is None  # never submitted
    applications.submit(app, actor=d["admin"])
    assert queries.waiting_days(app, today=clock.today() + timedelta(days=4)) == 4
    applications.withdraw(app, actor=d["admin"])
    assert queries.waiting_days(app) is None


def test_dashboard_summary(app, db, complete_dossier):
    d = complete_dossier
    stale = add_cleared_person(d["provider"], d["admin"], n=5, check_age_days=400, consent=False, name="周老师")
    bare = add_project(d["provider"], d["admin"], title="创意剪纸", category="traditional_culture", staff=[stale])
    with app.test_request_context():
        summary = queries.dashboard_summary(d["provider"])
        states = {row.project.title: (row.state.label, row.staff, row.cleared) for row in summary.projects}
        assert states == {"花样跳绳": ("草稿", 1, 1), "创意剪纸": ("草稿", 1, 0)}
        (problem,) = summary.not_cleared
        assert problem.person.id == stale.id
        assert "缺少本人签署的查询授权同意书" in problem.reasons
        assert any("违法犯罪记录查询已超过 365 天" in r for r in problem.reasons)
        assert [s.message for s in summary.next_steps] == ["选择服务项目，发起准入申报"]

        draft = applications.create_application(d["provider"], actor=d["admin"], project_ids=[bare.id, d["project"].id])
        summary = queries.dashboard_summary(d["provider"])
        messages = [s.message for s in summary.next_steps]
        assert "周老师：缺少本人签署的查询授权同意书" in messages
        assert [g.label for g in summary.checklist] == ["人员"]
        assert summary.application.id == draft.id

        applications.set_projects(draft, actor=d["admin"], project_ids=[d["project"].id])
        applications.submit(draft, actor=d["admin"])
        summary = queries.dashboard_summary(d["provider"])
        states = {row.project.title: row.state.label for row in summary.projects}
        assert states == {"花样跳绳": "申报中", "创意剪纸": "草稿"}
        assert summary.next_steps[0].message.startswith("申报正在办理中（当前状态：县级初审中）")


def test_dashboard_partial_renders_the_summary(app, db, complete_dossier):
    from flask import render_template
    d = complete_dossier
    add_cleared_person(d["provider"], d["admin"], n=6, consent=False, name="吴老师")
    with app.test_request_context():
        html = render_template("applications/_dashboard_summary.html",
                               summary=queries.dashboard_summary(d["provider"]))
    assert "选择服务项目，发起准入申报" in html and 'href="/provider/application#choose"' in html
    assert f'href="/provider/projects/{d["project"].id}"' in html and "花样跳绳" in html
    assert "吴老师" in html and "缺少本人签署的查询授权同意书" in html

