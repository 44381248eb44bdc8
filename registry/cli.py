"""`flask --app wsgi registry ...` commands. Each calls the same services as the web and commits once."""
import sys

import click
from flask import current_app
from flask.cli import AppGroup, with_appcontext

from registry.core.db import long_running
from registry.core.errors import DomainError
from registry.extensions import db


@with_appcontext
def _before_every_command():
    """Commands may run statements longer than a web request's statement timeout allows (the sweep,
    imports, re-encryption): theirs is REGISTRY_DB_CLI_STATEMENT_TIMEOUT_MS."""
    long_running(current_app)


registry_cli = AppGroup("registry", help="课后服务白名单管理命令", callback=_before_every_command)


def _fail(exc):
    db.session.rollback()
    detail = ""
    if getattr(exc, "errors", None):
        detail = "; ".join(f"{k}: {'、'.join(v)}" for k, v in exc.errors.items())
    raise click.ClickException(f"{exc.message}{(' — ' + detail) if detail and detail not in exc.message else ''}")


@registry_cli.command("import-regions")
@click.argument("csv_file", type=click.Path(exists=True, dir_okay=False))
def import_regions(csv_file):
    """Load administrative divisions from CSV (code,name,level,parent_code)."""
    from registry.regions.services import import_regions as run

    with open(csv_file, encoding="utf-8-sig") as handle:
        text = handle.read()
    try:
        created, updated = run(text)
    except DomainError as exc:
        _fail(exc)
    db.session.commit()
    click.echo(f"regions: {created} created, {updated} updated")


@registry_cli.command("create-user")
@click.option("--username", required=True)
@click.option("--name", "display_name", required=True)
@click.option("--role", required=True, type=click.Choice([
    "city_reviewer", "county_reviewer", "inspector", "school_admin", "provider_admin", "sys_admin", "auditor"]))
@click.option("--region", "region_code", help="Region code for reviewer and inspector roles")
@click.option("--email")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
def create_user(username, display_name, role, region_code, email, password):
    """Create an account (the first sys_admin is made this way)."""
    from registry.auth import services
    from registry.regions.services import get_by_code

    region_id = None
    if region_code:
        region = get_by_code(region_code)
        if region is None:
            raise click.ClickException(f"region {region_code} not found")
        region_id = region.id
    try:
        user = services.create_user(username=username, display_name=display_name, role=role, password=password,
                                    region_id=region_id, email=email, must_change_password=False)
    except DomainError as exc:
        _fail(exc)
    db.session.commit()
    click.echo(f"created user {user.username} ({role})")


@registry_cli.command("create-token")
@click.option("--username", required=True)
@click.option("--name", required=True)
@click.option("--days", default=90, show_default=True, type=int)
def create_token(username, name, days):
    """Create a personal access token and print it once."""
    from sqlalchemy import select

    from registry.auth import services
    from registry.auth.models import User

    user = db.session.scalar(select(User).where(User.username == username))
    if user is None:
        raise click.ClickException(f"user {username} not found")
    try:
        _row, plaintext = services.create_token(user, name=name, days=days)
    except DomainError as exc:
        _fail(exc)
    db.session.commit()
    click.echo(plaintext)


@registry_cli.command("audit-verify")
@click.option("--against", "against", metavar="FILE_OR_URL",
              help="Published daily chain heads (the JSON of /api/v1/whitelist/changes/audit-heads, saved to a file or "
                   "fetched from an http(s) URL): the chain must reach each published hash at its sequence number.")
def audit_verify(against):
    """Check the audit hash chain; name the first row that was changed or removed.

    Without --against this proves only that the rows agree with each other: someone who can write the database
    can rewrite a row and recompute every later hash and the head. With --against, a history rewritten before
    any published head fails at the first such head."""
    from registry.audit.anchors import HeadsFormatError, load_heads
    from registry.audit.services import verify_chain

    published = None
    if against:
        try:
            published = load_heads(against)
        except (OSError, HeadsFormatError) as exc:
            raise click.ClickException(f"cannot read the published heads from {against}: {exc}") from exc
    result = verify_chain(published=published)
    if result.ok:
        anchored = f"; {result.anchored} published heads match" if published is not None else \
            " (not anchored: use --against to compare with published heads)"
        click.echo(f"audit chain OK: {result.checked} rows verified{anchored}")
        return
    head = result.published_head
    named = f" [published head of {head.date}: seq {head.seq}, hash {head.hash}]" if head is not None else ""
    click.echo(f"audit chain BROKEN at row {result.first_bad_seq}: {result.problem}{named} "
               f"({result.checked} rows verified before it)", err=True)
    sys.exit(1)


@registry_cli.command("seed-demo")
def seed_demo():
    """Load regions and demo accounts; running it again changes nothing."""
    from registry.demo import seed

    logins = seed()
    db.session.commit()
    click.echo("demo data loaded")
    click.echo(format_logins(logins))


def format_logins(logins):
    base = current_app.config["BASE_URL"].rstrip("/")
    lines = ["", f"Demo logins ({base}/login):", f"  {'username':<16} {'password':<16} role"]
    for username, password, label in logins:
        lines.append(f"  {username:<16} {password:<16} {label}")
    return "\n".join(lines)


@registry_cli.command("rotate-keys")
def rotate_keys():
    """Re-encrypt every ID number under the first key of REGISTRY_DATA_KEYS (all listed keys still decrypt)."""
    from registry.core import crypto
    from registry.people.services import rotate_keys as run

    try:
        rotated = run()
    except crypto.DecryptionError as exc:
        db.session.rollback()
        raise click.ClickException(f"a stored ID number could not be decrypted with the configured keys ({exc}); "
                                   "nothing was changed. Keep every old key in REGISTRY_DATA_KEYS "
                                   "until rotation is done") from exc
    db.session.commit()
    click.echo(f"re-encrypted {rotated} rows under key {crypto.current_key_id()}")
    from registry.passes.services import rotate_tokens  # issue 14: passes
    resigned = rotate_tokens()
    db.session.commit()
    if resigned:
        click.echo(f"re-signed {resigned} entry passes under key {crypto.signing_key_id()}")


@registry_cli.command("send-mail")
@click.option("--limit", default=200, show_default=True)
def send_mail(limit):
    """Send queued emails from the outbox."""
    from registry.notifications.services import send_outbox

    sent, failed = send_outbox(limit=limit)
    db.session.commit()
    click.echo(f"mail: {sent} sent, {failed} failed")


@registry_cli.command("cache-clear")
def cache_clear():
    """Make every cached page a miss: after writes that bypassed the app (a restored backup, SQL by hand)."""
    from registry.core import cache

    click.echo("cache cleared" if cache.forget_all() else "no cache configured (REGISTRY_CACHE_URL is empty)")


@registry_cli.command("sweep")
@click.option("--as-of", "as_of", type=click.DateTime(formats=["%Y-%m-%d"]), help="Run for this date (default today)")
def sweep_command(as_of):
    """Record and notify what the request-time rules already say (idempotent, safe to run twice at once)."""
    from registry.adjustments import sweep
    from registry.files.services import remove_stale_parts

    day = as_of.date() if as_of else None
    summary = sweep.run(day)
    # issue 18: supervision (schools left unvisited last month)
    from registry.supervision import sweep as supervision_sweep
    summary["unvisited_schools"] = supervision_sweep.run(day)
    db.session.commit()
    from registry.complaints import sweep as complaints_sweep  # issue 17: complaint deadlines
    summary.update(complaints_sweep.run(day))
    # issue 16: quality — the standings of terms that have ended (idempotent), in the same transaction
    from registry.core import clock
    from registry.quality import sweep as quality_sweep
    summary.update({f"quality_{k}": v for k, v in quality_sweep.run(day or clock.today()).items()})
    db.session.commit()
    from registry.passes import sweep as passes_sweep  # issue 14: passes
    summary.update(passes_sweep.run(day))
    db.session.commit()
    removed = remove_stale_parts()  # files of uploads whose request died before it could remove them
    labels = {
        "validity_ended": "entries expired", "document_expired": "entries suspended (document expired)",
        "adverse_check": "adverse checks banned", "staff_not_cleared": "entries suspended (no cleared staff)",
        "orders_flagged": "orders flagged (staff not cleared)", "lifted": "suspensions lifted",
        "orders_activated": "orders activated", "orders_completed": "orders completed",
        "expiry_warnings": "expiry warnings sent",
        "unvisited_schools": "schools not visited last month (issue 18)",
        "quality_standings": "term standings recorded", "quality_warnings": "low-satisfaction warnings",
        "quality_delisted": "entries delisted (low satisfaction)",
    }
    from registry.core import clock
    from registry.schedules import sweep as schedules_sweep  # issue 15: schools late with their schedule
    summary["schedules_late"] = schedules_sweep.run(day or clock.today())
    labels["schedules_late"] = "schedule filing reminders sent (late schools, once)"
    db.session.commit()
    for key, value in summary.items():
        click.echo(f"{labels.get(key, key)}: {value}")
    click.echo(f"stale partial uploads removed: {removed}")
