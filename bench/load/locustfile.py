"""Locust user classes of the mixed load (issue 20). Run by bench/load/run.py, headless:

    locust -f bench/load/locustfile.py --headless -u N -r N --run-time T TermStartUser

Every class is OPEN LOOP: the BENCH_LOAD_USERS users of a run share one schedule of BENCH_LOAD_RATE
requests per second from BENCH_LOAD_T0 (epoch seconds): user i sends its k-th request at
T0 + (k * users + i) / rate, whatever its earlier requests are doing, and the latency is counted from that
scheduled time (Locust's own figure is replaced by it), so a slow server is measured at the rate asked for
and not at the rate it manages (no coordinated omission). A user late for its slot sends at once; with
one request per user per second, a user falls behind only when a request takes over a second, and that
time is in the figure.

Each request is also appended to BENCH_LOAD_OUT (JSON lines: name, scheduled, latency, status) for the
runner, which takes its percentiles over the measured window only (after the warm-up).
The world (tokens, entries, orders) is the JSON file BENCH_LOAD_WORLD written by bench/load/world.py.
"""
import collections
import itertools
import json
import os
import time

import gevent
from locust import constant, events, task
from locust.contrib.fasthttp import FastHttpUser

from bench.load import adapters

WORLD = json.loads(open(os.environ["BENCH_LOAD_WORLD"]).read()) if os.environ.get("BENCH_LOAD_WORLD") else {}
RATE = float(os.environ.get("BENCH_LOAD_RATE", "10"))
USERS = int(os.environ.get("BENCH_LOAD_USERS", "10"))
T0 = float(os.environ.get("BENCH_LOAD_T0", "0")) or time.time() + 2
END = float(os.environ.get("BENCH_LOAD_END", "0")) or float("inf")
RESULTS = []


@events.test_stop.add_listener
def _write_results(**_kwargs):
    out = os.environ.get("BENCH_LOAD_OUT")
    if out:
        with open(out, "w") as f:
            for row in RESULTS:
                f.write(json.dumps(row) + "\n")


class OpenLoopUser(FastHttpUser):
    """One slot of the shared schedule per call of next_call(); subclasses say what each slot sends."""
    abstract = True
    wait_time = constant(0)
    connection_timeout = 10.0
    network_timeout = 10.0
    _numbers = itertools.count()

    def on_start(self):
        self.index = next(OpenLoopUser._numbers) % USERS
        self.k = 0
        self.rnd = adapters.rng(1000 + self.index)

    def next_call(self):
        raise NotImplementedError

    @task
    def slot(self):
        scheduled = T0 + (self.k * USERS + self.index) / RATE
        self.k += 1
        if scheduled >= END:
            gevent.sleep(max(0.0, END + 5 - time.time()))   # done: idle until Locust stops the run
            return
        delay = scheduled - time.time()
        if delay > 0:
            gevent.sleep(delay)
        call = self.next_call()
        if call is None:
            return
        headers = dict(call.headers)
        if call.token:
            headers["Authorization"] = f"Bearer {call.token}"
        with self.client.request(call.method, call.path, name=call.name, json=call.json, headers=headers,
                                 catch_response=True) as response:
            latency = time.time() - scheduled
            response.request_meta["response_time"] = latency * 1000   # from the scheduled send time
            status = response.status_code or 0
            if status in call.expect:
                response.success()
                if call.after is not None:
                    try:
                        call.after(response.json())
                    except ValueError:
                        pass
            else:
                response.failure(f"{status}: {(response.text or '')[:200]}")
        RESULTS.append((call.name, scheduled, latency, status, status in call.expect))


# ---------------------------------------------------------------- term start

TERM_START_MIX = adapters.TERM_START_MIX
# Besides the mix, at a fixed rate whatever the mix's rate: a provider of the city records a staff check, a
# commit that misses the catalog pages and that provider's eligibility (issue 20: the cache is not left warm).
STAFF_CHECKS_PER_SECOND = float(os.environ.get("BENCH_LOAD_WRITES", "0.2"))
_accept_queue = collections.deque()     # (order id, entry id): requested orders waiting for their provider


def _created(order):
    _accept_queue.append((order["id"], order["entry_id"]))


class TermStartUser(OpenLoopUser):
    """90 % catalog and project reads, 8 % orders created, 2 % provider acceptances, over the schools and
    providers of one city. The orders created here join the requested orders the providers accept."""

    def on_start(self):
        super().on_start()
        if not _accept_queue and self.index == 0:
            for order in WORLD["accept_pool"]:
                _accept_queue.append((order["id"], order["entry_id"]))
        self.schools = WORLD["schools"]
        self.ordering = [s for s in self.schools if s["orderable"]]
        self.names = [name for name, weight in TERM_START_MIX for _ in range(weight)]

    def next_call(self):
        if self.rnd.random() < STAFF_CHECKS_PER_SECOND / RATE:
            entry = WORLD["entries"][self.rnd.choice(WORLD["checked"])]
            return adapters.staff_check(WORLD["providers"][str(entry["provider_id"])], entry["cleared"][0],
                                        WORLD["day"])
        kind = self.rnd.choice(self.names)
        if kind == "order create" and self.ordering:
            return adapters.create_order(self.rnd.choice(self.ordering), self.rnd, WORLD["term_id"], _created)
        if kind == "order accept" and _accept_queue:
            order_id, entry_id = _accept_queue.popleft()
            entry = WORLD["entries"][str(entry_id)]
            return adapters.accept_order(WORLD["providers"][str(entry["provider_id"])], order_id, entry["cleared"][:2])
        school = self.rnd.choice(self.schools)
        if kind == "catalog entry":
            return adapters.catalog_entry(school, self.rnd)
        return adapters.catalog_list(school, self.rnd)


# ---------------------------------------------------------------- gate rush (issue 14)

class MixUser(OpenLoopUser):
    """A slot picks one of the world's `pool` items, then the first call with the share `first`, else the other."""
    abstract = True
    pool, first, share, other = "", None, 1.0, None

    def next_call(self):
        item = self.rnd.choice(WORLD[self.pool])
        return (self.first if self.rnd.random() < self.share else self.other)(item, self.rnd)


class GateRushUser(MixUser):
    """Entry scans written (9 in 10) and roll-call reads, at the fixed rate asked (300/s), over the gates
    (gate keepers and their schools' passes) of the world."""
    pool, share = "gates", adapters.GATE_SCAN_SHARE
    first, other = staticmethod(adapters.gate_scan), staticmethod(adapters.gate_roll_call)


# ---------------------------------------------------------------- survey evening (issue 16)

_codes = adapters.SurveyCodes(WORLD.get("survey_codes", ()))   # one process: the users share it


class SurveyEveningUser(OpenLoopUser):
    """Parents opening a survey page (a fresh code) and submitting (a code opened before, else a fresh one):
    200 submissions/s in 400 requests/s. Every code is answered once: none is refused as used."""

    def next_call(self):
        if self.rnd.random() < adapters.SURVEY_SUBMIT_SHARE:
            code = _codes.submit()
            return None if code is None else adapters.survey_submit(code, self.rnd)
        code = _codes.page()
        return None if code is None else adapters.survey_page(code, self.rnd)
