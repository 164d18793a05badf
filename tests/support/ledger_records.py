"""Ledger records written line by line as the hooks write them, the report run into strings, and
the ledger summaries compared with a full scan.

Shared by the report tests.
"""

import copy
import datetime as dt
import io
import json
from pathlib import Path

import jsonschema

from cco_hooks.report.command import run_report
from cco_hooks.report.decode import DICT_BACKEND, MSGSPEC_BACKEND
from cco_hooks.report.document import GROUPS, build_report
from cco_hooks.report.rows import COST, SESSION
from cco_hooks.report.summary import PARTS
from cco_hooks.report.update import summarize
from tests.support.locations import REPO

SCHEMA = json.loads((REPO / "config" / "report.schema.json").read_text())
TODAY = dt.date(2026, 11, 25)

# ---- ledgers written line by line, as the hooks write them -----------------------------------

BASE_SPAWN = {
    "v": 1,
    "kind": "spawn",
    "ts": "2026-11-25T20:12:51.166Z",
    "session_id": "b8a8b81e-3282-4085-80a5-d0ba9a4a7d23",
    "project": "/home/dev/proj",
    "tool_use_id": "toolu_1",
    "agent_id": "a9290afd8a1e9bebf",
    "agent_type": "python-pro",
    "description": "first 80 characters of the spawn's description",
    "background": False,
    "requested_model": "sonnet",
    "requested_model_id": "claude-sonnet-5-5",
    "enforced_model": "haiku",
    "actual_model": "claude-haiku-5-5",
    "decision": {
        "action": "rewrite",
        "mode": "rewrite",
        "rule": "python-pro",
        "layer": "project",
        "source": "/home/dev/proj/.claude/cco-hooks.json",
        "reason": "rule python-pro",
    },
    "status": "completed",
    "priced": True,
    "tokens": {"input": 1000, "output": 200, "cache_read": 5000, "cache_write_5m": 300, "cache_write_1h": 0},
    "requests": 2,
    "cost_usd": 0.0123,
    "requested_cost_usd": 0.05,
    "savings_usd": 0.0377,
    "by_model": {"claude-haiku-5-5": {"requests": 2, "cost_usd": 0.0123}},
    "duration_ms": 538,
    "claude_code_version": "2.1.328",
    "unpriced_reason": None,
}
SESSION_A = "b8a8b81e-3282-4085-80a5-d0ba9a4a7d23"
SESSION_B = "5f1c9e02-77aa-4c1e-9d0b-2b6f0c1d9e11"


def spawn(**changes):
    """A valid spawn record; ``decision_action=...`` and ``tokens=...`` change the nested parts."""
    rec = copy.deepcopy(BASE_SPAWN)
    action = changes.pop("action", None)
    if action is not None:
        rec["decision"]["action"] = action
    rec.update(changes)
    return rec


def denied(**changes):
    return spawn(
        **{
            "status": "denied",
            "action": "deny",
            "actual_model": None,
            "enforced_model": None,
            "tokens": dict.fromkeys(BASE_SPAWN["tokens"], 0),
            "requests": 0,
            "cost_usd": 0.0,
            "requested_cost_usd": None,
            "savings_usd": None,
            "by_model": {},
            "duration_ms": 0,
            **changes,
        }
    )


def unpriced(**changes):
    return spawn(
        **{
            "status": "unpriced",
            "priced": False,
            "cost_usd": None,
            "requested_cost_usd": None,
            "savings_usd": None,
            "unpriced_reason": "no price for model claude-mystery-1",
            **changes,
        }
    )


def session(sid=SESSION_A, cost=1.0, ts="2026-11-25T21:00:00.000Z", project="/home/dev/proj"):
    return {
        "v": 1,
        "kind": "session",
        "ts": ts,
        "session_id": sid,
        "project": project,
        "session_cost_usd": cost,
        "model_costs": {"claude-opus-5-5": cost},
        "claude_code_version": "2.1.328",
    }


def line(rec):
    return json.dumps(rec, separators=(",", ":")) + "\n"


def write_ledger(path, items, mode="w"):
    """Write records (dicts) and raw lines (str) to ``path``; returns the path as a str."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, mode, encoding="utf-8", newline="") as f:
        for item in items:
            f.write(item if isinstance(item, str) else line(item))
    return str(path)


def sample_records():
    """Two days, two sessions, two projects, three agent types, every status and a drift."""
    return [
        spawn(ts="2026-11-24T09:00:00.000Z", tool_use_id="toolu_a1"),
        spawn(
            ts="2026-11-24T09:05:00.000Z",
            tool_use_id="toolu_a2",
            tokens={
                "input": 250000,
                "output": 40000,
                "cache_read": 1200000,
                "cache_write_5m": 90000,
                "cache_write_1h": 10000,
            },
            cost_usd=0.3412,
            requested_cost_usd=2.75,
            savings_usd=2.4088,
        ),
        spawn(
            ts="2026-11-24T10:00:00.000Z",
            tool_use_id="toolu_a3",
            agent_type="code-reviewer",
            action="allow",
            requested_model="opus",
            requested_model_id="claude-opus-5-5",
            enforced_model=None,
            actual_model="claude-opus-5-5",
            cost_usd=1.25,
            requested_cost_usd=1.25,
            savings_usd=0.0,
        ),
        denied(ts="2026-11-24T10:30:00.000Z", tool_use_id="toolu_a4", agent_type="code-reviewer"),
        session(SESSION_A, cost=2.0, ts="2026-11-24T11:00:00.000Z"),
        session(SESSION_A, cost=4.5, ts="2026-11-24T12:00:00.000Z"),  # the latest wins
        spawn(
            ts="2026-11-25T08:00:00.000Z",
            tool_use_id="toolu_b1",
            session_id=SESSION_B,
            project="/home/dev/web",
            agent_type="Explore",
            action="none",
            requested_model=None,
            requested_model_id="claude-opus-5-5",
            enforced_model=None,
            actual_model="claude-opus-5-5",
            cost_usd=0.8,
            requested_cost_usd=0.8,
            savings_usd=0.0,
        ),
        unpriced(ts="2026-11-25T08:10:00.000Z", tool_use_id="toolu_b2", session_id=SESSION_B, project="/home/dev/web"),
        spawn(
            ts="2026-11-25T08:20:00.000Z",
            tool_use_id="toolu_b3",
            session_id=SESSION_B,
            project="/home/dev/web",
            actual_model="claude-sonnet-5-5",  # drift: enforced haiku
            by_model={"claude-sonnet-5-5": {"requests": 2, "cost_usd": 0.05}},
            cost_usd=0.05,
            requested_cost_usd=0.05,
            savings_usd=0.0,
        ),
        spawn(
            ts="2026-11-25T08:30:00.000Z",
            tool_use_id="toolu_b4",
            session_id=SESSION_B,
            project="/home/dev/web",
            requested_model_id="claude-mystery-1",
            requested_cost_usd=None,
            savings_usd=None,
            cost_usd=0.02,
        ),
        session(SESSION_B, cost=3.0, ts="2026-11-25T09:00:00.000Z", project="/home/dev/web"),
    ]


def run(ledgers, fmt="json", width=80, **kwargs):
    """run_report into strings: (exit code, stdout, stderr). Days in UTC unless ``tz`` says
    otherwise (``tz=None``: the report's default, local time), so outputs do not depend on the
    machine's zone."""
    out, err = io.StringIO(), io.StringIO()
    kwargs.setdefault("tz", "UTC")
    code = run_report(
        ledgers=ledgers, fmt=fmt, width=width, stdout=out, stderr=err, today=kwargs.pop("today", TODAY), **kwargs
    )
    return code, out.getvalue(), err.getvalue()


def run_json(ledgers, **kwargs):
    code, out, err = run(ledgers, fmt="json", **kwargs)
    assert code == 0, err
    doc = json.loads(out)
    jsonschema.Draft202012Validator(SCHEMA).validate(doc)
    return doc


# ---- summaries, checked against a full scan ----------------------------------------------------

BACKENDS = [b for b in (MSGSPEC_BACKEND, DICT_BACKEND) if b is not None]


def cold(path, backend=None):
    """A full scan, leaving any saved summary alone."""
    return summarize(path, use_saved=False, save_summary=False, backend=backend)


def warm(path):
    """A summary brought up to date the way a report does it."""
    return summarize(path)


def all_rows(summary):
    """Every row of a summary, ``{key: [sums]}``, read from all its partitions."""
    out = {}
    for p in range(PARTS):
        out.update((key, list(row)) for key, row in summary.partition(p)[0].items())
    return out


def all_sessions(summary):
    """``{session_id: [ts, project, cost]}``, the latest record of every session."""
    out = {}
    for p in range(PARTS):
        out.update(summary.partition(p)[1])
    return out


def spawn_cost_per_session(summary):
    """The spawns' cost per session (nano-dollars), from every row."""
    out = {}
    for key, row in all_rows(summary).items():
        out[key[SESSION]] = out.get(key[SESSION], 0) + row[COST]
    return out


def doc_of(summary, group_by="session"):
    return build_report([summary], group_by, drift=True)


def assert_same_as_cold(summary, path):
    """The summary answers every report exactly as a full scan of the ledger would."""
    fresh = cold(path)
    assert all_rows(summary) == all_rows(fresh)  # exact integers
    assert spawn_cost_per_session(summary) == spawn_cost_per_session(fresh)
    for dim, rollup in summary.rollups.items():  # kept up to date, never recomputed
        assert rollup == fresh.group(dim)
    assert all_sessions(summary) == all_sessions(fresh)
    assert summary.drift == fresh.drift
    assert list(summary.drift_offsets) == list(fresh.drift_offsets)
    assert summary.skipped_lines == fresh.skipped_lines
    for group_by in GROUPS:
        assert doc_of(summary, group_by) == doc_of(fresh, group_by)
