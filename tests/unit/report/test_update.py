"""Keeping the summary up to date: only appended bytes are read, and it is never stale."""

import os

from cco_hooks.report.document import build_report
from cco_hooks.report.summary_file import HEAD_BYTES
from tests.support.ledger_records import (
    SESSION_B,
    assert_same_as_cold,
    denied,
    line,
    run_json,
    sample_records,
    session,
    spawn,
    unpriced,
    warm,
    write_ledger,
)


def test_repeated_report_scans_only_the_appended_bytes(sample_ledger):
    """After one more record, only that record's bytes are read, and the sums are exact."""
    first = warm(sample_ledger)
    assert first.rebuilt and first.scanned_bytes == os.path.getsize(sample_ledger)
    extra = line(spawn(tool_use_id="toolu_new", session_id=SESSION_B, cost_usd=1.5))
    write_ledger(sample_ledger, [extra], mode="a")
    second = warm(sample_ledger)
    assert not second.rebuilt
    assert second.scanned_bytes == len(extra)
    assert_same_as_cold(second, sample_ledger)


def test_nothing_new_reads_nothing_and_does_not_rewrite_the_summary(sample_ledger):
    warm(sample_ledger)
    before = os.stat(sample_ledger + ".summary").st_mtime_ns
    again = warm(sample_ledger)
    assert (again.rebuilt, again.scanned_bytes) == (False, 0)
    assert os.stat(sample_ledger + ".summary").st_mtime_ns == before


def test_many_appends_stay_exact(sample_ledger):
    """Appending one record at a time, every kind, keeps the summary equal to a full scan."""
    warm(sample_ledger)
    for rec in [
        denied(),
        unpriced(),
        session(cost=9.0, ts="2026-11-26T00:00:00.000Z"),
        spawn(actual_model="claude-opus-5-5"),
        "garbage\n",
        spawn(ts="2026-11-27T01:00:00.000Z"),
    ]:
        write_ledger(sample_ledger, [rec], mode="a")
        s = warm(sample_ledger)
        assert not s.rebuilt
        assert_same_as_cold(s, sample_ledger)


def test_truncation_rebuilds(sample_ledger):
    """A ledger cut shorter than the offset scanned is rescanned from the start."""
    warm(sample_ledger)
    with open(sample_ledger, "rb+") as f:
        f.truncate(os.path.getsize(sample_ledger) // 2)
    s = warm(sample_ledger)
    assert s.rebuilt
    assert_same_as_cold(s, sample_ledger)


def test_truncate_then_regrow_past_the_offset_rebuilds(sample_ledger):
    """Emptied and refilled with other records beyond the old size: the CRCs notice."""
    warm(sample_ledger)
    size = os.path.getsize(sample_ledger)
    with open(sample_ledger, "w") as f:
        while f.tell() <= size + 100:
            f.write(line(spawn(agent_type="refilled")))
    s = warm(sample_ledger)
    assert s.rebuilt
    assert list(build_report([s])["rows"][0].values())[0] == "refilled"
    assert_same_as_cold(s, sample_ledger)


def test_rotation_rebuilds(sample_ledger):
    """The ledger renamed away and a new one started (another inode) is read afresh."""
    warm(sample_ledger)
    os.rename(sample_ledger, sample_ledger + ".1")
    os.rename(sample_ledger + ".summary", sample_ledger + ".summary.bak")  # keep the old summary in place...
    write_ledger(sample_ledger, sample_records()[:3])
    os.rename(sample_ledger + ".summary.bak", sample_ledger + ".summary")  # ...so only the inode tells them apart
    s = warm(sample_ledger)
    assert s.rebuilt
    assert_same_as_cold(s, sample_ledger)


def test_rewrite_by_rename_rebuilds(sample_ledger, tmp_path):
    """A ledger rewritten to a temp file and renamed over (new inode) is rescanned."""
    warm(sample_ledger)
    tmp = write_ledger(tmp_path / "new.jsonl", sample_records() + [spawn()])
    os.replace(tmp, sample_ledger)
    s = warm(sample_ledger)
    assert s.rebuilt
    assert_same_as_cold(s, sample_ledger)


def test_in_place_edit_of_the_first_block_rebuilds(sample_ledger):
    """Same inode, same size, a changed first line: the first-4-KiB CRC notices."""
    warm(sample_ledger)
    with open(sample_ledger, "r+b") as f:
        data = f.read()
        f.seek(0)
        f.write(data.replace(b"python-pro", b"python-PRO", 1))
    s = warm(sample_ledger)
    assert s.rebuilt
    assert_same_as_cold(s, sample_ledger)


def test_in_place_edit_of_the_last_line_rebuilds(tmp_path):
    """Same inode and size, beyond the first 4 KiB: the last scanned line's CRC notices."""
    path = write_ledger(tmp_path / "l.jsonl", [spawn(tool_use_id=f"t{i}") for i in range(20)])
    assert os.path.getsize(path) > 2 * HEAD_BYTES
    warm(path)
    with open(path, "r+b") as f:
        data = f.read()
        f.seek(0)
        f.write(data[:-200] + data[-200:].replace(b"0.0123", b"0.9123"))
    s = warm(path)
    assert s.rebuilt
    assert_same_as_cold(s, path)


def test_skipped_lines_survive_in_the_summary(tmp_path):
    """Lines skipped by an earlier scan stay counted in later reports."""
    path = write_ledger(tmp_path / "l.jsonl", [spawn(), "not json\n", spawn(v=0)])
    assert warm(path).skipped_lines == 2
    write_ledger(path, [spawn()], mode="a")
    s = warm(path)
    assert (s.rebuilt, s.skipped_lines) == (False, 2)


def test_no_summary_option_neither_reads_nor_writes(sample_ledger):
    assert run_json([sample_ledger], use_summary=False)["totals"]["spawns"] == 7
    assert not os.path.exists(sample_ledger + ".summary")


def test_the_warm_report_equals_the_cold_one(sample_ledger):
    """run_report with the summary gives byte-identical JSON to a full scan, after an append."""
    run_json([sample_ledger])
    write_ledger(sample_ledger, [spawn(cost_usd=0.1), session(cost=11.0, ts="2026-11-26T00:00:00.000Z")], mode="a")
    assert run_json([sample_ledger]) == run_json([sample_ledger], use_summary=False)


def _short_sessions(path, sessions=400):
    items = []
    for n in range(sessions):
        sid = f"session-{n:04d}"
        for k in range(1 + n % 3):
            items.append(
                spawn(
                    ts=f"2026-11-{1 + n % 28:02d}T10:{k:02d}:00.000Z",
                    session_id=sid,
                    agent_type=f"agent-{(n + k) % 5}",
                    tool_use_id=f"t{n}-{k}",
                    cost_usd=0.001 * (1 + (n * k) % 11),
                )
            )
        items.append(session(sid, cost=0.01 * (1 + n % 7), ts=f"2026-11-{1 + n % 28:02d}T23:00:00.000Z"))
        if n % 50 == 7:  # a later record of an earlier session, past a batch or two
            items.append(session(f"session-{n - 7:04d}", cost=9.0, ts="2026-11-28T23:30:00.000Z"))
    return write_ledger(path, items)


def test_a_small_full_scan_merged_in_memory_is_the_spilled_one(tmp_path, monkeypatch):
    """A full scan of at most ``IN_MEMORY_BYTES`` merges its partitions in memory; one past it
    spills them to a file and merges them back: the same summary, partitions, shares and marks."""
    from cco_hooks.report import scan, update
    from tests.support.ledger_records import all_rows, all_sessions

    path = _short_sessions(tmp_path / "team.jsonl")
    monkeypatch.setenv("CCO_HOOKS_REPORT_WORKERS", "1")
    monkeypatch.setattr(scan, "WORK_KEYS", 64)  # many batches, sessions across them
    spilled_files = []
    real_spill = update.Spill

    def counting_spill(*args):
        spilled_files.append(args)
        return real_spill(*args)

    monkeypatch.setattr(update, "Spill", counting_spill)
    in_memory = update.summarize(str(path), use_saved=False, save_summary=False)
    assert spilled_files == []
    monkeypatch.setattr(update, "IN_MEMORY_BYTES", 0)
    spilled = update.summarize(str(path), use_saved=False, save_summary=False)
    assert len(spilled_files) == 1
    try:
        assert all_rows(in_memory) == all_rows(spilled)
        assert all_sessions(in_memory) == all_sessions(spilled)
        assert in_memory.shares == spilled.shares and in_memory.rollups == spilled.rollups
        assert [sorted(memoryview(m).cast("Q")) for m in in_memory.marks] == [
            sorted(memoryview(m).cast("Q")) for m in spilled.marks
        ]
        assert all_sessions(in_memory)["session-0000"][2] == 9_000_000_000  # the later record won
        assert build_report([in_memory], "session") == build_report([spilled], "session")
    finally:
        in_memory.close()
        spilled.close()
    assert [n for n in os.listdir(tmp_path) if n.startswith("team")] == ["team.jsonl"]  # no spill left
