"""The ledger's incremental summary: exact partial sums at a fine grain, kept beside the ledger.

A scan streams the ledger and adds every record into the *row* of its key
``(day, session, project, agent type, actual model, decision action)``; a row holds the
``VALUE_FIELDS`` sums as integers (money in nano-dollars, so sums are exact and the order they are
added in never matters). Any report, for any ``--by`` and any filter, is answered from these rows,
so memory grows with the number of distinct keys, never with the number of lines.

What is kept, and saved as ``<ledger>.summary`` (0600), beside the rows:
- ``rollups``: the rows already summed per ``--by`` dimension that was asked for, so a report
  without filters reads a few dozen numbers instead of every row;
- ``covered``: the spawns' cost per session (for the share of session cost);
- the latest session record per session, the drift counts and the offsets of drifted spawns.
Rows live in a *base* block (written by a full scan) and a small *delta* block (what later scans
added); a repeated report loads neither block, only the delta's few rows and the small parts, and
folds the delta into the base once it has grown (``FOLD_ROWS``).

The summary also holds the byte offset scanned, the ledger's device and inode, and CRC-32s of its
first 4 KiB and of the last line scanned. The next report checks them and scans only the bytes
after the offset; a different inode (rotation, rewrite by rename), a file shorter than the offset
(truncation) or a changed first block or last line (rewrite in place) throws the summary away and
rescans from byte 0, so it is never stale. (An edit in the middle of the file that keeps its size,
its first 4 KiB and its last line is not detected; the hooks only ever append.)

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
import time
import zlib
from itertools import chain
from operator import add
from typing import Annotated, Literal, Optional

from . import models
from .errors import CcoHooksError

try:  # the fast path: decode only the fields we need, type-checked in C
    import msgspec
except ImportError:  # pragma: no cover - exercised by the dict backend tests instead
    msgspec = None

try:
    import orjson

    _loads = orjson.loads
    _LOADS_ERRORS = (orjson.JSONDecodeError, ValueError, TypeError)
except ImportError:  # pragma: no cover
    from .fastjson import loads as _loads

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
SUMMARY_FORMAT = 3
_MAGIC = b"cco-hooks report summary\n"
# marshal's format belongs to the interpreter: a summary written by another Python is rebuilt.
_PY_TAG = f"{sys.implementation.name}-{sys.version_info[0]}.{sys.version_info[1]}\n".encode()
HEAD_BYTES = 4096
READ_CHUNK = 1 << 18  # 256 KiB: big enough to amortise the loop, small enough to stay in cache
FOLD_ROWS = 4096  # the delta block is folded into the base past max(this, base rows / 8)
WORK_KEYS = 8192  # a scan's rows (fast lists of ints) move to the compact arrays past this many
PARALLEL_BYTES = 32 << 20  # a full scan forks one worker per this many bytes (and per core)
MAX_WORKERS = 4
_SECTIONS = ("keys", "values", "delta", "sessions", "covered", "rollups", "drift", "drift_offsets")


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


class DamagedSummary(ValueError):
    """A saved summary's rows do not match their checksum: scan the ledger again."""


class LedgerSummary:
    """The sums for one ledger file, and where the scan stopped."""

    __slots__ = ("path", "_raw", "_keys", "_values", "_index", "base_rows", "delta", "work", "sessions",
                 "covered", "rollups", "drift", "drift_offsets", "skipped", "offset", "torn", "tail",
                 "ident", "head", "last", "rebuilt", "scanned_bytes", "changed")

    def __init__(self, path):
        self.path = path
        self._raw = {}  # section name -> bytes still to unmarshal (the base block, lazily)
        self._keys = []  # base block: key tuples, one per row...
        self._values = array.array("q")  # ...and their WIDTH sums each, row-major
        self.base_rows = 0
        self._index = None  # key -> base row number, while rows are being added to the base
        self.delta = {}  # key -> array row: sums added since the base was written
        self.work = {}  # key -> list row (fast to add to): what the scan running now adds
        self.sessions = {}  # session_id -> [ts, project, session_cost_nusd or None]
        self.covered = {}  # session_id -> cost of its spawns (nano-dollars), all rows
        self.rollups = {}  # key field number -> {group: [WIDTH sums]}, all rows
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
        self.changed = set()  # sections to write again

    @property
    def skipped_lines(self):
        return self.skipped + self.torn

    def _base(self):
        raw = self._raw
        if "keys" in raw:
            keys, values = raw.pop("keys"), raw.pop("values")
            if zlib.crc32(keys) != raw["crc"][0] or zlib.crc32(values) != raw["crc"][1]:
                raise DamagedSummary(self.path)
            self._keys = marshal.loads(keys)
            self._values = array.array("q")
            self._values.frombytes(values)
            if type(self._keys) is not list or len(self._values) != WIDTH * len(self._keys):
                raise DamagedSummary(self.path)
        return self._keys, self._values

    def rows(self):
        """Every ``(key, row)``: the base block's rows, then the delta's (a key may be in both)."""
        keys, values = self._base()
        for i, key in enumerate(keys):
            yield key, values[i * WIDTH:(i + 1) * WIDTH]
        yield from self.delta.items()

    def totals_by_key(self):
        """``{key: [sums]}`` over both blocks (for tests and tools)."""
        out = {}
        merge_sums(out, _row_sums((k, row) for k, row in self.rows()))
        return out

    def group(self, dim, key_ok=None):
        """``{group: [sums]}`` by key field ``dim``, over the rows whose key passes ``key_ok``."""
        if key_ok is None:
            rollup = self.rollups.get(dim)
            if rollup is None:
                rollup = self.rollups[dim] = _row_sums((k[dim], row) for k, row in self.rows())
                self.changed.add("rollups")
            return rollup
        return _row_sums((k[dim], row) for k, row in self.rows() if key_ok(k))

    def session_costs(self, key_ok=None):
        """The selected spawns' cost per session (nano-dollars)."""
        if key_ok is None:
            return self.covered
        out = {}
        for key, row in self.rows():
            if key_ok(key):
                sid = key[SESSION]
                out[sid] = out.get(sid, 0) + row[COST]
        return out

    def absorb(self):
        """Take what the scan added (``work``) into the rows, rollups and per-session costs: into
        the base block during a full scan (the rows are built there directly, in compact form, a
        chunk of keys at a time), else into the delta block."""
        work = self.work
        if not work:
            return
        self.work = {}
        covered = self.covered
        for key, row in work.items():
            if key[DECISION] == "rewrite":  # the action is in the key: every spawn here is one
                row[REWRITES] = row[SPAWNS]
            sid = key[SESSION]
            covered[sid] = covered.get(sid, 0) + row[COST]
        for dim, rollup in self.rollups.items():
            merge_sums(rollup, _row_sums((k[dim], row) for k, row in work.items()))
        self.changed.update(("covered", "rollups"))
        if self.rebuilt:
            self._into_base(work.items())
            return
        delta = self.delta
        for key, row in work.items():
            prev = delta.get(key)
            delta[key] = array.array("q", row if prev is None else map(add, prev, row))
        self.changed.add("delta")
        if len(delta) > max(FOLD_ROWS, self.base_rows // 8):
            self.fold()

    def fold(self):
        """Fold the delta block into the base block."""
        if self.delta:
            self._into_base(self.delta.items())
            self.delta = {}
            self._index = None
            self.changed.add("delta")

    def _into_base(self, items):
        keys, values = self._base()
        index = self._index
        if index is None:
            index = self._index = dict(zip(keys, range(len(keys))))
        for key, row in items:
            i = index.get(key)
            if i is None:
                index[key] = len(keys)
                keys.append(key)
                values.extend(row)
            else:
                b = i * WIDTH
                values[b:b + WIDTH] = array.array("q", map(add, values[b:b + WIDTH], row))
        self.base_rows = len(keys)
        self.changed.update(("keys", "values"))


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
    known = summary._index  # key -> row of the base block, during a full scan
    base_keys = summary._keys
    sessions = summary.sessions
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
                i = known.get(key) if known is not None else None
                if i is not None:  # already in the base block: valid, and its strings shared
                    key = base_keys[i]
                elif not valid_day(key[0]):
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
            if len(summary.work) > WORK_KEYS:
                summary.absorb()
        if progress is not None:
            progress(pos - start, total)
    summary.scanned_bytes += pos - start
    summary.offset = pos
    summary.absorb()
    summary._index = None
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
        summary.changed.update(("sessions", "drift", "drift_offsets"))


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
    keys, values = part._base()
    return {
        "keys": keys, "values": values.tobytes(), "sessions": part.sessions,
        "covered": part.covered, "rollups": part.rollups, "drift": part.drift,
        "drift_offsets": part.drift_offsets.tobytes(), "skipped": part.skipped,
    }


def _scan_part(path, start, end, backend, dims):
    part = LedgerSummary(path)
    part.offset = start
    part.rollups = {dim: {} for dim in dims}
    with open(path, "rb") as g:
        g.seek(start)
        _scan_range(part, g, backend, None, 0, end)
    return _part_state(part)


def _scan_parallel(summary, f, backend, progress, end, dims, parts):
    """A full scan split into ``parts`` ranges: all but the last in forked processes, the last
    (with the file's tail) here; then their rows are added together (exact integers, so the
    result does not depend on the split). A worker that fails has its range scanned here."""
    cuts = _cuts(f, summary.offset, end, parts)
    children = []
    try:
        for a, b in zip(cuts[:-2], cuts[1:-1]):
            r, w = os.pipe()
            pid = os.fork()
            if pid == 0:  # pragma: no cover - the child's coverage is not collected
                code = 1
                try:
                    os.close(r)
                    data = marshal.dumps(_scan_part(summary.path, a, b, backend, dims))
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
        earlier = {}  # the earlier ranges' latest session records
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
            del data
            if state is None:
                state = _scan_part(summary.path, a, b, backend, dims)
            _merge_part(summary, state, earlier, offsets)
    finally:
        for pid, r, _, _ in children:  # only after an error: let the workers go
            try:
                os.close(r)
            except OSError:
                pass
            os.waitpid(pid, 0)
    summary._index = None
    for sid, rec in earlier.items():  # the last range is later in the file: it wins a tie
        prev = summary.sessions.get(sid)
        if prev is None or rec[0] > prev[0]:
            summary.sessions[sid] = rec
    offsets.extend(summary.drift_offsets)
    summary.drift_offsets = offsets
    summary.scanned_bytes = summary.offset - cuts[0]


def _merge_part(summary, state, earlier, offsets):
    """Add an earlier range's result into ``summary`` (which scans the last range)."""
    values = memoryview(state.pop("values")).cast("q")
    summary._into_base((key, values[i * WIDTH:(i + 1) * WIDTH]) for i, key in enumerate(state.pop("keys")))
    del values
    for sid, rec in state["sessions"].items():
        prev = earlier.get(sid)
        if prev is None or rec[0] >= prev[0]:
            earlier[sid] = rec
    for sid, cost in state["covered"].items():
        summary.covered[sid] = summary.covered.get(sid, 0) + cost
    for dim, sums in state["rollups"].items():
        merge_sums(summary.rollups.setdefault(dim, {}), sums)
    for dkey, count in state["drift"].items():
        summary.drift[dkey] = summary.drift.get(dkey, 0) + count
    offsets.frombytes(state["drift_offsets"])
    summary.skipped += state["skipped"]


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

def summary_path(ledger_path):
    return ledger_path + SUMMARY_SUFFIX


def _load_saved(ledger_path):
    """The saved summary, or None if it is missing, foreign, damaged or from another Python.

    The base block's rows stay raw bytes until a report needs them (``LedgerSummary.rows``)."""
    path = summary_path(ledger_path)
    try:
        with open(path, "rb") as f:
            st = os.fstat(f.fileno())
            # marshal is only fed what we wrote ourselves: a file of ours that nobody else can write.
            if hasattr(os, "getuid") and (st.st_uid != os.getuid() or st.st_mode & 0o022):
                return None
            data = f.read()
    except OSError:
        return None
    try:
        fixed = len(_MAGIC) + len(_PY_TAG)
        if data[:fixed] != _MAGIC + _PY_TAG:
            return None
        header_len = int.from_bytes(data[fixed:fixed + 8], "little")
        pos = fixed + 8 + header_len
        header = marshal.loads(data[fixed + 8:pos])
        if header["format"] != SUMMARY_FORMAT or len(header["sections"]) != len(_SECTIONS):
            return None
        view = memoryview(data)
        raw = {}
        for name, length in zip(_SECTIONS, header["sections"]):
            raw[name] = view[pos:pos + length]
            pos += length
        if pos != len(data):
            return None
        s = LedgerSummary(ledger_path)
        s.ident = tuple(header["ident"])
        s.offset = int(header["offset"])
        s.head = tuple(header["head"])
        s.last = tuple(header["last"])
        s.skipped = int(header["skipped"])
        s.base_rows = int(header["base_rows"])
        s._raw = {"keys": raw["keys"], "values": raw["values"], "crc": header["crc"], "all": raw}
        delta_keys, delta_values = marshal.loads(raw["delta"])
        dv = array.array("q")
        dv.frombytes(delta_values)
        if len(dv) != WIDTH * len(delta_keys):
            return None
        s.delta = {k: dv[i * WIDTH:(i + 1) * WIDTH] for i, k in enumerate(delta_keys)}
        s.sessions = marshal.loads(raw["sessions"])
        s.covered = marshal.loads(raw["covered"])
        s.rollups = marshal.loads(raw["rollups"])
        s.drift = marshal.loads(raw["drift"])
        s.drift_offsets.frombytes(raw["drift_offsets"])
        for part in (s.sessions, s.covered, s.rollups, s.drift):
            if type(part) is not dict:
                return None
        if len(raw["values"]) != 8 * WIDTH * s.base_rows:
            return None
    except (EOFError, ValueError, TypeError, KeyError, IndexError):
        return None
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


def _sections(summary):
    """Each section's bytes: what is unchanged is written back as it was read."""
    raw = summary._raw.get("all", {})
    changed = summary.changed
    out = []
    for name in _SECTIONS:
        if name not in changed and name in raw:
            out.append(raw[name])
            continue
        if name == "keys":
            out.append(marshal.dumps(summary._base()[0]))
        elif name == "values":
            out.append(summary._base()[1])  # written through the buffer protocol: no copy
        elif name == "delta":
            out.append(marshal.dumps((list(summary.delta),
                                      b"".join(row.tobytes() for row in summary.delta.values()))))
        elif name == "drift_offsets":
            out.append(summary.drift_offsets)
        else:
            out.append(marshal.dumps(getattr(summary, name)))
    return out


def save(summary):
    """Write the summary beside its ledger (atomically, 0600); silently skipped when we cannot."""
    sections = _sections(summary)
    header = marshal.dumps({
        "format": SUMMARY_FORMAT,
        "ident": list(summary.ident),
        "offset": summary.offset,
        "head": list(summary.head),
        "last": list(summary.last),
        "skipped": summary.skipped,
        "base_rows": summary.base_rows,
        "sections": [memoryview(part).nbytes for part in sections],
        "crc": [zlib.crc32(sections[0]), zlib.crc32(sections[1])],  # the rows, checked when read
    })
    path = summary_path(summary.path)
    tmp = f"{path}.tmp.{os.getpid()}"
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(_MAGIC + _PY_TAG + len(header).to_bytes(8, "little") + header)
                for part in sections:
                    out.write(part)
            os.replace(tmp, path)
        except BaseException:
            try:
                os.unlink(tmp)
            except OSError:
                pass
            raise
    except OSError:
        return False
    summary.changed = set()
    return True


def summarize(ledger_path, use_saved=True, save_summary=True, backend=None, progress=None, dims=()):
    """The summary of one ledger file, brought up to date with as little reading as possible.

    ``use_saved=False`` ignores any saved summary (a full scan); ``save_summary=False`` leaves the
    summary file alone. ``dims``: the key fields a report will group by without filters, whose
    rollups are made (and saved) now. A missing ledger is an empty one.
    ``progress(done_bytes, total_bytes)`` is called after every chunk a scan reads.
    """
    backend = backend or DEFAULT_BACKEND
    try:
        f = open(ledger_path, "rb")
    except FileNotFoundError:
        return LedgerSummary(ledger_path)
    with f:
        st = os.fstat(f.fileno())
        saved = _load_saved(ledger_path) if use_saved else None
        if saved is not None and _still_valid(saved, f, st):
            summary = saved
        else:
            summary = LedgerSummary(ledger_path)
        summary.ident = (st.st_dev, st.st_ino)
        if summary.rebuilt:  # a full scan keeps the asked-for rollups as it goes
            summary.rollups = {dim: {} for dim in dims}
        start = summary.offset
        f.seek(start)
        # The scan builds only acyclic dicts, lists and tuples: the cycle collector would find
        # nothing, yet it re-walks the growing rows over and over (a third of a cold scan).
        collecting = gc.isenabled()
        gc.disable()
        try:
            parts = workers_for(st.st_size - start) if summary.rebuilt else 1
            if parts > 1:
                _scan_parallel(summary, f, backend, progress, st.st_size, dims, parts)
            else:
                _scan(summary, f, backend, progress, max(st.st_size - start, 1))
        except OverflowError:  # only thousands of absurd records under one key get here
            raise CcoHooksError(
                f"The sums of {ledger_path} do not fit 64-bit integers: some records hold absurd "
                f"token counts or costs. Move them out of the ledger, or report on others with --ledger."
            ) from None
        finally:
            if collecting:
                gc.enable()
        if summary.rebuilt or summary.offset != start:
            head_len = min(HEAD_BYTES, summary.offset)
            summary.head = (head_len, _crc_range(f, 0, head_len) or 0)
            summary.changed.add("head")
    for dim in dims:
        summary.group(dim)
    if save_summary and summary.changed:
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
