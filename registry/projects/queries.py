"""Reads of service projects for the pages and the API: one provider's own project or 404. The list of a
provider's projects (list_projects) stays in services.py, where applications and reviews read it."""
from dataclasses import dataclass

from registry.core import signals
from registry.core.errors import NotFound
from registry.extensions import db
from registry.people import queries as people_queries
from registry.projects import services
from registry.projects.models import Project


def own_project(provider_id, project_id):
    """The provider's own, unarchived project; 404 otherwise (never reveal that it exists)."""
    project = db.session.get(Project, project_id)
    if project is None or project.provider_id != provider_id or project.archived_at is not None:
        raise NotFound("项目不存在")
    return project


@dataclass
class ProjectRow:
    project: object
    state: object                       # applications.queries.ProjectState
    staff: int
    cleared: int


def project_rows(provider, book=None):
    book = book or people_queries.ClearanceBook(provider)
    state_of = signals.project_states(provider.id)
    rows = []
    for project in services.list_projects(provider.id):
        staff = [link.person for link in project.staff]
        cleared = sum(1 for person in staff if book.of(person, project.required_qualification).cleared)
        rows.append(ProjectRow(project, state_of(project.id), len(staff), cleared))
    return rows
