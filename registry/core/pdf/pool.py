"""The renderers: each task runs in a forked child process, at most so many at a time, all under one
time bound; their memory goes back to the system when they exit. Before its first fork the parent
imports WeasyPrint and renders one fixed line (no user data), so a renderer starts warm instead of
paying the ~1 s import and the font set-up each time.
"""
import ctypes
import gc
import logging
import multiprocessing
import os
import time
from multiprocessing.connection import wait

from registry.core.pdf import engine

log = logging.getLogger(__name__)


class PdfError(RuntimeError):
    pass


class PdfTimeout(PdfError):
    pass


def _child(conn, function, args):
    # The parent's objects stay where fork() left them: the collector must not touch (and so copy)
    # every page of them. And a renderer lives for one document: reference counting frees WeasyPrint's
    # boxes, and cyclic collection cost 4.6 % of a part's instructions for no lower peak (measured on the
    # table layout the announcement had before its text grid).
    gc.freeze()
    gc.disable()
    try:
        conn.send(("ok", function(*args)))
    except Exception as exc:  # noqa: BLE001 - report any failure to the parent
        conn.send(("error", f"{type(exc).__name__}: {exc}"))
    finally:
        conn.close()


_WARM_UP = ('<html><head><style>html { font-family: "Noto Sans CJK SC" }</style></head>'
            '<body><p>白名单 第 1 页</p></body></html>')
_warm = False


def _preload():
    """Import what the children run and render one fixed line, once per process: every fork inherits the
    imports (~1 s), fontconfig's and Pango's caches and cffi's parsed types (~60 ms a renderer)."""
    global _warm
    if not _warm:
        import pypdf  # noqa: F401
        try:
            engine.render_html(_WARM_UP)
        except Exception:  # noqa: BLE001 - the renderers will report what is wrong
            log.exception("PDF warm-up failed")
        _warm = True


def cpu_count():
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def run(tasks, deadline, workers=1):
    """Run each (function, args) in its own forked child, at most `workers` at a time; their results
    in order. Past `deadline` (time.monotonic()) every child still running is killed."""
    _preload()
    ctx = multiprocessing.get_context("fork")
    results = [None] * len(tasks)
    waiting = list(enumerate(tasks))
    running = {}   # reading end -> (index, process)
    try:
        while waiting or running:
            while waiting and len(running) < workers:
                index, (function, args) = waiting.pop(0)
                reader, writer = ctx.Pipe(duplex=False)
                process = ctx.Process(target=_child, args=(writer, function, args), daemon=True)
                process.start()
                writer.close()
                running[reader] = (index, process)
            remaining = deadline - time.monotonic()
            ready = wait(list(running), timeout=remaining) if remaining > 0 else []
            if not ready:
                raise PdfTimeout("PDF rendering exceeded its time bound")
            for reader in ready:
                index, process = running.pop(reader)
                try:
                    status, payload = reader.recv()
                except EOFError as exc:
                    raise PdfError("PDF renderer exited without a result") from exc
                finally:
                    reader.close()
                    process.join(5)
                if status != "ok":
                    raise PdfError(payload)
                results[index] = payload
    finally:
        for reader, (_index, process) in running.items():
            reader.close()
            if process.is_alive():
                process.kill()
            process.join(5)
    return results


def give_back_memory():
    """Hand the heap that a long document's part PDFs and pickles used back to the system. glibc keeps
    freed memory above its (growing) mmap threshold in the heap: ~30 MB of a web worker after a
    5,000-row announcement. Best effort, glibc only."""
    try:
        ctypes.CDLL(None).malloc_trim(0)
    except (OSError, AttributeError):
        pass
