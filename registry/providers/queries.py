"""Reads of providers for the pages and the API: one provider's own document or 404, and the regions a
provider picks its service counties from. The reads other domains call (get_provider, current_documents,
document_checklist, ...) stay in services.py beside the writes that share their rules."""
from sqlalchemy import select

from registry.audit import services as audit
from registry.core.db import keep_changes_on_error
from registry.core.errors import NotFound
from registry.extensions import db
from registry.providers import services
from registry.regions.models import Region, RegionLevel


def own_document(provider, document_id, path):
    """The provider's own document, or 404. A miss is recorded (an audit row that survives the 404's rollback)
    with the path asked for: trying another provider's document ids is what the record is for."""
    try:
        return services.get_document(provider, document_id)
    except NotFound:
        audit.record("provider_document.denied", object_type="provider_document", object_id=document_id,
                     result="denied", details={"reason": "not_owner_or_missing", "path": path[:200]})
        keep_changes_on_error()
        raise


def county_groups():
    """[(city, [county, ...])] for every city, ordered by code."""
    cities = db.session.scalars(select(Region).where(Region.level == RegionLevel.city).order_by(Region.code)).all()
    return [(city, [c for c in city.children if c.level == RegionLevel.county]) for city in cities]
