"""The busiest day, measured (issue 20): Locust mixed-load scenarios against the real app under gunicorn.

    python -m bench --only load [--scale S]          # part of `make bench` (PostgreSQL only)
    python -m bench.load [--scale S] [--scenario term_start|gate_rush|survey_evening] [--seconds N]

Modules:
  adapters.py    endpoint paths and payload builders of each scenario (term start, gate scans and roll
                 calls, survey pages and single-use submissions); a probe answering 404 skips a scenario
  locustfile.py  the Locust user classes: one open-loop base (requests sent on a fixed schedule, latency
                 counted from the scheduled send time) and one small class per scenario
  world.py       what the users act as: API tokens made directly in a throwaway copy of the dataset, the
                 schools' orderable entries, the providers' requested orders and cleared staff, the gate
                 keepers' passes, fresh survey codes issued through the quality service
  run.py         the runner: copies the dataset database, starts gunicorn and Locust on separate cores
                 (taskset), steps the term-start rate up to the highest that holds p99 <= 300 ms with no
                 errors, and prints the figures
See bench/README.md ("Mixed load").
"""
