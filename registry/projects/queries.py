"""Reads of service projects for the pages and the API: one provider's own project or 404. The list of a
provider's projects (list_projects) stays in services.py, where applications and reviews read it."""
from registry.core.errors import NotFound
from registry.extensions import db
from registry.projects.models import Project


def own_project(provider_id, project_id):
    """The provider's own, unarchived project; 404 otherwise (never reveal that it exists)."""
    project = db.session.get(Project, project_id)
    if project is None or project.provider_id != provider_id or project.archived_at is not None:
        raise NotFound("项目不存在")
    return project
