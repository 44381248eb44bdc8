"""Where each scenario's requests go and what they carry. The locustfile imports only this module (no
registry code runs in the load generator).

Term start drives the catalog and orders (issues 7/8), gate rush the entry-pass scan and roll call (issue 14),
survey evening the parents' survey (issue 16). Each fixed-rate scenario's `probe` is requested once before a
run: a 404 there makes the runner skip the scenario with a note instead of reporting a figure.
"""
import random
from dataclasses import dataclass, field

API = "/api/v1"


@dataclass
class Call:
    name: str                     # the request type reported (p50/p95/p99 per name)
    method: str
    path: str
    token: str | None = None      # bearer token
    json: dict | None = None
    expect: tuple = (200,)
    after: object = None          # callback(response json) on success, in the load generator
    headers: dict = field(default_factory=dict)


# ---------------------------------------------------------------- term start (orders, issue 7/8)

CATALOG_SORTS = ("provider", "title", "price", "-price")
TERM_START_MIX = (("catalog list", 60), ("catalog entry", 30), ("order create", 8), ("order accept", 2))
GATE_SCAN_SHARE = 0.9         # of the gate rush's requests; the others are roll-call reads
SURVEY_SUBMIT_SHARE = 0.5     # of the survey evening's requests; the others are page loads


def catalog_list(school, rnd):
    """A school admin browsing the catalog: page 1-3, 20 or 50 a page, by stage, sometimes a category,
    a sort or show=all."""
    query = {"per_page": rnd.choice((20, 20, 50)), "page": rnd.choice((1, 1, 1, 2, 3))}
    if school["stages"] and rnd.random() < 0.6:
        query["stage"] = rnd.choice(school["stages"])
    if rnd.random() < 0.25:
        query["category"] = rnd.choice(school["categories"] or ["sports"])
    if rnd.random() < 0.3:
        query["sort"] = rnd.choice(CATALOG_SORTS)
    if rnd.random() < 0.1:
        query["show"] = "all"
    qs = "&".join(f"{k}={v}" for k, v in sorted(query.items()))
    return Call("catalog list", "GET", f"{API}/school/catalog?{qs}", school["token"])


def catalog_entry(school, rnd):
    """A project page of the catalog: one entry of the school's city."""
    return Call("catalog entry", "GET", f"{API}/school/catalog/{rnd.choice(school['browse'])}", school["token"])


def create_order(school, rnd, term_id, on_created):
    """An order of another class (or the school's one new project while its share allows it)."""
    entry = rnd.choice(school["orderable"])
    body = {"entry_id": entry["id"], "term_id": term_id, "grades": entry["grades"], "classes": "三（2）班",
            "weekdays": sorted(rnd.sample(range(5), 2)), "time_slot": "16:30-17:30", "sessions": 16,
            "expected_students": entry["students"], "venue": "学校操场"}
    return Call("order create", "POST", f"{API}/school/orders", school["token"], body, expect=(201,),
                after=lambda data: on_created({"id": data["id"], "entry_id": entry["id"]}))


def accept_order(provider_token, order_id, person_ids):
    return Call("order accept", "POST", f"{API}/provider-orders/{order_id}/accept", provider_token,
                {"person_ids": person_ids})


def staff_check(provider_token, person_id, day):
    """A provider records a staff member's health check: a commit that changes what the catalog shows (the
    pages' generation and that provider's eligibility scope)."""
    return Call("staff check", "POST", f"{API}/people/{person_id}/checks", provider_token,
                {"check_type": "health", "result": "clear", "check_date": day, "authority": "南昌市第一医院"},
                expect=(201,))


# ---------------------------------------------------------------- gate rush (issue 14)

GATE_PROBE = f"{API}/gate/scan"        # POST only: a GET answers 405 (or 401) once the route exists, 404 before


def gate_scan(gate, rnd):
    """A gate keeper (or the school admin) of the school scans one of its passes: the QR text or the typed
    8-character code, judged by the live rules and written (a second scan of the day is the leaving)."""
    return Call("gate scan", "POST", GATE_PROBE, gate["token"], {"text": rnd.choice(gate["passes"])})


def gate_roll_call(gate, rnd):
    """The roll call of the day at the gate's school (在校人员: entered, not left yet)."""
    return Call("gate roll call", "GET", f"{API}/gate/onsite", gate["token"])


# ---------------------------------------------------------------- survey evening (issue 16)

SURVEY_PATH = f"{API}/survey/"
SURVEY_PROBE = SURVEY_PATH + "{code}"  # a code of the world (an unknown code answers 404 by design)
SURVEY_ANSWER = {"satisfaction": "satisfied", "interest": "high", "safety": "safe", "extra_fee": False,
                 "voluntary": True, "comment": ""}
SATISFACTION = ("satisfied", "satisfied", "satisfied", "basic", "dissatisfied")


def survey_page(code, rnd):
    """A parent opens the survey of the code on the slip (no token)."""
    return Call("survey page", "GET", SURVEY_PATH + code)


def survey_submit(code, rnd):
    """A parent answers: each code once (single-use), so the caller never hands a code over twice."""
    answer = {**SURVEY_ANSWER, "satisfaction": rnd.choice(SATISFACTION), "comment": rnd.choice(("", "", "很好"))}
    return Call("survey submit", "POST", SURVEY_PATH + code, json=answer, expect=(201,))


class SurveyCodes:
    """The world's fresh codes handed out in order: a page load takes a new code and leaves it opened, a
    submission answers an opened one (the parent who loaded the page), else a new one. None when out."""

    def __init__(self, codes):
        self.fresh = iter(codes)
        self.opened = []

    def page(self):
        code = next(self.fresh, None)
        if code is not None:
            self.opened.append(code)
        return code

    def submit(self):
        return self.opened.pop(0) if self.opened else next(self.fresh, None)


SCENARIOS = {
    # name: (probe path or None, fixed arrival rate asked (requests/s) or None = stepped up to the highest held)
    "term_start": (None, None),
    "gate_rush": (GATE_PROBE, 300),
    "survey_evening": (SURVEY_PROBE, 400),   # half of them submissions: 200 submissions/s
}


def rng(seed):
    return random.Random(seed)
