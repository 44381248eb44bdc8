"""Is a provider, or one of its projects, on the whitelist today? ("what was reviewed is what runs")

A project is *listed* while it has a whitelist entry whose status in force today
(WhitelistEntry.effective_status) is active or suspended; a provider is listed while any of its
projects is. A delisted or expired entry no longer lists anything: its project may be edited freely
again, and a renewal or reinstatement reviews the edited values before they are published.

While listed, the reviewed fields of a project (title, category, stages, price, required
qualification) and of a provider (name, organisation type) hold the PUBLISHED values; an edit of
them is kept as a pending change until a 变更 (or annual/reinstatement) application that carries it
is published (registry.batches.services.publish). A lower price is the exception: it applies at once.

The projects and providers domains sit below the whitelist in the workflow, so the whitelist
registers the answer as the hook registry.core.signals.is_listed at import (registry.whitelist.services)
rather than being imported by them; an unregistered hook raises MissingHook.
"""
from registry.core import signals


def is_listed(provider_id, project_id=None):
    """registry.core.signals.is_listed, registered by registry.whitelist.services (MissingHook otherwise)."""
    return signals.is_listed(provider_id, project_id)
