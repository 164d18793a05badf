"""The ledger's incremental summary: exact partial sums at a fine grain, kept beside the ledger.

A scan streams the ledger and adds every record into the *row* of its key
``(day, session, project, agent type, actual model, decision action)``; a row holds the
``VALUE_FIELDS`` sums as integers (money in nano-dollars, so sums are exact and the order they are
added in never matters). Any report, for any ``--by`` and any filter, can be answered from these
rows. Sessions keep coming, so the rows (and the session records) grow with the ledger; memory
must not. So:

- In memory, and in the summary file's footer, only what is bounded by the ledger's dimensions,
  not by its sessions: the *rollups* (the rows summed per day, project, agent, model and decision),
  the session share's parts (per partition: sessions with a recorded cost, their cost, their
  spawns' cost, the same per project), the drift counts and the offsets of drifted spawns.
- On disk, the rows and the latest session record of every session, in ``PARTS`` *partitions* by
  ``crc32(session_id)``: a session's rows and records are in the same partition of every summary,
  so a session can be joined across several ledgers one partition at a time.

A full scan keeps a bounded batch of rows (``WORK_KEYS``) in memory; each batch goes into the
rollups and is *spilled*, partition by partition, to a temporary file beside the summary; at the
end each partition's chunks are merged (in file order: the latest session record wins, a later one
on a tie) and written, one partition in memory at a time. A repeated report adds the new lines'
rows into the rollups and into the few partitions of their sessions, and writes the summary again
copying the other partitions as they are. Reports without filters and not ``--by session`` read no
partition; a filter or ``--by session`` is one pass over the partitions (a scan of the summary, not
of the ledger). Peak memory is thus flat in ledger size (see bench/README.md).

The summary also holds the byte offset scanned, the ledger's device and inode, and CRC-32s of its
first 4 KiB and of the last line scanned. The next report checks them and scans only the bytes
after the offset; a different inode (rotation, rewrite by rename), a file shorter than the offset
(truncation) or a changed first block or last line (rewrite in place) throws the summary away and
rescans from byte 0, so it is never stale. (An edit in the middle of the file that keeps its size,
its first 4 KiB and its last line is not detected; the hooks only ever append.) Each partition has
its CRC-32: a damaged one raises ``DamagedSummary`` and the report scans the ledger again.

Parsing: ``msgspec`` (the ``fast`` extra) decodes each line straight into the few fields the
report needs, type- and range-checked in C, and skips the rest without building it; without it,
``orjson`` or the stdlib parse whole dicts and the same checks run in Python. A full scan of a
large ledger is split across forked workers, one per core (``workers_for``); integer sums make the
split invisible in the result. See bench/README.md for the figures. Both apply one rule: a line that is not one JSON object of schema
v1 with the fields below, of the right types, is *skipped* and counted, never fatal. A last line
without its ``\\n`` is read as ``ledger.iter_records`` reads it: a whole record counts (for this
run only: it is read again next time), anything else is torn and counted as skipped.
"""

import array
import gc
import marshal
import os
import sys
import tempfile
import time
import zlib
from itertools import chain
from operator import add
from typing import Annotated, Literal, Optional

from cco_hooks import models
from cco_hooks.errors import CcoHooksError

try:  # the fast path: decode only the fields we need, type-checked in C
    import msgspec
except ImportError:  # pragma: no cover - exercised by the dict backend tests instead
    msgspec = None

try:
    import orjson

    _loads = orjson.loads
    _LOADS_ERRORS = (orjson.JSONDecodeError, ValueError, TypeError)
except ImportError:  # pragma: no cover
    from cco_hooks.fastjson import loads as _loads

    _LOADS_ERRORS = (ValueError, TypeError)

# ---- the rows' layout -------------------------------------------------------------------------

KEY_FIELDS = ("day", "session", "project", "agent", "model", "decision")
DAY, SESSION, PROJECT, AGENT, MODEL, DECISION = range(6)

VALUE_FIELDS = (
    "spawns",  # launched spawns (status completed or unpriced)
    "denials",  # status denied: blocked by PreToolUse, never ran
    "unpriced",  # launched, cost unknown (cost_usd null): not in any cost sum
    "requested_unpriced",  # cost known, cost at the requested model unknown: not in savings
    "drift",  # ran on another model family than the one enforced
    "tokens_input",
    "tokens_output",
    "tokens_cache_read",
    "tokens_cache_write",  # 5-minute and 1-hour cache writes
    "cost_nusd",  # nano-dollars, over spawns whose cost is known
    "requested_cost_nusd",  # over spawns whose cost and requested cost are both known
    "requested_base_nusd",  # their own cost: savings = requested_cost - requested_base
    "rewrites",  # launched spawns whose decision was rewrite
)
(SPAWNS, DENIALS, UNPRICED, REQ_UNPRICED, DRIFT, T_IN, T_OUT, T_CREAD, T_CWRITE, COST, REQ_COST,
 REQ_BASE, REWRITES) = range(len(VALUE_FIELDS))
WIDTH = len(VALUE_FIELDS)
NANO = 1_000_000_000  # money is summed in integer nano-dollars: exact, whatever the order
# Bounds a record must respect (else it is skipped): they also keep every row inside int64.
MAX_TOKENS = 10**12  # per category and spawn
MAX_COST_USD = 10**6  # per spawn or session

# Actions under which the hook really chose the model; only there can the model drift from it.
ENFORCING_ACTIONS = ("rewrite", "allow")

DRIFT_CAUSES = {
    "fork": 'Claude Code runs a "fork" subagent on the parent\'s model whatever the call says',
    "version_quirk": "a Claude Code version that ignores the model parameter (2.1.69-2.1.71) "
                     "or lets CLAUDE_CODE_SUBAGENT_MODEL win over it (2.1.2xx)",
    "another_hook": "the spawn ran on the model Claude asked for: another PreToolUse hook's "
                    "answer won over the rewrite",
    "substituted": "Claude Code ran a model that neither Claude nor the rule asked for "
                   "(a fallback model, or the model changed mid-run)",
}

SUMMARY_SUFFIX = ".summary"
SUMMARY_FORMAT = 4
_MAGIC = b"cco-hooks report summary\n"
# marshal's format belongs to the interpreter: a summary written by another Python is rebuilt.
_PY_TAG = f"{sys.implementation.name}-{sys.version_info[0]}.{sys.version_info[1]}\n".encode()
HEAD_BYTES = 4096
READ_CHUNK = 1 << 18  # 256 KiB: big enough to amortise the loop, small enough to stay in cache
WORK_KEYS = 8192  # a scan's rows (fast lists of ints) go to the rollups and partitions past this many
PARALLEL_BYTES = 32 << 20  # a full scan forks one worker per this many bytes (and per core)
MAX_WORKERS = 4
PARTS = 64  # the rows and session records are kept on disk in this many partitions, by session
ROLLUP_DIMS = (0, 2, 3, 4, 5)  # DAY, PROJECT, AGENT, MODEL, DECISION: bounded, kept in memory


def _row_sums(pairs):
    """``{group: [WIDTH sums]}`` from ``(group, row)`` pairs; the columns are summed in C."""
    buckets = {}
    for g, row in pairs:
        bucket = buckets.get(g)
        if bucket is None:
            buckets[g] = [row]
        else:
            bucket.append(row)
    out = {}
    for g, rows in buckets.items():
        if len(rows) == 1:
            out[g] = list(rows[0])
        else:
            flat = array.array("q", chain.from_iterable(rows))
            out[g] = [sum(flat[c::WIDTH]) for c in range(WIDTH)]
    return out


def merge_sums(acc, sums):
    """Add ``{group: [sums]}`` into ``acc``."""
    for g, values in sums.items():
        prev = acc.get(g)
        acc[g] = list(values) if prev is None else list(map(add, prev, values))


def _roll_up(rollups, work):
    """Add the rows of ``work`` into the rollups of every bounded key field: by day, and through
    one smaller cube of (project, agent, model, decision), by each of those."""
    by_day = {}
    cube = {}
    for key, row in work.items():
        day = key[DAY]
        bucket = by_day.get(day)
        if bucket is None:
            by_day[day] = [row]
        else:
            bucket.append(row)
        rest = key[PROJECT:]
        bucket = cube.get(rest)
        if bucket is None:
            cube[rest] = [row]
        else:
            bucket.append(row)
    merge_sums(rollups.setdefault(DAY, {}), {g: list(map(sum, zip(*rows))) for g, rows in by_day.items()})
    cube = {g: list(map(sum, zip(*rows))) if len(rows) > 1 else rows[0] for g, rows in cube.items()}
    for dim in (PROJECT, AGENT, MODEL, DECISION):
        merge_sums(rollups.setdefault(dim, {}), _row_sums((g[dim - PROJECT], row) for g, row in cube.items()))


class DamagedSummary(ValueError):
    """A saved summary's rows do not match their checksum: scan the ledger again."""


def part_of(session_id):
    """The partition of a session's rows and records: the same in every run and every summary."""
    if session_id is None:
        return 0
    return zlib.crc32(session_id.encode("utf-8", "surrogatepass")) % PARTS


def _merge_into(part, rows, records):
    """Add ``(key, row)`` pairs and ``(session_id, record)`` pairs (in file order) into a partition
    ``(rows, sessions)``; the latest session record of a session wins, a later one on a tie."""
    prows, psessions = part
    for key, row in rows:
        prev = prows.get(key)
        prows[key] = list(row) if prev is None else list(map(add, prev, row))
    for sid, rec in records:
        prev = psessions.get(sid)
        if prev is None or rec[0] >= prev[0]:
            psessions[sid] = rec


def _share_of(part):
    """A partition's part of the session share: ``[sessions with a recorded cost, their cost,
    the cost of their spawns, {project: [session cost, cost of spawns]}]`` (nano-dollars)."""
    rows, sessions = part
    count = cost = spawns = 0
    by_project = {}
    if sessions:
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
    return [count, cost, spawns, by_project]


def merge_shares(shares):
    """The session share of a whole summary from its partitions' parts (see ``_share_of``)."""
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


class _Spill:
    """Where a full scan puts its per-session rows and session records, a partition's chunk at a
    time, until they are merged partition by partition (``_write_file``)."""

    def __init__(self, directory, prefix):
        try:
            fd, self.name = tempfile.mkstemp(prefix=prefix + ".spill.", dir=directory)
        except OSError:
            fd, self.name = tempfile.mkstemp(prefix="cco-hooks-report.spill.")
        self.f = os.fdopen(fd, "w+b")
        self.pos = 0
        self.index = []  # (partition, offset, length), in file order

    def write(self, by_part):
        for p, item in by_part.items():
            data = marshal.dumps(item)
            self.f.write(data)
            self.index.append((p, self.pos, len(data)))
            self.pos += len(data)

    def close(self):
        self.f.close()


def _spill_chunks(spills):
    """``{partition: [(path, offset, length), ...]}`` in file order, over the spills in order."""
    out = {}
    for name, index in spills:
        for p, off, n in index:
            out.setdefault(p, []).append((name, off, n))
    return out


class LedgerSummary:
    """The sums for one ledger file, and where the scan stopped.

    In memory: the rollups per bounded key field, the session share per partition, the drift
    counts and offsets. On disk (the summary file, or a temporary file): the rows and the latest
    session records, in ``PARTS`` partitions by session, read one at a time when a query needs them.
    """

    __slots__ = ("path", "work", "new_sessions", "rollups", "shares", "drift", "drift_offsets",
                 "skipped", "offset", "torn", "tail", "ident", "head", "last", "rebuilt",
                 "scanned_bytes", "changed", "_file", "_parts", "_loaded", "_spill")

    def __init__(self, path):
        self.path = path
        self.work = {}  # key -> list row (fast to add to): what the scan running now adds
        self.new_sessions = {}  # session_id -> [ts, project, cost or None]: read, not yet filed
        self.rollups = {dim: {} for dim in ROLLUP_DIMS}  # key field -> {group: [WIDTH sums]}
        self.shares = [None] * PARTS  # each partition's part of the session share (_share_of)
        self.drift = {}  # key tuple + (cause,) -> count
        self.drift_offsets = array.array("q")  # where each drifted spawn's line starts
        self.skipped = 0  # lines skipped below ``offset``
        self.offset = 0  # bytes consumed: always the end of a complete line
        self.torn = 0  # 1 when the bytes after ``offset`` are a torn line (no newline, no record)
        self.tail = None  # a whole record after ``offset`` without its newline: this run only
        self.ident = None  # (st_dev, st_ino)
        self.head = (0, 0)  # (length, crc32) of the first bytes, up to HEAD_BYTES
        self.last = (0, 0, 0)  # (start, length, crc32) of the last line consumed
        self.rebuilt = True  # False when this run started from a saved summary
        self.scanned_bytes = 0  # bytes parsed by this run
        self.changed = False  # the saved summary needs writing again
        self._file = None  # the file the partitions are in
        self._parts = None  # per partition: (offset, length, crc32) in ``_file``, or None
        self._loaded = {}  # partition -> (rows, sessions) changed in memory, not yet written
        self._spill = None  # a full scan's _Spill

    @property
    def skipped_lines(self):
        return self.skipped + self.torn

    def partition(self, p):
        """``(rows, sessions)`` of partition ``p``: ``{key: [sums]}`` and
        ``{session_id: [ts, project, session cost or None]}``. Read from disk each time unless it
        is being changed."""
        part = self._loaded.get(p)
        if part is not None:
            return part
        where = self._parts[p] if self._parts is not None else None
        if where is None:
            return {}, {}
        off, n, crc = where
        self._file.seek(off)
        data = self._file.read(n)
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
        part = self._loaded.get(p)
        if part is None:
            part = self._loaded[p] = self.partition(p)
        return part

    def rows(self):
        """Every ``(key, row)``, a partition at a time (a key is in one partition only)."""
        for p in range(PARTS):
            yield from self.partition(p)[0].items()

    def totals_by_key(self):
        """``{key: [sums]}`` (for tests and tools: it holds every row)."""
        return {k: list(row) for k, row in self.rows()}

    @property
    def sessions(self):
        """``{session_id: [ts, project, cost]}``, the latest record of every session (for tests
        and tools: it holds every session)."""
        out = {}
        for p in range(PARTS):
            out.update(self.partition(p)[1])
        return out

    @property
    def covered(self):
        """The spawns' cost per session (nano-dollars; for tests and tools)."""
        return self.session_costs()

    def group(self, dim, key_ok=None):
        """``{group: [sums]}`` by key field ``dim``, over the rows whose key passes ``key_ok``:
        from the rollups without a filter (except by session), else a pass over the partitions."""
        if key_ok is None and dim in self.rollups:
            return self.rollups[dim]
        out = {}
        for p in range(PARTS):
            rows = self.partition(p)[0]
            merge_sums(out, _row_sums((k[dim], row) for k, row in rows.items()
                                      if key_ok is None or key_ok(k)))
        return out

    def session_costs(self, key_ok=None):
        """The selected spawns' cost per session (nano-dollars), over all partitions."""
        out = {}
        for key, row in self.rows():
            if key_ok is None or key_ok(key):
                sid = key[SESSION]
                out[sid] = out.get(sid, 0) + row[COST]
        return out

    def absorb(self):
        """Take what the scan added (``work``, ``new_sessions``) into the rollups and the
        partitions: into the spill during a full scan, else into the partitions it touches
        (loaded, changed in memory, written by ``save``)."""
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
            _roll_up(self.rollups, work)
        by_part = {}  # partition -> ([(key, row)], [(session_id, session record)])
        parts = {}  # session_id -> partition, for this batch

        def bucket(sid):
            p = parts.get(sid)
            if p is None:
                p = parts[sid] = part_of(sid)
            item = by_part.get(p)
            if item is None:
                item = by_part[p] = ([], [])
            return item

        for key, row in work.items():
            bucket(key[SESSION])[0].append((key, row))
        for sid, rec in records.items():
            bucket(sid)[1].append((sid, rec))
        self.changed = True
        if self._spill is not None:
            self._spill.write(by_part)
            return
        for p, (rows, recs) in by_part.items():
            part = self._take(p)
            _merge_into(part, rows, recs)
            self.shares[p] = _share_of(part)

    def close(self):
        if self._file is not None:
            self._file.close()
            self._file = None


# ---- decoding: two backends, one rule ---------------------------------------------------------

if msgspec is not None:

    _Count = Annotated[int, msgspec.Meta(ge=0, le=MAX_TOKENS)]
    _Cost = Optional[Annotated[float, msgspec.Meta(ge=0, le=MAX_COST_USD)]]

    class _MsTokens(msgspec.Struct, gc=False):
        input: _Count
        output: _Count
        cache_read: _Count
        cache_write_5m: _Count
        cache_write_1h: _Count

    class _MsDecision(msgspec.Struct, gc=False):
        # Literal: msgspec returns the one interned str, so hashing and comparing it is free.
        action: Literal["rewrite", "deny", "observe", "allow", "none", "unknown"]

    class _MsSpawn(msgspec.Struct, tag_field="kind", tag="spawn", gc=False):
        v: Literal[1]
        ts: str
        session_id: Optional[str]
        agent_type: Optional[str]
        enforced_model: Optional[str]
        actual_model: Optional[str]
        decision: _MsDecision
        status: Literal["completed", "denied", "unpriced"]
        tokens: Optional[_MsTokens]
        cost_usd: _Cost
        requested_cost_usd: _Cost
        project: Optional[str] = None  # optional in ledger schema v1

    class _MsSession(msgspec.Struct, tag_field="kind", tag="session", gc=False):
        v: Literal[1]
        ts: str
        session_id: Optional[str]
        session_cost_usd: _Cost
        project: Optional[str] = None


class _Tokens:
    __slots__ = ("input", "output", "cache_read", "cache_write_5m", "cache_write_1h")


class _Decision:
    __slots__ = ("action",)


class _Spawn:
    __slots__ = ("ts", "session_id", "project", "agent_type", "enforced_model", "actual_model",
                 "decision", "status", "tokens", "cost_usd", "requested_cost_usd")


class _Session:
    __slots__ = ("ts", "session_id", "project", "session_cost_usd")


class _Invalid(ValueError):
    pass


_STATUSES = ("completed", "denied", "unpriced")
ACTIONS = ("rewrite", "deny", "observe", "allow", "none", "unknown")
_TOKEN_FIELDS = _Tokens.__slots__


def _str(value):
    if type(value) is not str:
        raise _Invalid
    return value


def _opt_str(value):
    if value is not None and type(value) is not str:
        raise _Invalid
    return value


def _cost(value):
    """None, or a float in [0, MAX_COST_USD] (an int is taken as a float, as msgspec does)."""
    if value is None:
        return None
    t = type(value)
    if t is int:
        value = float(value)
    elif t is not float:
        raise _Invalid
    if not 0 <= value <= MAX_COST_USD:  # NaN fails this too
        raise _Invalid
    return value


def _decode_dict(line):
    """The checks msgspec's types make, for a parser that returns plain dicts."""
    r = _loads(line)
    if type(r) is not dict or type(r.get("v")) is not int or r["v"] != 1:
        raise _Invalid
    kind = r.get("kind")
    if kind == "spawn":
        s = _Spawn()
        s.ts = _str(r["ts"])
        s.session_id = _opt_str(r["session_id"])
        s.project = _opt_str(r.get("project"))
        s.agent_type = _opt_str(r["agent_type"])
        s.enforced_model = _opt_str(r["enforced_model"])
        s.actual_model = _opt_str(r["actual_model"])
        d = r["decision"]
        if type(d) is not dict:
            raise _Invalid
        s.decision = _Decision()
        s.decision.action = d["action"]
        if s.decision.action not in ACTIONS:
            raise _Invalid
        s.status = r["status"]
        if s.status not in _STATUSES:
            raise _Invalid
        t = r["tokens"]
        if t is None:
            s.tokens = None
        elif type(t) is dict:
            s.tokens = tokens = _Tokens()
            for name in _TOKEN_FIELDS:
                value = t[name]
                if type(value) is not int or not 0 <= value <= MAX_TOKENS:
                    raise _Invalid
                setattr(tokens, name, value)
        else:
            raise _Invalid
        s.cost_usd = _cost(r["cost_usd"])
        s.requested_cost_usd = _cost(r["requested_cost_usd"])
        return s
    if kind == "session":
        s = _Session()
        s.ts = _str(r["ts"])
        s.session_id = _opt_str(r["session_id"])
        s.project = _opt_str(r.get("project"))
        s.session_cost_usd = _cost(r["session_cost_usd"])
        return s
    raise _Invalid


class Backend:
    """How lines become records: ``decode(line)`` raises one of ``errors`` for a bad line."""

    def __init__(self, name, decode, errors, spawn_type, session_type):
        self.name = name
        self.decode = decode
        self.errors = errors
        self.spawn_type = spawn_type
        self.session_type = session_type


DICT_BACKEND = Backend("dict", _decode_dict, _LOADS_ERRORS + (_Invalid, KeyError), _Spawn, _Session)
if msgspec is not None:
    MSGSPEC_BACKEND = Backend(
        "msgspec", msgspec.json.Decoder(_MsSpawn | _MsSession).decode, (msgspec.DecodeError,),
        _MsSpawn, _MsSession,
    )
    DEFAULT_BACKEND = MSGSPEC_BACKEND
else:  # pragma: no cover
    MSGSPEC_BACKEND = None
    DEFAULT_BACKEND = DICT_BACKEND


# ---- checks made once per new key ------------------------------------------------------------

def valid_day(day):
    """``YYYY-MM-DD`` (the first ten characters of an ISO 8601 ``ts``)."""
    return (
        type(day) is str and len(day) == 10 and day[4] == "-" and day[7] == "-"
        and day.isascii() and (day[:4] + day[5:7] + day[8:]).isdigit()
    )


def _same_family(enforced, actual):
    want, _ = models.to_alias(enforced)
    got, _ = models.to_alias(actual)
    return want is not None and want == got


def _version(text):
    parts = []
    for piece in (text or "").split(".")[:3]:
        digits = ""
        for ch in piece:
            if not ch.isdigit():
                break
            digits += ch
        parts.append(int(digits) if digits else 0)
    return tuple(parts + [0] * (3 - len(parts)))


def drift_cause(record):
    """Why a spawn ran on another model than the enforced one, inferred from its ledger record.

    The causes are those Claude Code is known for (see DRIFT_CAUSES); the record cannot prove
    which one happened, so this names the likeliest.
    """
    agent = record.get("agent_type")
    if isinstance(agent, str) and agent.strip().lower() == "fork":
        return "fork"
    version = _version(record.get("claude_code_version"))
    if (2, 1, 69) <= version <= (2, 1, 71) or (2, 1, 200) <= version < (2, 1, 300):
        return "version_quirk"
    by_model = record.get("by_model")
    if isinstance(by_model, dict) and len(by_model) > 1:
        return "substituted"
    requested = record.get("requested_model") or record.get("requested_model_id")
    actual = record.get("actual_model")
    if isinstance(requested, str) and isinstance(actual, str) and _same_family(requested, actual):
        return "another_hook"
    return "substituted"


# ---- scanning --------------------------------------------------------------------------------

def _add_lines(summary, lines, pos, backend, interned):
    """Add ``lines`` (complete, without their newlines; the first starts at byte ``pos``) into
    ``summary.work``; returns the byte offset after them. The hot loop of a cold scan."""
    decode = backend.decode
    errors = backend.errors
    Spawn = backend.spawn_type
    Session = backend.session_type
    work = summary.work
    sessions = summary.new_sessions
    alias_id = models.ALIAS_MODEL_ID
    families = interned.setdefault(None, {})  # (enforced, actual) -> same family?
    skipped = 0
    for line in lines:
        n = len(line) + 1
        try:
            r = decode(line)
        except errors:
            if line.strip():
                skipped += 1
            pos += n
            continue
        if r.__class__ is Spawn:
            action = r.decision.action
            key = (r.ts[:10], r.session_id, r.project, r.agent_type, r.actual_model, action)
            v = work.get(key)
            if v is None:
                if not valid_day(key[0]):
                    skipped += 1
                    pos += n
                    continue
                else:
                    # One string object per distinct value, shared by every key that holds it.
                    key = tuple([x if x is None else interned.setdefault(x, x) for x in key])
                # A list of ints: updating it is twice as fast as an array's items.
                v = work[key] = [0] * WIDTH
            status = r.status
            if status == "denied":
                v[DENIALS] += 1
                pos += n
                continue
            v[SPAWNS] += 1
            t = r.tokens
            if t is not None:
                v[T_IN] += t.input
                v[T_OUT] += t.output
                v[T_CREAD] += t.cache_read
                v[T_CWRITE] += t.cache_write_5m + t.cache_write_1h
            c = r.cost_usd
            if c is None or status == "unpriced":
                v[UNPRICED] += 1
            else:
                c = round(c * NANO)
                v[COST] += c
                rc = r.requested_cost_usd
                if rc is None:
                    v[REQ_UNPRICED] += 1
                else:
                    v[REQ_COST] += round(rc * NANO)
                    v[REQ_BASE] += c
            if action == "rewrite" or action == "allow":  # ENFORCING_ACTIONS
                enforced = r.enforced_model
                actual = r.actual_model
                if enforced is not None and actual is not None and actual != alias_id.get(enforced):
                    pair = (enforced, actual)
                    same = families.get(pair)
                    if same is None:
                        same = families[pair] = _same_family(enforced, actual)
                    if not same:
                        _add_drift(summary, key, line, pos)
                        v[DRIFT] += 1
        elif r.__class__ is Session:
            ts = r.ts
            if not valid_day(ts[:10]):
                skipped += 1
            elif r.session_id is not None:  # else there is no session to attach the cost to
                prev = sessions.get(r.session_id)
                if prev is None or ts >= prev[0]:  # the latest record of a session wins
                    cost = r.session_cost_usd
                    sessions[r.session_id] = [ts, r.project, None if cost is None else round(cost * NANO)]
        pos += n
    summary.skipped += skipped
    return pos


def _add_drift(summary, key, line, pos):
    try:
        full = _loads(line)
    except _LOADS_ERRORS:  # pragma: no cover - the decoder accepted it
        full = {}
    dkey = key + (drift_cause(full if type(full) is dict else {}),)
    summary.drift[dkey] = summary.drift.get(dkey, 0) + 1
    summary.drift_offsets.append(pos)


def _scan_range(summary, f, backend, progress, total, end=None):
    """Add the complete lines from ``f`` (positioned at ``summary.offset``, up to byte ``end`` or
    the end of the file) into ``summary``; returns the bytes after the last newline."""
    interned = {}
    start = pos = summary.offset
    rem = b""
    read = f.read
    left = -1 if end is None else end - start
    while left:
        data = read(READ_CHUNK if left < 0 else min(READ_CHUNK, left))
        if not data:
            break
        if left > 0:
            left -= len(data)
        lines = data.split(b"\n")
        if rem:
            lines[0] = rem + lines[0]
        rem = lines.pop()
        if lines:
            pos = _add_lines(summary, lines, pos, backend, interned)
            if len(summary.work) > WORK_KEYS or len(summary.new_sessions) > WORK_KEYS:
                summary.absorb()
                if len(interned) > WORK_KEYS:  # keep the strings of the rows still in memory only
                    families = interned[None]
                    interned.clear()
                    interned[None] = families
        if progress is not None:
            progress(pos - start, total)
    summary.scanned_bytes += pos - start
    summary.offset = pos
    summary.absorb()
    return rem, interned


def _scan(summary, f, backend, progress, total):
    """Scan from ``summary.offset`` to the end of the file; a last line without its newline goes
    into ``summary.tail`` if it is a whole record (it is read again next time), else it is torn."""
    start = summary.offset
    rem, interned = _scan_range(summary, f, backend, progress, total)
    pos = summary.offset
    summary.torn = 0
    summary.tail = None
    if rem.strip():
        tail = LedgerSummary(summary.path)
        _add_lines(tail, [rem], pos, backend, interned)
        tail.absorb()
        if tail.skipped:
            summary.torn = 1
        else:
            summary.tail = tail
    if pos != start:
        # The last line consumed, valid or not: its CRC shows an in-place rewrite next time.
        last_start, last_len, last_line = _last_line_before(f, pos)
        summary.last = (last_start, last_len, zlib.crc32(last_line))
        summary.changed = True


# ---- a full scan on several cores ------------------------------------------------------------

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


def _part_state(part):
    part._spill.close()
    return {
        "spill": (part._spill.name, part._spill.index), "rollups": part.rollups,
        "drift": part.drift, "drift_offsets": part.drift_offsets.tobytes(), "skipped": part.skipped,
    }


def _scan_part(path, start, end, backend, spill_dir):
    part = LedgerSummary(path)
    part.offset = start
    part._spill = _Spill(spill_dir, os.path.basename(path) + SUMMARY_SUFFIX + ".tmp")
    with open(path, "rb") as g:
        g.seek(start)
        _scan_range(part, g, backend, None, 0, end)
    return _part_state(part)


def _scan_parallel(summary, f, backend, progress, end, parts, spill_dir):
    """A full scan split into ``parts`` ranges: all but the last in forked processes, the last
    (with the file's tail) here; each spills its rows, and they are merged partition by partition
    (exact integers, so the result does not depend on the split). A worker that fails has its
    range scanned here. Returns the spills, in file order."""
    cuts = _cuts(f, summary.offset, end, parts)
    children = []
    spills = []
    try:
        for a, b in zip(cuts[:-2], cuts[1:-1]):
            r, w = os.pipe()
            pid = os.fork()
            if pid == 0:  # pragma: no cover - the child's coverage is not collected
                code = 1
                try:
                    os.close(r)
                    data = marshal.dumps(_scan_part(summary.path, a, b, backend, spill_dir))
                    with os.fdopen(w, "wb") as out:
                        out.write(data)
                    code = 0
                finally:
                    os._exit(code)
            os.close(w)
            children.append((pid, r, a, b))
        summary.offset = cuts[-2]
        f.seek(cuts[-2])
        _scan(summary, f, backend, progress, end - cuts[-2])
        offsets = array.array("q")
        while children:
            pid, r, a, b = children.pop(0)
            try:
                with os.fdopen(r, "rb") as inp:
                    data = inp.read()
            finally:
                _, status = os.waitpid(pid, 0)
            try:
                state = marshal.loads(data) if status == 0 else None
            except (EOFError, ValueError, TypeError):
                state = None
            if state is None:
                state = _scan_part(summary.path, a, b, backend, spill_dir)
            spills.append(state["spill"])
            for dim, sums in state["rollups"].items():
                merge_sums(summary.rollups.setdefault(dim, {}), sums)
            for dkey, count in state["drift"].items():
                summary.drift[dkey] = summary.drift.get(dkey, 0) + count
            offsets.frombytes(state["drift_offsets"])
            summary.skipped += state["skipped"]
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


def _last_line_before(f, end):
    """(start, length, bytes) of the line that ends at byte ``end``."""
    start = max(0, end - 65536)
    while True:
        f.seek(start)
        block = f.read(end - start)
        cut = block.rfind(b"\n", 0, len(block) - 1)
        if cut >= 0 or start == 0:
            begin = start + cut + 1
            return begin, end - begin, block[cut + 1:]
        start = max(0, start - 65536)


def _crc_range(f, start, length):
    f.seek(start)
    data = f.read(length)
    return zlib.crc32(data) if len(data) == length else None


# ---- persistence -----------------------------------------------------------------------------
#
# The file: _MAGIC, _PY_TAG, the footer's offset (8 bytes), the PARTS partitions (each a marshal
# of (rows, sessions), CRC-32 in the footer), then the footer: a marshal of the offsets and
# checks, the rollups, the session share per partition, the drift counts and offsets.

def summary_path(ledger_path):
    return ledger_path + SUMMARY_SUFFIX


def _load_saved(ledger_path):
    """The saved summary (its footer read, its partitions left on disk), or None if it is
    missing, foreign, damaged or from another Python."""
    path = summary_path(ledger_path)
    try:
        f = open(path, "rb")
    except OSError:
        return None
    try:
        st = os.fstat(f.fileno())
        # marshal is only fed what we wrote ourselves: a file of ours that nobody else can write.
        if hasattr(os, "getuid") and (st.st_uid != os.getuid() or st.st_mode & 0o022):
            raise ValueError
        fixed = len(_MAGIC) + len(_PY_TAG)
        if f.read(fixed) != _MAGIC + _PY_TAG:
            raise ValueError
        footer_at = int.from_bytes(f.read(8), "little")
        if not fixed + 8 <= footer_at < st.st_size:
            raise ValueError
        f.seek(footer_at)
        footer = marshal.loads(f.read())
        if footer["format"] != SUMMARY_FORMAT or footer["parts_count"] != PARTS:
            raise ValueError
        s = LedgerSummary(ledger_path)
        s.ident = tuple(footer["ident"])
        s.offset = int(footer["offset"])
        s.head = tuple(footer["head"])
        s.last = tuple(footer["last"])
        s.skipped = int(footer["skipped"])
        s.rollups = footer["rollups"]
        s.shares = footer["shares"]
        s.drift = footer["drift"]
        s.drift_offsets.frombytes(footer["drift_offsets"])
        parts = footer["parts"]
        if (type(s.rollups) is not dict or type(s.drift) is not dict or type(parts) is not list
                or len(parts) != PARTS or type(s.shares) is not list or len(s.shares) != PARTS):
            raise ValueError
        for where in parts:
            if where is not None and (where[0] < fixed + 8 or where[0] + where[1] > footer_at):
                raise ValueError
        s._parts = [None if where is None else tuple(where) for where in parts]
    except (OSError, EOFError, ValueError, TypeError, KeyError, IndexError):
        f.close()
        return None
    s._file = f
    s.rebuilt = False
    return s


def _still_valid(saved, f, st):
    """True when the ledger still begins with exactly the bytes the summary was built from."""
    if saved.ident != (st.st_dev, st.st_ino) or st.st_size < saved.offset:
        return False
    head_len, head_crc = saved.head
    if head_len != min(HEAD_BYTES, saved.offset) or _crc_range(f, 0, head_len) != head_crc:
        return False
    start, length, crc = saved.last
    if saved.offset and (start + length != saved.offset or _crc_range(f, start, length) != crc):
        return False
    return True


def _write_file(summary, out, spills=None):
    """Write the summary into ``out`` (open, empty, readable): the partitions one at a time (from
    the full scan's spills, or the ones changed in memory, or copied from the file they are in),
    then the footer. Afterwards the summary reads its partitions from ``out``."""
    fixed = _MAGIC + _PY_TAG
    out.write(fixed + bytes(8))
    pos = len(fixed) + 8
    chunks = _spill_chunks(spills) if spills is not None else None
    opened = {}
    parts = []
    try:
        for p in range(PARTS):
            if chunks is not None:  # a full scan: merge this partition's chunks, in file order
                part = ({}, {})
                for name, off, n in chunks.get(p, ()):
                    g = opened.get(name)
                    if g is None:
                        g = opened[name] = open(name, "rb")
                    g.seek(off)
                    rows, recs = marshal.loads(g.read(n))
                    _merge_into(part, rows, recs)
                summary.shares[p] = _share_of(part)
                data = marshal.dumps(part) if part[0] or part[1] else None
                del part
            elif p in summary._loaded:
                part = summary._loaded[p]
                data = marshal.dumps(part) if part[0] or part[1] else None
            elif summary._parts is not None and summary._parts[p] is not None:
                off, n, crc = summary._parts[p]
                summary._file.seek(off)
                data = summary._file.read(n)  # one partition: a small fraction of the rows
            else:
                data = None
            if data is None:
                parts.append(None)
                continue
            out.write(data)
            parts.append((pos, len(data), zlib.crc32(data)))
            pos += len(data)
    finally:
        for g in opened.values():
            g.close()
    out.write(marshal.dumps({
        "format": SUMMARY_FORMAT,
        "parts_count": PARTS,
        "ident": list(summary.ident),
        "offset": summary.offset,
        "head": list(summary.head),
        "last": list(summary.last),
        "skipped": summary.skipped,
        "parts": parts,
        "rollups": summary.rollups,
        "shares": summary.shares,
        "drift": summary.drift,
        "drift_offsets": summary.drift_offsets.tobytes(),
    }))
    out.seek(len(fixed))
    out.write(pos.to_bytes(8, "little"))
    out.flush()
    if summary._file is not None and summary._file is not out:
        summary._file.close()
    summary._file = out
    summary._parts = parts
    summary._loaded = {}


def _write_beside(summary, spills=None):
    """Write the summary beside its ledger (atomically, 0600); False when we cannot."""
    path = summary_path(summary.path)
    tmp = f"{path}.tmp.{os.getpid()}"
    try:
        fd = os.open(tmp, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o600)
    except OSError:
        return False
    out = os.fdopen(fd, "w+b")
    try:
        _write_file(summary, out, spills)
        os.replace(tmp, path)
    except OSError:
        if summary._file is out:  # the partitions are in it: keep it open, unnamed
            try:
                os.unlink(tmp)
            except OSError:
                pass
            raise
        out.close()
        try:
            os.unlink(tmp)
        except OSError:
            pass
        return False
    except BaseException:
        out.close()
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    summary.changed = False
    return True


def save(summary):
    """Write the summary beside its ledger; silently skipped when we cannot."""
    try:
        return _write_beside(summary)
    except OSError:
        return False


def summarize(ledger_path, use_saved=True, save_summary=True, backend=None, progress=None, dims=()):
    """The summary of one ledger file, brought up to date with as little reading as possible.

    ``use_saved=False`` ignores any saved summary (a full scan); ``save_summary=False`` leaves the
    summary file alone (a full scan then keeps its partitions in a temporary file). ``dims`` is
    accepted for compatibility: every bounded key field's rollup is always kept. A missing ledger
    is an empty one. ``progress(done_bytes, total_bytes)`` is called after every chunk a scan reads.
    """
    backend = backend or DEFAULT_BACKEND
    try:
        f = open(ledger_path, "rb")
    except FileNotFoundError:
        return LedgerSummary(ledger_path)
    spills = None
    with f:
        st = os.fstat(f.fileno())
        saved = _load_saved(ledger_path) if use_saved else None
        if saved is not None and _still_valid(saved, f, st):
            summary = saved
        else:
            if saved is not None:
                saved.close()
            summary = LedgerSummary(ledger_path)
        summary.ident = (st.st_dev, st.st_ino)
        start = summary.offset
        f.seek(start)
        spill_dir = os.path.dirname(os.path.abspath(ledger_path))
        prefix = os.path.basename(ledger_path) + SUMMARY_SUFFIX + ".tmp"
        # The scan builds only acyclic dicts, lists and tuples: the cycle collector would find
        # nothing, yet it re-walks the growing rows over and over (a third of a cold scan).
        collecting = gc.isenabled()
        gc.disable()
        try:
            if summary.rebuilt:  # a full scan spills its rows, merged by partition afterwards
                parts = workers_for(st.st_size - start)
                if parts > 1:
                    summary._spill = _Spill(spill_dir, prefix)
                    spills = _scan_parallel(summary, f, backend, progress, st.st_size, parts, spill_dir)
                else:
                    summary._spill = _Spill(spill_dir, prefix)
                    spills = []
                    _scan(summary, f, backend, progress, max(st.st_size - start, 1))
                summary._spill.close()
                spills.append((summary._spill.name, summary._spill.index))
                summary._spill = None
            else:
                _scan(summary, f, backend, progress, max(st.st_size - start, 1))
            if summary.rebuilt or summary.offset != start:
                head_len = min(HEAD_BYTES, summary.offset)
                summary.head = (head_len, _crc_range(f, 0, head_len) or 0)
                summary.changed = True
            if spills is not None:
                written = False
                if save_summary:
                    try:
                        written = _write_beside(summary, spills)
                    except OSError:
                        written = summary._file is not None
                if not written:
                    _write_file(summary, tempfile.TemporaryFile(), spills)
        finally:
            if collecting:
                gc.enable()
            if summary._spill is not None:
                summary._spill.close()
                spills = (spills or []) + [(summary._spill.name, ())]
                summary._spill = None
            for name, _ in spills or ():
                try:
                    os.unlink(name)
                except OSError:
                    pass
    if spills is None and save_summary and summary.changed:
        save(summary)
    return summary


class Progress:
    """A one-line progress bar on a terminal's stderr, shown once a scan has run about a second."""

    def __init__(self, stream, label, delay=1.0, clock=time.monotonic):
        self.stream = stream
        self.label = label
        self.delay = delay
        self.clock = clock
        self.started = clock()
        self.shown = False
        self.last_draw = 0.0

    def __call__(self, done, total):
        now = self.clock()
        if now - self.started < self.delay or now - self.last_draw < 0.1:
            return
        self.last_draw = now
        self.shown = True
        frac = min(1.0, done / total) if total else 1.0
        bar = "#" * int(frac * 30)
        self.stream.write(
            f"\rscanning {self.label} [{bar:<30}] {frac * 100:3.0f}%  "
            f"{done / 1e6:,.0f}/{total / 1e6:,.0f} MB"
        )
        self.stream.flush()

    def close(self):
        if self.shown:
            self.stream.write("\r\x1b[K")
            self.stream.flush()
