"""Budgets that act before the spend: running totals beside the ledger, checked by PreToolUse.

Claude Code's own ``--max-budget-usd`` works only in print mode; this works in every mode. The
PreToolUse hook must not read the whole ledger, so every priced spawn record also adds its cost to a
small running-total file, ``<ledger>.totals.json`` (0600), updated under the ledger's lock:

    {"v": 1, "days": {"2026-11-25": {"usd": 1.25, "agents": {"python-pro": 0.5}}},
     "sessions": {"<session id>": {"usd": 0.75, "day": "2026-11-25"}}}

The file also says how far into the ledger it has counted (``"ledger": {"ino", "end"}``: the inode
and the byte offset after the last complete line it has read). Whoever finds the ledger longer than
that — a writer killed between its append and its totals update, or a record appended by anything
else — reads just the new lines: the totals can lag the ledger but never lose a record, and never
count one twice. A different inode or a shorter ledger (replaced, truncated), or a missing or
damaged totals file, rebuilds the totals from the whole ledger once.

Days are UTC (a record counts on the day of its ``ts``, when the spawn ended). Old days and sessions
are pruned so the file stays a few KiB.

Before deciding, spawns that stopped (SubagentStop) but are not in the ledger yet are settled; any
that still cannot be (their transcript not final yet, their PostToolUse not seen yet) are priced as
their transcripts stand and counted too, for this decision only. So a spend that happened always
counts before the next spawn, and is never counted twice (it reaches the totals once, when its
record is appended).

Config: ``budget: {daily_usd, session_usd, per_agent: {type: usd}, on_exceed: deny | downgrade,
downgrade_to: haiku, warn_at: 0.8}``; per-agent caps are per UTC day.

Stdlib only: imported by the PreToolUse hook when a budget is configured, and by the accounting
when a priced record is appended.
"""

import os
import time

from cco_hooks import agents, fastjson, files, hookio, paths

TOTALS_SUFFIX = ".totals.json"
KEEP_DAYS = 8
KEEP_SESSIONS = 500
MAX_UNSETTLED = 32  # pending stops priced for one decision, at most (each reads a transcript)
PART_CAP = 1 << 20


def totals_path(ledger_path):
    return ledger_path + TOTALS_SUFFIX


def utc_day(epoch=None):
    return time.strftime("%Y-%m-%d", time.gmtime(time.time() if epoch is None else epoch))


def _empty():
    return {"v": 1, "ledger": {}, "days": {}, "sessions": {}}


def _number(value):
    """A usable amount of money: a finite int/float (not a bool), else ``None``."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    if value != value or value in (float("inf"), float("-inf")):
        return None
    return value


def _read(path):
    data = files.read_json_object(path, PART_CAP)
    if not isinstance(data, dict) or data.get("v") != 1 or not all(
            isinstance(data.get(key), dict) for key in ("ledger", "days", "sessions")):
        return None  # damaged, or written by another version: rebuilt from the ledger
    return data


def _write(path, totals):
    days = sorted(totals["days"])
    for day in days[:-KEEP_DAYS]:
        del totals["days"][day]
    if len(totals["sessions"]) > KEEP_SESSIONS:
        by_day = sorted(totals["sessions"].items(), key=lambda item: str(_dict(item[1]).get("day")))
        totals["sessions"] = dict(by_day[-KEEP_SESSIONS:])
    # One fixed temporary name: writers hold the ledger lock, and a writer killed half-way leaves a
    # stray file that the next one simply overwrites (a per-process name would pile them up).
    files.write_private(path, fastjson.dumps(totals).encode("ascii"), tmp=path + ".tmp")


def _dict(value):
    return value if isinstance(value, dict) else {}


def _record_day(record):
    ts = record.get("ts")
    if isinstance(ts, str) and len(ts) >= 10 and ts[4:5] == "-" and ts[7:8] == "-":
        return ts[:10]
    return utc_day()


def _agent_key(agent_type):
    """The per-agent key: Claude Code's spelling-insensitive name; no type means general-purpose."""
    return agents.normalize_agent_name(agent_type) or "general-purpose"


def _add_cost(totals, day, session, agent_type, cost):
    day_totals = totals["days"].get(day)
    if not isinstance(day_totals, dict) or not isinstance(day_totals.get("agents"), dict):
        day_totals = totals["days"][day] = {"usd": _number(_dict(day_totals).get("usd")) or 0.0, "agents": {}}
    day_totals["usd"] = (_number(day_totals.get("usd")) or 0.0) + cost
    agent = _agent_key(agent_type)
    day_totals["agents"][agent] = (_number(day_totals["agents"].get(agent)) or 0.0) + cost
    if isinstance(session, str) and session:
        entry = totals["sessions"].get(session)
        if not isinstance(entry, dict):
            entry = totals["sessions"][session] = {"usd": 0.0, "day": day}
        entry["usd"] = (_number(entry.get("usd")) or 0.0) + cost
        entry["day"] = day


def _add(totals, record):
    cost = _number(record.get("cost_usd"))
    if record.get("kind") != "spawn" or cost is None or cost <= 0:
        return
    _add_cost(totals, _record_day(record), record.get("session_id"), record.get("agent_type"), cost)


def _ledger_id(ledger_path):
    """``(inode, size)`` of the ledger, ``None`` when there is none."""
    try:
        st = os.stat(ledger_path)
    except (OSError, ValueError):
        return None
    return st.st_ino, st.st_size


def _catch_up(ledger_path, totals):
    """Count the ledger's lines after ``totals["ledger"]``; ``False`` when that position does not
    belong to this ledger any more (replaced, truncated) and only a rebuild will do."""
    seen = _dict(totals.get("ledger"))
    ident = _ledger_id(ledger_path)
    if ident is None:
        return not seen.get("end")  # no ledger: fine only if the totals never counted one
    ino, size = ident
    end = seen.get("end") if isinstance(seen.get("end"), int) and not isinstance(seen.get("end"), bool) else 0
    if seen and (seen.get("ino") != ino or end > size):
        return False
    if end == size:
        return True
    from cco_hooks import ledger

    stats = {}
    cutoff = utc_day(time.time() - KEEP_DAYS * 86400)
    for record in ledger.iter_records(ledger_path, stats, offset=end):
        if _record_day(record) >= cutoff:
            _add(totals, record)
    totals["ledger"] = {"ino": ino, "end": stats.get("end", end)}
    return True


def _rebuild(ledger_path):
    totals = _empty()
    _catch_up(ledger_path, totals)  # from an empty start it always succeeds
    return totals


def sync(ledger_path):
    """Bring the totals file up to the ledger's end. Call with the ledger lock held (after an
    append): the accounting does, for every priced record."""
    path = totals_path(ledger_path)
    totals = _read(path)
    if totals is None or not _catch_up(ledger_path, totals):
        totals = _rebuild(ledger_path)
    _write(path, totals)
    return totals


def add_record(ledger_path, record):
    """The accounting's hook after appending ``record`` (under the ledger lock): the totals catch up
    with the ledger, which holds it now."""
    sync(ledger_path)


def read_totals(ledger_path):
    """The running totals, up to the ledger's current end.

    The common case reads one small file and stats the ledger. When the ledger has grown past what
    the file counted, the new lines are counted in memory (no lock taken: a hook's decision must not
    queue behind writers). Only a missing, damaged or foreign totals file takes the lock, to rebuild
    it from the whole ledger once."""
    totals = _read(totals_path(ledger_path))
    if totals is not None:
        counted = _dict(totals.get("ledger")).get("end")
        if _catch_up(ledger_path, totals):
            if _dict(totals.get("ledger")).get("end") != counted:
                _save_if_free(ledger_path)  # so the next decision does not read these lines again
            return totals
    if _ledger_id(ledger_path) is None:
        return _empty()
    from cco_hooks import ledger

    with ledger.locked(ledger_path):
        try:
            return sync(ledger_path)
        except OSError:
            return _rebuild(ledger_path)


def _save_if_free(ledger_path):
    """Write the caught-up totals when the ledger lock is free right now; never wait for it."""
    from cco_hooks import ledger

    try:
        with ledger.locked(ledger_path, timeout=0.0) as ok:
            if ok:
                sync(ledger_path)
    except OSError:
        pass


def _money(value):
    if value >= 1:
        return f"${value:,.2f}"
    if value >= 0.01 or value == 0:
        return f"${value:.4f}"
    return f"${value:.6f}".rstrip("0").rstrip(".") if value >= 0.000001 else f"${value:.2g}"


def check(payload, snap, ledger_path, state=None, now=None):
    """The budget verdict for the next spawn: ``None`` when no cap is reached, else a dict.

    ``{"exceeded": key, "action": "deny"|"downgrade", "downgrade_to": alias, "message": ...}`` once a
    cap is spent, or ``{"warning": ...}`` (told once per cap and period) past ``warn_at``.
    """
    budget = _dict(snap.get("budget"))
    now = time.time() if now is None else now
    day = utc_day(now)
    totals = read_totals(ledger_path)
    for session, agent_type, stop_day, cost in unsettled_costs(ledger_path, snap):
        _add_cost(totals, stop_day, session, agent_type, cost)
    day_totals = _dict(totals["days"].get(day))
    caps = []
    daily = _number(budget.get("daily_usd"))
    if daily is not None:
        spent = _number(day_totals.get("usd")) or 0.0
        caps.append(("daily_usd", daily, spent, f"the daily budget (budget.daily_usd, UTC day {day})", day))
    session_cap = _number(budget.get("session_usd"))
    session = payload.get("session_id") if isinstance(payload.get("session_id"), str) else None
    if session_cap is not None and session:
        spent = _number(_dict(totals["sessions"].get(session)).get("usd")) or 0.0
        caps.append(("session_usd", session_cap, spent, "this session's budget (budget.session_usd)", session))
    tool_input = _dict(payload.get("tool_input"))
    agent = _agent_key(tool_input.get("subagent_type"))
    agent_cap = _number(_dict(budget.get("per_agent")).get(agent))
    if agent_cap is not None:
        spent = _number(_dict(day_totals.get("agents")).get(agent)) or 0.0
        caps.append((f"per_agent.{agent}", agent_cap, spent,
                     f"the daily budget of agent {agent!r} (budget.per_agent, UTC day {day})", f"{day}:{agent}"))

    source = budget.get("source") if isinstance(budget.get("source"), str) else "the config"
    warn_at = _number(budget.get("warn_at"))
    warn_at = 0.8 if warn_at is None else warn_at
    action = "downgrade" if budget.get("on_exceed") == "downgrade" else "deny"
    downgrade_to = budget.get("downgrade_to") if isinstance(budget.get("downgrade_to"), str) else "haiku"
    warnings = []
    for key, cap, spent, what, period in caps:
        if spent >= cap:
            message = (
                f"cco-hooks: {what} of {_money(cap)} is spent ({_money(spent)} so far; set in {source}). "
                + ("New spawns are denied until it resets; raise the budget to continue."
                   if action == "deny" else f"New spawns run on {downgrade_to}.")
            )
            return {"exceeded": key, "action": action, "downgrade_to": downgrade_to,
                    "message": message, "layer": budget.get("layer"), "source": budget.get("source")}
        if cap > 0 and spent >= warn_at * cap:
            told = hookio.tell_once(
                f"budget-warn:{key}:{period}",
                f"cco-hooks: {_money(spent)} of {what} of {_money(cap)} is spent ({spent / cap:.0%}).",
            )
            if told:
                warnings.append(told)
    return {"warning": " ".join(warnings)} if warnings else None


def unsettled_costs(ledger_path, snap):
    """``(session_id, agent_type, day, usd)`` of each spawn that stopped but is not in the ledger.

    Settles what can be settled first (its cost then reaches the totals file); what is left — a
    transcript still being finished, a PostToolUse not seen yet — is priced as its transcript
    stands. Reads only the pending directory when nothing stopped unsettled."""
    from cco_hooks import accounting

    pdir = accounting.pending_dir(ledger_path)
    if not _pending_stops(pdir):
        return []
    from cco_hooks import pricing

    prices = pricing.load_prices(override_path=snap.get("pricing_file"))
    accounting.settle(ledger_path, prices)
    out = []
    for name in _pending_stops(pdir)[:MAX_UNSETTLED]:
        part = accounting._read_json(os.path.join(pdir, name))
        if part is None:
            continue
        cost = _transcript_cost(part, prices)
        if cost:
            ts = _number(part.get("ts"))
            out.append((part.get("session_id"), part.get("agent_type"), utc_day(ts) if ts and ts > 0 else utc_day(), cost))
    return out


def _pending_stops(pdir):
    try:
        names = os.listdir(pdir)
    except OSError:
        return []
    return sorted(n for n in names if n.startswith("agent-") and n.endswith(".stop.json"))


def _transcript_cost(part, prices):
    """USD of the requests a pending stop's transcript holds now (models without a price: 0)."""
    from cco_hooks import transcript

    path = part.get("agent_transcript_path")
    session_transcript = part.get("transcript_path")
    roots = [paths.claude_config_dir()]
    if isinstance(session_transcript, str) and session_transcript:
        roots.append(os.path.dirname(session_transcript))
    usage = transcript.read_usage(path, roots=roots)
    if usage.error is not None:
        return 0.0
    total = 0.0
    for request in usage.requests:
        cost = prices.cost(request["model"], request["usage"])
        if cost:
            total += cost
    return total
