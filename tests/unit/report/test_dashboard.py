"""The HTML report's views: spend and savings per day and agent type add up to the JSON report's
days, agent types and totals, under the same filters; the other views are the JSON report's rows."""

import pytest

from cco_hooks.report.dashboard import OTHER_AGENTS, TOP_AGENTS, TOP_SESSIONS, build_dashboard, daily_by_agent
from cco_hooks.report.document import build_report
from cco_hooks.report.query import Filters
from tests.support.ledger_records import cold, run_json, sample_records, spawn, warm, write_ledger


def _daily(path, **filters):
    summary = warm(path)
    try:
        return daily_by_agent([summary], Filters(**filters))
    finally:
        summary.close()


def _column_sums(daily, which):
    return [sum(daily[which][a][i] for a in daily["agents"]) for i in range(len(daily["days"]))]


def _by_key(doc, field):
    return {r["key"]: r[field] for r in doc["rows"]}


@pytest.mark.parametrize("filters", [{}, {"agents": ["python-pro"]}, {"since": "2026-11-25"}], ids=repr)
def test_days_and_agent_types_add_up_to_the_json_report(sample_ledger, filters):
    daily = _daily(sample_ledger, **filters)
    by_day = run_json([sample_ledger], group_by="day", **filters)
    by_agent = run_json([sample_ledger], group_by="agent", **filters)
    assert daily["days"] == list(_by_key(by_day, "cost_usd"))
    assert _column_sums(daily, "cost") == pytest.approx(list(_by_key(by_day, "cost_usd").values()), abs=1e-12)
    assert _column_sums(daily, "savings") == pytest.approx(list(_by_key(by_day, "savings_usd").values()), abs=1e-12)
    assert {a: sum(v) for a, v in daily["cost"].items()} == pytest.approx(_by_key(by_agent, "cost_usd"), abs=1e-12)
    assert sum(map(sum, daily["cost"].values())) == pytest.approx(by_day["totals"]["cost_usd"], abs=1e-12)
    assert daily["agents"] == [r["key"] for r in by_agent["rows"]]  # by cost, highest first


def test_a_day_without_spawns_is_on_the_axis_as_zero(tmp_path):
    path = write_ledger(
        tmp_path / "l.jsonl",
        [spawn(ts="2026-11-20T10:00:00.000Z", tool_use_id="a"), spawn(ts="2026-11-23T10:00:00.000Z", tool_use_id="b")],
    )
    daily = _daily(path)
    assert daily["days"] == ["2026-11-20", "2026-11-21", "2026-11-22", "2026-11-23"]
    assert daily["cost"]["python-pro"] == [0.0123, 0.0, 0.0, 0.0123]


def test_agent_types_past_the_top_are_summed_as_other(tmp_path):
    """The costliest ``TOP_AGENTS`` types keep a series; the rest are one, and nothing is lost."""
    records = [
        spawn(tool_use_id=f"t{i}", agent_type=f"agent-{i:02d}", cost_usd=1 + i, requested_cost_usd=2 + i)
        for i in range(TOP_AGENTS + 3)
    ]
    path = write_ledger(tmp_path / "l.jsonl", records)
    daily = _daily(path)
    costliest = [f"agent-{i:02d}" for i in range(TOP_AGENTS + 2, 2, -1)]
    assert daily["agents"] == costliest + [OTHER_AGENTS]
    assert daily["cost"][OTHER_AGENTS] == [1 + 2 + 3]
    assert daily["savings"][OTHER_AGENTS] == [3.0]
    assert sum(map(sum, daily["cost"].values())) == run_json([path])["totals"]["cost_usd"]


def test_a_last_line_without_its_newline_is_counted(tmp_path):
    """A whole record the hooks are still writing (no newline yet) is in the report's tail: the
    daily views count it as the totals do."""
    path = write_ledger(tmp_path / "l.jsonl", sample_records())
    tail = spawn(ts="2026-11-26T10:00:00.000Z", tool_use_id="tail", cost_usd=0.5)
    write_ledger(path, [tail], mode="a")
    with open(path, "rb+") as f:
        f.seek(-1, 2)
        f.truncate()  # the newline is not written yet
    daily = _daily(path)
    assert daily["days"][-1] == "2026-11-26" and daily["cost"]["python-pro"][-1] == 0.5
    assert sum(map(sum, daily["cost"].values())) == pytest.approx(run_json([path])["totals"]["cost_usd"], abs=1e-12)


def test_the_other_views_are_the_json_reports_rows(sample_ledger):
    summary = cold(sample_ledger)
    try:
        filters = Filters()
        doc = build_report([summary], "agent", filters)
        views = build_dashboard([summary], doc, filters)
        assert views["models"] == build_report([summary], "model", filters)["rows"]
        assert views["decisions"] == build_report([summary], "decision", filters)["rows"]
        sessions = build_report([summary], "session", filters)["rows"]
        assert views["sessions"] == sessions[:TOP_SESSIONS] and views["sessions_not_listed"] == 0
        assert views["drift"]["spawns"] == doc["totals"]["drift"] == 1
    finally:
        summary.close()
