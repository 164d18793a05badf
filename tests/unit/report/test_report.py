"""`cco-hooks report`: tables, JSON contract, filters, drift, --fail-over (issues 3 and 4)."""

import copy
import datetime as dt
import io
import json
import os
from pathlib import Path

import jsonschema
import pytest

from cco_hooks.report import report
from cco_hooks.report import summary as rs
from cco_hooks.errors import CcoHooksError
from tests.support.locations import REPO
from tests.support.ledger_records import (BASE_SPAWN, SCHEMA, SESSION_A, SESSION_B, TODAY, denied, line, run, run_json,
                                          sample_records, session, spawn, unpriced, write_ledger)

SNAPSHOTS = Path(__file__).parent / "snapshots"

@pytest.fixture
def ledger_path(tmp_path):
    return write_ledger(tmp_path / "ledger" / "ledger.jsonl", sample_records())


def rows(doc):
    return {r["key"]: r for r in doc["rows"]}


def check_snapshot(name, text):
    """Compare with tests/unit/snapshots/<name>; UPDATE_SNAPSHOTS=1 rewrites them."""
    path = SNAPSHOTS / name
    if os.environ.get("UPDATE_SNAPSHOTS"):
        path.parent.mkdir(exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"no snapshot {path}; run with UPDATE_SNAPSHOTS=1 to write it"
    assert text == path.read_text(encoding="utf-8")


# ---- the JSON contract ------------------------------------------------------------------------

def test_schema_is_a_valid_2020_12_schema():
    """config/report.schema.json is itself a valid JSON Schema."""
    jsonschema.Draft202012Validator.check_schema(SCHEMA)


@pytest.mark.parametrize("group_by", report.GROUPS)
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
    assert py["tokens"] == {"input": 250000 + 1000 * 4, "output": 40000 + 200 * 4,
                            "cache_read": 1200000 + 5000 * 4, "cache_write": 100000 + 300 * 4}
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
    assert [(r["key"], r["spawns"], r["denials"]) for r in doc["rows"]] == [
        ("2026-11-24", 3, 1), ("2026-11-25", 4, 0)]
    by = rows(run_json([ledger_path], group_by="decision"))
    assert {k: (r["spawns"], r["denials"]) for k, r in by.items()} == {
        "rewrite": (5, 0), "allow": (1, 0), "deny": (0, 1), "none": (1, 0)}
    by = rows(run_json([ledger_path], group_by="session"))
    assert by[SESSION_A]["session_cost_usd"] == 4.5
    assert by[SESSION_A]["subagent_share"] == pytest.approx(round((0.0123 + 0.3412 + 1.25) / 4.5, 4))
    by = rows(run_json([ledger_path], group_by="project"))
    assert by["/home/dev/web"]["spawns"] == 4 and by["/home/dev/web"]["session_cost_usd"] == 3.0


def test_session_share_uses_the_latest_session_record(ledger_path):
    """Session cost is the latest record per session; the share is subagent cost / session cost."""
    t = run_json([ledger_path])["totals"]
    assert t["sessions"] == 2
    assert t["session_cost_usd"] == 7.5
    assert t["subagent_cost_in_sessions_usd"] == pytest.approx(t["cost_usd"])
    assert t["subagent_share"] == pytest.approx(round(t["cost_usd"] / 7.5, 4))


def test_session_record_order_in_file_does_not_matter(tmp_path):
    """An older session record after a newer one (merged ledgers) does not win."""
    path = write_ledger(tmp_path / "l.jsonl", [
        session(cost=5.0, ts="2026-11-25T12:00:00.000Z"), session(cost=1.0, ts="2026-11-25T10:00:00.000Z")])
    assert run_json([path])["totals"]["session_cost_usd"] == 5.0


def test_no_session_records_gives_null_share(tmp_path):
    """Without session records the share is unknown (null), not 0."""
    path = write_ledger(tmp_path / "l.jsonl", [spawn()])
    t = run_json([path])["totals"]
    assert t["sessions"] == 0 and t["session_cost_usd"] is None and t["subagent_share"] is None


def test_all_unpriced_row_has_zero_cost_and_says_so(tmp_path):
    """A row whose spawns are all unpriced sums to 0 and counts them: never a silent 0."""
    path = write_ledger(tmp_path / "l.jsonl", [unpriced(), unpriced(tokens=None)])
    row = run_json([path])["rows"][0]
    assert (row["spawns"], row["unpriced"], row["cost_usd"], row["savings_pct"]) == (2, 2, 0.0, None)


# ---- exact tables (snapshots) -----------------------------------------------------------------

@pytest.mark.parametrize("group_by", report.GROUPS)
def test_table_snapshot_80_columns(ledger_path, group_by):
    """The default table for every --by, exactly, in 80 columns."""
    code, out, err = run([ledger_path], fmt="table", group_by=group_by, width=80)
    assert code == 0 and err == ""
    assert max(len(x) for x in out.splitlines()) <= 80
    check_snapshot(f"report_table_by_{group_by}.txt", out)


def test_table_snapshot_narrow_terminal_truncates_keys(ledger_path):
    """In 60 columns the key column gives way (… marks the cut; projects keep their end)."""
    code, out, _ = run([ledger_path], fmt="table", group_by="session", width=60)
    check_snapshot("report_table_by_session_60.txt", out)
    code, out, _ = run([ledger_path], fmt="table", group_by="project", width=60)
    check_snapshot("report_table_by_project_60.txt", out)


def test_table_snapshot_markdown_and_csv(ledger_path):
    """Markdown and CSV renderings, exactly."""
    check_snapshot("report_by_agent.md", run([ledger_path], fmt="markdown")[1])
    check_snapshot("report_by_agent.csv", run([ledger_path], fmt="csv")[1])


def test_table_snapshot_drift(ledger_path, tmp_path):
    """--drift: counts by cause, then the drifted spawns."""
    code, out, _ = run([ledger_path], fmt="table", drift=True)
    check_snapshot("report_drift.txt", out)
    csv_text = run([ledger_path], fmt="csv", drift=True)[1]
    check_snapshot("report_drift.csv", csv_text.replace(ledger_path, "LEDGER"))


def test_unpriced_marker_and_footnote(ledger_path):
    """Rows with unpriced spawns carry * on their cost; a footnote says what is missing."""
    out = run([ledger_path], fmt="table")[1]
    py_line = next(x for x in out.splitlines() if x.startswith("python-pro"))
    assert "$0.4235*" in py_line
    out = run([ledger_path], fmt="markdown")[1]  # footnotes unwrapped
    assert "* 1 unpriced spawn (no price for the model, or no readable transcript) is in no cost sum; " \
           "1 spawn without a price at the requested model is in no requested cost or savings." in out


@pytest.mark.parametrize("value, text", [
    (0, "$0"), (0.00001, "<$0.0001"), (0.0123, "$0.0123"), (0.5, "$0.5000"), (1, "$1.00"),
    (12.345678, "$12.35"), (999.99, "$999.99"), (12345.6, "$12,346"), (-0.25, "-$0.2500"), (None, "-")])
def test_money_format(value, text):
    """Four decimals under $1, cents under $1000, whole dollars above."""
    assert report.fmt_money(value) == text


@pytest.mark.parametrize("value, text", [
    (0, "0"), (999, "999"), (1000, "1.0k"), (9949, "9.9k"), (12345, "12k"), (999_499, "999k"),
    (999_500, "1.0M"), (12_345_678, "12M"), (3_400_000_000, "3.4G")])
def test_token_format(value, text):
    """Token counts in two or three significant figures."""
    assert report.fmt_qty(value) == text


# ---- filters ----------------------------------------------------------------------------------

@pytest.mark.parametrize("since, until, spawns", [
    ("2026-11-25", None, 4), (None, "2026-11-24", 3), ("2026-11-24", "2026-11-24", 3),
    ("today", None, 4), ("yesterday", "yesterday", 3), ("2d", None, 7), ("1d", None, 4),
    ("1w", None, 7), ("2026-11-26", None, 0)])
def test_date_filters(ledger_path, since, until, spawns):
    """--since/--until take dates, today, yesterday and Nd/Nw (the last N days, today included)."""
    doc = run_json([ledger_path], since=since, until=until)
    assert doc["totals"]["spawns"] == spawns


def test_date_filter_also_selects_session_costs(ledger_path):
    """Session costs follow the date filter by their latest record's day."""
    t = run_json([ledger_path], since="2026-11-25")["totals"]
    assert t["sessions"] == 1 and t["session_cost_usd"] == 3.0


@pytest.mark.parametrize("text", ["2026-13-01", "last week", "0d", "-3d", ""])
def test_bad_dates_are_refused_with_the_fix(ledger_path, text):
    """A date that is not one raises CcoHooksError naming the accepted forms."""
    with pytest.raises(CcoHooksError, match="YYYY-MM-DD, today, yesterday"):
        run([ledger_path], since=text or " ")


def test_since_after_until_is_refused(ledger_path):
    with pytest.raises(CcoHooksError, match="is after --until"):
        run([ledger_path], since="2026-11-25", until="2026-11-24")


def test_session_filter_takes_prefixes(ledger_path):
    """--session matches a session id prefix; repeated, any of them."""
    assert run_json([ledger_path], sessions=["5f1c"])["totals"]["spawns"] == 4
    assert run_json([ledger_path], sessions=["5f1c", "b8a8"])["totals"]["spawns"] == 7
    t = run_json([ledger_path], sessions=["b8a8"])["totals"]
    assert t["spawns"] == 3 and t["session_cost_usd"] == 4.5
    assert run_json([ledger_path], sessions=["zzz"])["totals"]["spawns"] == 0


def test_project_filter_takes_paths_or_names(ledger_path, monkeypatch, tmp_path):
    """--project matches the full path, a relative path, or the directory name."""
    assert run_json([ledger_path], projects=["/home/dev/web"])["totals"]["spawns"] == 4
    assert run_json([ledger_path], projects=["/home/dev/web/"])["totals"]["spawns"] == 4
    assert run_json([ledger_path], projects=["proj"])["totals"]["spawns"] == 3
    monkeypatch.chdir("/")
    assert run_json([ledger_path], projects=["home/dev/proj"])["totals"]["spawns"] == 3
    assert run_json([ledger_path], projects=["other"])["totals"]["spawns"] == 0


def test_agent_filter_matches_like_claude_code(ledger_path):
    """--agent is case- and separator-insensitive and takes * ? globs."""
    assert run_json([ledger_path], agents=["Python Pro"])["totals"]["spawns"] == 5
    assert run_json([ledger_path], agents=["code_reviewer"])["totals"]["denials"] == 1
    assert run_json([ledger_path], agents=["*e*"])["totals"]["spawns"] == 2  # code-reviewer, explore
    assert run_json([ledger_path], agents=["python-pro", "explore"])["totals"]["spawns"] == 6


def test_filters_combine(ledger_path):
    """Every filter given must match."""
    doc = run_json([ledger_path], agents=["python-pro"], projects=["web"], since="2026-11-25")
    assert doc["totals"]["spawns"] == 3
    assert doc["filters"] == {"since": "2026-11-25", "until": None, "sessions": [],
                              "projects": ["web"], "agents": ["python-pro"]}


def test_filter_matching_nothing_says_so(ledger_path):
    out = run([ledger_path], fmt="table", agents=["nobody"])[1]
    assert out == "No spawns recorded matching the filters.\nSessions: subagents cost $0 of $7.50 (0%) in 2 sessions with a recorded cost.\n"


# ---- ledgers: empty, missing, corrupt, several ------------------------------------------------

def test_empty_ledger(tmp_path):
    """An empty ledger prints one line, JSON with no rows and zero totals, exit 0."""
    path = write_ledger(tmp_path / "l.jsonl", [])
    code, out, err = run([path], fmt="table")
    assert (code, out, err) == (0, "No spawns recorded.\n", "")
    doc = run_json([path])
    assert doc["rows"] == [] and doc["totals"]["spawns"] == 0 and doc["totals"]["cost_usd"] == 0.0


def test_missing_live_ledger_is_an_empty_report(monkeypatch, tmp_path):
    """Before the first spawn there is no ledger: the report is empty, not an error."""
    monkeypatch.setenv("CCO_HOOKS_LEDGER", str(tmp_path / "none" / "ledger.jsonl"))
    code, out, err = run([], fmt="table")
    assert (code, out) == (0, "No spawns recorded.\n")


def test_live_ledger_from_the_environment(monkeypatch, ledger_path):
    """Without --ledger the report reads CCO_HOOKS_LEDGER."""
    monkeypatch.setenv("CCO_HOOKS_LEDGER", ledger_path)
    assert run_json([])["ledgers"] == [ledger_path]
    assert run_json([])["totals"]["spawns"] == 7


def test_corrupt_torn_and_wrong_type_lines_are_skipped_and_counted(tmp_path):
    """Bad lines count in skipped_lines and change no sum; blank lines are not counted."""
    good = spawn()
    bad = [
        "this is not json\n",
        '{"v":1,"kind":"spawn"}\n',  # missing fields
        line(spawn(cost_usd="0.5")),  # wrong type
        line(spawn(tokens={"input": 1.5, "output": 0, "cache_read": 0, "cache_write_5m": 0, "cache_write_1h": 0})),
        line(spawn(v=2)),  # another schema version
        line(spawn(kind="budget")),  # unknown kind
        line(spawn(ts="yesterday")),  # not an ISO date
        line(spawn(status="exploded")),
        line(spawn(action="maybe")),
        line(spawn(agent_type=["python-pro"])),
        line(session(cost="a lot")),
        "[1, 2, 3]\n",
        "\n",
        "   \n",
    ]
    torn = line(good)[:40]  # a writer died mid-line
    path = write_ledger(tmp_path / "l.jsonl", [good] + bad + [good, torn])
    doc = run_json([path])
    assert doc["skipped_lines"] == 12 + 1
    assert doc["totals"]["spawns"] == 2
    assert doc["totals"]["cost_usd"] == pytest.approx(2 * 0.0123)
    out = run([path], fmt="table")[1]
    assert "13 ledger lines skipped (torn, corrupt, or not ledger schema v1)." in out


def test_whole_last_record_without_newline_counts(tmp_path):
    """A last line that is a whole record but lacks its newline is counted (like ledger.iter_records)."""
    path = write_ledger(tmp_path / "l.jsonl", [spawn(), line(spawn()).rstrip("\n")])
    doc = run_json([path])
    assert (doc["totals"]["spawns"], doc["skipped_lines"]) == (2, 0)


def test_records_the_hooks_write_are_read(tmp_path):
    """Records appended by ledger.append (the hooks' writer) are read back."""
    from cco_hooks import ledger

    path = str(tmp_path / "l.jsonl")
    for rec in sample_records():
        ledger.append(path, rec)
    assert run_json([path])["totals"]["spawns"] == 7


def test_several_ledgers_and_globs_merge(tmp_path, ledger_path):
    """--ledger repeats and takes globs; a file named twice counts once; side files are ignored."""
    other = write_ledger(tmp_path / "machines" / "laptop.jsonl", [spawn(session_id="c0ffee")])
    write_ledger(tmp_path / "machines" / "desktop.jsonl", [spawn(session_id="d00d"), spawn(session_id="d00d")])
    run([other])  # leaves laptop.jsonl.summary beside it, which the glob must skip
    (tmp_path / "machines" / "laptop.jsonl.lock").write_text("")
    doc = run_json([ledger_path, str(tmp_path / "machines" / "*"), other])
    assert doc["ledgers"] == [ledger_path, str(tmp_path / "machines" / "desktop.jsonl"), other]
    assert doc["totals"]["spawns"] == 7 + 3


def test_missing_ledger_or_empty_glob_is_an_error(tmp_path):
    with pytest.raises(CcoHooksError, match="does not exist"):
        run([str(tmp_path / "nope.jsonl")])
    with pytest.raises(CcoHooksError, match="matches no file"):
        run([str(tmp_path / "*.jsonl")])
    with pytest.raises(CcoHooksError, match="is a directory"):
        run([str(tmp_path)])


def test_bad_format_or_grouping_is_refused(ledger_path):
    with pytest.raises(CcoHooksError, match="Unknown format"):
        run([ledger_path], fmt="xml")
    with pytest.raises(CcoHooksError, match="Unknown grouping"):
        run([ledger_path], group_by="colour")


# ---- drift ------------------------------------------------------------------------------------

def test_drift_counts_by_cause_and_lists_spawns(tmp_path):
    """Drift = ran on another model family than enforced; the cause is inferred from the record."""
    path = write_ledger(tmp_path / "l.jsonl", [
        spawn(tool_use_id="t_ok"),  # ran on the enforced model
        spawn(tool_use_id="t_hook", actual_model="claude-sonnet-5-5"),  # = what Claude asked for
        spawn(tool_use_id="t_fork", agent_type="fork", actual_model="claude-opus-5-5"),
        spawn(tool_use_id="t_old", claude_code_version="2.1.70", actual_model="claude-opus-5-5"),
        spawn(tool_use_id="t_sub", actual_model="claude-fable-5-2"),
        spawn(tool_use_id="t_mix", actual_model="claude-opus-5-5", by_model={
            "claude-opus-5-5": {"requests": 3, "cost_usd": 0.1}, "claude-haiku-5-5": {"requests": 1, "cost_usd": 0.01}}),
        spawn(tool_use_id="t_ver", enforced_model="haiku", actual_model="claude-haiku-4-5"),  # same family
        spawn(tool_use_id="t_obs", action="observe", actual_model="claude-sonnet-5-5"),  # not enforced
        unpriced(tool_use_id="t_unp", actual_model="claude-opus-5-5"),  # ran, so it can drift
        denied(tool_use_id="t_den"),
    ])
    d = run_json([path], drift=True)["drift"]
    assert d["spawns"] == 6
    assert d["by_cause"] == {"substituted": 3, "another_hook": 1, "fork": 1, "version_quirk": 1}
    assert list(d["by_cause"]) == ["substituted", "another_hook", "fork", "version_quirk"]
    assert [e["tool_use_id"] for e in d["listed"]] == ["t_hook", "t_fork", "t_old", "t_sub", "t_mix", "t_unp"]
    assert [e["cause"] for e in d["listed"]] == [
        "another_hook", "fork", "version_quirk", "substituted", "substituted", "substituted"]
    assert set(d["causes"]) == set(d["by_cause"])
    assert d["not_listed"] == 0


def test_drift_limit_keeps_the_latest(tmp_path):
    """--limit N lists the N latest drifted spawns, oldest first, and says how many it left out."""
    path = write_ledger(tmp_path / "l.jsonl", [
        spawn(tool_use_id=f"t{i}", ts=f"2026-11-2{i}T10:00:00.000Z", actual_model="claude-opus-5-5")
        for i in range(1, 6)])
    d = run_json([path], drift=True, drift_limit=2)["drift"]
    assert [e["tool_use_id"] for e in d["listed"]] == ["t4", "t5"]
    assert d["not_listed"] == 3 and d["spawns"] == 5
    out = run([path], fmt="table", drift=True, drift_limit=2)[1]
    assert "(3 earlier not listed; --limit 0 lists all.)" in out
    assert len(run_json([path], drift=True, drift_limit=0)["drift"]["listed"]) == 5


def test_drift_respects_filters(ledger_path):
    d = run_json([ledger_path], drift=True, since="2026-11-25")["drift"]
    assert d["spawns"] == 1 and len(d["listed"]) == 1
    d = run_json([ledger_path], drift=True, until="2026-11-24")["drift"]
    assert d["spawns"] == 0 and d["listed"] == []


def test_no_drift_says_so(tmp_path):
    path = write_ledger(tmp_path / "l.jsonl", [spawn()])
    out = run([path], fmt="table", drift=True)[1]
    assert out.endswith("\nDrift: no spawn ran on another model than the enforced one.\n")


# ---- --fail-over ------------------------------------------------------------------------------

@pytest.mark.parametrize("amount, code", [(0, 1), (2.47, 1), (2.4735, 0), (2.48, 0), (1000, 0)])
def test_fail_over_exit_codes(ledger_path, amount, code):
    """--fail-over USD exits 1 when the selected cost is over it (not when equal), else 0."""
    total = 0.0123 + 0.3412 + 1.25 + 0.8 + 0.05 + 0.02  # 2.4735
    got, out, err = run([ledger_path], fmt="table", fail_over=amount)
    assert got == code
    assert "\ntotal " in out  # the report is printed either way
    if code:
        assert err == f"cco-hooks report: cost $2.47 is over --fail-over {report.fmt_money(amount)}.\n"
    else:
        assert err == ""
    assert total == pytest.approx(2.4735)


def test_fail_over_uses_the_selected_cost(ledger_path):
    """The gate applies to what the filters select."""
    assert run([ledger_path], fail_over=1.0, agents=["python-pro"])[0] == 0
    assert run([ledger_path], fail_over=1.0, agents=["code-reviewer"])[0] == 1


def test_fail_over_must_be_an_amount(ledger_path):
    with pytest.raises(CcoHooksError, match="must be an amount"):
        run([ledger_path], fail_over=-1)


# ---- progress, stdout, settling ---------------------------------------------------------------

class FakeTTY(io.StringIO):
    def isatty(self):
        return True


def test_progress_bar_waits_a_second_then_draws_and_clears():
    """The bar shows only after `delay` seconds, at most ten times a second, and is wiped."""
    now = [0.0]
    err = FakeTTY()
    bar = rs.Progress(err, "ledger.jsonl", delay=1.0, clock=lambda: now[0])
    bar(10, 100)
    assert err.getvalue() == ""
    now[0] = 1.5
    bar(50_000_000, 100_000_000)
    now[0] = 1.55
    bar(60_000_000, 100_000_000)  # too soon after the last draw
    bar.close()
    assert err.getvalue() == (
        "\rscanning ledger.jsonl [###############               ]  50%  50/100 MB\r\x1b[K")


def test_quiet_progress_never_clears_anything():
    err = FakeTTY()
    bar = rs.Progress(err, "x", delay=1.0, clock=lambda: 0.0)
    bar(1, 2)
    bar.close()
    assert err.getvalue() == ""


def test_no_progress_when_stderr_is_not_a_terminal(ledger_path, monkeypatch):
    """Nothing goes to stderr when it is not a terminal, whatever the scan takes."""
    monkeypatch.setattr(rs.Progress, "__init__", lambda *a, **k: pytest.fail("progress made"))
    code, out, err = run([ledger_path], fmt="table")
    assert err == "" and out


def test_progress_goes_to_a_terminal_stderr(ledger_path, monkeypatch):
    """With a terminal on stderr the scan reports progress there (and stdout has only the report)."""
    calls = []
    monkeypatch.setattr(rs.Progress, "__call__", lambda self, done, total: calls.append((done, total)))
    out, err = io.StringIO(), FakeTTY()
    report.run_report(ledgers=[ledger_path], fmt="json", stdout=out, stderr=err, today=TODAY)
    assert calls and calls[-1][0] == os.path.getsize(ledger_path)
    json.loads(out.getvalue())


def test_live_ledger_is_settled_first(monkeypatch, ledger_path):
    """Only the live ledger is settled (force=True), and a failure there does not break the report."""
    from cco_hooks import accounting

    calls = []
    monkeypatch.setattr(accounting, "settle", lambda path, prices, **kw: calls.append((path, kw)))
    monkeypatch.setenv("CCO_HOOKS_LEDGER", ledger_path)
    run([])
    assert calls == [(ledger_path, {"force": True})]
    run([ledger_path])
    assert len(calls) == 2
    run([ledger_path, ledger_path])  # the same file named twice is still the live one
    assert len(calls) == 3


def test_foreign_ledgers_are_not_settled(monkeypatch, ledger_path, tmp_path):
    from cco_hooks import accounting

    monkeypatch.setattr(accounting, "settle", lambda *a, **k: pytest.fail("settled a foreign ledger"))
    other = write_ledger(tmp_path / "other.jsonl", [spawn()])
    run([other])
    run([ledger_path, other])


def test_a_settling_failure_is_one_line_on_stderr(monkeypatch, ledger_path):
    from cco_hooks import pricing

    def boom(*a, **k):
        raise RuntimeError("price table unreadable")

    monkeypatch.setattr(pricing, "load_prices", boom)
    monkeypatch.setenv("CCO_HOOKS_LEDGER", ledger_path)
    code, out, err = run([], fmt="json")
    assert code == 0 and json.loads(out)["totals"]["spawns"] == 7
    assert err == ("cco-hooks report: pending spawns were not settled (price table unreadable); "
                   "the report shows what the ledger holds.\n")


def test_the_live_ledger_named_before_its_first_record_is_an_empty_report(monkeypatch, tmp_path):
    """--ledger naming the live ledger that does not exist yet is not an error (it may be settled now)."""
    live = tmp_path / "live" / "ledger.jsonl"
    monkeypatch.setenv("CCO_HOOKS_LEDGER", str(live))
    assert report.resolve_ledgers([str(live)]) == [str(live)]
    with pytest.raises(CcoHooksError):
        report.resolve_ledgers([str(tmp_path / "other.jsonl")])
