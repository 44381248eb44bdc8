"""To-do panels on each role's home page (issue 19: "every role's home page is its to-do list").

A domain adds its panel for some roles with `@panel(roles, template, position)` in its views module (imported by
the app factory before any request), the way registry.providers.views.dashboard_panel works for the provider's
dashboard. `context(user, day)` returns the template's variables, or None to show nothing. The home page
(registry.main) renders the panels of the signed-in user's role in position order. Positions in use and
reserved are listed in docs/architecture.md "To-do dashboards"."""
from flask import render_template
from markupsafe import Markup

# (position, roles, template, context)
PANELS = []


def panel(roles, template, position):
    """Register a panel for `roles` (Role members or their string values); one registration per template."""
    wanted = frozenset(getattr(r, "value", r) for r in roles)

    def register(context):
        if not any(t == template for _p, _r, t, _c in PANELS):
            PANELS.append((position, wanted, template, context))
            PANELS.sort(key=lambda item: item[0])
        return context
    return register


def render(user, day):
    """The signed-in user's panels, rendered, in position order."""
    role = getattr(user.role, "value", user.role)
    out = []
    for _position, roles, template, context in PANELS:
        if role not in roles:
            continue
        values = context(user, day)
        if values is not None:
            out.append(Markup(render_template(template, **values)))
    return out
