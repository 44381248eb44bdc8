"""Every domain has the same files, each with one job (issue 13, item 1; docs/architecture.md, "Rooms").

A domain is a package under registry/ with a models.py. It has services.py (writes and the rules they enforce),
queries.py (reads), views (HTML) and api (JSON), each a module or, for a domain with a second audience, a
package of one module per audience (orders/views/school.py, orders/views/provider.py). No module is named for
an audience or a second topic with a suffix (views_school.py, api_provider.py), and no api module imports a
views module: both call services and queries.

Where a domain lacks a file, the lists below say which and why. An entry that is no longer true fails too, so
the lists cannot rot: when a domain gains the file, delete its entry."""
import ast
from pathlib import Path

REGISTRY = Path(__file__).resolve().parents[2] / "registry"

NOT_DOMAINS = {
    "core": "the shared kernel (lifecycle, errors, db, cache, pdf, ...): its models.py holds mixins, not a domain",
}
# Domains that serve no HTML page.
NO_VIEWS = {
    "policy": "a city's policy is read by other domains; no page edits it",
    "regions": "the region tree is reference data; only a JSON lookup serves it",
}
# Domains that serve no JSON.
NO_API = {
    "audit": "the audit log and its verification are pages for auditors only",
    "calendar": "working days are read by other domains; nobody asks for them over JSON",
    "files": "files are downloads (views.py streams them), not JSON",
    "notifications": "the inbox is an HTML page only",
    "policy": "a city's policy is read by other domains; it has no JSON endpoint",
}
# Domains whose reads still live in services.py (not split yet).
NO_QUERIES = {
    "auth": "its reads (users, sessions, tokens) are still in services.py beside the login rules",
    "calendar": "is_working_day and friends are reads in services.py",
    "files": "a file's lookup for download is still in services.py",
    "notifications": "the inbox reads are still in services.py",
    "policy": "for_city / for_region are reads in services.py",
    "regions": "the region lookups are reads in services.py",
}
# api modules that still import a views module (none: keep it so).
API_IMPORTS_VIEWS = {}
# Modules named with a suffix of a second topic (none: keep it so).
SUFFIXED = {}
LAYERS = ("views", "api", "schemas", "services", "queries")


def domains():
    return sorted(p.parent.name for p in REGISTRY.glob("*/models.py") if p.parent.name not in NOT_DOMAINS)


def has(domain, name):
    """A module name.py, or a package name/ with an __init__.py."""
    return (REGISTRY / domain / f"{name}.py").is_file() or (REGISTRY / domain / name / "__init__.py").is_file()


def rel(path):
    return path.relative_to(REGISTRY.parent).as_posix()


def test_the_lists_name_domains():
    known = set(domains())
    for listing in (NO_VIEWS, NO_API, NO_QUERIES):
        assert set(listing) <= known, f"not a domain: {sorted(set(listing) - known)}"
    assert set(NOT_DOMAINS) <= {p.parent.name for p in REGISTRY.glob("*/models.py")}


def test_every_domain_has_models_and_services():
    for domain in domains():
        assert (REGISTRY / domain / "services.py").is_file(), f"{domain} has no services.py"


def test_every_domain_has_queries_views_and_api_unless_listed():
    for domain in domains():
        for name, missing_allowed in (("queries", NO_QUERIES), ("views", NO_VIEWS), ("api", NO_API)):
            if domain in missing_allowed:
                assert not has(domain, name), (
                    f"{domain} now has {name}: delete its entry ({missing_allowed[domain]!r}) from this test's list")
            else:
                assert has(domain, name), f"{domain} has no {name}.py (or {name}/ package)"


def test_no_layer_is_both_a_module_and_a_package():
    for domain in domains():
        for name in LAYERS:
            both = (REGISTRY / domain / f"{name}.py").is_file() and (REGISTRY / domain / name).is_dir()
            assert not both, f"{domain} has both {name}.py and {name}/"


def test_no_module_is_named_with_an_audience_or_topic_suffix():
    found = set()
    for path in REGISTRY.rglob("*.py"):
        stem = path.stem
        for layer in LAYERS:
            if stem.startswith(f"{layer}_") or stem.endswith(f"_{layer}"):
                found.add(rel(path))
    unexpected = found - set(SUFFIXED)
    assert not unexpected, f"split by folder instead (views/school.py, not views_school.py): {sorted(unexpected)}"
    gone = set(SUFFIXED) - found
    assert not gone, f"moved already: delete from SUFFIXED {sorted(gone)}"


def _api_modules():
    for path in sorted(REGISTRY.rglob("*.py")):
        parts = path.relative_to(REGISTRY).with_suffix("").parts
        if parts[-1] in ("api",) or parts[-1].endswith("_api") or (len(parts) > 2 and parts[-2] == "api"):
            yield path


def _is_views(module):
    """registry.x.views, registry.x.views.school, registry.x.batch_views — never flask.views."""
    parts = module.split(".")
    return parts[0] == "registry" and any(p == "views" or p.startswith("views_") or p.endswith("_views")
                                          for p in parts[1:])


def _imported_modules(path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = ".".join(path.relative_to(REGISTRY.parent).with_suffix("").parts[:-1])
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[:len(base) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            yield module
            for alias in node.names:  # from registry.orders import views
                yield f"{module}.{alias.name}"


def test_no_api_module_imports_a_views_module():
    offenders = {}
    for path in _api_modules():
        views = sorted({m for m in _imported_modules(path) if _is_views(m)})
        if views:
            offenders[rel(path)] = views
    unexpected = {k: v for k, v in offenders.items() if k not in API_IMPORTS_VIEWS}
    assert not unexpected, f"an api module calls services and queries, never views: {unexpected}"
    fixed = set(API_IMPORTS_VIEWS) - set(offenders)
    assert not fixed, f"no longer imports views: delete from API_IMPORTS_VIEWS {sorted(fixed)}"


def test_the_scan_sees_an_import_of_views():
    """The scan itself: a from-import of a views module or of a name from one is caught; flask.views is not."""
    assert _is_views("registry.orders.views.school")
    assert _is_views("registry.reviews.views")
    assert _is_views("registry.whitelist.batch_views")
    assert not _is_views("flask.views")
    assert not _is_views("registry.orders.queries")
