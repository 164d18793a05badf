"""Running totals beside the ledger, so a budget check never reads the whole ledger.

Every priced spawn record also adds its cost to a small running-total file, ``<ledger>.totals.json``
(0600), updated under the ledger's lock:

    {"v": 1, "days": {"2026-11-25": {"usd": 1.25, "agents": {"python-pro": 0.5}}},
     "sessions": {"<session id>": {"usd": 0.75, "day": "2026-11-25"}}}

The file also says how far into the ledger it has counted (``"ledger": {"ino", "end"}``: the inode
and the byte offset after the last complete line it has read). Whoever finds the ledger longer than
that — a writer killed between its append and its totals update, or a record appended by anything
else — reads just the new lines: the totals can lag the ledger but never lose a record, and never
count one twice. A different inode or a shorter ledger (replaced, truncated), or a missing or
damaged totals file, rebuilds the totals from the whole ledger once.

Days are UTC by default (a record counts on the day of its ``ts``, when the spawn ended). A budget
whose day begins elsewhere (``budget.timezone``: local, ``+05:30``, an IANA name) reads its own file,
``<ledger>.tz-<zone>.totals.json``, holding days in that zone and the zone it was counted in (a file
counted in another zone is rebuilt); the accounting keeps the UTC file current, the others catch up
when a budget check reads them. Old days and sessions are pruned so the file stays a few KiB.

Stdlib only: the accounting updates it after every priced record, the budget check reads it.
"""

import time

from cco_hooks import agents, coerce, fastjson, files, hookio
from cco_hooks.fastos import os

ledger = hookio.OnFirstUse("ledger", globals())

TOTALS_SUFFIX = ".totals.json"
KEEP_DAYS = 8
KEEP_SESSIONS = 500
KEEP_RECENT = 20  # the latest priced spawns' costs kept per agent type, for its p90 (``budget.reservation``)
FILE_CAP = 1 << 20


def totals_path(ledger_path, zone=None):
    """The totals file for days in ``zone`` (``None``: UTC, the file the accounting keeps)."""
    if zone is None:
        return ledger_path + TOTALS_SUFFIX
    slug = "".join(c if c.isascii() and c.isalnum() else "_" for c in zone.name)
    return f"{ledger_path}.tz-{slug}{TOTALS_SUFFIX}"  # the zone's ident is checked inside


def utc_day(epoch=None):
    return time.strftime("%Y-%m-%d", time.gmtime(time.time() if epoch is None else epoch))


def empty(zone=None):
    totals = {"v": 1, "ledger": {}, "days": {}, "sessions": {}}
    if zone is not None:
        totals["zone"] = zone.ident
    return totals


def _read(path, zone=None):
    data = files.read_own_json_object(path, FILE_CAP)  # a link, pipe or device: files.UnsafeFile
    if (
        not isinstance(data, dict)
        or data.get("v") != 1
        or not all(isinstance(data.get(key), dict) for key in ("ledger", "days", "sessions"))
        or data.get("zone") != (None if zone is None else zone.ident)
    ):
        return None  # damaged, written by another version or counted in another zone: rebuilt
    return data


def _write(path, totals):
    days = sorted(totals["days"])
    for day in days[:-KEEP_DAYS]:
        del totals["days"][day]
    if len(totals["sessions"]) > KEEP_SESSIONS:
        by_day = sorted(totals["sessions"].items(), key=lambda item: str(coerce.mapping(item[1]).get("day")))
        totals["sessions"] = dict(by_day[-KEEP_SESSIONS:])
    # A temporary name of its own (O_EXCL, never through a link): a fixed name in a directory others
    # can write is one they can plant a link at. A name already there, not ours, is refused.
    files.check_own(path)
    files.write_private(path, fastjson.dumps(totals).encode("ascii"))


def _record_day(record, zone=None):
    ts = record.get("ts")
    if isinstance(ts, str) and len(ts) >= 10 and ts[4:5] == "-" and ts[7:8] == "-":
        return ts[:10] if zone is None else zone.day_of_ts(ts)
    return utc_day() if zone is None else zone.day(time.time())


def agent_key(agent_type):
    """The per-agent key: Claude Code's spelling-insensitive name; no type means general-purpose."""
    return agents.normalize_agent_name(agent_type) or "general-purpose"


def add_cost(totals, day, session, agent_type, cost):
    """Count ``cost`` (USD) for ``day``, ``session`` and the agent type, in ``totals`` (in memory)."""
    day_totals = totals["days"].get(day)
    if not isinstance(day_totals, dict) or not isinstance(day_totals.get("agents"), dict):
        usd = coerce.number(coerce.mapping(day_totals).get("usd")) or 0.0
        day_totals = totals["days"][day] = {"usd": usd, "agents": {}}
    day_totals["usd"] = (coerce.number(day_totals.get("usd")) or 0.0) + cost
    agent = agent_key(agent_type)
    day_totals["agents"][agent] = (coerce.number(day_totals["agents"].get(agent)) or 0.0) + cost
    if isinstance(session, str) and session:
        entry = totals["sessions"].get(session)
        if not isinstance(entry, dict):
            entry = totals["sessions"][session] = {"usd": 0.0, "day": day}
        entry["usd"] = (coerce.number(entry.get("usd")) or 0.0) + cost
        entry["day"] = day


def _add(totals, record, zone=None):
    cost = coerce.number(record.get("cost_usd"))
    if record.get("kind") != "spawn" or cost is None or cost <= 0:
        return
    add_cost(totals, _record_day(record, zone), record.get("session_id"), record.get("agent_type"), cost)
    recent = totals.get("recent")
    if not isinstance(recent, dict):
        recent = totals["recent"] = {}
    agent = agent_key(record.get("agent_type"))
    costs = recent.get(agent) if isinstance(recent.get(agent), list) else []
    recent[agent] = (costs + [cost])[-KEEP_RECENT:]
    while len(recent) > KEEP_SESSIONS:  # agent types are few; a flood of names cannot grow the file
        del recent[next(iter(recent))]


def _ledger_id(ledger_path):
    """``(inode, size)`` of the ledger, ``None`` when there is none."""
    try:
        st = os.lstat(ledger_path)  # a link is no ledger of ours (``iter_records`` reads none)
    except (OSError, ValueError):
        return None
    return st.st_ino, st.st_size


def _catch_up(ledger_path, totals, zone=None):
    """Count the ledger's lines after ``totals["ledger"]``; ``False`` when that position does not
    belong to this ledger any more (replaced, truncated) and only a rebuild will do."""
    seen = coerce.mapping(totals.get("ledger"))
    ident = _ledger_id(ledger_path)
    if ident is None:
        return not seen.get("end")  # no ledger: fine only if the totals never counted one
    ino, size = ident
    end = seen.get("end") if isinstance(seen.get("end"), int) and not isinstance(seen.get("end"), bool) else 0
    if seen and (seen.get("ino") != ino or end > size):
        return False
    if end == size:
        return True
    stats = {}
    since = time.time() - KEEP_DAYS * 86400
    cutoff = utc_day(since) if zone is None else zone.day(since)
    for record in ledger.iter_records(ledger_path, stats, offset=end):
        if _record_day(record, zone) >= cutoff:
            _add(totals, record, zone)
    totals["ledger"] = {"ino": ino, "end": stats.get("end", end)}
    return True


def _rebuild(ledger_path, zone=None):
    totals = empty(zone)
    _catch_up(ledger_path, totals, zone)  # from an empty start it always succeeds
    return totals


def sync(ledger_path, zone=None):
    """Bring the totals file (for days in ``zone``; UTC by default) up to the ledger's end. Call
    with the ledger lock held (after an append): the accounting does, after every priced record
    it appends."""
    path = totals_path(ledger_path, zone)
    totals = _read(path, zone)
    if totals is None or not _catch_up(ledger_path, totals, zone):
        totals = _rebuild(ledger_path, zone)
    _write(path, totals)
    return totals


def read_totals(ledger_path, zone=None):
    """The running totals, up to the ledger's current end.

    The common case reads one small file and stats the ledger. When the ledger has grown past what
    the file counted, the new lines are counted in memory (no lock taken: a hook's decision must not
    queue behind writers). Only a missing, damaged or foreign totals file takes the lock, to rebuild
    it from the whole ledger once. ``zone``: days in that zone (``zones.Zone``; None: UTC)."""
    if zone is not None and zone.ident == "UTC":
        zone = None  # the accounting's own file
    try:
        totals = _read(totals_path(ledger_path, zone), zone)
    except files.UnsafeFile:
        return _rebuild(ledger_path, zone)  # counted in memory; the name planted there is left alone
    if totals is not None:
        counted = coerce.mapping(totals.get("ledger")).get("end")
        if _catch_up(ledger_path, totals, zone):
            if coerce.mapping(totals.get("ledger")).get("end") != counted:
                _save_if_free(ledger_path, zone)  # so the next decision does not read these lines again
            return totals
    if _ledger_id(ledger_path) is None:
        return empty(zone)
    try:
        with ledger.locked(ledger_path) as ok:
            if not ok:  # the lock is busy past the hook's deadline: count in memory, write nothing
                return _rebuild(ledger_path, zone)
            try:
                return sync(ledger_path, zone)
            except OSError:
                return _rebuild(ledger_path, zone)
    except files.UnsafeFile:  # the lock's name holds a link or a pipe: count, write nothing
        return _rebuild(ledger_path, zone)


def _save_if_free(ledger_path, zone=None):
    """Write the caught-up totals when the ledger lock is free right now; never wait for it."""
    try:
        with ledger.locked(ledger_path, timeout=0.0) as ok:
            if ok:
                sync(ledger_path, zone)
    except OSError:
        pass
