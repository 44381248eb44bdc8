"""The one authorization table: every endpoint, which roles may use it, and which scope check applies.

A request whose endpoint is missing here is denied (docs/architecture.md "Authorization"). A test walks
app.url_map for every role against this table.
"""
from dataclasses import dataclass

from flask import current_app, g, redirect, request, url_for
from flask_login import current_user

from registry.audit import services as audit
from registry.auth.roles import Role
from registry.core.db import keep_changes_on_error
from registry.core.errors import NotAllowed, Unauthorized
from registry.extensions import db

PUBLIC = "public"
ALL_ROLES = frozenset(Role)


@dataclass(frozen=True)
class Rule:
    roles: frozenset | str
    scope: str | None = None  # name in SCOPES; checked with the URL's view_args

    def allows_role(self, role):
        return self.roles == PUBLIC or role in self.roles


def roles(*names):
    return frozenset(Role(n) for n in names)


ANY = Rule(ALL_ROLES)
OPEN = Rule(PUBLIC)
SYS_ADMIN = Rule(roles("sys_admin"))
AUDITOR = Rule(roles("auditor"))
# issue 18: who reads the supervision dashboards (each from their own region down)
SUPERVISION_READERS = roles("province_supervisor", "city_supervisor", "city_reviewer", "county_reviewer", "inspector")

TABLE: dict[str, Rule] = {
    "static": OPEN,
    # main
    "main.index": OPEN,
    "main.healthz": OPEN,
    "main.dashboard": ANY,
    # login, logout, second factor
    "auth.login": OPEN,
    "auth.login_mfa": OPEN,
    "auth.login_enrol": OPEN,
    "auth.logout": ANY,
    # own account
    "account.index": ANY,
    "account.change_password": ANY,
    "account.totp": ANY,
    "account.tokens": ANY,
    "account.create_token": ANY,
    "account.revoke_token": ANY,
    # user management
    "admin.users": SYS_ADMIN,
    "admin.new_user": SYS_ADMIN,
    "admin.user_detail": SYS_ADMIN,
    "admin.assign_role": SYS_ADMIN,
    "admin.disable_user": SYS_ADMIN,
    "admin.enable_user": SYS_ADMIN,
    "admin.reset_password": SYS_ADMIN,
    "admin.reset_totp": SYS_ADMIN,
    # audit log
    "audit.index": AUDITOR,
    "audit.verify": AUDITOR,
    "audit.export": AUDITOR,  # issue 19: the log as CSV / XLSX
    # JSON API
    "api-docs.openapi_json": OPEN,
    "api_docs.docs": OPEN,
    "api_account.Me": ANY,
    "api_account.Tokens": ANY,
    "api_account.TokenById": ANY,
    "api_regions.Regions": OPEN,
    # ---- notifications: every signed-in user has an inbox
    "notifications.inbox": ANY,
    "notifications.mark_read": ANY,
    "notifications.mark_all_read": ANY,
    # ---- providers: registration, profile, colleagues, documents (owner: providers helper)
    "providers.register": OPEN,
    "providers.dashboard": Rule(roles("provider_admin")),
    "providers.profile": Rule(roles("provider_admin")),
    "providers.colleagues": Rule(roles("provider_admin")),
    "providers.add_colleague": Rule(roles("provider_admin")),
    "providers.documents": Rule(roles("provider_admin")),
    "providers.upload_document": Rule(roles("provider_admin")),
    "providers.document_history": Rule(roles("provider_admin")),
    "providers.replace_document": Rule(roles("provider_admin")),
    "api_providers.Providers": OPEN,
    "api_providers.ProviderMe": Rule(roles("provider_admin")),
    "api_providers.Colleagues": Rule(roles("provider_admin")),
    "api_providers.Documents": Rule(roles("provider_admin")),
    "api_providers.DocumentReplace": Rule(roles("provider_admin")),
    "api_providers.DocumentHistory": Rule(roles("provider_admin")),
    # ---- files: downloads (owner: providers helper)
    "files.download": Rule(roles("provider_admin", "city_reviewer", "county_reviewer", "inspector")),
    # ---- people: staff, checks, qualifications, consent, import (owner: people helper)
    "people.index": Rule(roles("provider_admin")),
    "people.new": Rule(roles("provider_admin")),
    "people.detail": Rule(roles("provider_admin")),
    "people.update": Rule(roles("provider_admin")),
    "people.add_check": Rule(roles("provider_admin")),
    "people.add_qualification": Rule(roles("provider_admin")),
    "people.record_consent": Rule(roles("provider_admin")),
    "people.reveal": Rule(roles("provider_admin")),
    "people.import_template": Rule(roles("provider_admin")),
    "people.import_form": Rule(roles("provider_admin")),
    "people.import_upload": Rule(roles("provider_admin")),
    "api_people.People": Rule(roles("provider_admin")),
    "api_people.PersonById": Rule(roles("provider_admin", "school_admin")),
    "api_people.PersonChecks": Rule(roles("provider_admin", "school_admin")),
    "api_people.PersonChecksMultipart": Rule(roles("provider_admin", "school_admin")),
    "api_people.PersonQualifications": Rule(roles("provider_admin", "school_admin")),
    "api_people.PersonQualificationsMultipart": Rule(roles("provider_admin", "school_admin")),
    "api_people.PersonConsent": Rule(roles("provider_admin", "school_admin")),
    "api_people.PersonReveal": Rule(roles("provider_admin", "school_admin")),
    "api_people.PersonClearance": Rule(roles("provider_admin", "school_admin")),
    # issue 14: people engaged by a school itself (the same per-person pages and endpoints, the school's own)
    "people.school_index": Rule(roles("school_admin")),
    "people.school_new": Rule(roles("school_admin")),
    "people.school_detail": Rule(roles("school_admin")),
    "people.school_update": Rule(roles("school_admin")),
    "people.school_add_check": Rule(roles("school_admin")),
    "people.school_add_qualification": Rule(roles("school_admin")),
    "people.school_record_consent": Rule(roles("school_admin")),
    "people.school_reveal": Rule(roles("school_admin")),
    "api_people.SchoolPeople": Rule(roles("school_admin")),
    "provider_orders.replace_staff": Rule(roles("provider_admin")),
    "api_provider_orders.ProviderOrderReplaceStaff": Rule(roles("provider_admin")),
    # issue 14: passes and the gate
    "passes.provider_index": Rule(roles("provider_admin")),
    "passes.school_index": Rule(roles("school_admin")),
    "passes.issue": Rule(roles("school_admin")),
    "passes.create_gate_keeper": Rule(roles("school_admin")),
    "passes.revoke": Rule(roles("school_admin", "provider_admin")),
    "passes.badge": Rule(roles("school_admin", "provider_admin")),
    "passes.upload_photo": Rule(roles("school_admin", "provider_admin")),
    "passes.photo": Rule(roles("school_admin", "provider_admin", "gate_keeper")),
    "passes.phone": OPEN,
    "passes.verify": OPEN,
    "passes.gate": Rule(roles("school_admin", "gate_keeper")),
    "passes.gate_check": Rule(roles("school_admin", "gate_keeper")),
    "passes.gate_scan": Rule(roles("school_admin", "gate_keeper")),
    "passes.gate_sync": Rule(roles("school_admin", "gate_keeper")),
    "passes.gate_kit": Rule(roles("school_admin", "gate_keeper")),
    "passes.onsite": Rule(roles("school_admin", "gate_keeper")),
    "api_passes.Passes": Rule(roles("school_admin", "provider_admin")),
    "api_passes.PassById": Rule(roles("school_admin", "provider_admin")),
    "api_passes.PassRevoke": Rule(roles("school_admin", "provider_admin")),
    "api_passes.GateScan": Rule(roles("school_admin", "gate_keeper")),
    "api_passes.GateSync": Rule(roles("school_admin", "gate_keeper")),
    "api_passes.GateOnSite": Rule(roles("school_admin", "gate_keeper")),
    "api_passes.GateNoShows": Rule(roles("school_admin", "provider_admin")),
    "api_passes.GateKeys": Rule(roles("school_admin", "gate_keeper")),
    "api_passes.GateDenyList": Rule(roles("school_admin", "gate_keeper")),
    # ---- projects (owner: projects/applications helper)
    "projects.index": Rule(roles("provider_admin")),
    "projects.new": Rule(roles("provider_admin")),
    "projects.edit": Rule(roles("provider_admin")),
    "api_projects.Projects": Rule(roles("provider_admin")),
    "api_projects.ProjectById": Rule(roles("provider_admin")),
    # ---- applications and reviewer read views (owner: projects/applications helper)
    "applications.index": Rule(roles("provider_admin")),
    "applications.create": Rule(roles("provider_admin")),
    "applications.set_projects": Rule(roles("provider_admin")),
    "applications.submit": Rule(roles("provider_admin")),
    "applications.withdraw": Rule(roles("provider_admin")),
    "applications.detail": Rule(roles("provider_admin")),
    "applications.review_list": Rule(roles("city_reviewer", "county_reviewer")),
    "applications.review_detail": Rule(roles("city_reviewer", "county_reviewer")),
    "api_applications.Applications": Rule(roles("provider_admin")),
    "api_applications.ApplicationById": Rule(roles("provider_admin")),
    "api_applications.ApplicationChecklist": Rule(roles("provider_admin")),
    "api_applications.ApplicationProjects": Rule(roles("provider_admin")),
    "api_applications.ApplicationSubmit": Rule(roles("provider_admin")),
    "api_applications.ApplicationWithdraw": Rule(roles("provider_admin")),
    # ---- batches and publicity (owner: batches helper)
    "batches.index": Rule(roles("city_reviewer")),
    "batches.create": Rule(roles("city_reviewer")),
    "batches.detail": Rule(roles("city_reviewer")),
    "batches.add_item": Rule(roles("city_reviewer")),
    "batches.remove_item": Rule(roles("city_reviewer")),
    "batches.start_publicity": Rule(roles("city_reviewer")),
    "batches.publish": Rule(roles("city_reviewer")),
    "batches.resolve_objection": Rule(roles("city_reviewer")),
    "batches.publicity_index": OPEN,
    "batches.publicity_detail": OPEN,
    "batches.file_objection": OPEN,
    "batches.calendar": Rule(roles("sys_admin")),
    "batches.calendar_set_day": Rule(roles("sys_admin")),
    "batches.calendar_delete_day": Rule(roles("sys_admin")),
    "batches.calendar_mark_year": Rule(roles("sys_admin")),
    "api_batches.Batches": Rule(roles("city_reviewer")),
    "api_batches.BatchById": Rule(roles("city_reviewer")),
    "api_batches.BatchItems": Rule(roles("city_reviewer")),
    "api_batches.BatchItemById": Rule(roles("city_reviewer")),
    "api_batches.BatchPublicity": Rule(roles("city_reviewer")),
    "api_batches.BatchPublish": Rule(roles("city_reviewer")),
    "api_batches.BatchObjections": Rule(roles("city_reviewer")),
    "api_objections.ObjectionResolve": Rule(roles("city_reviewer")),
    "api_publicity.Publicity": OPEN,
    "api_publicity.PublicityById": OPEN,
    "api_publicity.PublicityObjections": OPEN,
    # ---- provider orders and adjustments (owner: adjustments helper)
    "provider_orders.index": Rule(roles("provider_admin")),
    "provider_orders.detail": Rule(roles("provider_admin")),
    "provider_orders.accept": Rule(roles("provider_admin")),
    "provider_orders.decline": Rule(roles("provider_admin")),
    "api_provider_orders.ProviderOrders": Rule(roles("provider_admin")),
    "api_provider_orders.ProviderOrderById": Rule(roles("provider_admin")),
    "api_provider_orders.ProviderOrderCandidates": Rule(roles("provider_admin")),
    "api_provider_orders.ProviderOrderAccept": Rule(roles("provider_admin")),
    "api_provider_orders.ProviderOrderDecline": Rule(roles("provider_admin")),
    "adjustments.index": Rule(roles("city_reviewer")),
    "adjustments.provider": Rule(roles("city_reviewer")),
    "adjustments.warn": Rule(roles("city_reviewer")),
    "adjustments.suspend": Rule(roles("city_reviewer")),
    "adjustments.delist": Rule(roles("city_reviewer")),
    "adjustments.ban": Rule(roles("city_reviewer")),
    "adjustments.reinstate": Rule(roles("city_reviewer")),
    "adjustments.mine": Rule(roles("provider_admin")),
    "api_adjustments.Providers": Rule(roles("city_reviewer")),
    "api_adjustments.ProviderById": Rule(roles("city_reviewer")),
    "api_adjustments.ProviderWarning": Rule(roles("city_reviewer")),
    "api_adjustments.ProviderSuspension": Rule(roles("city_reviewer")),
    "api_adjustments.ProviderDelisting": Rule(roles("city_reviewer")),
    "api_adjustments.ProviderBan": Rule(roles("city_reviewer")),
    "api_adjustments.ProviderReinstatement": Rule(roles("city_reviewer")),
    "api_adjustments.MyActions": Rule(roles("provider_admin")),
    # ---- schools and school orders (owner: schools helper)
    "schools.index": Rule(roles("sys_admin", "county_reviewer")),
    "schools.new": Rule(roles("sys_admin", "county_reviewer")),
    "schools.detail": Rule(roles("sys_admin", "county_reviewer")),
    "schools.edit": Rule(roles("sys_admin", "county_reviewer")),
    "schools.create_admin": Rule(roles("sys_admin", "county_reviewer")),
    "schools.import_form": Rule(roles("sys_admin", "county_reviewer")),
    "schools.import_upload": Rule(roles("sys_admin", "county_reviewer")),
    "schools.import_template": Rule(roles("sys_admin", "county_reviewer")),
    "schools.import_template_csv": Rule(roles("sys_admin", "county_reviewer")),
    "schools.terms": SYS_ADMIN,
    "schools.create_term": SYS_ADMIN,
    "schools.edit_term": SYS_ADMIN,
    "schools.own_projects": Rule(roles("school_admin")),
    "schools.add_own_project": Rule(roles("school_admin")),
    "schools.remove_own_project": Rule(roles("school_admin")),
    "school_orders.catalog": Rule(roles("school_admin")),
    "school_orders.project": Rule(roles("school_admin")),
    "school_orders.new": Rule(roles("school_admin")),
    "school_orders.create": Rule(roles("school_admin")),
    "school_orders.index": Rule(roles("school_admin")),
    "school_orders.detail": Rule(roles("school_admin")),
    "school_orders.cancel": Rule(roles("school_admin")),
    "school_orders.confirmation": Rule(roles("school_admin", "provider_admin")),
    "api_schools.Schools": Rule(roles("sys_admin", "county_reviewer")),
    "api_schools.SchoolById": Rule(roles("sys_admin", "county_reviewer")),
    "api_schools.SchoolAdmins": Rule(roles("sys_admin", "county_reviewer")),
    "api_schools.SchoolImport": Rule(roles("sys_admin", "county_reviewer")),
    "api_schools.Terms": SYS_ADMIN,
    "api_schools.TermById": SYS_ADMIN,
    "api_school_orders.Catalog": Rule(roles("school_admin")),
    "api_school_orders.CatalogEntry": Rule(roles("school_admin")),
    "api_school_orders.Orders": Rule(roles("school_admin")),
    "api_school_orders.OrderById": Rule(roles("school_admin")),
    "api_school_orders.OrderCancel": Rule(roles("school_admin")),
    "api_school_orders.SchoolTerms": Rule(roles("school_admin")),
    "api_school_orders.OwnProjects": Rule(roles("school_admin")),
    "api_school_orders.OwnProjectById": Rule(roles("school_admin")),
    "api_school_orders.Share": Rule(roles("school_admin")),
    # ---- review decisions (owner: reviews helper)
    "reviews.pass_to_city": Rule(roles("city_reviewer", "county_reviewer")),
    "reviews.approve_in_principle": Rule(roles("city_reviewer", "county_reviewer")),
    "reviews.return_for_revision": Rule(roles("city_reviewer", "county_reviewer")),
    "reviews.reject": Rule(roles("city_reviewer", "county_reviewer")),
    "reviews.verify_document": Rule(roles("city_reviewer", "county_reviewer")),
    "reviews.verify_check": Rule(roles("city_reviewer", "county_reviewer")),
    "api_reviews.ReviewQueue": Rule(roles("city_reviewer", "county_reviewer")),
    "api_reviews.ReviewById": Rule(roles("city_reviewer", "county_reviewer")),
    "api_reviews.ReviewPass": Rule(roles("city_reviewer", "county_reviewer")),
    "api_reviews.ReviewApprove": Rule(roles("city_reviewer", "county_reviewer")),
    "api_reviews.ReviewReturn": Rule(roles("city_reviewer", "county_reviewer")),
    "api_reviews.ReviewReject": Rule(roles("city_reviewer", "county_reviewer")),
    "api_reviews.DocumentVerify": Rule(roles("city_reviewer", "county_reviewer")),
    "api_reviews.CheckVerify": Rule(roles("city_reviewer", "county_reviewer")),
    "api_applications.ApplicationKinds": Rule(roles("provider_admin")),
    # ---- issue 17: complaints and appeals (owner: complaints helper)
    "complaints.public_form": OPEN,
    "complaints.file_public": OPEN,
    "complaints.track": OPEN,
    "complaints.rate_public": OPEN,
    "complaints.stats": OPEN,
    "complaints.account_form": Rule(roles("school_admin", "inspector")),
    "complaints.file_account": Rule(roles("school_admin", "inspector")),
    "complaints.queue": Rule(roles("county_reviewer", "city_reviewer")),
    "complaints.detail": Rule(roles("county_reviewer", "city_reviewer")),
    "complaints.acknowledge": Rule(roles("county_reviewer", "city_reviewer")),
    "complaints.extend": Rule(roles("county_reviewer", "city_reviewer")),
    "complaints.request_response": Rule(roles("county_reviewer", "city_reviewer")),
    "complaints.decide": Rule(roles("county_reviewer", "city_reviewer")),
    "complaints.sanction": Rule(roles("city_reviewer")),
    "complaints.evidence": Rule(roles("county_reviewer", "city_reviewer")),
    "complaints.provider_complaints": Rule(roles("provider_admin")),
    "complaints.provider_respond": Rule(roles("provider_admin")),
    "complaints.file_appeal": Rule(roles("provider_admin")),
    "complaints.school_complaints": Rule(roles("school_admin")),
    "complaints.school_respond": Rule(roles("school_admin")),
    "complaints.appeals": Rule(roles("city_reviewer")),
    "complaints.appeal_detail": Rule(roles("city_reviewer")),
    "complaints.decide_appeal": Rule(roles("city_reviewer")),
    "api_complaints.PublicComplaints": OPEN,
    "api_complaints.Tracking": OPEN,
    "api_complaints.TrackingEvidence": OPEN,
    "api_complaints.TrackingRating": OPEN,
    "api_complaints.Stats": OPEN,
    "api_complaints.Filed": Rule(roles("school_admin", "inspector")),
    "api_complaints.FiledRating": Rule(roles("school_admin", "inspector")),
    "api_complaints.FiledEvidence": Rule(roles("school_admin", "inspector")),
    "api_complaints.ProviderAppealEvidence": Rule(roles("provider_admin")),
    "api_complaints.Queue": Rule(roles("county_reviewer", "city_reviewer")),
    "api_complaints.ComplaintById": Rule(roles("county_reviewer", "city_reviewer")),
    "api_complaints.ComplaintAcknowledge": Rule(roles("county_reviewer", "city_reviewer")),
    "api_complaints.ComplaintExtend": Rule(roles("county_reviewer", "city_reviewer")),
    "api_complaints.ComplaintResponseRequest": Rule(roles("county_reviewer", "city_reviewer")),
    "api_complaints.ComplaintDecision": Rule(roles("county_reviewer", "city_reviewer")),
    "api_complaints.ComplaintSanction": Rule(roles("city_reviewer")),
    "api_complaints.ProviderComplaints": Rule(roles("provider_admin")),
    "api_complaints.ProviderComplaintResponse": Rule(roles("provider_admin")),
    "api_complaints.SchoolComplaints": Rule(roles("school_admin")),
    "api_complaints.SchoolComplaintResponse": Rule(roles("school_admin")),
    "api_complaints.ProviderAppeals": Rule(roles("provider_admin")),
    "api_complaints.ProviderAppealable": Rule(roles("provider_admin")),
    "api_complaints.Appeals": Rule(roles("city_reviewer")),
    "api_complaints.AppealById": Rule(roles("city_reviewer")),
    "api_complaints.AppealDecision": Rule(roles("city_reviewer")),
    # ---- public whitelist (owner: whitelist helper)
    "whitelist.index": OPEN,
    "whitelist.export_csv": OPEN,
    "whitelist.export_xlsx": OPEN,
    "whitelist.export_json": OPEN,
    "whitelist.provider": OPEN,
    "whitelist.changes": OPEN,
    "whitelist.announcement": OPEN,
    "whitelist.certificate": OPEN,
    "whitelist.verify": OPEN,
    "api_whitelist.Whitelist": OPEN,
    "api_whitelist.WhitelistProvider": OPEN,
    "api_whitelist.WhitelistChanges": OPEN,
    "api_whitelist.WhitelistAuditHeads": OPEN,
    "api_whitelist.WhitelistVerify": OPEN,
    # ---- issue 18: supervision (inspectors' visits, rectification, dashboards, monthly reports)
    "supervision.index": Rule(SUPERVISION_READERS),
    "supervision.dashboard": Rule(SUPERVISION_READERS),
    "supervision.export_dashboard": Rule(SUPERVISION_READERS),
    "supervision.report_pdf": Rule(SUPERVISION_READERS),
    "supervision.report_xlsx": Rule(SUPERVISION_READERS),
    "supervision.school": Rule(SUPERVISION_READERS),
    "supervision.assignments": Rule(roles("county_reviewer")),
    "supervision.assign": Rule(roles("county_reviewer")),
    "supervision.end_assignment": Rule(roles("county_reviewer")),
    "supervision.visits": Rule(SUPERVISION_READERS),
    "supervision.new_visit": Rule(roles("inspector")),
    "supervision.record_visit": Rule(roles("inspector")),
    "supervision.visit": Rule(SUPERVISION_READERS),
    "supervision.open_task": Rule(roles("inspector")),
    "supervision.refer_complaint": Rule(roles("inspector")),
    "supervision.add_photos": Rule(roles("inspector")),
    "supervision.file": Rule(SUPERVISION_READERS | roles("school_admin", "provider_admin")),
    "supervision.tasks": Rule(SUPERVISION_READERS | roles("school_admin", "provider_admin")),
    "supervision.task": Rule(SUPERVISION_READERS | roles("school_admin", "provider_admin")),
    "supervision.respond": Rule(roles("school_admin", "provider_admin")),
    "supervision.close_task": Rule(roles("inspector")),
    "supervision.reopen_task": Rule(roles("inspector")),
    "api_supervision.Assignments": Rule(roles("county_reviewer")),
    "api_supervision.AssignmentEnd": Rule(roles("county_reviewer")),
    "api_supervision.MySchools": Rule(roles("inspector")),
    "api_supervision.Visits": Rule(SUPERVISION_READERS),
    "api_supervision.VisitById": Rule(SUPERVISION_READERS),
    "api_supervision.VisitPhotos": Rule(roles("inspector")),
    "api_supervision.VisitTasks": Rule(roles("inspector")),
    "api_supervision.VisitComplaint": Rule(roles("inspector")),
    "api_supervision.Tasks": Rule(SUPERVISION_READERS | roles("school_admin", "provider_admin")),
    "api_supervision.TaskById": Rule(SUPERVISION_READERS | roles("school_admin", "provider_admin")),
    "api_supervision.TaskRespond": Rule(roles("school_admin", "provider_admin")),
    "api_supervision.TaskClose": Rule(roles("inspector")),
    "api_supervision.TaskReopen": Rule(roles("inspector")),
    "api_supervision.Indicators": Rule(SUPERVISION_READERS),
    "api_supervision.DashboardHome": Rule(SUPERVISION_READERS),
    "api_supervision.DashboardRegion": Rule(SUPERVISION_READERS),
    "api_supervision.DashboardSchool": Rule(SUPERVISION_READERS),
    "api_supervision.MonthlyReport": Rule(SUPERVISION_READERS),
    # ---- issue 16: quality (school evaluation, parent survey, standings)
    "school_quality.index": Rule(roles("school_admin")),
    "school_quality.order": Rule(roles("school_admin")),
    "school_quality.evaluate": Rule(roles("school_admin")),
    "school_quality.survey_sheet": Rule(roles("school_admin")),
    "survey.start": OPEN,
    "survey.survey": OPEN,
    "quality_standings.index": Rule(roles("city_reviewer", "county_reviewer", "inspector")),
    "quality_standings.export_xlsx": Rule(roles("city_reviewer", "county_reviewer", "inspector")),
    "api_school_quality.QualityOrders": Rule(roles("school_admin")),
    "api_school_quality.QualityOrder": Rule(roles("school_admin")),
    "api_school_quality.Evaluation": Rule(roles("school_admin")),
    "api_school_quality.SurveyCodes": Rule(roles("school_admin")),
    "api_survey.Survey": OPEN,
    "api_quality_standings.Standings": Rule(roles("city_reviewer", "county_reviewer", "inspector")),
    "api_provider_quality.ProviderQuality": Rule(roles("provider_admin")),
    # issue 19 (everyday-b): list exports, confirmation pages, the city's public-notice settings
    "reviews.queue_export": Rule(roles("city_reviewer", "county_reviewer")),
    "school_orders.export": Rule(roles("school_admin")),
    "provider_orders.export": Rule(roles("provider_admin")),
    "whitelist.changes_export": OPEN,
    "admin.cities": SYS_ADMIN,
    "admin.city_notice": SYS_ADMIN,
    "batches.publicity_notice": OPEN,
    # ---- issue 15: schedules (安排表, 备案, 晒课表, 收费公示)
    "schedules.editor": Rule(roles("school_admin")),
    "schedules.add_row": Rule(roles("school_admin")),
    "schedules.delete_row": Rule(roles("school_admin")),
    "schedules.check": Rule(roles("school_admin")),
    "schedules.submit": Rule(roles("school_admin")),
    "schedules.revise": Rule(roles("school_admin")),
    "schedules.revision": Rule(roles("school_admin")),
    "schedules.add_day": Rule(roles("school_admin")),
    "schedules.remove_day": Rule(roles("school_admin")),
    "schedules.save_fee": Rule(roles("school_admin")),
    "schedules.template": Rule(roles("school_admin")),
    "schedules.import_upload": Rule(roles("school_admin")),
    "schedules.export": Rule(roles("school_admin")),
    "schedules.filings": Rule(roles("county_reviewer", "city_reviewer")),
    "schedules.review": Rule(roles("county_reviewer")),
    "schedules.accept": Rule(roles("county_reviewer")),
    "schedules.return_schedule": Rule(roles("county_reviewer")),
    "schedules.public": OPEN,
    "schedules.public_pdf": OPEN,
    "api_schedules.SchoolSchedule": Rule(roles("school_admin")),
    "api_schedules.SchoolScheduleValidate": Rule(roles("school_admin")),
    "api_schedules.SchoolScheduleSubmit": Rule(roles("school_admin")),
    "api_schedules.SchoolScheduleRevise": Rule(roles("school_admin")),
    "api_schedules.SchoolScheduleRevisions": Rule(roles("school_admin")),
    "api_schedules.NonTeachingDays": Rule(roles("school_admin")),
    "api_schedules.NonTeachingDayById": Rule(roles("school_admin")),
    "api_schedules.FeeNotice": Rule(roles("school_admin")),
    "api_schedules.FeeNoticePublish": Rule(roles("school_admin")),
    "api_schedules.Filings": Rule(roles("county_reviewer", "city_reviewer")),
    "api_schedules.Coverage": Rule(roles("county_reviewer", "city_reviewer")),
    "api_schedules.ReviewSchedule": Rule(roles("county_reviewer")),
    "api_schedules.ReviewAccept": Rule(roles("county_reviewer")),
    "api_schedules.ReviewReturn": Rule(roles("county_reviewer")),
    "api_schedules.PublicSchedule": OPEN,
}

# Endpoints a user who must change their password may still reach.
PASSWORD_CHANGE_ALLOWED = {"static", "auth.logout", "account.change_password", "account.index"}

SCOPES = {}


def scope(name):
    """Register a scope check: f(user, view_args) -> bool."""
    def register(func):
        SCOPES[name] = func
        return func
    return register


def is_api_request():
    return request.path.startswith("/api/")


PASSWORD_CHANGE_REQUIRED_MESSAGE = "该账户须先在网页上修改初始密码或被重置的密码，修改前其访问令牌不能使用"


def _deny(reason, error=None):
    db.session.rollback()
    audit.record("authz.denied", result="denied", object_type="endpoint", object_id=request.endpoint,
                 details={"reason": reason, "method": request.method, "path": request.path[:200]})
    keep_changes_on_error()
    raise error or NotAllowed("您没有权限访问此页面或执行此操作")


def enforce():
    """before_request: apply the table to the current request."""
    endpoint = request.endpoint
    if endpoint is None:  # no route matched: Flask answers 404/405 itself
        return None
    rule = TABLE.get(endpoint)
    if rule is None:
        current_app.logger.error("endpoint %s is not in the authorization table", endpoint)
        return _deny("not_in_table")
    if rule.roles == PUBLIC:
        return None
    if not current_user.is_authenticated:
        if is_api_request():
            raise Unauthorized("需要有效的访问令牌（Authorization: Bearer）", code="unauthenticated")
        return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
    if current_user.must_change_password and endpoint not in PASSWORD_CHANGE_ALLOWED:
        if is_api_request():
            # A token of an account holding a temporary (reset or initial) password acts for nobody until
            # its owner has chosen a password of their own on the web page.
            return _deny("password_change_required", NotAllowed(
                PASSWORD_CHANGE_REQUIRED_MESSAGE, field="password", code="password_change_required"))
        return redirect(url_for("account.change_password"))
    if not rule.allows_role(current_user.role):
        return _deny("role")
    if rule.scope is not None:
        check = SCOPES.get(rule.scope)
        if check is None or not check(current_user, request.view_args or {}):
            return _deny(f"scope:{rule.scope}")
    g.authz_rule = rule
    return None
