"""Budgets that act before the spend: running totals beside the ledger, checked by PreToolUse.

Claude Code's own ``--max-budget-usd`` works only in print mode; this works in every mode. The
PreToolUse hook must not read the whole ledger, so every priced spawn record also adds its cost to a
small running-total file, ``<ledger>.totals.json`` (0600), updated under the ledger's lock:

    {"v": 1, "days": {"2026-11-25": {"usd": 1.25, "agents": {"python-pro": 0.5}}},
     "sessions": {"<session id>": {"usd": 0.75, "day": "2026-11-25"}}}

Days are UTC. Old days and sessions are pruned so the file stays a few KiB. If the file is missing or
unreadable while the ledger exists, it is rebuilt from the ledger once. Before deciding, spawns that
stopped but were not priced yet are settled, so their cost counts toward the total.

Config: ``budget: {daily_usd, session_usd, per_agent: {type: usd}, on_exceed: deny | downgrade,
downgrade_to: haiku, warn_at: 0.8}``.

Stdlib only: imported by the PreToolUse hook when a budget is configured.
"""

import os
import time

from cco_hooks import agents, fastjson, hookio, ledger

TOTALS_SUFFIX = ".totals.json"
KEEP_DAYS = 8
KEEP_SESSIONS = 500


def totals_path(ledger_path):
    return ledger_path + TOTALS_SUFFIX


def utc_day(epoch=None):
    return time.strftime("%Y-%m-%d", time.gmtime(time.time() if epoch is None else epoch))


def _empty():
    return {"v": 1, "days": {}, "sessions": {}}


def _read(path):
    try:
        with open(path, "rb") as f:
            data = fastjson.loads(f.read())
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or not isinstance(data.get("days"), dict) or not isinstance(data.get("sessions"), dict):
        return None
    return data


def _write(path, totals):
    days = sorted(totals["days"])
    for day in days[:-KEEP_DAYS]:
        del totals["days"][day]
    if len(totals["sessions"]) > KEEP_SESSIONS:
        by_day = sorted(totals["sessions"].items(), key=lambda item: str(item[1].get("day")))
        totals["sessions"] = dict(by_day[-KEEP_SESSIONS:])
    tmp = f"{path}.{os.getpid()}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, fastjson.dumps(totals).encode("ascii"))
    finally:
        os.close(fd)
    os.replace(tmp, path)


def _record_day(record):
    ts = record.get("ts")
    if isinstance(ts, str) and len(ts) >= 10:
        return ts[:10]
    return utc_day()


def _add(totals, record):
    cost = record.get("cost_usd")
    if record.get("kind") != "spawn" or isinstance(cost, bool) or not isinstance(cost, (int, float)) or cost <= 0:
        return
    day = _record_day(record)
    day_totals = totals["days"].setdefault(day, {"usd": 0.0, "agents": {}})
    day_totals["usd"] = day_totals.get("usd", 0.0) + cost
    agent = agents.normalize_agent_name(record.get("agent_type") or "")
    if agent:
        day_totals["agents"][agent] = day_totals["agents"].get(agent, 0.0) + cost
    session = record.get("session_id")
    if isinstance(session, str) and session:
        entry = totals["sessions"].setdefault(session, {"usd": 0.0, "day": day})
        entry["usd"] = entry.get("usd", 0.0) + cost
        entry["day"] = day


def _rebuild(ledger_path):
    totals = _empty()
    cutoff = utc_day(time.time() - KEEP_DAYS * 86400)
    for record in ledger.iter_records(ledger_path):
        if _record_day(record) >= cutoff:
            _add(totals, record)
    return totals


def add_record(ledger_path, record):
    """Add a just-appended record's cost to the running totals. Call with the ledger lock held."""
    path = totals_path(ledger_path)
    totals = _read(path)
    if totals is None:
        # Missing or damaged: rebuild from the ledger, which already holds this record.
        totals = _rebuild(ledger_path)
    else:
        _add(totals, record)
    _write(path, totals)


def read_totals(ledger_path):
    totals = _read(totals_path(ledger_path))
    if totals is None and os.path.exists(ledger_path):
        with ledger.locked(ledger_path):
            totals = _read(totals_path(ledger_path))
            if totals is None:
                totals = _rebuild(ledger_path)
                try:
                    _write(totals_path(ledger_path), totals)
                except OSError:
                    pass
    return totals or _empty()


def _money(value):
    return f"${value:,.2f}" if value >= 1 else f"${value:.4f}"


def check(payload, snap, ledger_path, state, now=None):
    """The budget verdict for the next spawn: ``None`` when no cap applies, else a dict.

    ``{"exceeded": key, "action": "deny"|"downgrade", "downgrade_to": alias, "message": ...}`` once a
    cap is spent, or ``{"warning": ...}`` (told once per cap and period) past ``warn_at``.
    """
    budget = snap.get("budget") or {}
    caps = []
    now = time.time() if now is None else now
    day = utc_day(now)
    _settle_pending(ledger_path, snap)
    totals = read_totals(ledger_path)
    day_totals = totals["days"].get(day) or {}
    daily = budget.get("daily_usd")
    if isinstance(daily, (int, float)):
        caps.append(("daily_usd", daily, day_totals.get("usd", 0.0), f"the daily budget (budget.daily_usd, UTC day {day})", day))
    session_cap = budget.get("session_usd")
    session = payload.get("session_id") if isinstance(payload.get("session_id"), str) else None
    if isinstance(session_cap, (int, float)) and session:
        spent = (totals["sessions"].get(session) or {}).get("usd", 0.0)
        caps.append(("session_usd", session_cap, spent, "this session's budget (budget.session_usd)", session))
    per_agent = budget.get("per_agent") or {}
    tool_input = payload.get("tool_input") if isinstance(payload.get("tool_input"), dict) else {}
    agent = agents.normalize_agent_name(tool_input.get("subagent_type") or "general-purpose")
    agent_cap = per_agent.get(agent)
    if isinstance(agent_cap, (int, float)):
        spent = (day_totals.get("agents") or {}).get(agent, 0.0)
        caps.append((f"per_agent.{agent}", agent_cap, spent, f"the daily budget of agent {agent!r} (budget.per_agent)", f"{day}:{agent}"))

    source = budget.get("source") or "config"
    warn_at = budget.get("warn_at")
    warn_at = 0.8 if not isinstance(warn_at, (int, float)) else warn_at
    warnings = []
    for key, cap, spent, what, period in caps:
        if spent >= cap:
            action = budget.get("on_exceed") or "deny"
            message = (
                f"cco-hooks: {what} of {_money(cap)} is spent ({_money(spent)} so far; {source}). "
                + ("New spawns are denied until it resets; raise the budget to continue."
                   if action == "deny" else f"New spawns run on {budget.get('downgrade_to') or 'haiku'}.")
            )
            return {"exceeded": key, "action": action, "downgrade_to": budget.get("downgrade_to") or "haiku",
                    "message": message, "layer": budget.get("layer"), "source": budget.get("source")}
        if cap > 0 and spent >= warn_at * cap:
            told = hookio.tell_once(
                f"budget-warn:{key}:{period}",
                f"cco-hooks: {_money(spent)} of {what} {_money(cap)} is spent ({spent / cap:.0%}).",
            )
            if told:
                warnings.append(told)
    return {"warning": " ".join(warnings)} if warnings else None


def _settle_pending(ledger_path, snap):
    """Price spawns that stopped but were not settled, so their cost counts before this decision."""
    pending = os.path.join(os.path.dirname(os.path.abspath(ledger_path)), "pending")
    try:
        if not any(name.endswith(".stop.json") for name in os.listdir(pending)):
            return
    except OSError:
        return
    from cco_hooks import accounting, pricing

    accounting.settle(ledger_path, pricing.load_prices(override_path=snap.get("pricing_file")))
