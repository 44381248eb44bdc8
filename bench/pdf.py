"""pdf: the batch announcement (白名单公告) PDF at 2,000 and 5,000 rows.

Rows: the first N whitelist entries of the dataset in the announcement's own order (provider name,
provider, project title, project), each as the AnnouncementRow that registry.whitelist.queries
.announcement_rows builds (real providers, USCCs, projects, prices, validity), under the header of
the dataset's largest published batch. Published batches of the dataset are smaller than 2,000
rows, so the rows are not that batch's own; only the rendering is measured, and it goes through
exactly the production path: registry.batches.pdf.render_announcement → registry.core.pdf
(Jinja per part, forked renderers in parallel, the pypdf merge), with the app's configuration
(PDF_TIMEOUT_SECONDS bounds each document). The web route's content-digest cache is not used:
every figure is a full rendering.

Where: in a fresh child Python process (`python -m bench.pdf --url <database>`, started by
announcement_pdf), not in the bench process. That child plays the web worker that serves the PDF:
it creates the app exactly as the bench does for the SQLite database (bench.dataset.make_app), loads
the rows, renders, and reports its figures to the parent as one JSON line on stdout (its notes go to
stderr as before). The bench process has run other benchmarks by then (the sweep over the whole
dataset), and its own heap would otherwise dominate the memory figure and be copied into every
forked renderer's page tables.

Figures:
- pdf_2000_seconds, pdf_5000_seconds: wall time of render_announcement for 2,000 and 5,000 rows,
  the faster of two renderings each, run in the order 2000, 5000, 5000, 2000 (the rows are loaded
  before the clock starts; one untimed 50-row render first, so the web worker has imported
  WeasyPrint and pypdf as after any earlier PDF request in a running worker). stderr also shows
  the renderers' CPU seconds of each rendering: on a machine that other work keeps busy the wall
  time exceeds half of it (two renderers on two cores).
- pdf_5000_vs_2000: their ratio; linear growth is 2.5.
- pdf_peak_rss_mb: the peak physical memory of the process tree that renders — the child process
  (the "web worker", holding the app and the rows) and every process below it (the forked renderers
  and the merger) — during one more 5,000-row rendering, not timed. The bench process itself is not
  counted: it only waits for the child. A sampler thread reads
  /proc/<pid>/smaps_rollup of each process every 50 ms and sums Pss: Pss splits each resident page among the
  processes that share it, so the sum counts every page once (the pages a renderer still shares with the parent after
  fork() once, the pages it copied or allocated fully). Σ Rss of the renderers alone counts the
  shared pages once per renderer and overstates; it is printed on stderr, with the Rss of the parent
  of the renderers (the child process, the "web worker") and the largest single renderer's Rss
  (getrusage(RUSAGE_CHILDREN).ru_maxrss in that process).
- pdf_pages_2000, pdf_pages_5000: page counts.

The output is checked, not only timed: the page count equals the page-sized blocks the domain cuts,
only CJK fonts are embedded, the row numbers read 1…N in order, and every page carries the footer
"第 n 页 / 共 m 页" of the whole document. Set BENCH_PDF_KEEP=<dir> to keep the PDFs for a look
(pdftoppm -r 60 -png).

Only on SQLite: the database plays no part in rendering (the rows are loaded before timing), so a
PostgreSQL run would measure the same thing twice; it returns no figures there.
"""
import argparse
import contextlib
import json
import os
import re
import resource
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from bench.benchmarks import frozen_clock, note

SIZES = (2000, 5000)


def _read_rollup(pid):
    """(Rss, Pss) of a process in kB, from /proc/<pid>/smaps_rollup; None once it has exited."""
    rss = pss = None
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Rss:"):
                    rss = int(line.split()[1])
                elif line.startswith("Pss:"):
                    pss = int(line.split()[1])
                    break
    except OSError:
        return None
    return rss, pss


def _parent_of(pid):
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read()
    except OSError:
        return None
    return int(stat[stat.rindex(b")") + 2:].split()[1])


class TreeMemorySampler:
    """Polls, every `interval` seconds in a thread, the memory of this process and every process below
    it (the forked renderers and the merger):
    - peak_pss_kb: the largest Σ Pss over the tree. Pss divides each resident page among the processes
      that share it, so the sum is the tree's physical memory with every page counted once — pages a
      renderer shares with the parent after fork() count once, the copies it made count fully;
    - peak_children_rss_kb: the largest Σ Rss over the renderers alone (shared pages counted in each);
    - peak_parent_rss_kb: the parent's largest Rss."""

    def __init__(self, interval=0.05):
        self.interval = interval
        self.peak_pss_kb = self.peak_children_rss_kb = self.peak_parent_rss_kb = 0
        self.samples = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    @staticmethod
    def _descendants(me):
        below = {}
        for name in os.listdir("/proc"):
            if name.isdigit():
                parent = _parent_of(int(name))
                if parent is not None:
                    below.setdefault(parent, []).append(int(name))
        found, stack = [], list(below.get(me, ()))
        while stack:
            pid = stack.pop()
            found.append(pid)
            stack.extend(below.get(pid, ()))
        return found

    def _run(self):
        me = os.getpid()
        while not self._stop.is_set():
            parent = _read_rollup(me)
            children = [m for m in map(_read_rollup, self._descendants(me)) if m]
            if parent:
                self.peak_parent_rss_kb = max(self.peak_parent_rss_kb, parent[0])
                self.peak_pss_kb = max(self.peak_pss_kb, parent[1] + sum(pss for _rss, pss in children))
            self.peak_children_rss_kb = max(self.peak_children_rss_kb, sum(rss for rss, _pss in children))
            self.samples += 1
            self._stop.wait(self.interval)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


def announcement_rows(limit):
    """The first `limit` whitelist entries as announcement rows (the order announcement_rows uses)."""
    from sqlalchemy import select
    from sqlalchemy.orm import contains_eager, selectinload

    from registry.extensions import db
    from registry.projects.models import Project
    from registry.providers.models import Provider
    from registry.whitelist.models import WhitelistEntry
    from registry.whitelist.queries import AnnouncementRow, county_names

    entries = db.session.scalars(
        select(WhitelistEntry)
        .join(Provider, Provider.id == WhitelistEntry.provider_id)
        .join(Project, Project.id == WhitelistEntry.project_id)
        .options(contains_eager(WhitelistEntry.provider), contains_eager(WhitelistEntry.project),
                 selectinload(WhitelistEntry.counties))
        .order_by(Provider.name, Provider.id, Project.title, Project.id)
        .limit(limit)).all()
    if len(entries) < limit:
        raise RuntimeError(f"pdf: the dataset has only {len(entries)} whitelist entries, {limit} needed")
    return [AnnouncementRow(e.provider, e.project, e.valid_from, e.valid_until, county_names(e)) for e in entries]


def largest_published_batch():
    from sqlalchemy import func, select
    from sqlalchemy.orm import joinedload

    from registry.batches.models import BatchItem, ReleaseBatch
    from registry.extensions import db

    batch_id = db.session.execute(
        select(BatchItem.batch_id).join(ReleaseBatch, ReleaseBatch.id == BatchItem.batch_id)
        .where(ReleaseBatch.published_on.is_not(None))
        .group_by(BatchItem.batch_id).order_by(func.count().desc(), BatchItem.batch_id).limit(1)).scalar()
    return db.session.scalar(select(ReleaseBatch).where(ReleaseBatch.id == batch_id)
                             .options(joinedload(ReleaseBatch.city)))


def check_pdf(data, rows, expected_pages):
    """The PDF is what the announcement must be: pages, fonts, every row number in order, footers."""
    import io

    from pypdf import PdfReader

    from registry.core.pdf import embedded_fonts

    reader = PdfReader(io.BytesIO(data))
    pages = len(reader.pages)
    if pages != expected_pages:
        raise AssertionError(f"pdf: {pages} pages, expected {expected_pages}")
    fonts = embedded_fonts(data)
    if not fonts or not all("CJK" in name for name in fonts):
        raise AssertionError(f"pdf: fonts {fonts}")
    with tempfile.NamedTemporaryFile(suffix=".pdf") as f:
        f.write(data)
        f.flush()
        text = subprocess.run(["pdftotext", "-layout", f.name, "-"], capture_output=True, text=True,
                              check=True).stdout
    page_texts = text.split("\f")[:pages]
    for n, page in enumerate(page_texts, start=1):
        if not re.search(rf"第\s*{n}\s*页\s*/\s*共\s*{pages}\s*页", page):
            raise AssertionError(f"pdf: page {n} lacks its footer 第 {n} 页 / 共 {pages} 页")
    numbers = [int(m) for m in re.findall(r"^\s*(\d+)\s", text, re.M)]
    if numbers != list(range(1, len(rows) + 1)):
        raise AssertionError("pdf: row numbers are not 1…N in order")
    return pages


def _render_once(whitelist_pdf, batch, rows, kind, keep, sampler=None):
    """One rendering, checked: (seconds, pages). With a sampler, its memory figures go to stderr."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    with sampler or contextlib.nullcontext():
        started = time.perf_counter()
        data = whitelist_pdf.render_announcement(batch, rows)
        elapsed = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    pages = check_pdf(data, rows, len(whitelist_pdf.announcement_blocks(rows)))
    line = f"pdf[{kind}]: {len(rows)} rows → {pages} pages, {len(data) / 1e6:.1f} MB, {elapsed:.2f} s " \
           f"(renderers' CPU {cpu:.1f} s)"
    if sampler:
        line += (f" with the memory sampler; peak memory of the tree {sampler.peak_pss_kb / 1024:.0f} MB (Σ Pss; "
                 f"the parent's (the web worker's) Rss peaked at {sampler.peak_parent_rss_kb / 1024:.0f} MB, "
                 f"Σ Rss of the renderers at {sampler.peak_children_rss_kb / 1024:.0f} MB; {sampler.samples} samples)")
    note(line)
    if keep:
        os.makedirs(keep, exist_ok=True)
        with open(os.path.join(keep, f"announcement-{len(rows)}.pdf"), "wb") as f:
            f.write(data)
    return elapsed, pages


def announcement_pdf(app, kind, seconds=None, scale=1.0, **_):
    """The benchmark: run measure() in a fresh Python process on this app's database (see the module
    docstring) and return the figures it reports."""
    if kind != "sqlite":
        note(f"pdf[{kind}]: skipped — rendering does not touch the database; measured on SQLite only")
        return []
    command = [sys.executable, "-m", "bench.pdf", "--url", app.config["SQLALCHEMY_DATABASE_URI"],
               "--scale", repr(scale)]
    # stderr (the notes) goes straight through; stdout carries the one JSON line of figures.
    done = subprocess.run(command, stdout=subprocess.PIPE, text=True, cwd=Path(__file__).resolve().parent.parent,
                          check=False)
    lines = done.stdout.strip().splitlines()
    report = json.loads(lines[-1]) if lines else {"error": f"no report (exit status {done.returncode})"}
    if done.returncode or "error" in report:
        raise RuntimeError(f"pdf: the rendering process failed: {report.get('error', done.returncode)}")
    return [tuple(figure) for figure in report["figures"]]


def measure(app, scale=1.0):
    """What the child process runs. Timings: each size rendered twice, in the order 2000, 5000, 5000,
    2000 (drift in the machine's load cancels out of the ratio), the faster of the two kept. Memory: one
    more 5,000-row rendering with the sampler running (reading smaps_rollup costs the kernel
    milliseconds per process, so it never runs while a timing is taken)."""
    from registry.batches import pdf as whitelist_pdf
    from registry.extensions import db

    kind = "sqlite"
    keep = os.environ.get("BENCH_PDF_KEEP")
    small, large = [max(20, int(n * scale)) for n in SIZES] if scale < 1 else SIZES
    elapsed, pages = {small: [], large: []}, {}
    with app.test_request_context(), frozen_clock():
        batch = largest_published_batch()
        all_rows = announcement_rows(large)
        db.session.remove()
        # warm-up: the worker's imports, as after any earlier PDF
        whitelist_pdf.render_announcement(batch, all_rows[:50])
        for size in (small, large, large, small):
            seconds_taken, pages[size] = _render_once(whitelist_pdf, batch, all_rows[:size], kind, keep)
            elapsed[size].append(seconds_taken)
        sampler = TreeMemorySampler()
        _render_once(whitelist_pdf, batch, all_rows, kind, None, sampler)
    note(f"pdf[{kind}]: largest single renderer's Rss (getrusage RUSAGE_CHILDREN ru_maxrss) "
         f"{resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024:.0f} MB")
    best = {size: min(times) for size, times in elapsed.items()}
    label = (lambda size: f"pdf_{size}_seconds") if scale >= 1 else (lambda size: f"pdf_{size}_rows_seconds")
    return [(label(small), round(best[small], 2)), (label(large), round(best[large], 2)),
            (f"pdf_{large}_vs_{small}" + ("" if scale >= 1 else "_rows"), round(best[large] / best[small], 2)),
            ("pdf_peak_rss_mb", round(sampler.peak_pss_kb / 1024)),
            (f"pdf_pages_{small}", pages[small]), (f"pdf_pages_{large}", pages[large])]


def main(argv=None):
    """`python -m bench.pdf --url <database URL> [--scale S]`: the child process of announcement_pdf."""
    parser = argparse.ArgumentParser(prog="python -m bench.pdf")
    parser.add_argument("--url", required=True, help="the benchmark database (SQLite)")
    parser.add_argument("--scale", type=float, default=1.0)
    args = parser.parse_args(argv)
    from bench.dataset import make_app

    try:
        figures = measure(make_app(args.url), args.scale)
    except Exception as exc:  # noqa: BLE001 - reported to the bench process, which records the failure
        import traceback
        traceback.print_exc()
        print(json.dumps({"error": f"{type(exc).__name__}: {str(exc).strip()[:300]}"}), flush=True)
        return 1
    print(json.dumps({"figures": figures}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
