"""Who may see what: reviewers act inside their region; providers and schools see their own records."""
from registry.auth.roles import Role


def covers_region(user, region):
    """True when a region-bound user's jurisdiction includes `region` (a county or a city)."""
    if region is None or user.region_id is None:
        return False
    if user.role in (Role.city_reviewer, Role.city_supervisor):  # issue 18: city_supervisor
        return region.id == user.region_id or region.parent_id == user.region_id
    if user.role == Role.province_supervisor:  # issue 18: the whole province
        return _province_of(region) == user.region_id
    if user.role in (Role.county_reviewer, Role.inspector):
        return region.id == user.region_id
    return False


def can_read_provider(user, provider):
    """The provider's own accounts, and reviewers or inspectors whose jurisdiction covers its registered county."""
    if user is None or not user.is_authenticated or provider is None:
        return False
    if user.role == Role.provider_admin:
        return user.provider_id == provider.id
    if user.role in (Role.city_reviewer, Role.county_reviewer, Role.inspector):
        return covers_region(user, provider.county)
    return False


def can_edit_provider(user, provider):
    return user.role == Role.provider_admin and user.provider_id == provider.id


def _province_of(region):
    """issue 18: the province a region lies in."""
    while region.parent is not None:
        region = region.parent
    return region.id
