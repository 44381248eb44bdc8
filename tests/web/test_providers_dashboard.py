"""The provider dashboard: organisation summary, document checklist, expiring items, and panels of other domains."""
from datetime import timedelta

from registry.core import clock
from registry.providers import views
from tests.fixtures.providers import add_documents


def test_dashboard_summarises_the_provider(login_as):
    client, user = login_as("provider_admin")
    page = client.get("/provider").get_data(as_text=True)
    provider = user.provider
    for text in (provider.name, provider.uscc, "企业", "红谷滩区", "缺少营业执照", "还有 3 项必备材料未齐备"):
        assert text in page


def test_dashboard_lists_documents_expiring_soon(login_as, db):
    client, user = login_as("provider_admin")
    add_documents(user.provider, user, insurance_expiry=clock.today() + timedelta(days=5))
    page = client.get("/provider").get_data(as_text=True)
    assert "必备材料已齐备" in page
    assert "7天内到期" in page and (clock.today() + timedelta(days=5)).isoformat() in page


def test_other_domains_can_add_panels(login_as, monkeypatch):
    seen = []

    def panel(provider):
        seen.append(provider.id)
        return {"checklist": []}

    monkeypatch.setattr(views, "DASHBOARD_PANELS", [])
    views.dashboard_panel("providers/_checklist.html")(panel)
    client, user = login_as("provider_admin")
    response = client.get("/provider")
    assert response.status_code == 200
    assert seen == [user.provider_id]
    page = response.get_data(as_text=True)
    # The panel is rendered with its own variables: an empty checklist says everything is there.
    assert page.count('class="table small checklist"') == 2 and "必备材料已齐备" in page


def test_dashboard_shows_projects_people_and_next_steps(complete_dossier, app):
    from tests.fixtures.accounts import login
    client = app.test_client()
    login(client, complete_dossier["admin"].username)
    page = client.get("/provider").get_data(as_text=True)
    assert "下一步" in page and "服务项目" in page and "今日未准入的人员" in page
    assert complete_dossier["project"].title in page
