"""``cco-hooks report``: what subagents cost, grouped and filtered, as a table, JSON, CSV or Markdown.

The numbers come from the ledger's incremental summary (``report_summary``), so a repeated report
reads only the ledger lines appended since the last one. Without filters, ``--by`` agent, model,
day, project or decision and the session share come from sums the summary keeps in memory; with a
filter, or ``--by session``, the report makes one pass over the summary's fine-grained rows, kept on
disk in partitions by session and read one partition at a time (never the ledger again). Listing
individual drifted spawns (``--drift``) re-reads just those lines, whose offsets the summary keeps.

Rules (docs/design.md, ledger schema v1):
- ``spawns`` counts launched spawns, priced or not; ``denials`` counts spawns PreToolUse blocked
  (they never ran); ``rewrites`` counts launched spawns whose decision was ``rewrite``.
- An unpriced spawn (``cost_usd`` null) is counted in ``spawns`` and in ``unpriced``; its cost is in
  no sum, never taken as 0. Savings and the requested cost cover the spawns whose cost *and* cost at
  the requested model are both known; ``savings_pct`` = savings / requested cost.
- The session share: the latest session record per ``session_id`` gives the session's whole cost
  (main loop and subagents); ``subagent_share`` = subagent cost in those sessions / their cost.
- Days are UTC (the first ten characters of ``ts``).

The JSON document is a stable contract, described by ``config/report.schema.json``.
"""

import csv
import datetime as _dt
import glob
import heapq
import io
import json
import os
import shutil
import sys
import textwrap

from cco_hooks import agents, paths
from cco_hooks.report import summary as rs
from cco_hooks.errors import CcoHooksError

REPORT_VERSION = 1
GROUPS = ("agent", "model", "day", "session", "project", "decision")
FORMATS = ("table", "json", "csv", "markdown")
_GROUP_DIM = {
    "agent": rs.AGENT, "model": rs.MODEL, "day": rs.DAY, "session": rs.SESSION,
    "project": rs.PROJECT, "decision": rs.DECISION,
}
DRIFT_LIMIT = 50


# ---- filters ---------------------------------------------------------------------------------

def parse_day(text, today, option="--since"):
    """``YYYY-MM-DD``, ``today``, ``yesterday``, ``Nd`` or ``Nw`` (the last N days / weeks, today
    included: ``7d`` is today and the six days before) → ``YYYY-MM-DD`` (UTC)."""
    value = (text or "").strip().lower()
    try:
        if value == "today":
            return today.isoformat()
        if value == "yesterday":
            return (today - _dt.timedelta(days=1)).isoformat()
        if value[-1:] in ("d", "w") and value[:-1].isdigit() and int(value[:-1]) > 0:
            days = int(value[:-1]) * (7 if value[-1] == "w" else 1)
            return (today - _dt.timedelta(days=days - 1)).isoformat()
        return _dt.date.fromisoformat(value).isoformat()
    except (ValueError, OverflowError):
        pass
    raise CcoHooksError(
        f'{option} "{text}" is not a date; use YYYY-MM-DD, today, yesterday, or a span such as 7d or 2w.'
    )


class Filters:
    """Which spawns a report covers. Every given filter must match (a repeated option: any value)."""

    def __init__(self, since=None, until=None, sessions=(), projects=(), agents=()):
        self.since = since  # YYYY-MM-DD, inclusive
        self.until = until  # YYYY-MM-DD, inclusive
        self.sessions = tuple(sessions)  # session id prefixes
        self.projects = tuple(projects)  # project paths, or bare directory names
        self.agents = tuple(agents)  # agent types (Claude Code's matching) or * ? globs
        if since and until and since > until:
            raise CcoHooksError(f"--since {since} is after --until {until}; nothing can match.")
        self._cache = ({}, {}, {})

    @property
    def empty(self):
        return not (self.since or self.until or self.sessions or self.projects or self.agents)

    def as_json(self):
        return {
            "since": self.since, "until": self.until, "sessions": list(self.sessions),
            "projects": list(self.projects), "agents": list(self.agents),
        }

    def day_ok(self, day):
        return not ((self.since and day < self.since) or (self.until and day > self.until))

    def _cached(self, which, value, test):
        cache = self._cache[which]
        ok = cache.get(value)
        if ok is None:
            ok = cache[value] = test(value)
        return ok

    def session_ok(self, session):
        if not self.sessions:
            return True
        return self._cached(0, session, lambda s: s is not None and any(s.startswith(p) for p in self.sessions))

    def project_ok(self, project):
        if not self.projects:
            return True
        return self._cached(1, project, self._project_test)

    def agent_ok(self, agent):
        if not self.agents:
            return True
        return self._cached(2, agent, self._agent_test)

    def _project_test(self, project):
        if project is None:
            return False
        for wanted in self.projects:
            if os.sep in wanted or wanted in (".", "..") or wanted.startswith("~"):
                full = os.path.abspath(os.path.expanduser(wanted))
                if project.rstrip(os.sep) == full.rstrip(os.sep):
                    return True
            elif project == wanted or os.path.basename(project.rstrip(os.sep)) == wanted:
                return True
        return False

    def _agent_test(self, agent):
        name = agents.normalize_agent_name(agent) if agent is not None else ""
        for wanted in self.agents:
            pattern = agents.normalize_agent_name(wanted)
            if agents.glob_match(pattern, name) if agents.is_glob(pattern) else pattern == name:
                return True
        return False

    def key_ok(self, key):
        return (
            self.day_ok(key[rs.DAY]) and self.session_ok(key[rs.SESSION])
            and self.project_ok(key[rs.PROJECT]) and self.agent_ok(key[rs.AGENT])
        )


# ---- ledgers ---------------------------------------------------------------------------------

def _is_side_file(path):
    """Our own files beside a ledger, which a glob such as ``ledgers/*`` also matches."""
    name = os.path.basename(path)
    return (
        name.endswith((rs.SUMMARY_SUFFIX, ".lock", ".totals.json"))
        or rs.SUMMARY_SUFFIX + ".tmp." in name
    )


def resolve_ledgers(specs=(), env=None):
    """The ledger files to read: ``specs`` (paths or globs) in order, each file once; with none,
    the live ledger (``CCO_HOOKS_LEDGER``, else the default path), which may not exist yet."""
    if not specs:
        return [paths.ledger_path(None, env)]
    found = []
    seen = set()
    live = os.path.abspath(paths.ledger_path(None, env))
    for spec in specs:
        pattern = os.path.expanduser(spec)
        if glob.has_magic(pattern):
            matches = sorted(p for p in glob.glob(pattern) if os.path.isfile(p) and not _is_side_file(p))
            if not matches:
                raise CcoHooksError(f'--ledger "{spec}" matches no file; check the pattern (quote it so the shell leaves it alone).')
        else:
            if not os.path.exists(pattern) and os.path.abspath(pattern) == live:
                pass  # the live ledger before its first record: empty, or written by settling now
            elif not os.path.isfile(pattern):
                what = "is a directory, not a ledger file" if os.path.isdir(pattern) else "does not exist"
                raise CcoHooksError(f'--ledger "{spec}" {what}; give the path of a ledger (.jsonl) file.')
            matches = [pattern]
        for path in matches:
            real = os.path.realpath(path)
            if real not in seen:
                seen.add(real)
                found.append(os.path.abspath(path))
    return found


def _summaries(summaries):
    """Each ledger's summary, then the tail (a last record without its newline) if there is one."""
    for s in summaries:
        yield s
        if s.tail is not None:
            yield s.tail


# ---- aggregation -----------------------------------------------------------------------------

def _money(nano):
    """Nano-dollars (the summary's exact integers) to USD."""
    return nano / rs.NANO


def _row_json(key, v):
    requested = v[rs.REQ_COST]
    savings = requested - v[rs.REQ_BASE]
    return {
        "key": key,
        "spawns": int(v[rs.SPAWNS]),
        "unpriced": int(v[rs.UNPRICED]),
        "denials": int(v[rs.DENIALS]),
        "rewrites": int(v[rs.REWRITES]),
        "drift": int(v[rs.DRIFT]),
        "tokens": {
            "input": int(v[rs.T_IN]),
            "output": int(v[rs.T_OUT]),
            "cache_read": int(v[rs.T_CREAD]),
            "cache_write": int(v[rs.T_CWRITE]),
        },
        "cost_usd": _money(v[rs.COST]),
        "requested_cost_usd": _money(requested),
        "requested_unpriced": int(v[rs.REQ_UNPRICED]),
        "savings_usd": _money(savings),
        "savings_pct": round(100 * savings / requested, 2) if requested > 0 else None,
    }


def _sort_rows(rows, group_by):
    if group_by == "day":
        return sorted(rows, key=lambda r: (r["key"] is None, r["key"] or ""))
    return sorted(rows, key=lambda r: (-r["cost_usd"], -r["spawns"], -r["denials"], r["key"] is None, r["key"] or ""))


def _group(summaries, dim, filters):
    """Sum the summaries' rows per group. Without filters (except by session) this is the sums
    the summary keeps (rollups): a few dozen additions however long the ledger; else a pass over
    the summaries' partitions, one at a time."""
    key_ok = None if filters.empty else filters.key_ok
    groups = {}
    for s in _summaries(summaries):
        rs.merge_sums(groups, s.group(dim, key_ok))
    return groups


def build_report(summaries, group_by="agent", filters=None, ledgers=(), drift=False,
                 drift_limit=DRIFT_LIMIT):
    """The report as the JSON document of ``config/report.schema.json``."""
    if group_by not in _GROUP_DIM:
        raise CcoHooksError(f'Unknown grouping "{group_by}"; expected one of {", ".join(GROUPS)}.')
    filters = filters or Filters()
    groups = _group(summaries, _GROUP_DIM[group_by], filters)
    totals = [0] * rs.WIDTH
    if groups:
        totals = list(map(sum, zip(*groups.values())))
    rows = [_row_json(k, v) for k, v in groups.items()]
    session_total, share_rows = _session_share(summaries, filters, group_by)
    for row in rows:
        if group_by in ("session", "project"):
            cost, sub = share_rows.get(row["key"], (None, 0))
            row["session_cost_usd"] = None if cost is None else _money(cost)
            row["subagent_share"] = round(sub / cost, 4) if cost else None
    total = _row_json(None, totals)
    del total["key"]
    total.update(session_total)
    doc = {
        "version": REPORT_VERSION,
        "group_by": group_by,
        "filters": filters.as_json(),
        "ledgers": list(ledgers),
        "rows": _sort_rows(rows, group_by),
        "totals": total,
        "skipped_lines": sum(s.skipped_lines for s in summaries),
    }
    if drift:
        doc["drift"] = drift_report(summaries, filters, drift_limit)
    return doc


def _session_share(summaries, filters, group_by):
    """Totals for the session share, and per row (session or project) ``(session cost, subagents)``
    in nano-dollars. The latest session record per session (over all the ledgers) that passes the
    session, project and date filters gives the session's whole cost; the selected spawns' cost in
    those sessions is the subagents' part. One ledger without filters: the parts the summary keeps;
    else a pass over the partitions (a session's rows and records are in the same partition of
    every summary), one at a time."""
    parts = list(_summaries(summaries))
    per_row = {}
    if filters.empty and len(parts) == 1 and group_by != "session":
        count, session_cost, subagents, by_project = rs.merge_shares(parts[0].shares)
        if group_by == "project":
            per_row = {project: tuple(v) for project, v in by_project.items()}
    else:
        key_ok = None if filters.empty else filters.key_ok
        count = session_cost = subagents = 0
        for p in range(rs.PARTS):
            loaded = [s.partition(p) for s in parts]
            latest = {}
            for _, records in loaded:
                for sid, rec in records.items():
                    prev = latest.get(sid)
                    if prev is None or rec[0] >= prev[0]:
                        latest[sid] = rec
            known = {}
            for sid, (ts, project, cost) in latest.items():
                if cost is not None and (filters.empty or (
                        filters.day_ok(ts[:10]) and filters.session_ok(sid) and filters.project_ok(project))):
                    known[sid] = (project, cost)
            if not known:
                continue
            covered = {}
            for rows, _ in loaded:
                for key, row in rows.items():
                    sid = key[rs.SESSION]
                    if sid in known and (key_ok is None or key_ok(key)):
                        covered[sid] = covered.get(sid, 0) + row[rs.COST]
            for sid, (project, cost) in known.items():
                sub = covered.get(sid, 0)
                count += 1
                session_cost += cost
                subagents += sub
                if group_by in ("session", "project"):
                    row_key = sid if group_by == "session" else project
                    prev = per_row.get(row_key, (0, 0))
                    per_row[row_key] = (prev[0] + cost, prev[1] + sub)
    totals = {
        "sessions": count,
        "session_cost_usd": _money(session_cost) if count else None,
        "subagent_cost_in_sessions_usd": _money(subagents) if count else None,
        "subagent_share": round(subagents / session_cost, 4) if session_cost > 0 else None,
    }
    return totals, per_row


# ---- drift -----------------------------------------------------------------------------------

def drift_report(summaries, filters, limit=DRIFT_LIMIT):
    """Counts of drifted spawns by cause (from the summary), and the latest ``limit`` of them
    (re-read from the ledger at the offsets the summary keeps; ``limit`` 0 lists them all)."""
    by_cause = {}
    for s in _summaries(summaries):
        for dkey, count in s.drift.items():
            if filters.empty or filters.key_ok(dkey):
                cause = dkey[-1]
                by_cause[cause] = by_cause.get(cause, 0) + count
    latest = []  # a heap of the latest ``limit`` entries by ts
    matched = 0
    for s in _summaries(summaries):
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
    entries = [item[2] for item in sorted(latest)]
    return {
        "spawns": sum(by_cause.values()),
        "by_cause": dict(sorted(by_cause.items(), key=lambda kv: (-kv[1], kv[0]))),
        "causes": {c: rs.DRIFT_CAUSES[c] for c in by_cause if c in rs.DRIFT_CAUSES},
        "listed": entries,
        "not_listed": matched - len(entries),
    }


def _drift_entry(line, ledger_path):
    try:
        rec = rs._loads(line)
    except rs._LOADS_ERRORS:
        return None
    if type(rec) is not dict:
        return None
    decision = rec.get("decision") if isinstance(rec.get("decision"), dict) else {}
    return {
        "ts": rec.get("ts"),
        "session_id": rec.get("session_id"),
        "project": rec.get("project"),
        "agent_type": rec.get("agent_type"),
        "tool_use_id": rec.get("tool_use_id"),
        "action": decision.get("action"),
        "requested_model": rec.get("requested_model"),
        "enforced_model": rec.get("enforced_model"),
        "actual_model": rec.get("actual_model"),
        "cause": rs.drift_cause(rec),
        "claude_code_version": rec.get("claude_code_version"),
        "ledger": ledger_path,
    }


def _entry_ok(entry, filters):
    ts = entry["ts"]
    return (
        isinstance(ts, str) and filters.day_ok(ts[:10]) and filters.session_ok(entry["session_id"])
        and filters.project_ok(entry["project"]) and filters.agent_ok(entry["agent_type"])
    )


# ---- formatting ------------------------------------------------------------------------------

def fmt_money(x):
    """``$0.0123`` under a dollar, ``$12.34`` under a thousand, ``$12,345`` above."""
    if x is None:
        return "-"
    sign = "-" if x < 0 else ""
    x = abs(x)
    if x == 0:
        return "$0"
    if x < 0.00005:
        return f"{sign}<$0.0001"
    if x < 0.99995:
        return f"{sign}${x:.4f}"
    if x < 999.995:
        return f"{sign}${x:.2f}"
    return f"{sign}${x:,.0f}"


def fmt_qty(n):
    """Token counts in two or three significant figures: 950, 1.2k, 34k, 560M."""
    n = int(n)
    if n < 1000:
        return str(n)
    for div, suffix in ((1e3, "k"), (1e6, "M"), (1e9, "G"), (1e12, "T")):
        v = n / div
        if v < 9.95:
            return f"{v:.1f}{suffix}"
        if v < 999.5 or suffix == "T":
            return f"{v:.0f}{suffix}"
    return str(n)  # pragma: no cover


def fmt_pct(p):
    return "-" if p is None else f"{p:.0f}%"


_NONE_KEY = "(none)"


def _key_text(key):
    return _NONE_KEY if key is None else str(key)


def _cells(row):
    """The table's cells for one row (or the totals)."""
    t = row["tokens"]
    flag_cost = "*" if row["unpriced"] else " "
    flag_req = "*" if row["unpriced"] or row["requested_unpriced"] else " "
    return [
        str(row["spawns"]),
        f"{fmt_qty(t['input'])}/{fmt_qty(t['output'])}/{fmt_qty(t['cache_read'] + t['cache_write'])}",
        fmt_money(row["cost_usd"]) + flag_cost,
        fmt_money(row["requested_cost_usd"]) + flag_req,
        fmt_money(row["savings_usd"]),
        fmt_pct(row["savings_pct"]),
        f"{row['rewrites']}/{row['denials']}",
    ]


_HEADERS = [("", "spawns"), ("tokens", "in/out/cache"), ("", "cost "), ("cost at ", "requested "),
            ("", "savings"), ("", "%"), ("rewrites", "/denials")]


def _truncate(text, width, left=False):
    if len(text) <= width:
        return text
    if width <= 1:
        return text[:width]
    return "…" + text[-(width - 1):] if left else text[: width - 1] + "…"


def _footnotes(doc):
    totals = doc["totals"]
    notes = []
    if totals["unpriced"] or totals["requested_unpriced"]:
        parts = []
        if totals["unpriced"]:
            n = totals["unpriced"]
            parts.append(f"{n} unpriced spawn{'s' * (n != 1)} (no price for the model, or no "
                         f"readable transcript) {'are' if n != 1 else 'is'} in no cost sum")
        if totals["requested_unpriced"]:
            n = totals["requested_unpriced"]
            parts.append(f"{n} spawn{'s' * (n != 1)} without a price at the requested model "
                         f"{'are' if n != 1 else 'is'} in no requested cost or savings")
        notes.append("* " + "; ".join(parts) + ".")
    if totals["session_cost_usd"] is not None:
        share = totals["subagent_share"]
        notes.append(
            f"Sessions: subagents cost {fmt_money(totals['subagent_cost_in_sessions_usd'])} of "
            f"{fmt_money(totals['session_cost_usd'])} ({'-' if share is None else f'{share * 100:.0f}%'}) "
            f"in {totals['sessions']} session{'s' * (totals['sessions'] != 1)} with a recorded cost."
        )
    if totals["drift"] and "drift" not in doc:
        n = totals["drift"]
        notes.append(f"Drift: {n} spawn{'s' * (n != 1)} ran on another model than the enforced one "
                     f"(cco-hooks report --drift).")
    if doc["skipped_lines"]:
        n = doc["skipped_lines"]
        notes.append(f"{n} ledger line{'s' * (n != 1)} skipped (torn, corrupt, or not ledger schema v1).")
    return notes


def _empty_text(doc):
    matched = "" if _no_filters(doc) else " matching the filters"
    return f"No spawns recorded{matched}."


def _no_filters(doc):
    f = doc["filters"]
    return not (f["since"] or f["until"] or f["sessions"] or f["projects"] or f["agents"])


def render_table(doc, width=80):
    """A plain-text table that fits ``width`` columns when it can (the key column gives way)."""
    lines = []
    if not doc["rows"]:
        lines.append(_empty_text(doc))
    else:
        body = [[_key_text(r["key"])] + _cells(r) for r in doc["rows"]]
        total = ["total"] + _cells(doc["totals"])
        headers = [("", doc["group_by"])] + _HEADERS
        ncols = len(headers)
        widths = [max(len(h[0]), len(h[1])) for h in headers]
        for cells in body + [total]:
            for i, c in enumerate(cells):
                widths[i] = max(widths[i], len(c))
        sep = 2
        if sum(widths) + sep * (ncols - 1) > width:
            sep = 1
        room = width - sum(widths[1:]) - sep * (ncols - 1)
        if widths[0] > room:
            widths[0] = max(room, 12, len("total"))
        left = doc["group_by"] == "project"
        gap = " " * sep

        def line(cells):
            out = [_truncate(cells[0], widths[0], left).ljust(widths[0])]
            out += [c.rjust(w) for c, w in zip(cells[1:], widths[1:])]
            return gap.join(out).rstrip()

        lines.append(line([h[0] for h in headers]))
        lines.append(line([h[1] for h in headers]))
        lines.append(gap.join("-" * w for w in widths))
        lines.extend(line(cells) for cells in body)
        lines.append(gap.join("-" * w for w in widths))
        lines.append(line(total))
        lines.append("")
    for note in _footnotes(doc):
        lines.extend(textwrap.wrap(note, max(width, 40), subsequent_indent="  ", break_on_hyphens=False))
    if "drift" in doc:
        if lines and lines[-1] != "":
            lines.append("")
        lines.extend(render_drift_text(doc["drift"], width))
    while lines and lines[-1] == "":
        lines.pop()
    return "\n".join(lines) + "\n"


def render_drift_text(drift, width=80):
    n = drift["spawns"]
    if not n:
        return ["Drift: no spawn ran on another model than the enforced one."]
    lines = [f"Drift: {n} spawn{'s' * (n != 1)} ran on another model than the enforced one."]
    cw = max(len(c) for c in drift["by_cause"])
    nw = max(len(str(v)) for v in drift["by_cause"].values())
    indent = " " * (2 + cw + 2 + nw + 2)
    for cause, count in drift["by_cause"].items():
        text = f"  {cause.ljust(cw)}  {str(count).rjust(nw)}  {drift['causes'].get(cause, '')}"
        lines.extend(textwrap.wrap(text, max(width, 60), subsequent_indent=indent,
                                   break_on_hyphens=False, drop_whitespace=True)
                     if len(text) > max(width, 60) else [text])
    if drift["listed"]:
        lines.append("")
        header = ["when (UTC)", "session", "agent", "enforced", "actual", "cause"]
        rows = [
            [
                (e["ts"] or "")[:16].replace("T", " "),
                (e["session_id"] or "-")[:8],
                e["agent_type"] or _NONE_KEY,
                e["enforced_model"] or "-",
                e["actual_model"] or "-",
                e["cause"],
            ]
            for e in drift["listed"]
        ]
        widths = [max(len(r[i]) for r in rows + [header]) for i in range(len(header))]
        for r in [header] + rows:
            lines.append("  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip())
        if drift["not_listed"]:
            lines.append(f"({drift['not_listed']} earlier not listed; --limit 0 lists all.)")
    return lines


def render_markdown(doc):
    lines = []
    if not doc["rows"]:
        lines.append(_empty_text(doc))
    else:
        header = [doc["group_by"], "spawns", "tokens in/out/cache", "cost", "cost at requested",
                  "savings", "%", "rewrites/denials"]
        lines.append("| " + " | ".join(header) + " |")
        lines.append("| --- | " + " | ".join("---:" for _ in header[1:]) + " |")

        def esc(text):
            return text.replace("|", "\\|")

        for r in doc["rows"]:
            cells = [esc(_key_text(r["key"]))] + [c.strip() for c in _cells(r)]
            lines.append("| " + " | ".join(cells) + " |")
        cells = ["**total**"] + [f"**{c.strip()}**" for c in _cells(doc["totals"])]
        lines.append("| " + " | ".join(cells) + " |")
        lines.append("")
    lines.extend(_footnotes(doc))
    if "drift" in doc:
        lines.append("")
        lines.extend(render_drift_markdown(doc["drift"]))
    while lines and lines[-1] == "":
        lines.pop()
    return "\n".join(lines) + "\n"


def render_drift_markdown(drift):
    lines = render_drift_text(drift)[:1]
    if drift["spawns"]:
        lines += ["", "| cause | spawns | meaning |", "| --- | ---: | --- |"]
        lines += [f"| {c} | {n} | {drift['causes'].get(c, '')} |" for c, n in drift["by_cause"].items()]
        if drift["listed"]:
            lines += ["", "| when (UTC) | session | agent | enforced | actual | cause |",
                      "| --- | --- | --- | --- | --- | --- |"]
            for e in drift["listed"]:
                lines.append(
                    f"| {(e['ts'] or '')[:16].replace('T', ' ')} | {(e['session_id'] or '-')[:8]} | "
                    f"{e['agent_type'] or _NONE_KEY} | {e['enforced_model'] or '-'} | "
                    f"{e['actual_model'] or '-'} | {e['cause']} |"
                )
    return lines


CSV_FIELDS = ("spawns", "unpriced", "denials", "rewrites", "drift", "tokens_input", "tokens_output",
              "tokens_cache_read", "tokens_cache_write", "cost_usd", "requested_cost_usd",
              "requested_unpriced", "savings_usd", "savings_pct")
DRIFT_CSV_FIELDS = ("ts", "session_id", "project", "agent_type", "tool_use_id", "action",
                    "requested_model", "enforced_model", "actual_model", "cause",
                    "claude_code_version", "ledger")


def render_csv(doc):
    """One row per group then a ``total`` row (column ``row``); with ``--drift``, the drift list."""
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    if "drift" in doc:
        w.writerow(DRIFT_CSV_FIELDS)
        for e in doc["drift"]["listed"]:
            w.writerow(["" if e[f] is None else e[f] for f in DRIFT_CSV_FIELDS])
        return out.getvalue()
    w.writerow(("row", doc["group_by"]) + CSV_FIELDS)

    def values(r):
        flat = dict(r)
        for name, value in r["tokens"].items():
            flat["tokens_" + name] = value
        return ["" if flat[f] is None else flat[f] for f in CSV_FIELDS]

    for r in doc["rows"]:
        w.writerow(["group", "" if r["key"] is None else r["key"]] + values(r))
    w.writerow(["total", ""] + values(doc["totals"]))
    return out.getvalue()


def render_json(doc):
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


def render(doc, fmt="table", width=80):
    if fmt == "table":
        return render_table(doc, width)
    if fmt == "json":
        return render_json(doc)
    if fmt == "csv":
        return render_csv(doc)
    if fmt == "markdown":
        return render_markdown(doc)
    raise CcoHooksError(f'Unknown format "{fmt}"; expected one of {", ".join(FORMATS)}.')


# ---- the command -----------------------------------------------------------------------------

def _settle_live(ledger_path, stderr):
    """Price spawns still pending, so the report counts them; never breaks the report."""
    try:
        from cco_hooks import accounting, pricing
    except ImportError:  # pragma: no cover - accounting not installed in this build
        return
    try:
        accounting.settle(ledger_path, pricing.load_prices(), force=True)
    except Exception as exc:  # noqa: BLE001 - a report must not fail because settling did
        stderr.write(f"cco-hooks report: pending spawns were not settled ({exc}); "
                     f"the report shows what the ledger holds.\n")


def run_report(ledgers=(), group_by="agent", fmt="table", since=None, until=None, sessions=(),
               projects=(), agents=(), drift=False, drift_limit=DRIFT_LIMIT, fail_over=None,
               use_summary=True, settle=True, width=None, stdout=None, stderr=None, env=None,
               today=None):
    """``cco-hooks report``: print the report on ``stdout``; returns the exit code.

    0, or 1 when ``fail_over`` (USD) is given and the selected cost exceeds it. Bad options raise
    ``CcoHooksError`` (the CLI's exit 2). ``ledgers`` are paths or globs; none means the live
    ledger, whose pending spawns are settled first (``settle``). ``use_summary=False`` scans the
    ledgers in full without reading or writing their summaries. A progress bar goes to ``stderr``
    when it is a terminal and a scan takes over a second.
    """
    stdout = sys.stdout if stdout is None else stdout
    stderr = sys.stderr if stderr is None else stderr
    env = os.environ if env is None else env
    if fmt not in FORMATS:
        raise CcoHooksError(f'Unknown format "{fmt}"; expected one of {", ".join(FORMATS)}.')
    if group_by not in GROUPS:
        raise CcoHooksError(f'Unknown grouping "{group_by}"; expected one of {", ".join(GROUPS)}.')
    if fail_over is not None and not (fail_over >= 0):
        raise CcoHooksError(f"--fail-over {fail_over} must be an amount in USD, 0 or more.")
    today = today or _dt.datetime.now(_dt.timezone.utc).date()
    filters = Filters(
        since=parse_day(since, today, "--since") if since else None,
        until=parse_day(until, today, "--until") if until else None,
        sessions=sessions, projects=projects, agents=agents,
    )
    paths_ = resolve_ledgers(ledgers, env)
    live = paths.ledger_path(None, env)
    if settle and len(paths_) == 1 and os.path.realpath(paths_[0]) == os.path.realpath(live):
        _settle_live(live, stderr)
    isatty = getattr(stderr, "isatty", None)
    show_progress = bool(isatty and isatty())
    dims = (_GROUP_DIM[group_by],) if filters.empty else ()

    def summaries_of(use_saved):
        found = []
        for path in paths_:
            progress = rs.Progress(stderr, os.path.basename(path)) if show_progress else None
            try:
                found.append(rs.summarize(path, use_saved=use_saved, save_summary=use_summary,
                                          progress=progress, dims=dims))
            except OSError as exc:
                raise CcoHooksError(f"Cannot read the ledger {path}: {exc.strerror or exc}.") from None
            finally:
                if progress is not None:
                    progress.close()
        return found

    summaries = []
    try:
        try:
            summaries = summaries_of(use_summary)
            doc = build_report(summaries, group_by, filters, paths_, drift=drift, drift_limit=drift_limit)
        except rs.DamagedSummary:  # a saved summary's rows fail their checksum: scan again
            for s in summaries:
                s.close()
            summaries = summaries_of(False)
            doc = build_report(summaries, group_by, filters, paths_, drift=drift, drift_limit=drift_limit)
    finally:
        for s in summaries:  # the files their partitions are read from
            s.close()
    if width is None:
        width = shutil.get_terminal_size((80, 24)).columns
    stdout.write(render(doc, fmt, width))
    if fail_over is not None and doc["totals"]["cost_usd"] > fail_over:
        stderr.write(f"cco-hooks report: cost {fmt_money(doc['totals']['cost_usd'])} is over "
                     f"--fail-over {fmt_money(fail_over)}.\n")
        return 1
    return 0
