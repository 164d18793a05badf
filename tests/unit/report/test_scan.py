"""Reading ledger lines: what is skipped and counted, torn and whole last lines, bounded batches."""

import pytest

from cco_hooks.report import scan
from cco_hooks.report.document import build_report
from tests.support.ledger_records import (
    all_rows,
    assert_same_as_cold,
    cold,
    line,
    run,
    run_json,
    sample_records,
    session,
    spawn,
    warm,
    write_ledger,
)


def test_corrupt_torn_and_wrong_type_lines_are_skipped_and_counted(tmp_path):
    """Bad lines count in skipped_lines and change no sum; blank lines are not counted."""
    good = spawn()
    bad = [
        "this is not json\n",
        '{"v":1,"kind":"spawn"}\n',  # missing fields
        line(spawn(cost_usd="0.5")),  # wrong type
        line(spawn(tokens={"input": 1.5, "output": 0, "cache_read": 0, "cache_write_5m": 0, "cache_write_1h": 0})),
        line(spawn(v=3)),  # a schema version this reader does not know
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
    assert "13 ledger lines skipped (torn, corrupt, or not ledger schema v1 or v2)." in out


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


def test_torn_tail_is_read_again_once_completed(sample_ledger):
    """A half-written last line is skipped now, and counted once when its writer finishes."""
    warm(sample_ledger)
    rec = line(spawn(tool_use_id="toolu_late", cost_usd=2.0))
    write_ledger(sample_ledger, [rec[:50]], mode="a")
    s = warm(sample_ledger)
    assert (s.torn, s.skipped_lines) == (1, 1)
    write_ledger(sample_ledger, [rec[50:]], mode="a")
    s = warm(sample_ledger)
    assert (s.torn, s.skipped_lines, s.rebuilt) == (0, 0, False)
    assert build_report([s])["totals"]["spawns"] == 8
    assert_same_as_cold(s, sample_ledger)


def test_whole_tail_record_counts_now_and_once_later(sample_ledger):
    """A whole record without its newline counts now, is not saved, and counts once later."""
    warm(sample_ledger)
    rec = line(spawn(tool_use_id="toolu_tail"))
    write_ledger(sample_ledger, [rec.rstrip("\n")], mode="a")
    s = warm(sample_ledger)
    assert s.tail is not None and build_report([s])["totals"]["spawns"] == 8
    write_ledger(sample_ledger, ["\n"], mode="a")
    s = warm(sample_ledger)
    assert s.tail is None and build_report([s])["totals"]["spawns"] == 8
    assert_same_as_cold(s, sample_ledger)


def test_spilled_chunks_merge_to_the_same_rows(sample_ledger, monkeypatch):
    """A full scan that moves its rows out every few keys gives exactly the rows of one that
    keeps them all until the end."""
    whole = cold(sample_ledger)
    monkeypatch.setattr(scan, "WORK_KEYS", 1)
    assert_same_as_cold(cold(sample_ledger), sample_ledger)
    assert all_rows(cold(sample_ledger)) == all_rows(whole)
