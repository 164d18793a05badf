"""The report's JSON document: the schema contract, the sums per group, the session share."""

import time

import jsonschema
import pytest

from cco_hooks.errors import CcoHooksError
from cco_hooks.report import document
from cco_hooks.report.document import GROUPS
from tests.support.ledger_records import (
    SCHEMA,
    SESSION_A,
    denied,
    run,
    run_json,
    session,
    spawn,
    unpriced,
    write_ledger,
)


def rows(doc):
    return {r["key"]: r for r in doc["rows"]}


# ---- the JSON contract ----------------------------------------------------------------------


def test_schema_is_a_valid_2020_12_schema():
    """config/report.schema.json is itself a valid JSON Schema."""
    jsonschema.Draft202012Validator.check_schema(SCHEMA)


@pytest.mark.parametrize("group_by", GROUPS)
def test_json_validates_against_the_schema_for_every_grouping(ledger_path, group_by):
    """Every --by gives a document the schema accepts, with and without --drift."""
    run_json([ledger_path], group_by=group_by)
    run_json([ledger_path], group_by=group_by, drift=True)


def test_schema_rejects_an_unknown_field(ledger_path):
    """The schema is closed: a typo'd or new field fails validation (the contract is versioned)."""
    doc = run_json([ledger_path])
    doc["rows"][0]["costs_usd"] = 1
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft202012Validator(SCHEMA).validate(doc)


def test_json_by_agent_counts_and_sums(ledger_path):
    """Spawns count launched spawns (unpriced included, denied not); costs skip unpriced ones."""
    doc = run_json([ledger_path])
    assert doc["group_by"] == "agent"
    by = rows(doc)
    assert [r["key"] for r in doc["rows"]] == ["code-reviewer", "Explore", "python-pro"]
    py = by["python-pro"]
    assert py["spawns"] == 5 and py["unpriced"] == 1 and py["rewrites"] == 5 and py["denials"] == 0
    assert py["cost_usd"] == pytest.approx(0.0123 + 0.3412 + 0.05 + 0.02)
    assert py["requested_unpriced"] == 1
    assert py["requested_cost_usd"] == pytest.approx(0.05 + 2.75 + 0.05)
    assert py["savings_usd"] == pytest.approx(0.0377 + 2.4088)
    assert py["savings_pct"] == pytest.approx(round(100 * (0.0377 + 2.4088) / 2.85, 2))
    assert py["drift"] == 1
    assert py["tokens"] == {
        "input": 250000 + 1000 * 4,
        "output": 40000 + 200 * 4,
        "cache_read": 1200000 + 5000 * 4,
        "cache_write": 100000 + 300 * 4,
    }
    cr = by["code-reviewer"]
    assert cr["spawns"] == 1 and cr["denials"] == 1 and cr["rewrites"] == 0
    t = doc["totals"]
    assert t["spawns"] == 7 and t["unpriced"] == 1 and t["denials"] == 1 and t["rewrites"] == 5
    assert t["cost_usd"] == pytest.approx(0.0123 + 0.3412 + 1.25 + 0.8 + 0.05 + 0.02)
    assert doc["skipped_lines"] == 0


def test_json_by_model_keys_are_the_model_that_answered(ledger_path):
    """--by model groups by actual_model; denied spawns (never ran) have the key null."""
    by = rows(run_json([ledger_path], group_by="model"))
    assert set(by) == {"claude-haiku-5-5", "claude-opus-5-5", "claude-sonnet-5-5", None}
    assert by["claude-haiku-5-5"]["spawns"] == 4
    assert by[None]["denials"] == 1 and by[None]["spawns"] == 0


def test_json_by_day_decision_session_project(ledger_path):
    """Day keys are UTC dates in order; decision keys are decision.action."""
    doc = run_json([ledger_path], group_by="day")
    assert [(r["key"], r["spawns"], r["denials"]) for r in doc["rows"]] == [("2026-11-24", 3, 1), ("2026-11-25", 4, 0)]
    by = rows(run_json([ledger_path], group_by="decision"))
    assert {k: (r["spawns"], r["denials"]) for k, r in by.items()} == {
        "rewrite": (5, 0),
        "allow": (1, 0),
        "deny": (0, 1),
        "none": (1, 0),
    }
    by = rows(run_json([ledger_path], group_by="session"))
    assert by[SESSION_A]["session_cost_usd"] == 4.5
    assert by[SESSION_A]["subagent_share"] == pytest.approx(round((0.0123 + 0.3412 + 1.25) / 4.5, 4))
    by = rows(run_json([ledger_path], group_by="project"))
    assert by["/home/dev/web"]["spawns"] == 4 and by["/home/dev/web"]["session_cost_usd"] == 3.0


def test_all_unpriced_row_has_zero_cost_and_says_so(tmp_path):
    """A row whose spawns are all unpriced sums to 0 and counts them: never a silent 0."""
    path = write_ledger(tmp_path / "l.jsonl", [unpriced(), unpriced(tokens=None)])
    row = run_json([path])["rows"][0]
    assert (row["spawns"], row["unpriced"], row["cost_usd"], row["savings_pct"]) == (2, 2, 0.0, None)


# ---- the session share ----------------------------------------------------------------------


def test_session_share_uses_the_latest_session_record(ledger_path):
    """Session cost is the latest record per session; the share is subagent cost / session cost."""
    t = run_json([ledger_path])["totals"]
    assert t["sessions"] == 2
    assert t["session_cost_usd"] == 7.5
    assert t["subagent_cost_in_sessions_usd"] == pytest.approx(t["cost_usd"])
    assert t["subagent_share"] == pytest.approx(round(t["cost_usd"] / 7.5, 4))


def test_session_record_order_in_file_does_not_matter(tmp_path):
    """An older session record after a newer one (merged ledgers) does not win."""
    path = write_ledger(
        tmp_path / "l.jsonl",
        [session(cost=5.0, ts="2026-11-25T12:00:00.000Z"), session(cost=1.0, ts="2026-11-25T10:00:00.000Z")],
    )
    assert run_json([path])["totals"]["session_cost_usd"] == 5.0


def test_no_session_records_gives_null_share(tmp_path):
    """Without session records the share is unknown (null), not 0."""
    path = write_ledger(tmp_path / "l.jsonl", [spawn()])
    t = run_json([path])["totals"]
    assert t["sessions"] == 0 and t["session_cost_usd"] is None and t["subagent_share"] is None


def test_date_filter_also_selects_session_costs(ledger_path):
    """Session costs follow the date filter by their latest record's day."""
    t = run_json([ledger_path], since="2026-11-25")["totals"]
    assert t["sessions"] == 1 and t["session_cost_usd"] == 3.0


# ---- weeks, months and time zones --------------------------------------------------------------


def _keys(doc):
    return [(row["key"], row["spawns"], row["cost_usd"]) for row in doc["rows"]]


def test_weeks_and_months_are_sums_of_days_across_a_year_end(tmp_path):
    """ISO weeks (2026-W53 runs from Monday 2026-12-28 to Sunday 2027-01-03) and months, in date order."""
    days = ["2026-11-29", "2026-11-30", "2026-12-28", "2026-12-31", "2027-01-03", "2027-01-04"]
    path = write_ledger(tmp_path / "l.jsonl", [spawn(ts=f"{d}T12:00:00.000Z", cost_usd=1.0) for d in days])
    assert _keys(run_json([path], group_by="week")) == [
        ("2026-W48", 1, 1.0),
        ("2026-W49", 1, 1.0),
        ("2026-W53", 3, 3.0),
        ("2027-W01", 1, 1.0),
    ]
    assert _keys(run_json([path], group_by="month")) == [("2026-11", 2, 2.0), ("2026-12", 2, 2.0), ("2027-01", 2, 2.0)]
    doc = run_json([path], group_by="week", since="2026-12-31", until="2027-01-03")
    assert _keys(doc) == [("2026-W53", 2, 2.0)]  # the filter cuts days, then the week sums them


def test_days_are_counted_in_the_chosen_time_zone(tmp_path):
    """20:00 UTC on the 24th is the 25th in Kolkata (+05:30); filters and the session share use the
    same days."""
    records = [
        spawn(ts="2026-11-24T17:00:00.000Z", cost_usd=1.0),
        spawn(ts="2026-11-24T20:00:00.000Z", cost_usd=2.0),
        session(cost=10.0, ts="2026-11-24T19:00:00.000Z"),
    ]
    path = write_ledger(tmp_path / "l.jsonl", records)
    assert _keys(run_json([path], group_by="day")) == [("2026-11-24", 2, 3.0)]
    for tz in ("Asia/Kolkata", "+05:30"):
        doc = run_json([path], group_by="day", tz=tz)
        assert doc["time_zone"] == tz
        assert _keys(doc) == [("2026-11-24", 1, 1.0), ("2026-11-25", 1, 2.0)]
        doc = run_json([path], group_by="day", tz=tz, since="2026-11-25")
        assert _keys(doc) == [("2026-11-25", 1, 2.0)]
        assert doc["totals"]["session_cost_usd"] == 10.0  # the session record is on the 25th there
        assert run_json([path], tz=tz, until="2026-11-24")["totals"]["session_cost_usd"] is None
    doc = run_json([path], group_by="day", tz="-08:00")
    assert _keys(doc) == [("2026-11-24", 2, 3.0)]


def test_local_time_is_the_default(tmp_path, monkeypatch):
    monkeypatch.setenv("TZ", "Asia/Kolkata")
    time.tzset()
    try:
        path = write_ledger(tmp_path / "l.jsonl", [spawn(ts="2026-11-24T20:00:00.000Z")])
        doc = run_json([path], group_by="day", tz=None)
        assert doc["time_zone"] == "local"
        assert _keys(doc) == [("2026-11-25", 1, 0.0123)]
        code, out, _ = run([path], fmt="table", group_by="day", tz=None)
        assert "Days are in local time; weeks are ISO weeks (Monday to Sunday)." in out
    finally:
        monkeypatch.undo()
        time.tzset()


def test_an_unknown_time_zone_is_refused(sample_ledger):
    with pytest.raises(CcoHooksError, match="--tz: unknown time zone 'Mars/Olympus'; use UTC, local"):
        run([sample_ledger], tz="Mars/Olympus")


def test_any_year_is_counted_in_any_zone(tmp_path):
    """A time the zone cannot convert (past year 9999 there) keeps its UTC day: counted, never an error."""
    records = [spawn(ts="0001-01-01T00:30:00.000Z"), spawn(ts="9999-12-31T23:59:59.999Z")]
    path = write_ledger(tmp_path / "l.jsonl", records)
    doc = run_json([path], group_by="day", tz="+14:00")
    assert doc["skipped_lines"] == 0
    assert [(k, n) for k, n, _ in _keys(doc)] == [("0001-01-01", 1), ("9999-12-31", 1)]
    assert [r["key"] for r in run_json([path], group_by="week", tz="+14:00")["rows"]] == ["0001-W01", "9999-W52"]


def test_a_day_that_is_no_date_is_its_own_week(tmp_path):
    path = write_ledger(
        tmp_path / "l.jsonl", [spawn(ts="2026-02-30T10:00:00.000Z"), spawn(ts="2026-02-28T10:00:00.000Z")]
    )
    assert [r["key"] for r in run_json([path], group_by="week")["rows"]] == ["2026-02-30", "2026-W09"]
    assert [r["key"] for r in run_json([path], group_by="month")["rows"]] == ["2026-02"]


def test_a_savings_percentage_past_what_a_float_holds_is_null_not_a_crash():
    """Hypothesis found it: a priced record of ~1e299 USD saved against one nano-dollar requested.
    The record is counted; only its percentage is undefined."""
    assert document._percent(10**310, 1) is None
    assert document._percent(5, 0) is None
    assert document._percent(1, 4) == 25.0


def test_agent_rows_are_grouped_as_routing_matches_names_shown_in_the_most_common_spelling(tmp_path):
    """ "Python Specialist", "python-specialist" and "PYTHON_SPECIALIST" are one agent to Claude Code
    and to the rules: one row, named as most of its spawns spell it; sums over all of them; the
    --agent filter selects the same row whichever spelling it is given."""
    names = ["Python Specialist", "Python Specialist", "python-specialist", "PYTHON_SPECIALIST", "code-reviewer"]
    path = write_ledger(
        tmp_path / "l.jsonl", [spawn(agent_type=name, tool_use_id=f"toolu_{i}") for i, name in enumerate(names)]
    )
    doc = run_json([path], group_by="agent")
    rows = {row["key"]: row for row in doc["rows"]}
    assert set(rows) == {"Python Specialist", "code-reviewer"}
    assert rows["Python Specialist"]["spawns"] == 4
    assert rows["Python Specialist"]["cost_usd"] == pytest.approx(4 * 0.0123)
    for spelling in ("python-specialist", "Python_Specialist"):
        filtered = run_json([path], group_by="agent", agents=(spelling,))
        assert [(r["key"], r["spawns"]) for r in filtered["rows"]] == [("Python Specialist", 4)]


def test_of_spellings_used_equally_often_the_first_in_code_point_order_names_the_row(tmp_path):
    names = ["python-specialist", "Python Specialist"]
    path = write_ledger(
        tmp_path / "l.jsonl", [spawn(agent_type=name, tool_use_id=f"toolu_{i}") for i, name in enumerate(names)]
    )
    assert [row["key"] for row in run_json([path])["rows"]] == ["Python Specialist"]


def test_denials_count_towards_the_most_common_spelling(tmp_path):
    records = [spawn(agent_type="python-pro")] + [
        denied(agent_type="Python Pro", tool_use_id=f"toolu_d{i}") for i in range(2)
    ]
    path = write_ledger(tmp_path / "l.jsonl", records)
    [row] = run_json([path])["rows"]
    assert (row["key"], row["spawns"], row["denials"]) == ("Python Pro", 1, 2)


# ---- the session share over several ledgers ------------------------------------------------


def _two_ledgers(tmp_path, shared_session):
    """Two developers' ledgers; with ``shared_session`` one session has its spawns in the first
    and its session record in the second (a session's parts in two ledgers)."""
    first = [
        spawn(session_id="s-a1", project="/home/a/api", tool_use_id="a1", cost_usd=0.25),
        spawn(session_id="s-a2", project="/home/a/web", tool_use_id="a2", cost_usd=0.5),
        session("s-a1", cost=1.0, project="/home/a/api"),
        session("s-a2", cost=2.0, project="/home/a/web"),
    ]
    second = [
        spawn(session_id="s-b1", project="/home/b/api", tool_use_id="b1", cost_usd=0.125),
        session("s-b1", cost=4.0, project="/home/b/api"),
    ]
    if shared_session:
        first.append(spawn(session_id="s-shared", project="/home/b/api", tool_use_id="x1", cost_usd=1.5))
        second.append(session("s-shared", cost=8.0, project="/home/b/api"))
    return [str(write_ledger(tmp_path / "a.jsonl", first)), str(write_ledger(tmp_path / "b.jsonl", second))]


@pytest.mark.parametrize("shared_session", [False, True])
@pytest.mark.parametrize("group_by", ["agent", "project", "day"])
def test_ledgers_with_no_session_in_common_join_as_the_full_join_does(tmp_path, monkeypatch, group_by, shared_session):
    """Where the ledgers' summaries have no session in common (their session fingerprints say
    so), their shares are added without reading their rows: the same document as the join."""
    ledgers = _two_ledgers(tmp_path, shared_session)
    fast = run_json(ledgers, group_by=group_by)
    monkeypatch.setattr(document, "disjoint", lambda marks: False)  # every partition joined
    assert run_json(ledgers, group_by=group_by) == fast
    t = fast["totals"]
    if shared_session:  # the session's record is in one ledger, its spawn in the other
        assert t["sessions"] == 4 and t["session_cost_usd"] == pytest.approx(15.0)
        assert t["subagent_cost_in_sessions_usd"] == pytest.approx(0.25 + 0.5 + 0.125 + 1.5)
    else:
        assert t["sessions"] == 3 and t["session_cost_usd"] == pytest.approx(7.0)
        assert t["subagent_cost_in_sessions_usd"] == pytest.approx(0.875)
    if group_by == "project":
        api = rows(fast)["/home/b/api"]
        assert api["session_cost_usd"] == pytest.approx(12.0 if shared_session else 4.0)


def test_a_session_in_two_ledgers_is_seen_by_their_fingerprints(tmp_path):
    from cco_hooks.report.summary import PARTS, disjoint, part_of
    from cco_hooks.report.update import summarize

    a, b = (summarize(p) for p in _two_ledgers(tmp_path, shared_session=True))
    try:
        shared = part_of("s-shared")
        assert not disjoint([a.marks[shared], b.marks[shared]])
        assert all(disjoint([a.marks[p], b.marks[p]]) for p in range(PARTS) if p != shared)
    finally:
        a.close()
        b.close()
