"""One ledger's summary: its rows' sums, part in memory, part in partitions on disk.

Sessions keep coming, so the rows (and the session records) grow with the ledger; memory must
not. So:

- In memory, and in the summary file's footer, only what is bounded by the ledger's dimensions,
  not by its sessions: the *rollups* (the rows summed per day, project, agent, model and decision),
  the session share's parts (per partition: sessions with a recorded cost, their cost, their
  spawns' cost, the same per project), the drift counts and the offsets of drifted spawns.
- On disk, the rows and the latest session record of every session, in ``PARTS`` *partitions* by
  ``crc32(session_id)``: a session's rows and records are in the same partition of every summary,
  so a session can be joined across several ledgers one partition at a time.

Reports without filters and not ``--by session`` read no partition; a filter or ``--by session``
is one pass over the partitions, one in memory at a time. ``update.summarize`` builds and keeps a
summary up to date; ``summary_file`` is its file.
"""

import array
import marshal
import zlib
from operator import add

from cco_hooks import zones
from cco_hooks.report.rows import COST, DECISION, REWRITES, ROLLUP_DIMS, SESSION, SPAWNS, merge_sums, roll_up, sum_rows

PARTS = 64  # the rows and session records are kept on disk in this many partitions, by session


class DamagedSummary(ValueError):
    """A saved summary's rows do not match their checksum: scan the ledger again."""


def part_of(session_id):
    """The partition of a session's rows and records: the same in every run and every summary."""
    if session_id is None:
        return 0
    return zlib.crc32(session_id.encode("utf-8", "surrogatepass")) % PARTS


def merge_into(part, rows, records):
    """Add ``{key: row}`` and ``{session_id: record}`` (the later ones in file order) into a
    partition ``(rows, sessions)``; the latest session record of a session wins, a later one on a
    tie. The rows and records given become the partition's (they are never changed in place)."""
    prows, psessions = part
    # A team's sessions are short: a batch's keys are mostly new here, so only the keys in
    # common are added in Python, the rest are taken in one C call.
    for key in prows.keys() & rows.keys():
        rows[key] = list(map(add, prows[key], rows[key]))
    prows.update(rows)
    for sid in psessions.keys() & records.keys():
        if records[sid][0] < psessions[sid][0]:
            records[sid] = psessions[sid]
    psessions.update(records)


def fingerprint(session_id):
    """A session id as a 64-bit number, the same in every run (``None``: 0)."""
    if session_id is None:
        return 0
    data = session_id.encode("utf-8", "surrogatepass")
    return zlib.crc32(data) << 32 | zlib.adler32(data)


def share_and_marks(part):
    """A partition's part of the session share: ``[sessions with a recorded cost, their cost,
    the cost of their spawns, {project: [session cost, cost of spawns]}]`` (nano-dollars); and its
    *marks*, the fingerprints of its sessions (with rows or a record there) as bytes. Where the
    marks of several ledgers' summaries share no fingerprint, those ledgers have no session in
    common in that partition, so their shares there just add up (``document``)."""
    rows, sessions = part
    count = cost = spawns = 0
    by_project = {}
    covered = {}
    for key, row in rows.items():
        sid = key[SESSION]
        covered[sid] = covered.get(sid, 0) + row[COST]
    for sid, (_, project, c) in sessions.items():
        if c is None:
            continue
        s = covered.get(sid, 0)
        count += 1
        cost += c
        spawns += s
        prev = by_project.get(project)
        by_project[project] = [c, s] if prev is None else [prev[0] + c, prev[1] + s]
    crc32, adler32 = zlib.crc32, zlib.adler32  # fingerprint(), without a call per session
    marks = array.array("Q")
    for sid in covered.keys() | sessions.keys():
        if sid is None:
            marks.append(0)
        else:
            data = sid.encode("utf-8", "surrogatepass")
            marks.append(crc32(data) << 32 | adler32(data))
    marks = marks.tobytes()
    return [count, cost, spawns, by_project], marks


def disjoint(marks):
    """True when no fingerprint occurs in two of ``marks`` (bytes or None): no session in common."""
    present = [m for m in marks if m]
    if len(present) < 2:
        return True
    seen = set()
    total = 0
    for m in present:
        fingerprints = array.array("Q")
        fingerprints.frombytes(m)
        total += len(fingerprints)
        seen.update(fingerprints)
    return len(seen) == total


def merge_shares(shares):
    """The session share of a whole summary X."""
    count = cost = spawns = 0
    by_project = {}
    for share in shares:
        if share is None:
            continue
        count += share[0]
        cost += share[1]
        spawns += share[2]
        for project, (c, s) in share[3].items():
            prev = by_project.get(project)
            by_project[project] = [c, s] if prev is None else [prev[0] + c, prev[1] + s]
    return count, cost, spawns, by_project


def with_tails(summaries):
    """Each ledger's summary, then its tail (a last record without its newline) if it has one."""
    for s in summaries:
        yield s
        if s.tail is not None:
            yield s.tail


def _batch_by_partition(work, records):
    """``{partition: ({key: row}, {session_id: session record})}`` for one batch."""
    # Sessions are many and short in a team's ledgers: about a row per line, so no call per row.
    crc32 = zlib.crc32
    rows_in = [{} for _ in range(PARTS)]
    records_in = [{} for _ in range(PARTS)]
    parts = {None: 0}  # session_id -> partition, for this batch (part_of)
    for key, row in work.items():
        sid = key[SESSION]
        p = parts.get(sid)
        if p is None:
            p = parts[sid] = crc32(sid.encode("utf-8", "surrogatepass")) % PARTS
        rows_in[p][key] = row
    for sid, rec in records.items():
        p = parts.get(sid)
        if p is None:
            p = parts[sid] = crc32(sid.encode("utf-8", "surrogatepass")) % PARTS
        records_in[p][sid] = rec
    return {p: (rows_in[p], records_in[p]) for p in range(PARTS) if rows_in[p] or records_in[p]}


class LedgerSummary:
    """The sums for one ledger file, and where the scan stopped.

    In memory: the rollups per bounded key field, the session share and session fingerprints per
    partition, the drift
    counts and offsets. On disk (the summary file, or a temporary file): the rows and the latest
    session records, in ``PARTS`` partitions by session, read one at a time when a query needs them.
    """

    __slots__ = (
        "path",
        "work",
        "new_sessions",
        "rollups",
        "shares",
        "marks",
        "drift",
        "drift_offsets",
        "skipped",
        "offset",
        "torn",
        "tail",
        "ident",
        "head",
        "last",
        "rebuilt",
        "scanned_bytes",
        "changed",
        "file",
        "part_spans",
        "loaded",
        "spill",
        "zone",
    )

    def __init__(self, path, zone=None):
        self.path = path
        self.zone = zone or zones.UTC  # the time zone of the rows' days
        self.work = {}  # key -> list row (fast to add to): what the scan running now adds
        self.new_sessions = {}  # session_id -> [ts, project, cost or None]: read, not yet filed
        self.rollups = {dim: {} for dim in ROLLUP_DIMS}  # key field -> {group: [WIDTH sums]}
        self.shares = [None] * PARTS  # each partition's part of the session share (share_and_marks)
        self.marks = [None] * PARTS  # each partition's session fingerprints (share_and_marks)
        self.drift = {}  # key tuple + (cause,) -> count
        self.drift_offsets = array.array("q")  # where each drifted spawn's line starts
        self.skipped = 0  # lines skipped below ``offset``
        self.offset = 0  # bytes consumed: always the end of a complete line
        self.torn = 0  # 1 when the bytes after ``offset`` are a torn line (no newline, no record)
        self.tail = None  # a whole record after ``offset`` without its newline: this run only
        self.ident = None  # (st_dev, st_ino)
        self.head = (0, 0)  # (length, crc32) of the first bytes, up to summary_file.HEAD_BYTES
        self.last = (0, 0, 0)  # (start, length, crc32) of the last line consumed
        self.rebuilt = True  # False when this run started from a saved summary
        self.scanned_bytes = 0  # bytes parsed by this run
        self.changed = False  # the saved summary needs writing again
        self.file = None  # the open file the partitions are in
        self.part_spans = None  # per partition: (offset, length, crc32) in ``file``, or None
        self.loaded = {}  # partition -> (rows, sessions) changed in memory, not yet written
        self.spill = None  # a full scan's summary_file.Spill

    @property
    def skipped_lines(self):
        return self.skipped + self.torn

    def partition(self, p):
        """``(rows, sessions)`` of partition ``p``: ``{key: [sums]}`` and
        ``{session_id: [ts, project, session cost or None]}``. Read from disk each time unless it
        is being changed."""
        part = self.loaded.get(p)
        if part is not None:
            return part
        where = self.part_spans[p] if self.part_spans is not None else None
        if where is None:
            return {}, {}
        off, n, crc = where
        self.file.seek(off)
        data = self.file.read(n)
        if len(data) != n or zlib.crc32(data) != crc:
            raise DamagedSummary(self.path)
        try:
            rows, sessions = marshal.loads(data)
        except (EOFError, ValueError, TypeError):
            raise DamagedSummary(self.path) from None
        if type(rows) is not dict or type(sessions) is not dict:
            raise DamagedSummary(self.path)
        return rows, sessions

    def _take(self, p):
        part = self.loaded.get(p)
        if part is None:
            part = self.loaded[p] = self.partition(p)
        return part

    def group(self, dim, key_ok=None):
        """``{group: [sums]}`` by key field ``dim``, over the rows whose key passes ``key_ok``:
        from the rollups without a filter (except by session), else a pass over the partitions."""
        if key_ok is None and dim in self.rollups:
            return self.rollups[dim]
        out = {}
        for p in range(PARTS):
            rows = self.partition(p)[0]
            merge_sums(out, sum_rows((k[dim], row) for k, row in rows.items() if key_ok is None or key_ok(k)))
        return out

    def absorb(self):
        """Take what the scan added (``work``, ``new_sessions``) into the rollups and the
        partitions: into the spill during a full scan, else into the partitions it touches
        (loaded, changed in memory, written with the summary)."""
        work = self.work
        records = self.new_sessions
        if not work and not records:
            return
        self.work = {}
        self.new_sessions = {}
        for key, row in work.items():
            if key[DECISION] == "rewrite":  # the action is in the key: every spawn here is one
                row[REWRITES] = row[SPAWNS]
        if work:
            roll_up(self.rollups, work)
        by_part = _batch_by_partition(work, records)
        self.changed = True
        if self.spill is not None:
            self.spill.write(by_part)
            return
        for p, (rows, recs) in by_part.items():
            part = self._take(p)
            merge_into(part, rows, recs)
            self.shares[p], self.marks[p] = share_and_marks(part)

    def close(self):
        if self.file is not None:
            self.file.close()
            self.file = None
