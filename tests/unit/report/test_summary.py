"""The report's incremental summary beside the ledger: never stale, rebuilt when it must be."""

import os
import stat

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cco_hooks.report import report
from cco_hooks.report import summary as rs
from tests.support.ledger_records import (SESSION_B, denied, line, run_json, sample_records, session,
                                          spawn, unpriced, write_ledger)

BACKENDS = [b for b in (rs.MSGSPEC_BACKEND, rs.DICT_BACKEND) if b is not None]


def cold(path, backend=None):
    return rs.summarize(path, use_saved=False, save_summary=False, backend=backend)


def warm(path):
    """A summary brought up to date the way a report does it, with rollups for every grouping."""
    return rs.summarize(path, dims=range(len(rs.KEY_FIELDS)))


def doc_of(summary, group_by="session"):
    return report.build_report([summary], group_by, drift=True)


def assert_same_as_cold(summary, path):
    """The summary answers every report exactly as a full scan of the ledger would."""
    fresh = cold(path)
    assert summary.totals_by_key() == fresh.totals_by_key()  # exact integers
    assert summary.covered == fresh.covered
    for dim, rollup in summary.rollups.items():  # kept up to date, never recomputed
        assert rollup == fresh.group(dim)
    assert summary.sessions == fresh.sessions
    assert summary.drift == fresh.drift
    assert list(summary.drift_offsets) == list(fresh.drift_offsets)
    assert summary.skipped_lines == fresh.skipped_lines
    for group_by in report.GROUPS:
        assert doc_of(summary, group_by) == doc_of(fresh, group_by)


@pytest.fixture
def path(tmp_path):
    return write_ledger(tmp_path / "ledger.jsonl", sample_records())


def test_summary_is_written_beside_the_ledger_0600(path):
    """A report leaves <ledger>.summary, readable by its owner only."""
    warm(path)
    mode = stat.S_IMODE(os.stat(path + ".summary").st_mode)
    assert mode == 0o600


def test_repeated_report_scans_only_the_appended_bytes(path):
    """After one more record, only that record's bytes are read, and the sums are exact."""
    first = warm(path)
    assert first.rebuilt and first.scanned_bytes == os.path.getsize(path)
    extra = line(spawn(tool_use_id="toolu_new", session_id=SESSION_B, cost_usd=1.5))
    write_ledger(path, [extra], mode="a")
    second = warm(path)
    assert not second.rebuilt
    assert second.scanned_bytes == len(extra)
    assert_same_as_cold(second, path)


def test_nothing_new_reads_nothing_and_does_not_rewrite_the_summary(path):
    warm(path)
    before = os.stat(path + ".summary").st_mtime_ns
    again = warm(path)
    assert (again.rebuilt, again.scanned_bytes) == (False, 0)
    assert os.stat(path + ".summary").st_mtime_ns == before


def test_many_appends_stay_exact(path):
    """Appending one record at a time, every kind, keeps the summary equal to a full scan."""
    warm(path)
    for rec in [denied(), unpriced(), session(cost=9.0, ts="2026-11-26T00:00:00.000Z"),
                spawn(actual_model="claude-opus-5-5"), "garbage\n", spawn(ts="2026-11-27T01:00:00.000Z")]:
        write_ledger(path, [rec], mode="a")
        s = warm(path)
        assert not s.rebuilt
        assert_same_as_cold(s, path)


def test_truncation_rebuilds(path):
    """A ledger cut shorter than the offset scanned is rescanned from the start."""
    warm(path)
    with open(path, "rb+") as f:
        f.truncate(os.path.getsize(path) // 2)
    s = warm(path)
    assert s.rebuilt
    assert_same_as_cold(s, path)


def test_truncate_then_regrow_past_the_offset_rebuilds(path):
    """Emptied and refilled with other records beyond the old size: the CRCs notice."""
    warm(path)
    size = os.path.getsize(path)
    with open(path, "w") as f:
        while f.tell() <= size + 100:
            f.write(line(spawn(agent_type="refilled")))
    s = warm(path)
    assert s.rebuilt
    assert list(report.build_report([s])["rows"][0].values())[0] == "refilled"
    assert_same_as_cold(s, path)


def test_rotation_rebuilds(path):
    """The ledger renamed away and a new one started (another inode) is read afresh."""
    warm(path)
    os.rename(path, path + ".1")
    os.rename(path + ".summary", path + ".summary.bak")  # keep the old summary in place...
    write_ledger(path, sample_records()[:3])
    os.rename(path + ".summary.bak", path + ".summary")  # ...so only the inode tells them apart
    s = warm(path)
    assert s.rebuilt
    assert_same_as_cold(s, path)


def test_rewrite_by_rename_rebuilds(path, tmp_path):
    """A ledger rewritten to a temp file and renamed over (new inode) is rescanned."""
    warm(path)
    tmp = write_ledger(tmp_path / "new.jsonl", sample_records() + [spawn()])
    os.replace(tmp, path)
    s = warm(path)
    assert s.rebuilt
    assert_same_as_cold(s, path)


def test_in_place_edit_of_the_first_block_rebuilds(path):
    """Same inode, same size, a changed first line: the first-4-KiB CRC notices."""
    warm(path)
    with open(path, "r+b") as f:
        data = f.read()
        f.seek(0)
        f.write(data.replace(b"python-pro", b"python-PRO", 1))
    s = warm(path)
    assert s.rebuilt
    assert_same_as_cold(s, path)


def test_in_place_edit_of_the_last_line_rebuilds(tmp_path):
    """Same inode and size, beyond the first 4 KiB: the last scanned line's CRC notices."""
    path = write_ledger(tmp_path / "l.jsonl", [spawn(tool_use_id=f"t{i}") for i in range(20)])
    assert os.path.getsize(path) > 2 * rs.HEAD_BYTES
    warm(path)
    with open(path, "r+b") as f:
        data = f.read()
        f.seek(0)
        f.write(data[:-200] + data[-200:].replace(b"0.0123", b"0.9123"))
    s = warm(path)
    assert s.rebuilt
    assert_same_as_cold(s, path)


@pytest.mark.parametrize("damage", [b"", b"garbage", b"cco-hooks report summary\nwrong-python\n",
                                    b"cco-hooks report summary\n" + rs._PY_TAG + b"\x00\x01\x02"])
def test_damaged_or_foreign_summary_is_ignored(path, damage):
    """A summary we cannot trust is thrown away and rewritten; the report is unaffected."""
    warm(path)
    with open(path + ".summary", "wb") as f:
        f.write(damage)
    s = warm(path)
    assert s.rebuilt
    assert_same_as_cold(s, path)
    assert not warm(path).rebuilt  # rewritten


def test_summary_writable_by_others_is_not_trusted(path):
    warm(path)
    os.chmod(path + ".summary", 0o666)
    assert warm(path).rebuilt


def test_summary_from_another_python_is_rebuilt(path, monkeypatch):
    """marshal's format belongs to the interpreter: another version's summary is rebuilt."""
    warm(path)
    monkeypatch.setattr(rs, "_PY_TAG", b"cpython-9.99\n")
    assert warm(path).rebuilt


def test_unwritable_directory_still_reports(path, monkeypatch):
    """When the summary cannot be saved the report is still right."""
    monkeypatch.setattr(os, "replace", lambda *a: (_ for _ in ()).throw(PermissionError("read-only")))
    s = warm(path)
    assert not os.path.exists(path + ".summary")
    assert [n for n in os.listdir(os.path.dirname(path)) if ".tmp." in n] == []
    assert_same_as_cold(s, path)


def test_no_summary_option_neither_reads_nor_writes(path):
    assert run_json([path], use_summary=False)["totals"]["spawns"] == 7
    assert not os.path.exists(path + ".summary")


def test_torn_tail_is_read_again_once_completed(path):
    """A half-written last line is skipped now, and counted once when its writer finishes."""
    warm(path)
    rec = line(spawn(tool_use_id="toolu_late", cost_usd=2.0))
    write_ledger(path, [rec[:50]], mode="a")
    s = warm(path)
    assert (s.torn, s.skipped_lines) == (1, 1)
    write_ledger(path, [rec[50:]], mode="a")
    s = warm(path)
    assert (s.torn, s.skipped_lines, s.rebuilt) == (0, 0, False)
    assert report.build_report([s])["totals"]["spawns"] == 8
    assert_same_as_cold(s, path)


def test_whole_tail_record_counts_now_and_once_later(path):
    """A whole record without its newline counts now, is not saved, and counts once later."""
    warm(path)
    rec = line(spawn(tool_use_id="toolu_tail"))
    write_ledger(path, [rec.rstrip("\n")], mode="a")
    s = warm(path)
    assert s.tail is not None and report.build_report([s])["totals"]["spawns"] == 8
    write_ledger(path, ["\n"], mode="a")
    s = warm(path)
    assert s.tail is None and report.build_report([s])["totals"]["spawns"] == 8
    assert_same_as_cold(s, path)


def test_skipped_lines_survive_in_the_summary(tmp_path):
    """Lines skipped by an earlier scan stay counted in later reports."""
    path = write_ledger(tmp_path / "l.jsonl", [spawn(), "not json\n", spawn(v=3)])
    assert warm(path).skipped_lines == 2
    write_ledger(path, [spawn()], mode="a")
    s = warm(path)
    assert (s.rebuilt, s.skipped_lines) == (False, 2)


def test_the_warm_report_equals_the_cold_one(path):
    """run_report with the summary gives byte-identical JSON to a full scan, after an append."""
    run_json([path])
    write_ledger(path, [spawn(cost_usd=0.1), session(cost=11.0, ts="2026-11-26T00:00:00.000Z")], mode="a")
    assert run_json([path]) == run_json([path], use_summary=False)


# ---- the two parsers agree --------------------------------------------------------------------

_values = st.one_of(st.none(), st.booleans(), st.integers(-5, 10**6), st.floats(allow_nan=False, allow_infinity=False),
                    st.text(max_size=12), st.lists(st.integers(), max_size=2), st.dictionaries(st.text(max_size=3), st.integers(), max_size=2))
_fields = ["v", "kind", "ts", "session_id", "project", "agent_type", "enforced_model", "actual_model",
           "status", "cost_usd", "requested_cost_usd", "decision", "tokens"]


@st.composite
def _records(draw):
    rec = draw(st.sampled_from([spawn(), denied(), unpriced(), session(),
                                spawn(actual_model="claude-opus-5-5"), spawn(project=None)]))
    for _ in range(draw(st.integers(0, 2))):
        name = draw(st.sampled_from(_fields + ["tokens.input", "decision.action"]))
        how = draw(st.sampled_from(["set", "delete"]))
        target, _, sub = name.partition(".")
        holder = rec
        if sub:
            if not isinstance(rec.get(target), dict):
                continue
            holder, target = rec[target], sub
        if how == "delete":
            holder.pop(target, None)
        else:
            holder[target] = draw(_values)
    return rec


@pytest.mark.skipif(rs.MSGSPEC_BACKEND is None, reason="msgspec is not installed")
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(_records(), max_size=8))
def test_msgspec_and_dict_backends_agree(tmp_path, records):
    """Whatever the records hold, both parsers accept, skip and sum exactly alike."""
    path = write_ledger(tmp_path / "h.jsonl", records)
    a, b = cold(path, rs.MSGSPEC_BACKEND), cold(path, rs.DICT_BACKEND)
    assert (a.totals_by_key(), a.sessions, a.drift, a.skipped) == (b.totals_by_key(), b.sessions, b.drift, b.skipped)


@pytest.mark.parametrize("backend", BACKENDS, ids=lambda b: b.name)
def test_each_backend_reads_the_sample(path, backend):
    doc = report.build_report([cold(path, backend)], "agent")
    assert (doc["totals"]["spawns"], doc["totals"]["denials"], doc["skipped_lines"]) == (7, 1, 0)


def test_field_order_does_not_matter(tmp_path):
    """kind (the tag) may come anywhere in the object."""
    rec = spawn()
    reordered = {k: rec[k] for k in reversed(list(rec))}
    path = write_ledger(tmp_path / "l.jsonl", [reordered])
    for backend in BACKENDS:
        assert cold(path, backend).totals_by_key() == cold(write_ledger(tmp_path / "m.jsonl", [rec]), backend).totals_by_key()


# ---- the partitions ------------------------------------------------------------------------

def test_appended_records_change_only_their_sessions_partitions(path):
    """A repeated report files new records into the partitions of their sessions; nothing is
    lost or counted twice, and the partitions it did not touch are copied as they were."""
    warm(path)
    for i in range(6):
        before = rs._load_saved(path)
        old_parts = list(before._parts)
        before.close()
        sid = f"new-session-{i % 2}"
        write_ledger(path, [spawn(ts=f"2026-12-0{i + 1}T00:00:00.000Z", agent_type=f"agent-{i % 3}",
                                  session_id=sid),
                            session(sid, cost=1.0 + i, ts=f"2026-12-0{i + 1}T01:00:00.000Z")], mode="a")
        s = warm(path)
        assert not s.rebuilt
        touched = {rs.part_of(sid)}
        after = [where and where[1:] for where in s._parts]
        for p in range(rs.PARTS):
            if p not in touched:
                assert after[p] == (old_parts[p] and old_parts[p][1:])
        assert_same_as_cold(s, path)
        s.close()
    reread = rs.summarize(path)
    assert not reread.rebuilt and reread.scanned_bytes == 0
    assert_same_as_cold(reread, path)


def test_spilled_chunks_merge_to_the_same_rows(path, monkeypatch):
    """A full scan that moves its rows out every few keys gives exactly the rows of one that
    keeps them all until the end."""
    whole = cold(path)
    monkeypatch.setattr(rs, "WORK_KEYS", 1)
    assert_same_as_cold(cold(path), path)
    assert cold(path).totals_by_key() == whole.totals_by_key()


def test_a_repeated_report_without_filters_reads_no_partition(path, monkeypatch):
    """Without filters the rollups and the kept session share answer: no partition is read."""
    run_json([path])
    write_ledger(path, [spawn(cost_usd=0.5, session_id="another")], mode="a")
    s = rs.summarize(path)
    def no_reads(self, p):
        raise AssertionError("a partition was read")
    monkeypatch.setattr(rs.LedgerSummary, "partition", no_reads)
    for group_by in ("agent", "model", "day", "project", "decision"):
        report.build_report([s], group_by)
    with pytest.raises(AssertionError):
        report.build_report([s], "session")  # by session: a pass over the partitions


def test_rows_failing_their_checksum_are_rescanned(path):
    """A summary whose row bytes were damaged is detected when read, and the report rescans."""
    run_json([path])
    s = rs._load_saved(path)
    at = next(where[0] for where in s._parts if where is not None)
    s.close()
    data = bytearray(open(path + ".summary", "rb").read())
    data[at + 3] ^= 0xFF
    with open(path + ".summary", "wb") as f:
        f.write(bytes(data))
    with pytest.raises(rs.DamagedSummary):
        rs.summarize(path).totals_by_key()
    assert run_json([path], agents=["python-pro"])["totals"]["spawns"] == 5
    assert run_json([path])["totals"]["spawns"] == 7


def test_out_of_range_numbers_are_skipped(tmp_path):
    """Token counts and costs beyond any real spawn are skipped, keeping every sum in range."""
    big = dict(spawn()["tokens"], input=10**13)
    p = write_ledger(tmp_path / "l.jsonl", [spawn(tokens=big), spawn(cost_usd=2e6), spawn(cost_usd=-1),
                                             session(cost=1e7), spawn()])
    for backend in BACKENDS:
        s = cold(p, backend)
        assert s.skipped == 4
        assert report.build_report([s])["totals"]["spawns"] == 1


# ---- a full scan on several cores -------------------------------------------------------------

def _varied_ledger(tmp_path, n=240):
    items = []
    for i in range(n):
        sid = f"s{i // 7:04d}"
        items.append(spawn(ts=f"2026-11-{10 + i % 15}T10:00:{i % 60:02d}.000Z", session_id=sid,
                           agent_type=f"agent-{i % 5}", tool_use_id=f"t{i}",
                           actual_model="claude-opus-5-5" if i % 17 == 0 else "claude-haiku-5-5",
                           cost_usd=0.001 * (i % 13)))
        if i % 7 == 6:
            items.append(session(sid, cost=0.5 + i, ts=f"2026-11-{10 + i % 15}T11:00:00.000Z"))
        if i % 50 == 25:
            items.append("corrupt line\n")
    items.append(line(spawn(tool_use_id="torn"))[:30])
    return write_ledger(tmp_path / "big.jsonl", items)


def _state(s):
    return (s.totals_by_key(), s.sessions, s.covered, s.drift, list(s.drift_offsets), s.skipped,
            s.torn, s.offset, s.last, s.rollups)


@pytest.mark.skipif(rs.workers_for(10**12, {"CCO_HOOKS_REPORT_WORKERS": "2"}) < 2, reason="no fork here")
@pytest.mark.parametrize("workers", ["2", "3", "4"])
def test_parallel_full_scan_equals_one_process(tmp_path, monkeypatch, workers):
    """Split across forked workers, a full scan gives exactly what one process gives."""
    path = _varied_ledger(tmp_path)
    monkeypatch.setenv("CCO_HOOKS_REPORT_WORKERS", "1")
    one = rs.summarize(path, use_saved=False, save_summary=False, dims=(rs.AGENT, rs.DAY))
    monkeypatch.setattr(rs, "PARALLEL_BYTES", 1024)
    monkeypatch.setenv("CCO_HOOKS_REPORT_WORKERS", workers)
    assert rs.workers_for(os.path.getsize(path)) == int(workers)
    many = rs.summarize(path, use_saved=False, save_summary=False, dims=(rs.AGENT, rs.DAY))
    assert _state(many) == _state(one)
    assert many.scanned_bytes == one.scanned_bytes
    assert report.build_report([many], drift=True) == report.build_report([one], drift=True)


@pytest.mark.skipif(rs.workers_for(10**12, {"CCO_HOOKS_REPORT_WORKERS": "2"}) < 2, reason="no fork here")
def test_a_failing_worker_has_its_range_scanned_again(tmp_path, monkeypatch):
    """A worker that dies leaves nothing out: its range is scanned by the report itself."""
    path = _varied_ledger(tmp_path)
    monkeypatch.setenv("CCO_HOOKS_REPORT_WORKERS", "1")
    one = rs.summarize(path, use_saved=False, save_summary=False)
    parent = os.getpid()
    real = rs._scan_part

    def dies_in_workers(*args):
        if os.getpid() != parent:
            raise RuntimeError("worker crashed")
        return real(*args)

    monkeypatch.setattr(rs, "_scan_part", dies_in_workers)
    monkeypatch.setattr(rs, "PARALLEL_BYTES", 1024)
    monkeypatch.setenv("CCO_HOOKS_REPORT_WORKERS", "3")
    assert _state(rs.summarize(path, use_saved=False, save_summary=False)) == _state(one)


def test_workers_only_where_fork_is_cheap(monkeypatch):
    """One worker per core and per PARALLEL_BYTES; CCO_HOOKS_REPORT_WORKERS=1 turns it off."""
    assert rs.workers_for(10, {}) == 1
    assert rs.workers_for(10**12, {"CCO_HOOKS_REPORT_WORKERS": "1"}) == 1
    monkeypatch.setattr(rs.sys, "platform", "darwin")
    assert rs.workers_for(10**12, {"CCO_HOOKS_REPORT_WORKERS": "4"}) == 1
