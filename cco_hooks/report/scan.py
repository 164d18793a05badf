"""Reading ledger lines into a summary's rows: the hot loop of a report.

Each complete line is decoded (``decode``; a line the fast decoder refuses is read again by the
hooks' own rules, ``Backend.lenient``) and added into the row of its key, in ``summary.work``; past
``WORK_KEYS`` rows or sessions, the batch goes into the summary (``LedgerSummary.absorb``), so
memory stays bounded. A line that is no record by the hooks' rules either is *skipped* and counted,
never fatal. A row's day is the day of the record's ``ts`` in the summary's time zone
(``summary.zone``). A last line without its ``\\n`` is read as ``ledger.iter_records`` reads it:
a whole record counts (for this run only: it is read again next time), anything else is torn and
counted as skipped.
"""

import zlib

from cco_hooks import claude_code
from cco_hooks.report.decode import LENIENT_SESSION, LENIENT_SPAWN, LOADS_ERRORS, loads_any
from cco_hooks.report.drift import drift_cause, same_family
from cco_hooks.report.rows import (
    COST,
    DENIALS,
    DRIFT,
    NANO,
    REQ_BASE,
    REQ_COST,
    REQ_UNPRICED,
    SPAWNS,
    T_CREAD,
    T_CWRITE,
    T_IN,
    T_OUT,
    UNPRICED,
    WIDTH,
    valid_day,
)
from cco_hooks.report.summary import LedgerSummary

READ_CHUNK = 1 << 18  # 256 KiB: big enough to amortise the loop, small enough to stay in cache
BIG_USD = 2.0**53  # floats from here up are whole numbers; their nano-dollars are computed in ints
WORK_KEYS = 8192  # a scan's rows (fast lists of ints) go to the rollups and partitions past this many


def add_lines(summary, lines, pos, backend, interned):
    """Add ``lines`` (complete, without their newlines; the first starts at byte ``pos``) into
    ``summary.work``; returns the byte offset after them.

    The hot loop of a cold scan, kept in one function on purpose: every call, attribute lookup
    and branch here is paid once per ledger line.
    """
    decode = backend.decode
    errors = backend.errors
    lenient = backend.lenient
    day_of = None if summary.zone.is_utc else summary.zone.day_of_ts
    Spawn = backend.spawn_type
    Session = backend.session_type
    work = summary.work
    sessions = summary.new_sessions
    alias_id = claude_code.ALIAS_MODEL_ID
    families = interned.setdefault(None, {})  # (enforced, actual) -> same family?
    days = interned.setdefault(0, {})  # a record's day -> the day's one string, or None if no day
    intern = interned.setdefault
    skipped = 0
    for line in lines:
        n = len(line) + 1
        try:
            r = decode(line)
        except errors:
            r = lenient(line)
            if r is None:
                if line.strip():
                    skipped += 1
                pos += n
                continue
        if r.__class__ is Spawn or r.__class__ is LENIENT_SPAWN:
            action = r.decision.action
            day = r.ts[:10] if day_of is None else day_of(r.ts)
            key = (day, r.session_id, r.project, r.agent_type, r.actual_model, action)
            v = work.get(key)
            if v is None:
                d = days.get(day, 0)
                if d == 0:
                    d = days[day] = day if valid_day(day) else None
                if d is None:
                    skipped += 1
                    pos += n
                    continue
                # One string object per distinct value, shared by every key that holds it (a
                # session's own id too: its rows are written together). Sessions are many and
                # short, so this is paid about once a line: no loop, no call but the dict's.
                sid, project, agent, model = key[1], key[2], key[3], key[4]
                key = (
                    d,
                    sid if sid is None else intern(sid, sid),
                    project if project is None else intern(project, project),
                    agent if agent is None else intern(agent, agent),
                    model if model is None else intern(model, model),
                    action,
                )
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
                c = round(c * NANO) if c < BIG_USD else to_nano(c)
                v[COST] += c
                rc = r.requested_cost_usd
                if rc is None:
                    v[REQ_UNPRICED] += 1
                else:
                    v[REQ_COST] += round(rc * NANO) if rc < BIG_USD else to_nano(rc)
                    v[REQ_BASE] += c
            # Only where the hook chose the model (rewrite, allow) can the model drift from it.
            if action == "rewrite" or action == "allow":
                enforced = r.enforced_model
                actual = r.actual_model
                if enforced is not None and actual is not None and actual != alias_id.get(enforced):
                    pair = (enforced, actual)
                    same = families.get(pair)
                    if same is None:
                        same = families[pair] = same_family(enforced, actual)
                    if not same:
                        _add_drift(summary, key, line, pos)
                        v[DRIFT] += 1
        elif r.__class__ is Session or r.__class__ is LENIENT_SESSION:
            ts = r.ts
            day = ts[:10] if day_of is None else day_of(ts)
            d = days.get(day, 0)
            if d == 0:
                d = days[day] = day if valid_day(day) else None
            if d is None:
                skipped += 1
            elif r.session_id is not None:  # else there is no session to attach the cost to
                sid = r.session_id
                prev = sessions.get(sid)
                if prev is None or ts >= prev[0]:  # the latest record of a session wins
                    cost = r.session_cost_usd
                    project = r.project
                    # Interned like the rows' keys: the summary then stores the session's id and
                    # project once, however many rows and records name them.
                    sessions[intern(sid, sid)] = [
                        ts,
                        project if project is None else intern(project, project),
                        None if cost is None else to_nano(cost),
                    ]
        pos += n
    summary.skipped += skipped
    return pos


def to_nano(usd):
    """USD (a finite float) in integer nano-dollars, exactly as far as the float goes, however big."""
    if usd < BIG_USD:
        return round(usd * NANO)
    return int(usd) * NANO  # a float this big is a whole number: no overflow to infinity


def _add_drift(summary, key, line, pos):
    try:
        full = loads_any(line)
    except LOADS_ERRORS:  # pragma: no cover - the decoder accepted it
        full = {}
    dkey = key + (drift_cause(full if type(full) is dict else {}),)
    summary.drift[dkey] = summary.drift.get(dkey, 0) + 1
    summary.drift_offsets.append(pos)


def scan_range(summary, f, backend, progress, total, end=None):
    """Add the complete lines from ``f`` (positioned at ``summary.offset``, up to byte ``end`` or
    the end of the file) into ``summary``; returns ``(bytes after the last newline, the interned
    strings)``. ``progress(done, total)`` is called after every chunk read."""
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
            pos = add_lines(summary, lines, pos, backend, interned)
            if len(summary.work) > WORK_KEYS or len(summary.new_sessions) > WORK_KEYS:
                summary.absorb()
                if len(interned) > WORK_KEYS:  # keep the strings of the rows still in memory only
                    families, days = interned[None], interned[0]
                    interned.clear()
                    interned[None] = families
                    interned[0] = days
        if progress is not None:
            progress(pos - start, total)
    summary.scanned_bytes += pos - start
    summary.offset = pos
    summary.absorb()
    return rem, interned


def scan(summary, f, backend, progress, total):
    """Scan from ``summary.offset`` to the end of the file; a last line without its newline goes
    into ``summary.tail`` if it is a whole record (it is read again next time), else it is torn."""
    start = summary.offset
    rem, interned = scan_range(summary, f, backend, progress, total)
    pos = summary.offset
    summary.torn = 0
    summary.tail = None
    if rem.strip():
        tail = LedgerSummary(summary.path, summary.zone)
        add_lines(tail, [rem], pos, backend, interned)
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


def _last_line_before(f, end):
    """(start, length, bytes) of the line that ends at byte ``end``."""
    start = max(0, end - 65536)
    while True:
        f.seek(start)
        block = f.read(end - start)
        cut = block.rfind(b"\n", 0, len(block) - 1)
        if cut >= 0 or start == 0:
            begin = start + cut + 1
            return begin, end - begin, block[cut + 1 :]
        start = max(0, start - 65536)
