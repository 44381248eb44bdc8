"""Named hooks: how a lower domain tells a higher one that something happened, or asks it something,
without importing it (docs/architecture.md, "How a lower domain signals a higher one").

Each hook is declared here, once, with its contract. The higher domain registers its function at import of
its services module (which the app factory imports, through the blueprints, before any request); the lower
domain calls the hook. Calling a hook nobody registered raises MissingHook: a forgotten registration fails
loudly instead of silently doing nothing, and no lower domain ever imports a higher one to find out.
"""


class MissingHook(RuntimeError):
    pass


class Hook:
    def __init__(self, name, doc):
        self.name = name
        self.__doc__ = doc
        self._fn = None

    def register(self, fn):
        """Register `fn` as the hook's one implementation (a decorator). Registering a second, different
        function is an error: a hook has one owner."""
        if self._fn is not None and self._fn is not fn and self._fn.__qualname__ != fn.__qualname__:
            raise RuntimeError(f"hook {self.name!r} is already registered by "
                               f"{self._fn.__module__}.{self._fn.__qualname__}")
        self._fn = fn
        return fn

    @property
    def registered(self):
        return self._fn is not None

    def __call__(self, *args, **kwargs):
        if self._fn is None:
            raise MissingHook(f"hook {self.name!r} has no registered function: the domain that owns it "
                              "(see registry/core/signals.py) was not imported")
        return self._fn(*args, **kwargs)

    def __repr__(self):
        return f"<Hook {self.name}>"


# ---------------------------------------------------------------- asked by projects, providers, batches

is_listed = Hook("is_listed", """is_listed(provider_id, project_id=None, day=None) -> bool: the provider (its
project) has an entry in force on the day (today by default), active or suspended. Owner:
registry.whitelist.services.""")

# ---------------------------------------------------------------- asked by projects

project_states = Hook("project_states", """project_states(provider_id) -> state_of(project_id) -> ProjectState:
where each of the provider's projects stands in its applications (draft, applying, approved). Owner:
registry.applications.queries.""")

# ---------------------------------------------------------------- asked by schools

third_party_share = Hook("third_party_share", """third_party_share(school, term) -> Share: the school's own and
third-party (ordered) projects in the term and the city's limit. Owner: registry.orders.services.""")

# ---------------------------------------------------------------- asked by applications

entries_of = Hook("entries_of", """entries_of(provider_id) -> [WhitelistEntry]: the provider's whitelist entries (any
status). Owner: registry.whitelist.services.""")
renewal_window = Hook("renewal_window", """renewal_window(entry, rules, day=None) -> (opens_on, is_open): when the
entry's renewal (年审) window opens. Owner: registry.whitelist.services.""")
active_ban = Hook("active_ban", """active_ban(provider_id, day=None) -> ProviderAction | None: a ban in force on the
provider (it may not apply). Owner: registry.adjustments.services.""")

# ---------------------------------------------------------------- asked by the whitelist's eligibility

bans_in_force = Hook("bans_in_force", """bans_in_force(provider_ids, day) -> {provider_id: ProviderAction}: the
provider bans in force on the day, in one statement. Owner: registry.adjustments.services.""")

# ---------------------------------------------------------------- told or asked by reviews

draft_batch = Hook("draft_batch", """draft_batch(actor, batch_id) -> ReleaseBatch: a draft batch of the actor's city,
or ValidationFailed on batch_id. Owner: registry.batches.services.""")
approved_in_principle = Hook("approved_in_principle", """approved_in_principle(application, actor=, batch=None) ->
BatchItem: a review passed at the city stage, so the application joins the draft `batch` (a new one when None).
Owner: registry.batches.services.""")
left_review = Hook("left_review", """left_review(application, actor=): the application was returned or rejected, so
it leaves the draft batch holding it, if any. Owner: registry.batches.services.""")
batches_of = Hook("batches_of", """batches_of(application_ids) -> {application_id: ReleaseBatch}: the batch that
holds each application (live item), for the review screens. Owner: registry.batches.queries.""")
draft_batches = Hook("draft_batches", """draft_batches(city_id) -> [ReleaseBatch]: the city's draft batches, oldest
first, offered on the review screen. Owner: registry.batches.queries.""")

# ---------------------------------------------------------------- told by batches

admit_published = Hook("admit_published", """admit_published(application, batch, rules=, today=, actor=): a
published batch admits the application: the reviewed values apply, entries are created or renewed, the
application is approved, the certificate issued and the provider told. Owner: registry.whitelist.services.""")

# ---------------------------------------------------------------- issue 17: complaints and appeals (asked by whitelist)

appeal_pending = Hook("appeal_pending", """appeal_pending(provider_ids) -> set of provider ids: those with an appeal
(申诉/复核) pending against a delisting, a ban or an upheld complaint; the public change feed says so while the
decision stands. Owner: registry.complaints.queries.""")
# ---------------------------------------------------------------- issue 16: quality, asked by orders and whitelist

standings_of = Hook("standings_of", """standings_of(project_ids, day) -> {project_id: StandingView}: each project's
last recorded standing (term, satisfaction rate, responses, whether it is under the city's threshold) for the
school catalog, in one statement. Owner: registry.quality.queries.""")
public_satisfaction = Hook("public_satisfaction", """public_satisfaction(project_ids) -> {project_id: (rate,
responses)}: the satisfaction rate of each project's last standing with at least 10 responses (never fewer: small
numbers identify people), in one statement, for the public whitelist. Owner: registry.quality.queries.""")
# ---------------------------------------------------------------- asked by orders (issue 15: schedules)

fee_notice_published = Hook("fee_notice_published", """fee_notice_published(school_id, term_id) -> bool: the school
has published its fee notice (收费公示) for the term; a third-party order there cannot become active before.
Owner: registry.schedules.services.""")
fee_notices_published = Hook("fee_notices_published", """fee_notices_published(pairs) -> {(school_id, term_id)}: of
these (school, term) pairs, those whose fee notice is published, in one statement (the sweep's order start).
Owner: registry.schedules.services.""")
# ---------------------------------------------------------------- told by orders (issue 14: passes)

order_staff_changed = Hook("order_staff_changed", """order_staff_changed(order, actor=): the staff of an accepted or
active order changed (accepted with staff, or a person replaced): every current person gets an entry pass, and a
removed person's pass is revoked at once (its validity is also computed live from OrderStaff.removed_at).
Owner: registry.passes.services.""")


# ---------------------------------------------------------------- told by schedules (issues 14 and 15)

schedule_accepted = Hook("schedule_accepted", """schedule_accepted(schedule, actor=): a school's schedule for a term was
accepted (filed): each person the school engages itself who teaches on it gets an entry pass for the weekdays and
hours of their rows, from today (or the term's start) to the term's end; a pass of the same person at the school
whose days or hours differ is replaced. Owner: registry.passes.services.""")
