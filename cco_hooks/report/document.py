"""The report as a JSON document: the stable contract described by ``config/report.schema.json``.

Rules (docs/design.md, ledger schema v1):
- ``spawns`` counts launched spawns, priced or not; ``denials`` counts spawns PreToolUse blocked
  (they never ran); ``rewrites`` counts launched spawns whose decision was ``rewrite``.
- An unpriced spawn (``cost_usd`` null) is counted in ``spawns`` and in ``unpriced``; its cost is in
  no sum, never taken as 0. Savings and the requested cost cover the spawns whose cost *and* cost at
  the requested model are both known; ``savings_pct`` = savings / requested cost.
- The session share: the latest session record per ``session_id`` gives the session's whole cost
  (main loop and subagents); ``subagent_share`` = subagent cost in those sessions / their cost.
- Days are in the report's time zone (``Filters.zone``: local by default; in UTC, the first ten
  characters of ``ts``); weeks are ISO 8601 weeks (``2026-W48``, Monday to Sunday), months
  ``2026-11``, both made of those days.
- ``pending`` counts the spawns still in the pending store (not settled, so in no row), when the
  live ledger is read; else null.

Without filters, ``--by`` agent, model, day, project or decision and the session share come from
sums each summary keeps in memory; with a filter, or ``--by session``, the document is built in one
pass over the summaries' partitions. Listing drifted spawns re-reads just those ledger lines.
"""

import datetime as _dt
import heapq

from cco_hooks import agents
from cco_hooks.errors import CcoHooksError
from cco_hooks.report.decode import LOADS_ERRORS, loads_any, spell_surrogates
from cco_hooks.report.drift import DRIFT_CAUSES, drift_cause
from cco_hooks.report.query import Filters
from cco_hooks.report.rows import (
    AGENT,
    COST,
    DAY,
    DECISION,
    DENIALS,
    DRIFT,
    MODEL,
    PROJECT,
    REQ_BASE,
    REQ_COST,
    REQ_UNPRICED,
    REWRITES,
    SESSION,
    SPAWNS,
    T_CREAD,
    T_CWRITE,
    T_IN,
    T_OUT,
    UNPRICED,
    WIDTH,
    merge_sums,
    nano_to_usd,
)
from cco_hooks.report.summary import PARTS, disjoint, merge_shares, with_tails

REPORT_VERSION = 2  # 2: time_zone, pending; --by week and month
GROUP_DIM = {
    "agent": AGENT,
    "model": MODEL,
    "day": DAY,
    "session": SESSION,
    "project": PROJECT,
    "decision": DECISION,
}


def iso_week(day):
    """The ISO 8601 week of a ``YYYY-MM-DD`` day: ``2026-W48`` (a week's year may not be its days').
    A day that is no date (``2026-02-30``, from a line no hook wrote) stays its own row."""
    try:
        year, week, _ = _dt.date.fromisoformat(day).isocalendar()
    except ValueError:
        return day
    return f"{year:04d}-W{week:02d}"


# Groupings made of another's groups: a week or a month is the sum of its days.
REGROUP = {"week": (DAY, iso_week), "month": (DAY, lambda day: day[:7])}
GROUP_DIM.update({name: dim for name, (dim, _) in REGROUP.items()})
GROUPS = tuple(GROUP_DIM)
DRIFT_LIMIT = 50


def build_report(
    summaries, group_by="agent", filters=None, ledgers=(), drift=False, drift_limit=DRIFT_LIMIT, pending=None
):
    """The report as the JSON document of ``config/report.schema.json``; ``pending``: how many
    spawns are still pending beside the live ledger (None when that is not what is read)."""
    if group_by not in GROUP_DIM:
        raise CcoHooksError(f'Unknown grouping "{group_by}"; expected one of {", ".join(GROUPS)}.')
    filters = filters or Filters()
    groups = _group(summaries, GROUP_DIM[group_by], filters)
    if group_by == "agent":
        groups = by_agent_name(groups)
    if group_by in REGROUP:
        regrouped = {}
        name_of = REGROUP[group_by][1]
        for key, sums in groups.items():
            merge_sums(regrouped, {name_of(key): sums})
        groups = regrouped
    totals = [0] * WIDTH
    if groups:
        totals = list(map(sum, zip(*groups.values(), strict=True)))
    rows = [_row_json(k, v) for k, v in groups.items()]
    session_total, share_rows = _session_share(summaries, filters, group_by)
    for row in rows:
        if group_by in ("session", "project"):
            cost, sub = share_rows.get(row["key"], (None, 0))
            row["session_cost_usd"] = None if cost is None else nano_to_usd(cost)
            row["subagent_share"] = round(sub / cost, 4) if cost else None
    total = _row_json(None, totals)
    del total["key"]
    total.update(session_total)
    doc = {
        "version": REPORT_VERSION,
        "group_by": group_by,
        "time_zone": filters.zone.name,
        "filters": filters.as_json(),
        "ledgers": list(ledgers),
        "rows": _sort_rows(rows, group_by),
        "totals": total,
        "skipped_lines": sum(s.skipped_lines for s in summaries),
        "pending": pending,
    }
    if drift:
        doc["drift"] = drift_report(summaries, filters, drift_limit)
    return doc


def by_agent_name(groups):
    """Agent rows merged by the name routing matches (``agents.normalize_agent_name``: "Python
    Specialist" is "python-specialist"), each shown with its most common spelling (the one with the
    most spawns and denials; of equals, the first in code point order)."""
    merged, spellings = {}, {}
    for key, sums in groups.items():
        name = None if key is None else (agents.normalize_agent_name(key) or key)
        merge_sums(merged, {name: sums})
        spellings.setdefault(name, []).append((-(sums[SPAWNS] + sums[DENIALS]), key))
    return {min(spellings[name])[1]: sums for name, sums in merged.items()}


def _row_json(key, v):
    requested = v[REQ_COST]
    savings = requested - v[REQ_BASE]
    return {
        "key": key,
        "spawns": int(v[SPAWNS]),
        "unpriced": int(v[UNPRICED]),
        "denials": int(v[DENIALS]),
        "rewrites": int(v[REWRITES]),
        "drift": int(v[DRIFT]),
        "tokens": {
            "input": int(v[T_IN]),
            "output": int(v[T_OUT]),
            "cache_read": int(v[T_CREAD]),
            "cache_write": int(v[T_CWRITE]),
        },
        "cost_usd": nano_to_usd(v[COST]),
        "requested_cost_usd": nano_to_usd(requested),
        "requested_unpriced": int(v[REQ_UNPRICED]),
        "savings_usd": nano_to_usd(savings),
        "savings_pct": _percent(savings, requested),
    }


def _percent(part, whole):
    """``part`` as a percentage of ``whole`` (nano-dollar integers), or ``None`` when there is no
    whole or the ratio is past what a float holds (a record of 1e299 USD saved against 1 nano-dollar
    requested is counted, but its percentage means nothing)."""
    if whole <= 0:
        return None
    try:
        return round(100 * part / whole, 2)
    except OverflowError:
        return None


def _sort_rows(rows, group_by):
    if group_by in ("day", "week", "month"):
        return sorted(rows, key=lambda r: (r["key"] is None, r["key"] or ""))
    return sorted(rows, key=lambda r: (-r["cost_usd"], -r["spawns"], -r["denials"], r["key"] is None, r["key"] or ""))


def _group(summaries, dim, filters):
    """Sum the summaries' rows per group. Without filters (except by session) this is the sums
    the summary keeps (rollups): a few dozen additions however long the ledger; else a pass over
    the summaries' partitions, one at a time."""
    key_ok = None if filters.empty else filters.key_ok
    groups = {}
    for s in with_tails(summaries):
        merge_sums(groups, s.group(dim, key_ok))
    return groups


# ---- the session share -----------------------------------------------------------------------


def _session_share(summaries, filters, group_by):
    """Totals for the session share, and per row (session or project) ``(session cost, subagents)``
    in nano-dollars. The latest session record per session (over all the ledgers) that passes the
    session, project and date filters gives the session's whole cost; the selected spawns' cost in
    those sessions is the subagents' part. One ledger without filters: the parts the summary keeps;
    else a pass over the partitions (a session's rows and records are in the same partition of
    every summary), one at a time, except where the ledgers have no session in common."""
    parts = list(with_tails(summaries))
    per_row = {}
    if filters.empty and len(parts) == 1 and group_by != "session":
        count, session_cost, subagents, by_project = merge_shares(parts[0].shares)
        if group_by == "project":
            per_row = {project: tuple(v) for project, v in by_project.items()}
    else:
        count, session_cost, subagents = _share_by_partition(parts, filters, group_by, per_row)
    totals = {
        "sessions": count,
        "session_cost_usd": nano_to_usd(session_cost) if count else None,
        "subagent_cost_in_sessions_usd": nano_to_usd(subagents) if count else None,
        "subagent_share": round(subagents / session_cost, 4) if session_cost > 0 else None,
    }
    return totals, per_row


def _share_by_partition(parts, filters, group_by, per_row):
    """``(sessions, their cost, their subagents' cost)`` over every partition of the summaries
    ``parts``; fills ``per_row`` when grouping by session or project."""
    key_ok = None if filters.empty else filters.key_ok
    count = session_cost = subagents = 0
    for p in range(PARTS):
        if key_ok is None and group_by != "session" and disjoint([s.marks[p] for s in parts]):
            # No session of this partition is in two ledgers (a team's ledgers, one per
            # developer): each summary's own part of the share is already the joined one.
            c, cost, sub, by_project = merge_shares([s.shares[p] for s in parts])
            count += c
            session_cost += cost
            subagents += sub
            if group_by == "project":
                for project, (pc, ps) in by_project.items():
                    prev = per_row.get(project, (0, 0))
                    per_row[project] = (prev[0] + pc, prev[1] + ps)
            continue
        loaded = [s.partition(p) for s in parts]
        known = _sessions_with_cost(loaded, filters)
        if not known:
            continue
        covered = {}
        for rows, _ in loaded:
            for key, row in rows.items():
                sid = key[SESSION]
                if sid in known and (key_ok is None or key_ok(key)):
                    covered[sid] = covered.get(sid, 0) + row[COST]
        for sid, (project, cost) in known.items():
            sub = covered.get(sid, 0)
            count += 1
            session_cost += cost
            subagents += sub
            if group_by in ("session", "project"):
                row_key = sid if group_by == "session" else project
                prev = per_row.get(row_key, (0, 0))
                per_row[row_key] = (prev[0] + cost, prev[1] + sub)
    return count, session_cost, subagents


def _sessions_with_cost(loaded, filters):
    """``{session_id: (project, cost)}``: the latest record of each session in one partition of
    every summary, when it has a cost and passes the filters."""
    latest = {}
    for _, records in loaded:
        for sid, rec in records.items():
            prev = latest.get(sid)
            if prev is None or rec[0] >= prev[0]:
                latest[sid] = rec
    known = {}
    for sid, (ts, project, cost) in latest.items():
        if cost is not None and (
            filters.empty
            or (filters.day_ok(filters.day_of(ts)) and filters.session_ok(sid) and filters.project_ok(project))
        ):
            known[sid] = (project, cost)
    return known


# ---- drift -----------------------------------------------------------------------------------


def drift_report(summaries, filters, limit=DRIFT_LIMIT):
    """Counts of drifted spawns by cause (from the summary), and the latest ``limit`` of them
    (re-read from the ledger at the offsets the summary keeps; ``limit`` 0 lists them all)."""
    by_cause = {}
    for s in with_tails(summaries):
        for dkey, count in s.drift.items():
            if filters.empty or filters.key_ok(dkey):
                cause = dkey[-1]
                by_cause[cause] = by_cause.get(cause, 0) + count
    entries, matched = _latest_drifted(summaries, filters, limit)
    return {
        "spawns": sum(by_cause.values()),
        "by_cause": dict(sorted(by_cause.items(), key=lambda kv: (-kv[1], kv[0]))),
        "causes": {c: DRIFT_CAUSES[c] for c in by_cause if c in DRIFT_CAUSES},
        "listed": entries,
        "not_listed": matched - len(entries),
    }


def _latest_drifted(summaries, filters, limit):
    """The latest ``limit`` drifted spawns that pass the filters (all with 0), oldest first, and
    how many passed."""
    latest = []  # a heap of the latest ``limit`` entries by ts
    matched = 0
    for s in with_tails(summaries):
        if not len(s.drift_offsets):
            continue
        try:
            f = open(s.path, "rb")
        except OSError:
            continue
        with f:
            for offset in s.drift_offsets:
                f.seek(offset)
                entry = _drift_entry(f.readline(), s.path)
                if entry is None or not _entry_ok(entry, filters):
                    continue
                matched += 1
                item = (entry["ts"], matched, entry)
                if not limit or len(latest) < limit:
                    heapq.heappush(latest, item)
                else:
                    heapq.heappushpop(latest, item)
    return [item[2] for item in sorted(latest)], matched


def _drift_entry(line, ledger_path):
    try:
        rec = loads_any(line)
    except LOADS_ERRORS:
        return None
    if type(rec) is not dict:
        return None
    decision = rec.get("decision") if isinstance(rec.get("decision"), dict) else {}
    entry = {
        "ts": rec.get("ts"),
        "session_id": rec.get("session_id"),
        "project": rec.get("project"),
        "agent_type": rec.get("agent_type"),
        "tool_use_id": rec.get("tool_use_id"),
        "action": decision.get("action"),
        "requested_model": rec.get("requested_model"),
        "enforced_model": rec.get("enforced_model"),
        "actual_model": rec.get("actual_model"),
        "cause": drift_cause(rec),
        "claude_code_version": rec.get("claude_code_version"),
        "ledger": ledger_path,
    }
    return {k: spell_surrogates(v) if type(v) is str else v for k, v in entry.items()}


def _entry_ok(entry, filters):
    ts = entry["ts"]
    return (
        isinstance(ts, str)
        and filters.day_ok(filters.day_of(ts))
        and filters.session_ok(entry["session_id"])
        and filters.project_ok(entry["project"])
        and filters.agent_ok(entry["agent_type"])
    )
