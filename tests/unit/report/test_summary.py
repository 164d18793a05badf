"""The summary's partitions: read only when a query needs them, changed only where records land."""

import pytest

from cco_hooks.report import summary_file
from cco_hooks.report.document import build_report
from cco_hooks.report.summary import PARTS, DamagedSummary, LedgerSummary, part_of
from cco_hooks.report.update import summarize
from tests.support.ledger_records import all_rows, assert_same_as_cold, run_json, session, spawn, warm, write_ledger


def test_appended_records_change_only_their_sessions_partitions(sample_ledger):
    """A repeated report files new records into the partitions of their sessions; nothing is
    lost or counted twice, and the partitions it did not touch are copied as they were."""
    warm(sample_ledger)
    for i in range(6):
        before = summary_file.load_saved(sample_ledger)
        old_parts = list(before.part_spans)
        before.close()
        sid = f"new-session-{i % 2}"
        write_ledger(
            sample_ledger,
            [
                spawn(ts=f"2026-12-0{i + 1}T00:00:00.000Z", agent_type=f"agent-{i % 3}", session_id=sid),
                session(sid, cost=1.0 + i, ts=f"2026-12-0{i + 1}T01:00:00.000Z"),
            ],
            mode="a",
        )
        s = warm(sample_ledger)
        assert not s.rebuilt
        touched = {part_of(sid)}
        after = [where and where[1:] for where in s.part_spans]
        for p in range(PARTS):
            if p not in touched:
                assert after[p] == (old_parts[p] and old_parts[p][1:])
        assert_same_as_cold(s, sample_ledger)
        s.close()
    reread = summarize(sample_ledger)
    assert not reread.rebuilt and reread.scanned_bytes == 0
    assert_same_as_cold(reread, sample_ledger)


def test_a_repeated_report_without_filters_reads_no_partition(sample_ledger, monkeypatch):
    """Without filters the rollups and the kept session share answer: no partition is read."""
    run_json([sample_ledger])
    write_ledger(sample_ledger, [spawn(cost_usd=0.5, session_id="another")], mode="a")
    s = summarize(sample_ledger)

    def no_reads(self, p):
        raise AssertionError("a partition was read")

    monkeypatch.setattr(LedgerSummary, "partition", no_reads)
    for group_by in ("agent", "model", "day", "project", "decision"):
        build_report([s], group_by)
    with pytest.raises(AssertionError):
        build_report([s], "session")  # by session: a pass over the partitions


def test_rows_failing_their_checksum_are_rescanned(sample_ledger):
    """A summary whose row bytes were damaged is detected when read, and the report rescans."""
    run_json([sample_ledger])
    s = summary_file.load_saved(sample_ledger)
    at = next(where[0] for where in s.part_spans if where is not None)
    s.close()
    data = bytearray(open(sample_ledger + ".summary", "rb").read())
    data[at + 3] ^= 0xFF
    with open(sample_ledger + ".summary", "wb") as f:
        f.write(bytes(data))
    with pytest.raises(DamagedSummary):
        all_rows(summarize(sample_ledger))
    assert run_json([sample_ledger], agents=["python-pro"])["totals"]["spawns"] == 5
    assert run_json([sample_ledger])["totals"]["spawns"] == 7


def test_session_marks_are_the_fingerprints_of_a_partitions_sessions():
    """The marks ``share_and_marks`` keeps are ``fingerprint`` of every session with a row or a
    record in the partition, and ``disjoint`` tells ledgers with a session in common apart."""
    import array

    from cco_hooks.report.summary import disjoint, fingerprint, share_and_marks

    key = ("2026-11-25", "s-1", "/p", "python-pro", "claude-haiku-5-5", "rewrite")
    none_key = ("2026-11-25", None) + key[2:]
    part = ({key: [0] * 13, none_key: [0] * 13}, {"s-2": ["2026-11-25T10:00:00.000Z", "/p", 5]})
    share, marks = share_and_marks(part)
    assert share[:3] == [1, 5, 0]
    fingerprints = array.array("Q")
    fingerprints.frombytes(marks)
    assert sorted(fingerprints) == sorted([fingerprint("s-1"), fingerprint("s-2"), fingerprint(None)])
    assert fingerprint("s-1") != fingerprint("s-2") and fingerprint(None) == 0
    other = share_and_marks(({}, {"s-3": ["2026-11-25T10:00:00.000Z", "/q", 1]}))[1]
    assert disjoint([marks, other, None, b""])
    assert not disjoint([marks, share_and_marks(({}, {"s-1": ["2026-11-25T10:00:00.000Z", "/q", 1]}))[1]])
