"""statements_per_page: the SQL statements each list page sends, shown with 20 rows and with 100 rows.

Every list page of the registry (HTML and JSON) is in LIST_PAGES. A page that is paginated is asked
for `per_page=20` and `per_page=100` as a user whose list holds at least 100 rows. A page that shows
everything its owner has (a provider's people, documents, inbox …) is asked by two owners: the one
whose row count is nearest 20 and the one nearest 100 (the dataset decides how near; the figure
line says the counts it got). Each measured request follows one warm-up request of the same page,
so both sizes see the same caches.

One line per page: `statements_per_page_<page>_<db>: <statements at 20>/<statements at 100>
(rows <r20>/<r100>)`, then `statements_per_page_<db>: <pages with equal counts>/<pages measured>`.
tests/integration/test_statements_per_page.py runs the same table on a small generated dataset and
asserts every pair is equal.

Lists whose length has a fixed bound are left out: the batches under publicity (at most a few per
city), a school's terms and own projects, a user's tokens, a provider's colleagues and projects.
"""
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy import event, text

SMALL, LARGE = 20, 100
TOKEN_NAME = "statements_per_page"


@dataclass(frozen=True)
class ListPage:
    name: str
    path: str                 # {per_page} is filled for paginated pages
    role: str | None          # None: public, no login
    owners_sql: str | None    # SELECT user_id, rows ... : who can see how many rows (None: public)
    paginated: bool = True

    @property
    def api(self):
        return self.path.startswith("/api/")


def _per_user(join, where="1=1", role="provider_admin", key="provider_id", table_key=None, extra=""):
    """Users of `role` and the rows of `join` they see through their provider/school/region."""
    table_key = table_key or key
    return (f'SELECT u.id, count(*) FROM "user" u JOIN {join} t ON t.{table_key} = u.{key} '
            f"WHERE u.role = '{role}' AND u.disabled_at IS NULL AND {where} {extra}GROUP BY u.id")


PROVIDER_PEOPLE = _per_user("person", "t.archived_at IS NULL")
PROVIDER_DOCUMENTS = _per_user("provider_document", "t.superseded_at IS NULL")
PROVIDER_ORDERS = _per_user("service_order")
SCHOOL_ORDERS = _per_user("service_order", role="school_admin", key="school_id")
SCHOOL_CATALOG = ("SELECT u.id, count(*) FROM \"user\" u JOIN school s ON s.id = u.school_id "
                  "JOIN entry_county ec ON ec.county_id = s.county_id JOIN whitelist_entry t ON t.id = ec.entry_id "
                  "WHERE u.role = 'school_admin' AND u.disabled_at IS NULL AND t.status = 'active' GROUP BY u.id")
INBOX = ("SELECT u.id, count(*) FROM \"user\" u JOIN notification t ON t.user_id = u.id "
         "WHERE u.role = 'provider_admin' AND u.disabled_at IS NULL GROUP BY u.id")
CITY_PROVIDERS = _per_user("provider", role="city_reviewer", key="region_id", table_key="city_id")
COUNTY_SCHOOLS = _per_user("school", role="county_reviewer", key="region_id", table_key="county_id")
CITY_QUEUE = _per_user("application", "t.status IN ('submitted', 'city_review')", role="city_reviewer",
                      key="region_id", table_key="city_id")
CITY_APPLICATIONS = _per_user("application", role="city_reviewer", key="region_id", table_key="city_id")
AUDITOR = "SELECT u.id, (SELECT count(*) FROM audit_log) FROM \"user\" u WHERE u.role = 'auditor'"
SYS_ADMIN = "SELECT u.id, (SELECT count(*) FROM \"user\") FROM \"user\" u WHERE u.role = 'sys_admin'"

LIST_PAGES = (
    ListPage("whitelist", "/whitelist?per_page={per_page}", None, None),
    ListPage("api_whitelist", "/api/v1/whitelist?per_page={per_page}", None, None),
    ListPage("whitelist_changes", "/whitelist/changes?per_page={per_page}", None, None),
    ListPage("api_whitelist_changes", "/api/v1/whitelist/changes?per_page={per_page}", None, None),
    ListPage("provider_people", "/provider/people", "provider_admin", PROVIDER_PEOPLE, paginated=False),
    ListPage("api_people", "/api/v1/people", "provider_admin", PROVIDER_PEOPLE, paginated=False),
    ListPage("provider_documents", "/provider/documents", "provider_admin", PROVIDER_DOCUMENTS, paginated=False),
    ListPage("api_documents", "/api/v1/providers/me/documents", "provider_admin", PROVIDER_DOCUMENTS,
             paginated=False),
    ListPage("provider_orders", "/provider/orders?per_page={per_page}", "provider_admin", PROVIDER_ORDERS),
    ListPage("api_provider_orders", "/api/v1/provider-orders?per_page={per_page}", "provider_admin",
             PROVIDER_ORDERS),
    ListPage("inbox", "/inbox", "provider_admin", INBOX, paginated=False),
    ListPage("school_orders", "/school/orders?per_page={per_page}", "school_admin", SCHOOL_ORDERS),
    ListPage("api_school_orders", "/api/v1/school/orders?per_page={per_page}", "school_admin", SCHOOL_ORDERS),
    ListPage("school_catalog", "/school/catalog?per_page={per_page}", "school_admin", SCHOOL_CATALOG),
    ListPage("api_school_catalog", "/api/v1/school/catalog?per_page={per_page}", "school_admin", SCHOOL_CATALOG),
    ListPage("review_queue", "/review/applications", "city_reviewer", CITY_QUEUE, paginated=False),
    ListPage("api_review_queue", "/api/v1/reviews/queue", "city_reviewer", CITY_QUEUE, paginated=False),
    ListPage("review_applications", "/review/applications?state=all&per_page={per_page}", "city_reviewer",
             CITY_APPLICATIONS),
    ListPage("review_providers", "/review/providers?per_page={per_page}", "city_reviewer", CITY_PROVIDERS),
    ListPage("api_review_providers", "/api/v1/adjustments/providers?per_page={per_page}", "city_reviewer",
             CITY_PROVIDERS),
    ListPage("schools", "/schools?per_page={per_page}", "county_reviewer", COUNTY_SCHOOLS),
    ListPage("api_schools", "/api/v1/schools?per_page={per_page}", "county_reviewer", COUNTY_SCHOOLS),
    ListPage("audit", "/audit/?per_page={per_page}", "auditor", AUDITOR),
    ListPage("admin_users", "/admin/users?per_page={per_page}", "sys_admin", SYS_ADMIN),
)


@contextmanager
def counting(*engines):
    seen = []

    def before(conn, cursor, statement, parameters, context, executemany):
        seen.append(statement)

    for engine in engines:
        event.listen(engine, "before_cursor_execute", before)
    try:
        yield seen
    finally:
        for engine in engines:
            event.remove(engine, "before_cursor_execute", before)


class Visitor:
    """Test clients logged in as given users: a server-side session (HTML) and a personal access
    token (API), made directly through the auth services and removed by cleanup()."""

    def __init__(self, app):
        self.app = app
        self.cookies, self.tokens, self.users = {}, {}, []

    def _login(self, user_id):
        """Session and token rows made directly (the services would also write audit entries, and a
        benchmark must leave the dataset as it found it)."""
        import secrets

        from registry.auth.models import ApiToken, UserSession
        from registry.auth.services import TOKEN_PREFIX
        from registry.core import crypto
        from registry.extensions import db
        if user_id in self.cookies:
            return
        session_token, plaintext = secrets.token_urlsafe(32), TOKEN_PREFIX + secrets.token_urlsafe(32)
        with self.app.app_context():
            db.session.add(UserSession(user_id=user_id, token_hash=crypto.token_hash(session_token)))
            db.session.add(ApiToken(user_id=user_id, name=TOKEN_NAME, prefix=plaintext[:10],
                                    token_hash=crypto.token_hash(plaintext)))
            db.session.commit()
        self.cookies[user_id], self.tokens[user_id] = session_token, plaintext
        self.users.append(user_id)

    def get(self, page, user_id, url):
        client = self.app.test_client()
        headers = {}
        if user_id is not None:
            self._login(user_id)
            if page.api:
                headers["Authorization"] = f"Bearer {self.tokens[user_id]}"
            else:
                with client.session_transaction() as session:
                    session["_user_id"] = self.cookies[user_id]
                    session["_fresh"] = True
        return client.get(url, headers=headers)

    def cleanup(self):
        from sqlalchemy import delete

        from registry.auth.models import ApiToken, UserSession
        from registry.extensions import db
        if not self.users:
            return
        with self.app.app_context():
            db.session.execute(delete(UserSession).where(UserSession.user_id.in_(self.users)))
            db.session.execute(delete(ApiToken).where(ApiToken.user_id.in_(self.users),
                                                      ApiToken.name == TOKEN_NAME))
            db.session.commit()


def _owners(app, page, small=SMALL, large=LARGE):
    """(user for the small request, rows), (user for the large request, rows)."""
    from registry.extensions import db
    with app.app_context():
        rows = [tuple(r) for r in db.session.execute(text(page.owners_sql))]
        db.session.remove()
    if not rows:
        return None
    if page.paginated:
        user, count = max(rows, key=lambda r: (r[1], -r[0]))
        return (user, min(small, count)), (user, min(large, count))
    nearest = lambda n: min(rows, key=lambda r: (abs(r[1] - n), r[0]))  # noqa: E731
    return nearest(small), nearest(large)


def measure_page(app, visitor, page, small=SMALL, large=LARGE):
    """{"sizes": (rows small, rows large), "statements": (n small, n large)} or None when no user fits."""
    from registry.core.reads import reads_engine
    from registry.extensions import db
    if page.owners_sql is None:
        chosen = ((None, small), (None, large))
    else:
        chosen = _owners(app, page, small, large)
        if chosen is None:
            return None
    with app.app_context():
        engines = [db.engine]
    if reads_engine(app) is not None:   # the autocommit engine of reads_only GETs (PostgreSQL)
        engines.append(reads_engine(app))
    statements, sizes = [], []
    for (user_id, rows), per_page in zip(chosen, (small, large), strict=True):
        url = page.path.format(per_page=per_page)
        visitor.get(page, user_id, url)           # warm-up
        with counting(*engines) as seen:
            response = visitor.get(page, user_id, url)
        if response.status_code != 200:
            raise AssertionError(f"{page.name}: GET {url} answered {response.status_code}")
        if page.api and page.paginated:
            rows = len(response.get_json()["items"])
        statements.append(len(seen))
        sizes.append(rows)
    return {"sizes": tuple(sizes), "statements": tuple(statements)}


def measure_all(app, small=SMALL, large=LARGE):
    visitor = Visitor(app)
    try:
        return {page.name: measure_page(app, visitor, page, small, large) for page in LIST_PAGES}
    finally:
        visitor.cleanup()


def statements_per_page(app, kind, **_):
    from bench.benchmarks import frozen_clock, note
    with frozen_clock():
        results = measure_all(app)
    figures, equal = [], 0
    for name, result in results.items():
        if result is None:
            note(f"statements_per_page[{kind}]: {name} skipped (no user with rows in the dataset)")
            continue
        (s20, s100), (r20, r100) = result["statements"], result["sizes"]
        equal += s20 == s100
        figures.append((f"statements_per_page_{name}_{kind}", f"{s20}/{s100} (rows {r20}/{r100})"))
    measured = sum(r is not None for r in results.values())
    figures.append((f"statements_per_page_{kind}", f"{equal}/{measured} pages equal"))
    return figures
