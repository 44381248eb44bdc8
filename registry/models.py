"""Import every model so metadata is complete (Alembic, create_all)."""
from registry.adjustments.models import ProviderAction  # noqa: F401
from registry.adjustments.models_sweep import SweepRun  # noqa: F401
from registry.applications.models import Application, ApplicationComment, ApplicationProject, ApplicationSnapshot  # noqa: F401
from registry.audit.models import AuditAnchor, AuditHead, AuditLog  # noqa: F401
from registry.auth.models import ApiToken, User, UserSession  # noqa: F401
from registry.batches.models import BatchItem, Objection, ReleaseBatch  # noqa: F401
from registry.calendar.models import CalendarDay, CalendarYear  # noqa: F401
from registry.complaints.models import Appeal, Complaint  # noqa: F401  # issue 17: complaints
from registry.core.lifecycle import StatusChange  # noqa: F401
from registry.files.models import StoredFile  # noqa: F401
from registry.notifications.models import Notification, OutboxMessage  # noqa: F401
from registry.orders.models import Order, OrderStaff  # noqa: F401
from registry.passes.models import EntryPass, GateScan, PassPhoto  # noqa: F401  (issue 14: passes)
from registry.people.models import Consent, Person, PersonBan, PersonCheck, Qualification  # noqa: F401
from registry.policy.models import CityPolicy  # noqa: F401
from registry.projects.models import Project, ProjectStaff  # noqa: F401
from registry.providers.models import Provider, ProviderDocument, ProviderServiceArea  # noqa: F401

# issue 16: quality
from registry.quality.models import (  # noqa: F401  # noqa: F401
    ProjectStanding,
    SchoolEvaluation,
    StandingRun,
    SurveyAlert,
    SurveyCode,
    SurveyResponse,
)
from registry.regions.models import Region  # noqa: F401

# issue 15: schedules
from registry.schedules.models import FeeNotice, NonTeachingDay, Schedule, ScheduleRow  # noqa: F401, E402
from registry.schools.models import School, SchoolProject, Term  # noqa: F401
from registry.supervision.models import Assignment, MissedVisit, Task, TaskEvidence, Visit, VisitItem, VisitPhoto  # noqa: F401,E501 (issue 18)
from registry.whitelist.models import Certificate, ChangeFeedItem, EntryCounty, WhitelistEntry  # noqa: F401
