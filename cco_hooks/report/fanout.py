"""Several ledgers (``--ledger 'team/*.jsonl'``) brought up to date by forked workers at once.

A team's merged year is many ledgers of a few tens of megabytes each: each one alone is under the
size at which its own scan is split across cores (``parallel.PARALLEL_BYTES``), so one process
would scan them one after the other on one core. Here the ledgers with the most bytes left to
scan are dealt out to forked workers (largest first, to the least loaded), each of which brings
its ledgers' summaries up to date *and saves them beside the ledgers*, while this process does its
own share. The report then reads what the workers saved (a footer each), exactly as it reads any
summary, so the result is the same as in one process: a worker that fails, or a summary that could
not be saved, is simply scanned again here.
"""

import os

from cco_hooks.report import summary_file
from cco_hooks.report.parallel import workers_for
from cco_hooks.report.update import summarize


def bytes_to_scan(path, zone):
    """How many bytes of the ledger its saved summary (for ``zone``) lacks; 0 if unreadable."""
    try:
        size = os.stat(path).st_size
    except OSError:
        return 0
    saved = summary_file.load_saved(path, zone)
    if saved is None:
        return size
    try:
        with open(path, "rb") as f:
            st = os.fstat(f.fileno())
            return st.st_size - saved.offset if summary_file.still_valid(saved, f, st) else st.st_size
    except OSError:
        return 0
    finally:
        saved.close()


def deal(pending, workers):
    """``pending`` ``[(bytes, path)]`` dealt into ``workers`` lists of paths, largest first to the
    least loaded; list 0 is this process's."""
    bins = [[0, []] for _ in range(workers)]
    for nbytes, path in sorted(pending, key=lambda item: -item[0]):
        least = min(bins, key=lambda b: b[0])
        least[0] += nbytes
        least[1].append(path)
    return [paths for _, paths in bins]


def _fork(paths, zone):
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child's coverage is not collected
        code = 1
        try:
            os.environ["CCO_HOOKS_REPORT_WORKERS"] = "1"  # the cores are taken by the workers already
            for path in paths:
                summarize(path, zone=zone).close()
            code = 0
        finally:
            os._exit(code)
    return pid


def summarize_all(ledger_paths, zone, progress_for=None):
    """``{path: summary}`` for the ledgers this process brought up to date itself, after every
    worker has saved the others' summaries (none when one process is enough: one ledger, few
    bytes to scan, one core). ``progress_for(path)``: a progress callback or None."""
    if len(ledger_paths) < 2:
        return {}
    pending = [(n, path) for path in ledger_paths if (n := bytes_to_scan(path, zone)) > 0]
    total = sum(n for n, _ in pending)
    workers = min(workers_for(total), len(pending))  # one per core and per PARALLEL_BYTES
    if workers < 2:
        return {}
    shares = deal(pending, workers)
    children = []
    done = {}
    try:
        for paths in shares[1:]:
            children.append(_fork(paths, zone))
        for path in shares[0]:
            progress = progress_for(path) if progress_for is not None else None
            try:
                done[path] = summarize(path, zone=zone, progress=progress)
            except OSError:
                pass  # the caller reads it again and says what is wrong with it
            finally:
                if progress is not None:
                    progress.close()
    except BaseException:
        for s in done.values():
            s.close()
        raise
    finally:
        for pid in children:
            os.waitpid(pid, 0)  # a failed worker's ledgers are scanned again by the caller
    return done
