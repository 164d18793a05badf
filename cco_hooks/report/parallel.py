"""A full scan of a large ledger split across forked workers, one per core.

The ledger is cut at line starts into ranges; forked workers scan all but the last, each spilling
its rows to its own temporary file, while this process scans the last (with the file's tail). The
rows are integer sums, so merging them partition by partition gives exactly what one process
would: the split is invisible in the result. A worker that fails has its range scanned here.
"""

import array
import marshal
import os
import sys

from cco_hooks.report.rows import merge_sums
from cco_hooks.report.scan import scan, scan_range
from cco_hooks.report.summary import LedgerSummary
from cco_hooks.report.summary_file import Spill

PARALLEL_BYTES = 32 << 20  # a full scan forks one worker per this many bytes (and per core)
MAX_WORKERS = 4


def workers_for(nbytes, env=None):
    """How many processes scan ``nbytes``: one per core (at most MAX_WORKERS), one per
    PARALLEL_BYTES, only where ``fork`` is safe and cheap (Linux). ``CCO_HOOKS_REPORT_WORKERS``
    overrides the core count (1: never fork)."""
    if not (sys.platform.startswith("linux") and hasattr(os, "fork")):
        return 1
    threading = sys.modules.get("threading")
    if threading is not None and threading.active_count() > 1:
        return 1  # forking a threaded process can deadlock the child
    env = os.environ if env is None else env
    wanted = env.get("CCO_HOOKS_REPORT_WORKERS", "")
    cores = int(wanted) if wanted.isdigit() and int(wanted) > 0 else (os.cpu_count() or 1)
    return max(1, min(cores, MAX_WORKERS, nbytes // PARALLEL_BYTES))


def _cuts(f, start, end, parts):
    """Byte offsets splitting [start, end) into ``parts`` ranges that begin at line starts."""
    cuts = [start]
    for k in range(1, parts):
        at = start + (end - start) * k // parts
        f.seek(at - 1)  # a line starts at ``at`` if the byte before it is a newline
        scanned = at - 1
        while True:
            block = f.read(65536)
            if not block:
                at = end
                break
            i = block.find(b"\n")
            if i >= 0:
                at = scanned + i + 1
                break
            scanned += len(block)
        if cuts[-1] < at < end:
            cuts.append(at)
    cuts.append(end)
    return cuts


def _scan_part(path, start, end, backend, spill_dir, zone):
    """Scan bytes [start, end) of the ledger into a spill; what the merge needs, as plain data."""
    part = LedgerSummary(path, zone)
    part.offset = start
    part.spill = Spill(spill_dir, path)
    with open(path, "rb") as g:
        g.seek(start)
        scan_range(part, g, backend, None, 0, end)
    part.spill.close()
    return {
        "spill": (part.spill.name, part.spill.index),
        "rollups": part.rollups,
        "drift": part.drift,
        "drift_offsets": part.drift_offsets.tobytes(),
        "skipped": part.skipped,
    }


def _fork_worker(path, start, end, backend, spill_dir, zone):
    """A forked process scanning [start, end); returns ``(pid, read end of its pipe)``."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child's coverage is not collected
        code = 1
        try:
            os.close(r)
            data = marshal.dumps(_scan_part(path, start, end, backend, spill_dir, zone))
            with os.fdopen(w, "wb") as out:
                out.write(data)
            code = 0
        finally:
            os._exit(code)
    os.close(w)
    return pid, r


def _worker_state(pid, r):
    """What a worker sent, once it has exited; None if it failed."""
    try:
        with os.fdopen(r, "rb") as inp:
            data = inp.read()
    finally:
        _, status = os.waitpid(pid, 0)
    try:
        return marshal.loads(data) if status == 0 else None
    except (EOFError, ValueError, TypeError):
        return None


def _add_state(summary, state, offsets):
    """Add a worker's sums (not its rows: they stay in its spill) into ``summary``."""
    for dim, sums in state["rollups"].items():
        merge_sums(summary.rollups.setdefault(dim, {}), sums)
    for dkey, count in state["drift"].items():
        summary.drift[dkey] = summary.drift.get(dkey, 0) + count
    offsets.frombytes(state["drift_offsets"])
    summary.skipped += state["skipped"]


def scan_parallel(summary, f, backend, progress, end, parts, spill_dir):
    """A full scan split into ``parts`` ranges: all but the last in forked processes, the last
    here (into ``summary.spill``). Returns the workers' spills, in file order."""
    cuts = _cuts(f, summary.offset, end, parts)
    children = []
    spills = []
    try:
        for a, b in zip(cuts[:-2], cuts[1:-1], strict=True):
            pid, r = _fork_worker(summary.path, a, b, backend, spill_dir, summary.zone)
            children.append((pid, r, a, b))
        summary.offset = cuts[-2]
        f.seek(cuts[-2])
        scan(summary, f, backend, progress, end - cuts[-2])
        offsets = array.array("q")
        while children:
            pid, r, a, b = children.pop(0)
            state = _worker_state(pid, r)
            if state is None:
                state = _scan_part(summary.path, a, b, backend, spill_dir, summary.zone)
            spills.append(state["spill"])
            _add_state(summary, state, offsets)
    finally:
        for pid, r, _, _ in children:  # only after an error: let the workers go
            try:
                os.close(r)
            except OSError:
                pass
            os.waitpid(pid, 0)
    offsets.extend(summary.drift_offsets)
    summary.drift_offsets = offsets
    summary.scanned_bytes = summary.offset - cuts[0]
    return spills
