"""Issue 19 (wording, demo data): the pages of a seeded demo run, as every demo login sees them, carry
full-width punctuation in Chinese text and no English labels; the demo data looks real.

The demo seed (`registry.demo.seed`, what `make run` loads) runs inside the test's rolled-back
transaction; a crawler logs in as each demo account and follows every same-site link (GET only,
no downloads, no API) from the home page, up to a bound per account.
"""
import re
from datetime import datetime
from html.parser import HTMLParser
from urllib.parse import urldefrag, urlsplit

import pytest

from registry import demo
from registry.auth.models import User
from registry.core import clock
from tests.fixtures.accounts import login

CJK = "\u3400-\u4dbf\u4e00-\u9fff\u3000-\u303f\uff00-\uffef\u2018-\u201d"
# An ASCII colon or comma with a CJK character right before or after it.
ASCII_PUNCT = re.compile(rf"[{CJK}][:,]|[:,][{CJK}]")
# English words a clerk would read as UI text (code identifiers inside <code> are skipped).
ENGLISH_UI = re.compile(r"chinese-calendar|\bAPI 文档|数据\s*\(|\bTODO\b")
SKIP = re.compile(r"/logout|/api/|\.pdf$|\.csv$|\.xlsx$|/export|/files/|/download|/static/|/verify/|/healthz"
                  r"|/openapi|/reveal|/mfa")
PER_ACCOUNT = 60


class _Text(HTMLParser):
    """The text a reader sees: no script, style, code or pre; attribute values are not text."""

    HIDDEN = {"script", "style", "code", "pre", "textarea"}

    def __init__(self):
        super().__init__()
        self.chunks, self.links, self._hidden = [], [], 0

    def handle_starttag(self, tag, attrs):
        if tag in self.HIDDEN:
            self._hidden += 1
        if tag == "a":
            href = dict(attrs).get("href")
            if href:
                self.links.append(href)

    def handle_endtag(self, tag):
        if tag in self.HIDDEN and self._hidden:
            self._hidden -= 1

    def handle_data(self, data):
        if not self._hidden:
            self.chunks.append(data)


def _parse(html):
    parser = _Text()
    parser.feed(html)
    return " ".join(parser.chunks), parser.links


def _crawl(client, start="/"):
    seen, queue, pages = set(), [start, "/dashboard"], {}
    while queue and len(pages) < PER_ACCOUNT:
        url = urldefrag(queue.pop(0))[0]
        parts = urlsplit(url)
        if parts.netloc and parts.netloc != "localhost":
            continue
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        if not path.startswith("/") or path in seen or SKIP.search(parts.path):
            continue
        seen.add(path)
        response = client.get(path)
        if response.status_code != 200 or "text/html" not in response.content_type:
            continue
        text, links = _parse(response.get_data(as_text=True))
        pages[path] = text
        queue.extend(links)
    return pages


@pytest.fixture
def seeded(db, app):
    logins = demo.seed()
    db.session.flush()
    return logins


def test_demo_pages_have_full_width_punctuation_and_no_english(app, seeded):
    problems = []
    accounts = [None] + [username for username, _password, _label in seeded]
    for username in accounts:
        client = app.test_client()
        if username is not None:
            assert login(client, username, demo.DEMO_PASSWORD).status_code == 302, username
        for path, text in _crawl(client).items():
            for match in ASCII_PUNCT.finditer(text):
                around = text[max(0, match.start() - 15):match.end() + 15].replace("\n", " ")
                problems.append(f"{username or 'public'} {path}: …{around}…")
            for match in ENGLISH_UI.finditer(text):
                problems.append(f"{username or 'public'} {path}: English {match.group(0)!r}")
    by_snippet = {}
    for problem in problems:
        where, _, what = problem.partition(": ")
        by_snippet.setdefault(what, where)
    unique = sorted(f"{where}: {what}" for what, where in by_snippet.items())
    assert not unique, "\n".join(unique[:150])


def test_demo_data_looks_real(db, seeded):
    from sqlalchemy import select

    from registry.audit.models import AuditLog
    from registry.people.models import Person
    from registry.people.models import PersonCheck as Check
    from registry.providers.models import Provider

    for provider in db.session.scalars(select(Provider)):
        assert re.fullmatch(r"[0-9-]+", provider.contact_phone), provider.contact_phone
    for person in db.session.scalars(select(Person)):
        assert re.fullmatch(r"1[0-9]{10}", person.phone), person.phone
    for check in db.session.scalars(select(Check)):
        if check.check_type.value == "moral":
            assert "医院" not in check.authority, check.authority
    for user in db.session.scalars(select(User).where(User.provider_id.is_not(None))):
        provider = db.session.get(Provider, user.provider_id)
        assert user.display_name.startswith(provider.name), user.display_name
    now = clock.utcnow()
    latest = db.session.scalar(select(AuditLog.created_at).order_by(AuditLog.created_at.desc()).limit(1))
    assert latest is None or latest <= now, (latest, now)
    assert isinstance(now, datetime)
