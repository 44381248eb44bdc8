"""What was reviewed is what runs: a listed project's or provider's reviewed fields keep their published values
until a 变更 application carrying the new ones is reviewed and published (services, both databases)."""
from datetime import timedelta
from decimal import Decimal

from sqlalchemy import select

from registry.applications import services as applications
from registry.applications.models import ApplicationKind, ApplicationStatus
from registry.audit.models import AuditLog
from registry.batches import services as batches
from registry.projects import services as projects
from registry.providers import services as providers
from registry.reviews import services as reviews
from registry.whitelist import services as whitelist
from tests.fixtures.reviews import at

PROPOSAL = {"price": "4.99", "stages": ["junior"], "category": "arts"}


def _audit(db, action, object_id):
    """The latest audit row of `action` on the object."""
    return db.session.scalar(select(AuditLog).where(AuditLog.action == action, AuditLog.object_id == str(object_id))
                             .order_by(AuditLog.seq.desc()).limit(1))


def _published_values(project):
    return (project.price, [s.value for s in project.stages], project.category.value, project.title)


# ---------------------------------------------------------------- in-place edits of a listed project

def test_reviewed_fields_of_a_listed_project_wait_as_a_pending_change(db, whitelisted):
    project, admin = whitelisted["project"], whitelisted["admin"]
    projects.update_project(project, actor=admin, **PROPOSAL)
    db.session.flush()
    db.session.expire_all()
    assert _published_values(project) == (Decimal("3.00"), ["lower_primary", "upper_primary"], "sports", "花样跳绳")
    assert project.pending_changes == {"price": "4.99", "stages": ["junior"], "category": "arts"}
    row = _audit(db, "project.update", project.id)
    assert row.details["pending"] == {"price": ["3.00", "4.99"], "stages": [["lower_primary", "upper_primary"],
                                                                           ["junior"]],
                                      "category": ["sports", "arts"]}
    assert row.details["changes"] == {}


def test_title_and_qualification_wait_too_and_setting_back_withdraws(db, whitelisted):
    project, admin = whitelisted["project"], whitelisted["admin"]
    projects.update_project(project, actor=admin, title="花样跳绳（提高班）", required_qualification="teacher")
    assert (project.title, project.required_qualification.value) == ("花样跳绳", "coach")
    assert project.pending_changes == {"title": "花样跳绳（提高班）", "required_qualification": "teacher"}
    # A later edit of another field keeps what waits; the published value again withdraws it.
    projects.update_project(project, actor=admin, description="新的项目简介")
    assert project.pending_changes == {"title": "花样跳绳（提高班）", "required_qualification": "teacher"}
    projects.update_project(project, actor=admin, title="花样跳绳")
    assert project.pending_changes == {"required_qualification": "teacher"}
    assert _audit(db, "project.update", project.id).details["pending_withdrawn"] == ["title"]


def test_a_lower_price_applies_at_once_and_drops_a_pending_higher_one(db, whitelisted):
    project, admin = whitelisted["project"], whitelisted["admin"]
    projects.update_project(project, actor=admin, price="4.50")
    assert project.price == Decimal("3.00") and project.pending_changes == {"price": "4.50"}
    projects.update_project(project, actor=admin, price="2.50")
    db.session.flush()
    db.session.expire_all()
    assert project.price == Decimal("2.50") and project.pending_changes is None
    assert _audit(db, "project.update", project.id).details["changes"] == {"price": ["3.00", "2.50"]}


def test_a_non_reviewed_field_changes_in_place_and_the_audit_row_names_old_and_new(db, whitelisted):
    project, admin = whitelisted["project"], whitelisted["admin"]
    projects.update_project(project, actor=admin, description="以花样跳绳为主的体育兴趣活动（修正错字）", class_max=35)
    db.session.flush()
    db.session.expire_all()
    assert project.description == "以花样跳绳为主的体育兴趣活动（修正错字）" and project.class_max == 35
    assert project.pending_changes is None
    details = _audit(db, "project.update", project.id).details
    assert details["changes"] == {"description": ["以花样跳绳为主的体育兴趣活动",
                                                  "以花样跳绳为主的体育兴趣活动（修正错字）"],
                                  "class_max": [30, 35]}
    assert details["fields"] == ["class_max", "description"] and "pending" not in details


def test_a_suspended_entry_still_lists_the_project_a_delisted_one_does_not(db, whitelisted):
    project, admin, entry = whitelisted["project"], whitelisted["admin"], whitelisted["entry"]
    city = whitelisted["reviewers"]["city"]
    whitelist.ENTRY.transition(entry, "suspend", actor=city, reason="整改")
    projects.update_project(project, actor=admin, price="4.00")
    assert project.price == Decimal("3.00") and project.pending_changes == {"price": "4.00"}
    whitelist.ENTRY.transition(entry, "delist", actor=city, reason="移出")
    projects.update_project(project, actor=admin, title="花样跳绳（新）")
    # No longer listed: the edit, and what was pending, change the project in place.
    assert (project.title, project.price, project.pending_changes) == ("花样跳绳（新）", Decimal("4.00"), None)


def test_an_expired_entry_no_longer_lists_the_project(db, whitelisted):
    project, admin = whitelisted["project"], whitelisted["admin"]
    at(whitelisted["entry"].valid_until + timedelta(days=1))
    projects.update_project(project, actor=admin, price="4.00")
    assert project.price == Decimal("4.00") and project.pending_changes is None


def test_an_unlisted_draft_project_is_edited_freely(db, complete_dossier):
    d = complete_dossier
    projects.update_project(d["project"], actor=d["admin"], title="花样跳绳（新）", **PROPOSAL)
    assert _published_values(d["project"]) == (Decimal("4.99"), ["junior"], "arts", "花样跳绳（新）")
    assert d["project"].pending_changes is None


# ---------------------------------------------------------------- the provider's name

def test_a_listed_providers_name_waits_and_its_contact_phone_changes_with_a_masked_audit(db, whitelisted):
    provider, admin = whitelisted["provider"], whitelisted["admin"]
    published = provider.name
    providers.update_profile(provider, actor=admin, name="南昌新名称教育科技有限公司",
                             org_type="private_non_enterprise",
                             contact_phone="13512345678")
    db.session.flush()
    db.session.expire_all()
    assert (provider.name, provider.org_type.value) == (published, "enterprise")
    assert provider.pending_changes == {"name": "南昌新名称教育科技有限公司", "org_type": "private_non_enterprise"}
    assert provider.contact_phone == "13512345678"
    details = _audit(db, "provider.update", provider.id).details
    assert details["pending"]["name"] == [published, "南昌新名称教育科技有限公司"]
    assert details["changes"] == {"contact_phone": ["138****0000", "135****5678"]}
    assert "13512345678" not in str(details)


def test_an_unlisted_provider_renames_freely(db, complete_dossier):
    d = complete_dossier
    providers.update_profile(d["provider"], actor=d["admin"], name="改名后的机构")
    assert d["provider"].name == "改名后的机构" and d["provider"].pending_changes is None


# ---------------------------------------------------------------- the 变更 application

def test_the_change_application_shows_and_on_publication_applies_what_was_reviewed(db, whitelisted):
    project, provider, admin = whitelisted["project"], whitelisted["provider"], whitelisted["admin"]
    old_name = provider.name
    projects.update_project(project, actor=admin, **PROPOSAL)
    providers.update_profile(provider, actor=admin, name="南昌新名称教育科技有限公司")
    at(whitelisted["entry"].valid_from + timedelta(days=1))
    app = applications.create_application(provider, actor=admin, project_ids=[project.id],
                                          kind=ApplicationKind.change)
    applications.submit(app, actor=admin)
    data = app.latest_snapshot.data
    item = data["projects"][0]
    assert (item["price"], item["stages"], item["category"]) == ("4.99", ["junior"], "arts")
    assert item["published"] == {"price": "3.00", "stages": ["lower_primary", "upper_primary"], "category": "sports"}
    assert {"field": "price", "label": "收费标准（元/人·课时）", "before": "3.00 元/人·课时",
            "after": "4.99 元/人·课时"} in item["changes"]
    assert data["organisation"]["name"] == "南昌新名称教育科技有限公司"
    assert data["organisation"]["published"] == {"name": old_name}
    # While it is under review the published values run; a further edit is not what the reviewers saw.
    projects.update_project(project, actor=admin, price="4.80")
    assert project.price == Decimal("3.00") and project.pending_changes["price"] == "4.80"

    reviews.pass_to_city(app, actor=whitelisted["reviewers"]["county"])
    city = whitelisted["reviewers"]["city"]
    batch = batches.create_batch(actor=city)
    batches.add_to_batch(batch, app, actor=city)
    batches.start_publicity(batch, actor=city)
    assert project.price == Decimal("3.00") and provider.name == old_name  # publicity is not publication
    at(batch.publicity_end + timedelta(days=1))
    batches.publish(batch, actor=city)
    db.session.flush()
    db.session.expire_all()
    assert app.status == ApplicationStatus.approved
    assert _published_values(project) == (Decimal("4.99"), ["junior"], "arts", "花样跳绳")
    assert project.pending_changes == {"price": "4.80"}  # edited after submission: waits for the next review
    assert provider.name == "南昌新名称教育科技有限公司" and provider.pending_changes is None
    row = _audit(db, "project.publish_reviewed", project.id)
    assert row.details["changes"]["price"] == ["3.00", "4.99"] and row.details["pending"] == ["price"]
    assert _audit(db, "provider.publish_reviewed", provider.id).details["changes"] == {
        "name": [old_name, "南昌新名称教育科技有限公司"]}


def test_a_price_lowered_after_submitting_the_change_stands(db, whitelisted):
    project, provider, admin = whitelisted["project"], whitelisted["provider"], whitelisted["admin"]
    projects.update_project(project, actor=admin, price="4.50")
    at(whitelisted["entry"].valid_from + timedelta(days=1))
    app = applications.create_application(provider, actor=admin, project_ids=[project.id],
                                          kind=ApplicationKind.change)
    applications.submit(app, actor=admin)
    projects.update_project(project, actor=admin, price="2.00")  # lower than published: at once
    assert project.price == Decimal("2.00")
    reviews.pass_to_city(app, actor=whitelisted["reviewers"]["county"])
    city = whitelisted["reviewers"]["city"]
    batch = batches.create_batch(actor=city)
    batches.add_to_batch(batch, app, actor=city)
    batches.start_publicity(batch, actor=city)
    at(batch.publicity_end + timedelta(days=1))
    batches.publish(batch, actor=city)
    assert project.price == Decimal("2.00") and project.pending_changes is None


def test_an_edit_made_while_an_admission_is_under_review_is_not_published_with_it(db, spring_2026, submitted,
                                                                                   reviewers):
    from tests.fixtures.orders import publish_application
    d = submitted
    projects.update_project(d["project"], actor=d["admin"], price="4.50", title="花样跳绳（改）")
    providers.update_profile(d["provider"], actor=d["admin"], name="审核中改名的机构")
    assert d["project"].price == Decimal("4.50")  # not listed yet: in place
    publish_application(d["application"], reviewers)
    db.session.flush()
    db.session.expire_all()
    # Published: what the reviewers reviewed; the later edits wait as changes for a 变更 application.
    assert (d["project"].price, d["project"].title) == (Decimal("3.00"), "花样跳绳")
    assert d["project"].pending_changes == {"price": "4.50", "title": "花样跳绳（改）"}
    assert d["provider"].name != "审核中改名的机构"
    assert d["provider"].pending_changes == {"name": "审核中改名的机构"}
