"""Bring a ledger's summary up to date, reading as little of the ledger as possible.

The saved summary holds the byte offset scanned, the ledger's device and inode, and CRC-32s of its
first 4 KiB and of the last line scanned. A report checks them and scans only the bytes after the
offset; a different inode (rotation, rewrite by rename), a file shorter than the offset
(truncation) or a changed first block or last line (rewrite in place) throws the summary away and
rescans from byte 0, so it is never stale. (An edit in the middle of the file that keeps its size,
its first 4 KiB and its last line is not detected; the hooks only ever append.)

A full scan keeps a bounded batch of rows in memory; each batch goes into the rollups and is
*spilled*, partition by partition, to a temporary file beside the summary (a ledger of at most
``IN_MEMORY_BYTES``: merged by partition in memory instead); at the end each
partition's chunks are merged (in file order: the latest session record wins, a later one on a
tie) and written, one partition in memory at a time. A large ledger's full scan is split across
forked workers (``parallel``). A repeated report adds the new lines' rows into the rollups and
into the few partitions of their sessions, and writes the summary again copying the other
partitions as they are. Peak memory is thus flat in ledger size (see bench/README.md).
"""

import gc
import os
import stat
import tempfile

from cco_hooks import files
from cco_hooks.report import summary_file
from cco_hooks.report.decode import DEFAULT_BACKEND
from cco_hooks.report.parallel import scan_parallel, workers_for
from cco_hooks.report.scan import scan
from cco_hooks.report.summary import LedgerSummary
from cco_hooks.report.summary_file import HEAD_BYTES, MemorySpill, Spill, crc_range

# A full scan of up to this many bytes in one process merges its rows by partition in memory
# (a 64 MiB ledger of a team's short sessions: ~45,000 rows, ~40 MB) rather than spilling them to
# a file and reading them back (~13% of such a scan); a longer one spills, so memory stays flat.
IN_MEMORY_BYTES = 64 << 20


def _starting_point(ledger_path, f, st, use_saved, zone):
    """The saved summary when it still describes the ledger's first bytes (and its days are in
    ``zone``), else an empty one."""
    saved = summary_file.load_saved(ledger_path, zone) if use_saved else None
    if saved is not None and summary_file.still_valid(saved, f, st):
        summary = saved
    else:
        if saved is not None:
            saved.close()
        summary = LedgerSummary(ledger_path, zone)
    summary.ident = (st.st_dev, st.st_ino)
    return summary


def _full_scan(summary, f, st, backend, progress):
    """Scan the whole ledger, its rows spilled; returns the spills ``[(path, index)]``, or a
    ``MemorySpill`` for a ledger of at most ``IN_MEMORY_BYTES`` scanned in this process."""
    spill_dir = os.path.dirname(os.path.abspath(summary.path))
    start = summary.offset
    workers = workers_for(st.st_size - start)
    if workers == 1 and st.st_size - start <= IN_MEMORY_BYTES:
        summary.spill = MemorySpill()
        scan(summary, f, backend, progress, max(st.st_size - start, 1))
        spills, summary.spill = summary.spill, None
        return spills
    summary.spill = Spill(spill_dir, summary.path)
    if workers > 1:
        spills = scan_parallel(summary, f, backend, progress, st.st_size, workers, spill_dir)
    else:
        spills = []
        scan(summary, f, backend, progress, max(st.st_size - start, 1))
    summary.spill.close()
    spills.append((summary.spill.name, summary.spill.index))
    summary.spill = None
    return spills


def _write_merged(summary, spills, save_summary):
    """Merge a full scan's spills into the summary file, else into an unnamed temporary file."""
    written = False
    if save_summary:
        try:
            written = summary_file.write_beside(summary, spills)
        except OSError:
            written = summary.file is not None
    if not written:
        summary_file.write_file(summary, tempfile.TemporaryFile(), spills)


def _remove_spills(summary, spills):
    """Delete the full scan's spill files (and the one still open after an error)."""
    if isinstance(spills, MemorySpill) or isinstance(summary.spill, MemorySpill):
        summary.spill = None
        return
    if summary.spill is not None:
        summary.spill.close()
        spills = (spills or []) + [(summary.spill.name, ())]
        summary.spill = None
    for name, _ in spills or ():
        try:
            os.unlink(name)
        except OSError:
            pass


def _scan_new_bytes(summary, f, st, backend, progress):
    """Scan what the summary lacks; returns the spills of a full scan, else None."""
    start = summary.offset
    spills = None
    if summary.rebuilt:  # a full scan spills its rows, merged by partition afterwards
        spills = _full_scan(summary, f, st, backend, progress)
    else:
        scan(summary, f, backend, progress, max(st.st_size - start, 1))
    if summary.rebuilt or summary.offset != start:
        head_len = min(HEAD_BYTES, summary.offset)
        summary.head = (head_len, crc_range(f, 0, head_len) or 0)
        summary.changed = True
    return spills


def open_ledger(ledger_path):
    """The ledger open for reading (``rb``), never blocking: a named pipe would hang the report
    and a device such as ``/dev/zero`` would be read forever, so anything but a regular file
    raises ``files.UnsafeFile`` (an ``OSError`` saying what the file is) before a byte is read.
    A link to a regular file is read: reading the user's own ledger through one harms nothing."""
    fd = os.open(ledger_path, os.O_RDONLY | files.O_NONBLOCK | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_CLOEXEC", 0))
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise files.UnsafeFile(ledger_path, files.kind_of_mode(st.st_mode))
    except BaseException:
        os.close(fd)
        raise
    return os.fdopen(fd, "rb")


def summarize(ledger_path, use_saved=True, save_summary=True, backend=None, progress=None, zone=None):
    """The summary of one ledger file, brought up to date with as little reading as possible.

    ``use_saved=False`` ignores any saved summary (a full scan); ``save_summary=False`` leaves the
    summary file alone (a full scan then keeps its partitions in a temporary file). A missing
    ledger is an empty one. ``progress(done_bytes, total_bytes)`` is called after every chunk a
    scan reads. Rows are keyed by their day in ``zone`` (UTC by default); a summary saved for
    another zone is not used (each zone has its own file, ``summary_file.summary_path``).
    """
    backend = backend or DEFAULT_BACKEND
    try:
        f = open_ledger(ledger_path)
    except FileNotFoundError:
        return LedgerSummary(ledger_path, zone)
    spills = None
    with f:
        st = os.fstat(f.fileno())
        summary = _starting_point(ledger_path, f, st, use_saved, zone)
        f.seek(summary.offset)
        # The scan builds only acyclic dicts, lists and tuples: the cycle collector would find
        # nothing, yet it re-walks the growing rows over and over (a third of a cold scan).
        collecting = gc.isenabled()
        gc.disable()
        try:
            spills = _scan_new_bytes(summary, f, st, backend, progress)
            if spills is not None:
                _write_merged(summary, spills, save_summary)
        finally:
            if collecting:
                gc.enable()
            _remove_spills(summary, spills)
    if spills is None and save_summary and summary.changed:
        summary_file.save(summary)
    return summary
