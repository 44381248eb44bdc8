"""The provider's dashboard panel: its projects' standings per term and the latest comments, anonymised (no
school, no order, no date finer than the term; digit runs masked)."""
from registry.providers.views import dashboard_panel
from registry.quality import queries


@dashboard_panel("quality/_provider_panel.html", position=30)
def _provider_dashboard_panel(provider):
    return {"quality": queries.provider_quality(provider.id)}
