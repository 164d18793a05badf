"""What a report covers: date, session, project and agent filters; the ledgers it reads."""

import pytest

from cco_hooks.errors import CcoHooksError
from cco_hooks.report.query import resolve_ledgers
from tests.support.ledger_records import run, run_json, spawn, write_ledger

# ---- filters ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "since, until, spawns",
    [
        ("2026-11-25", None, 4),
        (None, "2026-11-24", 3),
        ("2026-11-24", "2026-11-24", 3),
        ("today", None, 4),
        ("yesterday", "yesterday", 3),
        ("2d", None, 7),
        ("1d", None, 4),
        ("1w", None, 7),
        ("2026-11-26", None, 0),
    ],
)
def test_date_filters(ledger_path, since, until, spawns):
    """--since/--until take dates, today, yesterday and Nd/Nw (the last N days, today included)."""
    doc = run_json([ledger_path], since=since, until=until)
    assert doc["totals"]["spawns"] == spawns


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
    assert doc["filters"] == {
        "since": "2026-11-25",
        "until": None,
        "sessions": [],
        "projects": ["web"],
        "agents": ["python-pro"],
    }


def test_filter_matching_nothing_says_so(ledger_path):
    out = run([ledger_path], fmt="table", agents=["nobody"])[1]
    assert out == (
        f"No spawns recorded matching the filters in {ledger_path}.\n"
        "Sessions: subagents cost $0 of $7.50 (0%) in 2 sessions with a recorded cost.\n"
    )


# ---- ledgers: missing, several, globs ---------------------------------------------------------


def test_missing_live_ledger_is_an_empty_report(monkeypatch, tmp_path):
    """Before the first spawn there is no ledger: the report is empty, not an error."""
    monkeypatch.setenv("CCO_HOOKS_LEDGER", str(tmp_path / "none" / "ledger.jsonl"))
    code, out, err = run([], fmt="table")
    assert (code, out) == (0, f"No spawns recorded in {tmp_path / 'none' / 'ledger.jsonl'}.\n")


def test_live_ledger_from_the_environment(monkeypatch, ledger_path):
    """Without --ledger the report reads CCO_HOOKS_LEDGER."""
    monkeypatch.setenv("CCO_HOOKS_LEDGER", ledger_path)
    assert run_json([])["ledgers"] == [ledger_path]
    assert run_json([])["totals"]["spawns"] == 7


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


def test_the_live_ledger_named_before_its_first_record_is_an_empty_report(monkeypatch, tmp_path):
    """--ledger naming the live ledger that does not exist yet is not an error (it may be settled now)."""
    live = tmp_path / "live" / "ledger.jsonl"
    monkeypatch.setenv("CCO_HOOKS_LEDGER", str(live))
    assert resolve_ledgers([str(live)]) == [str(live)]
    with pytest.raises(CcoHooksError):
        resolve_ledgers([str(tmp_path / "other.jsonl")])
