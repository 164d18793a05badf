"""A full scan on several cores gives exactly what one process gives."""

import os

import pytest

from cco_hooks import zones
from cco_hooks.report import parallel
from cco_hooks.report.document import build_report
from cco_hooks.report.parallel import workers_for
from cco_hooks.report.update import summarize
from tests.support.ledger_records import (
    all_rows,
    all_sessions,
    line,
    session,
    spawn,
    spawn_cost_per_session,
    write_ledger,
)


def _varied_ledger(tmp_path, n=240):
    items = []
    for i in range(n):
        sid = f"s{i // 7:04d}"
        items.append(
            spawn(
                ts=f"2026-11-{10 + i % 15}T10:00:{i % 60:02d}.000Z",
                session_id=sid,
                agent_type=f"agent-{i % 5}",
                tool_use_id=f"t{i}",
                actual_model="claude-opus-5-5" if i % 17 == 0 else "claude-haiku-5-5",
                cost_usd=0.001 * (i % 13),
            )
        )
        if i % 7 == 6:
            items.append(session(sid, cost=0.5 + i, ts=f"2026-11-{10 + i % 15}T11:00:00.000Z"))
        if i % 50 == 25:
            items.append("corrupt line\n")
    items.append(line(spawn(tool_use_id="torn"))[:30])
    return write_ledger(tmp_path / "big.jsonl", items)


def _state(s):
    return (
        all_rows(s),
        all_sessions(s),
        spawn_cost_per_session(s),
        s.drift,
        list(s.drift_offsets),
        s.skipped,
        s.torn,
        s.offset,
        s.last,
        s.rollups,
    )


@pytest.mark.skipif(workers_for(10**12, {"CCO_HOOKS_REPORT_WORKERS": "2"}) < 2, reason="no fork here")
@pytest.mark.parametrize("workers", ["2", "3", "4"])
@pytest.mark.parametrize("tz, first_day", [("UTC", "2026-11-10"), ("Pacific/Kiritimati", "2026-11-11")])
def test_parallel_full_scan_equals_one_process(tmp_path, monkeypatch, workers, tz, first_day):
    """Split across forked workers, a full scan gives exactly what one process gives (in any zone:
    the workers count days in the summary's)."""
    path = _varied_ledger(tmp_path)
    zone = zones.zone(tz)
    monkeypatch.setenv("CCO_HOOKS_REPORT_WORKERS", "1")
    one = summarize(path, use_saved=False, save_summary=False, zone=zone)
    monkeypatch.setattr(parallel, "PARALLEL_BYTES", 1024)
    monkeypatch.setenv("CCO_HOOKS_REPORT_WORKERS", workers)
    assert workers_for(os.path.getsize(path)) == int(workers)
    many = summarize(path, use_saved=False, save_summary=False, zone=zone)
    assert min(k[0] for k in all_rows(many)) == first_day  # 10:00 UTC is midnight the next day at +14:00
    assert _state(many) == _state(one)
    assert many.scanned_bytes == one.scanned_bytes
    assert build_report([many], drift=True) == build_report([one], drift=True)


@pytest.mark.skipif(workers_for(10**12, {"CCO_HOOKS_REPORT_WORKERS": "2"}) < 2, reason="no fork here")
def test_a_failing_worker_has_its_range_scanned_again(tmp_path, monkeypatch):
    """A worker that dies leaves nothing out: its range is scanned by the report itself."""
    path = _varied_ledger(tmp_path)
    monkeypatch.setenv("CCO_HOOKS_REPORT_WORKERS", "1")
    one = summarize(path, use_saved=False, save_summary=False)
    parent = os.getpid()
    real = parallel._scan_part

    def dies_in_workers(*args):
        if os.getpid() != parent:
            raise RuntimeError("worker crashed")
        return real(*args)

    monkeypatch.setattr(parallel, "_scan_part", dies_in_workers)
    monkeypatch.setattr(parallel, "PARALLEL_BYTES", 1024)
    monkeypatch.setenv("CCO_HOOKS_REPORT_WORKERS", "3")
    assert _state(summarize(path, use_saved=False, save_summary=False)) == _state(one)


def test_workers_only_where_fork_is_cheap(monkeypatch):
    """One worker per core and per PARALLEL_BYTES; CCO_HOOKS_REPORT_WORKERS=1 turns it off."""
    assert workers_for(10, {}) == 1
    assert workers_for(10**12, {"CCO_HOOKS_REPORT_WORKERS": "1"}) == 1
    monkeypatch.setattr(parallel.sys, "platform", "darwin")
    assert workers_for(10**12, {"CCO_HOOKS_REPORT_WORKERS": "4"}) == 1
