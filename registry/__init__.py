"""The after-school provider whitelist registry (课后服务第三方机构白名单)."""
import logging

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from registry.config import PROJECT_ROOT, load_config


def create_app(config=None):
    app = Flask(
        __name__,
        template_folder=str(PROJECT_ROOT / "templates"),
        static_folder=str(PROJECT_ROOT / "static"),
        instance_path=str(PROJECT_ROOT / "instance"),
    )
    app.config.update(load_config())
    if config:
        app.config.update(config)
    configure_logging(app)
    configure_extensions(app)
    configure_blueprints(app)
    configure_hooks(app)
    configure_cli(app)
    if app.config["PROXY_COUNT"]:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=app.config["PROXY_COUNT"], x_proto=app.config["PROXY_COUNT"])
    return app


def configure_logging(app):
    if not app.logger.handlers:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")


def configure_extensions(app):
    from registry import models  # noqa: F401  (every table registered before Alembic looks)
    from registry.core import cache as core_cache
    from registry.core import db as core_db
    from registry.extensions import api, csrf, db, limiter, login_manager, migrate
    from registry.files import services as files_services

    core_db.configure_engine_options(app)
    db.init_app(app)
    core_db.init_app(app)
    core_cache.init_app(app)
    files_services.init_app(app)
    migrate.init_app(app, db, directory=str(PROJECT_ROOT / "migrations"), render_as_batch=True, compare_type=True)
    csrf.init_app(app)
    app.config.setdefault("RATELIMIT_ENABLED", True)
    limiter.init_app(app)
    login_manager.init_app(app)
    api.init_app(app)

    from registry.auth import login as auth_login
    auth_login.init_app(app)


def configure_blueprints(app):
    from registry.admin.views import bp as admin_bp
    from registry.applications import api as applications_api
    from registry.applications import views as applications_views
    from registry.audit.views import bp as audit_bp
    from registry.auth.api import blp as account_api
    from registry.auth.views import account_bp, auth_bp
    from registry.batches import api as batches_api
    from registry.batches import views as batches_views
    from registry.calendar import views as calendar_views
    from registry.core.apidocs import bp as apidocs_bp
    from registry.extensions import api, csrf
    from registry.files import views as files_views
    from registry.main.views import bp as main_bp
    from registry.notifications import views as notifications_views
    from registry.people import api as people_api
    from registry.people import views as people_views
    from registry.projects import api as projects_api
    from registry.projects import views as projects_views
    from registry.providers import api as providers_api
    from registry.providers import views as providers_views
    from registry.regions.api import blp as regions_api
    from registry.whitelist import api as whitelist_api
    from registry.whitelist import views as whitelist_views

    html = (main_bp, auth_bp, account_bp, admin_bp, audit_bp, apidocs_bp, providers_views.bp, files_views.bp,
            people_views.bp, projects_views.bp, applications_views.bp, notifications_views.bp)
    html += (batches_views.bp,)
    from registry.adjustments import views as adjustments_views
    from registry.orders.views import provider as provider_orders_views
    html += (provider_orders_views.bp, adjustments_views.bp)
    html += (whitelist_views.bp,)
    from registry.orders.views import school as school_orders_views
    from registry.schools import views as schools_views
    html += (schools_views.bp, school_orders_views.bp)
    from registry.reviews import views as reviews_views
    html += (reviews_views.bp,)
    from registry.supervision import views as supervision_views  # issue 18: supervision
    html += (supervision_views.bp,)
    from registry.complaints import views as complaints_views  # issue 17: complaints and appeals
    html += (complaints_views.bp,)
    # issue 16: quality
    from registry.quality.views import provider as provider_quality_views  # noqa: F401  (the dashboard panel)
    from registry.quality.views import reviewer as quality_reviewer_views
    from registry.quality.views import school as school_quality_views
    from registry.quality.views import survey as survey_views
    html += (school_quality_views.bp, survey_views.bp, quality_reviewer_views.bp)
    from registry.schedules import views as schedules_views  # issue 15: schedules
    html += (schedules_views.bp,)
    from registry.passes import views as passes_views  # issue 14: passes
    html += (passes_views.bp,)
    for bp in html:
        app.register_blueprint(bp)
    calendar_views.init_app(app)
    reviews_views.init_app(app)
    json_blueprints = (account_api, regions_api, providers_api.blp, people_api.blp, projects_api.blp,
                       applications_api.blp)
    json_blueprints += (batches_api.blp, batches_api.objections_blp, batches_api.publicity_blp)
    from registry.adjustments import api as adjustments_api
    from registry.orders.api import provider as provider_orders_api
    json_blueprints += (provider_orders_api.blp, adjustments_api.blp)
    json_blueprints += (whitelist_api.blp,)
    from registry.orders.api import school as school_orders_api
    from registry.schools import api as schools_api
    json_blueprints += (schools_api.blp, school_orders_api.blp)
    from registry.reviews import api as reviews_api
    json_blueprints += (reviews_api.blp,)
    from registry.supervision import api as supervision_api  # issue 18: supervision
    json_blueprints += (supervision_api.blp,)
    from registry.complaints import api as complaints_api  # issue 17: complaints and appeals
    json_blueprints += (complaints_api.blp,)
    # issue 16: quality
    from registry.quality.api import provider as provider_quality_api
    from registry.quality.api import reviewer as quality_reviewer_api
    from registry.quality.api import school as school_quality_api
    from registry.quality.api import survey as survey_api
    json_blueprints += (school_quality_api.blp, survey_api.blp, quality_reviewer_api.blp, provider_quality_api.blp)
    from registry.schedules import api as schedules_api  # issue 15: schedules
    json_blueprints += (schedules_api.blp,)
    from registry.passes import api as passes_api  # issue 14: passes
    json_blueprints += (passes_api.blp,)
    for blp in json_blueprints:
        api.register_blueprint(blp, url_prefix=f"/api/v1{blp.url_prefix or ''}")
        # The API authenticates with bearer tokens only (never the cookie), so CSRF cannot apply.
        csrf.exempt(blp)


def configure_hooks(app):
    from registry.auth.permissions import enforce
    from registry.core import cache, http

    http.init_app(app)  # after api.init_app so our handlers replace flask-smorest's
    app.before_request(enforce)
    cache.install_front(app)  # the cached public endpoints, answered in front of every hook

    # Jinja globals rather than a context processor: macros imported without context
    # (the pager in _macros/pagination.html) must see them too.
    from registry.templating import template_globals
    app.jinja_env.globals.update(template_globals())


def configure_cli(app):
    from registry.cli import registry_cli
    app.cli.add_command(registry_cli)
