"""A cache shared by every instance for reads that many requests repeat and few writes change: the public
whitelist JSON (answered in front of the app, FrontCache), the school catalog page of a county and school
type, and the eligibility of each entry on a day (registry.orders.catalog, registry.whitelist.eligibility).

A cached value is stored with the generation of its `name` it was built under. The generation is a
random token in the cache, replaced AFTER THE COMMIT of every transaction that wrote a row of a table
watched under `name`: the session events below see flushed instances and ORM bulk INSERT/UPDATE/DELETE
statements alike (the lifecycle transitions, the nightly sweep's transition_many, publication, profile
and project edits). A value whose generation is not the current one is a miss. A reader fetches the
generation and the value in one round trip before it touches the database, so a value built from data
read before a commit is stored under the generation that the commit replaced, and never served again.
Generations never expire; one that Redis loses is replaced by a new random one, so no old value matches.

A name can also be SCOPED (watch_scoped): each value is stored under a scope (the eligibility of an entry:
its provider) and a generation of that scope besides the name's own. A commit that wrote rows of a scoped
table asks the table's resolver which scopes those rows belong to, and only those scopes get new
generations; a row the resolver cannot place, and an ORM bulk statement (its rows are not known), replace
the name's own generation, which every value of the name carries: all of them miss.

The day (registry.core.clock.today()) is part of every key: what is in force changes at midnight with
no write at all (an entry expires when valid_until passes, a suspension lifts on its lift date).

REGISTRY_CACHE_URL = redis://… (production default redis://127.0.0.1:6379/1), shared by every
instance. Empty: no cache; every read goes to the database (development and tests). A per-process
cache would never see the commits of other processes: the nightly sweep runs in its own.

If Redis does not answer, reads go to the database and a warning is logged. A value can be stale only
if a process dies between a commit and its bump, or the bump finds Redis down: TTL_SECONDS bounds that.
Writes that bypass the ORM session (raw SQL, a restored backup) must be followed by `forget_all()`
(`flask --app wsgi registry cache-clear`).
"""
import hashlib
import json
import logging
import secrets
import time
from urllib.parse import parse_qsl, urlencode

from flask import current_app, has_app_context
from sqlalchemy import event
from sqlalchemy.orm import Session

from registry.core import clock

TTL_SECONDS = 600
EXTENSION = "registry_cache"
_PENDING = "registry_cache_pending"
_PENDING_SCOPES = "registry_cache_pending_scopes"
_WATCHED = {}   # table name -> {generation name}
_SCOPED = {}    # table name -> {scoped generation name: resolver(session, rows) -> {scope} or None (all)}
_FRONT = {}     # endpoint -> generation name, answered by FrontCache

log = logging.getLogger(__name__)


def watch(name, *tables):
    """Bump the generation `name` after every commit that wrote a row of one of `tables`."""
    for table in tables:
        _WATCHED.setdefault(table, set()).add(name)


def watch_scoped(name, resolvers):
    """`name` is scoped: after a commit that wrote rows of a table in `resolvers` ({table: resolver}), only
    the scopes resolver(session, rows) returns get new generations (None: every value of `name` misses).
    The resolver runs in the flush (after_flush) with the flushed instances, new, changed and deleted; it may
    read the database through session.connection(), never through the ORM session."""
    for table, resolver in resolvers.items():
        _SCOPED.setdefault(table, {})[name] = resolver


def row_values(rows, name):
    """The values of column `name` in flushed `rows` as they hold them, without loading anything, plus the
    values a change in this flush replaced; None when one row does not hold it (the resolver cannot place
    the rows)."""
    from sqlalchemy import inspect
    values = set()
    for row in rows:
        state = inspect(row)
        value = state.dict.get(name)
        if value is None:
            return None
        values.add(value)
        if not state.pending:
            values.update(v for v in state.attrs[name].history.deleted if v is not None)
    return values


def by_column(name):
    """A resolver whose scopes are the rows' values of column `name` (e.g. provider_id)."""
    return lambda session, rows: row_values(rows, name)


def every(session, rows):
    """A resolver for a table whose rows can change every value of the name (None: a bump of the name)."""
    return None


def scoped_names():
    return {name for names in _SCOPED.values() for name in names}


class RedisCache:
    def __init__(self, url, prefix):
        import redis
        self.redis = redis.Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)
        self.prefix = prefix
        self._warned_at = 0.0

    def _warn(self, what, exc):
        if time.monotonic() - self._warned_at > 60:
            self._warned_at = time.monotonic()
            log.warning("cache %s failed, using the database: %s", what, exc)

    def _generation_key(self, name):
        return f"{self.prefix}gen:{name}"

    def fetch(self, name, keys):
        """(current generation, {key: cached body}) for the values of `keys` stored under the current
        generation; the generation is None when Redis fails."""
        import redis
        try:
            generation, *stored = self.redis.mget(self._generation_key(name), *(self.prefix + k for k in keys))
        except redis.RedisError as exc:
            self._warn("read", exc)
            return None, {}
        if generation is None:
            generation = self._new_generation(name)
        found = {}
        for key, value in zip(keys, stored, strict=True):
            if value is not None:
                stored_generation, _, body = value.partition(b"\n")
                if stored_generation == generation:
                    found[key] = body
        return generation, found

    def _new_generation(self, name):
        """A generation for `name` where there is none (never set, or lost): a random one, unless another
        process has just set its own."""
        key = self._generation_key(name)
        self.redis.set(key, secrets.token_hex(8), nx=True)
        return self.redis.get(key)

    def fetch_scoped(self, name, keys):
        """For {key: scope}: ({scope: the token a value of that scope must carry now}, {key: cached body}
        for the values stored under their scope's current token), in one round trip; ({}, {}) when Redis
        fails. A token is the name's generation and the scope's, so a bump of either makes the value a miss."""
        import redis
        scopes = sorted(set(keys.values()), key=str)
        names = [self._generation_key(name)] + [self._generation_key(f"{name}:{scope}") for scope in scopes]
        try:
            stored = self.redis.mget(*names, *(self.prefix + k for k in keys))
            generations = stored[:len(names)]
            if any(g is None for g in generations):
                with self.redis.pipeline(transaction=False) as pipe:
                    for key, value in zip(names, generations, strict=True):
                        if value is None:
                            pipe.set(key, secrets.token_hex(8), nx=True)
                    pipe.execute()
                generations = self.redis.mget(*names)
        except redis.RedisError as exc:
            self._warn("read", exc)
            return {}, {}
        tokens = {scope: generations[0] + b"." + generation for scope, generation in zip(scopes, generations[1:],
                                                                                          strict=True)}
        found = {}
        for (key, scope), value in zip(keys.items(), stored[len(names):], strict=True):
            if value is not None:
                stored_token, _, body = value.partition(b"\n")
                if stored_token == tokens[scope]:
                    found[key] = body
        return tokens, found

    def store(self, generation, bodies):
        """Store {key: body} under `generation` for TTL_SECONDS."""
        import redis
        try:
            with self.redis.pipeline(transaction=False) as pipe:
                for key, body in bodies.items():
                    pipe.set(self.prefix + key, generation + b"\n" + body, ex=TTL_SECONDS)
                pipe.execute()
        except redis.RedisError as exc:
            self._warn("write", exc)

    def store_tokens(self, bodies):
        """Store {key: (token, body)} for TTL_SECONDS."""
        import redis
        try:
            with self.redis.pipeline(transaction=False) as pipe:
                for key, (token, body) in bodies.items():
                    pipe.set(self.prefix + key, token + b"\n" + body, ex=TTL_SECONDS)
                pipe.execute()
        except redis.RedisError as exc:
            self._warn("write", exc)

    def bump(self, names, scopes=None):
        """Give `names` new generations (after a commit): every value cached under the old ones is a miss.
        `scopes` ({scoped name: {scope}}): new generations for these scopes only."""
        import redis
        keys = [self._generation_key(name) for name in sorted(names)]
        for name, values in sorted((scopes or {}).items()):
            keys += [self._generation_key(f"{name}:{scope}") for scope in sorted(values, key=str)]
        try:
            with self.redis.pipeline(transaction=False) as pipe:
                for key in keys:
                    pipe.set(key, secrets.token_hex(8))
                pipe.execute()
        except redis.RedisError as exc:
            log.error("cache generation bump of %s failed: cached values may be stale for up to %s s: %s",
                      keys, TTL_SECONDS, exc)


def init_app(app):
    url = app.config.get("CACHE_URL") or ""
    app.extensions[EXTENSION] = RedisCache(url, app.config.get("CACHE_KEY_PREFIX", "registry:")) if url else None


def serve_from_cache(endpoint, name):
    """Answer GET requests of `endpoint` from the cache in front of the app (FrontCache), under the
    generation `name`. Only for public endpoints without a rate limit, whose response depends on nothing
    but the path, the query string and the date: the cached answer skips every before_request hook."""
    _FRONT[endpoint] = name


def install_front(app):
    """Put FrontCache in front of app.wsgi_app (after the blueprints are registered)."""
    paths = {}
    for rule in app.url_map.iter_rules():
        if rule.endpoint in _FRONT:
            if rule.arguments:
                raise ValueError(f"FrontCache serves fixed paths only, not {rule.rule}")
            paths[rule.rule] = _FRONT[rule.endpoint]
    if paths and app.extensions.get(EXTENSION) is not None:
        app.wsgi_app = FrontCache(app.wsgi_app, app.extensions[EXTENSION], paths)


class FrontCache:
    """WSGI middleware: a GET of one of `paths` (without an Authorization header) is answered from the
    shared cache when it holds the response for the same path and query string (arguments sorted) on
    today's date under the current generation. Otherwise the app answers, and a 200 response that sets
    no cookie is stored with its headers. The generation is read before the app touches the database."""

    def __init__(self, wsgi_app, cache, paths):
        self.wsgi_app, self.cache, self.paths = wsgi_app, cache, paths

    def __call__(self, environ, start_response):
        name = self.paths.get(environ.get("PATH_INFO", "")) if environ.get("REQUEST_METHOD") == "GET" else None
        if name is None or "HTTP_AUTHORIZATION" in environ:
            return self.wsgi_app(environ, start_response)
        query = urlencode(sorted(parse_qsl(environ.get("QUERY_STRING", ""), keep_blank_values=True)))
        digest = hashlib.sha256(f"{environ['PATH_INFO']}?{query}".encode()).hexdigest()[:32]
        key = f"{name}:front:{clock.today().isoformat()}:{digest}"
        generation, found = self.cache.fetch(name, [key])
        if key in found:
            status, headers, body = found[key].split(b"\n", 2)
            start_response(status.decode(), [tuple(pair) for pair in json.loads(headers)])
            return [body]
        seen = {}

        def capture(status, headers, exc_info=None):
            seen["status"], seen["headers"] = status, headers
            return start_response(status, headers, exc_info)

        result = self.wsgi_app(environ, capture)
        try:
            body = b"".join(result)
        finally:
            if hasattr(result, "close"):
                result.close()
        headers = seen.get("headers") or []
        if (generation is not None and seen.get("status", "").startswith("200 ")
                and not any(header.lower() == "set-cookie" for header, _value in headers)):
            self.cache.store(generation, {key: b"\n".join(
                (seen["status"].encode(), json.dumps(headers).encode(), body))})
        return [body]


def current():
    return current_app.extensions.get(EXTENSION) if has_app_context() else None


def cached_json(name, arguments, build):
    """The JSON response for `arguments` (a dict of plain values) on today's date: from the cache, or
    `build()` (the value to jsonify) stored for the next request."""
    cache = current()
    if cache is None:
        return current_app.json.response(build())
    digest = hashlib.sha256(json.dumps(arguments, sort_keys=True, default=str).encode()).hexdigest()[:32]
    key = f"{name}:{clock.today().isoformat()}:{digest}"
    generation, found = cache.fetch(name, [key])
    if key in found:
        return current_app.response_class(found[key], mimetype=current_app.json.mimetype)
    response = current_app.json.response(build())
    if generation is not None:
        cache.store(generation, {key: response.get_data()})
    return response


def cached_values(name, day, keys, build):
    """{key: value} for `keys` (strings) as computed for `day`: JSON values from the cache where they were
    stored under the current generation, the others from build(missing keys) -> {key: value}, stored."""
    cache = current()
    if cache is None:
        return build(list(keys))
    prefix = f"{name}:{day.isoformat()}:"
    generation, found = cache.fetch(name, [prefix + key for key in keys])
    values = {key: json.loads(found[prefix + key]) for key in keys if prefix + key in found}
    missing = [key for key in keys if key not in values]
    if missing:
        built = build(missing)
        if generation is not None:
            cache.store(generation, {prefix + key: json.dumps(value).encode() for key, value in built.items()})
        values.update(built)
    return values


def cached_scoped_values(name, day, keys, build):
    """As cached_values, for a scoped name: `keys` is {key: scope} (the eligibility of an entry: {entry id:
    provider id}); a value is served only under its scope's current generation."""
    cache = current()
    if cache is None:
        return build(list(keys))
    prefix = f"{name}:{day.isoformat()}:"
    tokens, found = cache.fetch_scoped(name, {prefix + key: scope for key, scope in keys.items()})
    hits = [key for key in keys if prefix + key in found]
    # one JSON document for all the hits: one call of the decoder instead of one per value
    values = dict(zip(hits, json.loads(b"[" + b",".join(found[prefix + key] for key in hits) + b"]"), strict=True))
    missing = [key for key in keys if key not in values]
    if missing:
        built = build(missing)
        if tokens:
            cache.store_tokens({prefix + key: (tokens[keys[key]], json.dumps(value).encode())
                                for key, value in built.items() if key in keys})
        values.update(built)
    return values


def forget_all():
    """Make every cached value a miss (bump every generation). Returns False when no cache is configured."""
    cache = current()
    if cache is None:
        return False
    cache.bump({name for names in _WATCHED.values() for name in names} | scoped_names())
    return True


# ---------------------------------------------------------------- which commits bump which generation

def _mark(session, tables, whole_scoped=True):
    """Mark the names watching `tables` for a bump; scoped names too when `whole_scoped` (rows unknown)."""
    names = set()
    for table in tables:
        names |= _WATCHED.get(table, set())
        if whole_scoped:
            names |= set(_SCOPED.get(table, ()))
    if names:
        session.info.setdefault(_PENDING, set()).update(names)


def _mark_scopes(session, rows_by_table):
    """Ask each scoped table's resolver which scopes its written rows belong to."""
    pending = session.info.setdefault(_PENDING_SCOPES, {})
    for table, rows in rows_by_table.items():
        for name, resolver in _SCOPED.get(table, {}).items():
            scopes = resolver(session, rows)
            if scopes is None:
                session.info.setdefault(_PENDING, set()).add(name)
            else:
                pending.setdefault(name, set()).update(scopes)


@event.listens_for(Session, "after_flush")
def _after_flush(session, _flush_context):
    if _WATCHED or _SCOPED:
        rows = {}
        for part in (session.new, session.dirty, session.deleted):
            for obj in part:
                if hasattr(obj, "__table__"):
                    rows.setdefault(obj.__table__.name, []).append(obj)
        _mark(session, set(rows), whole_scoped=False)
        _mark_scopes(session, {table: objs for table, objs in rows.items() if table in _SCOPED})


@event.listens_for(Session, "do_orm_execute")
def _on_execute(state):
    if (_WATCHED or _SCOPED) and (state.is_insert or state.is_update or state.is_delete):
        table = getattr(state.statement, "table", None)
        if table is not None:
            _mark(state.session, {table.name})


@event.listens_for(Session, "after_commit")
def _after_commit(session):
    names = session.info.pop(_PENDING, None) or set()
    scopes = {name: values for name, values in (session.info.pop(_PENDING_SCOPES, None) or {}).items()
              if values and name not in names}   # a whole bump covers its scopes
    if names or scopes:
        cache = current()
        if cache is not None:
            cache.bump(names, scopes)


@event.listens_for(Session, "after_transaction_end")
def _after_transaction_end(session, transaction):
    if transaction.parent is None:   # the outermost transaction ended without a commit: nothing to bump
        session.info.pop(_PENDING, None)
        session.info.pop(_PENDING_SCOPES, None)
