"""Several ledgers scanned by forked workers at once give exactly what one process gives."""

import os

import pytest

from cco_hooks import zones
from cco_hooks.report import fanout, parallel, summary_file
from cco_hooks.report.parallel import workers_for
from tests.support.ledger_records import line, run_json, session, spawn, write_ledger

needs_fork = pytest.mark.skipif(workers_for(10**12, {"CCO_HOOKS_REPORT_WORKERS": "2"}) < 2, reason="no fork here")


def _team(tmp_path, developers=5, sessions_each=30):
    """One ledger per developer, short sessions (1-3 spawns and a session record), as a team's."""
    team = tmp_path / "team"
    team.mkdir()
    paths = []
    for d in range(developers):
        items = []
        for n in range(sessions_each):
            sid = f"dev{d}-session-{n:03d}"
            for k in range(1 + (n + d) % 3):
                items.append(
                    spawn(
                        ts=f"2026-11-{1 + n % 25:02d}T10:{k:02d}:00.000Z",
                        session_id=sid,
                        project=f"/home/dev{d}/proj{n % 3}",
                        agent_type=f"agent-{(n + k) % 4}",
                        tool_use_id=f"t{d}-{n}-{k}",
                        cost_usd=0.001 * (1 + (n * k) % 7),
                    )
                )
            items.append(session(sid, cost=0.05 * (1 + n % 5), ts=f"2026-11-{1 + n % 25:02d}T23:00:00.000Z"))
        paths.append(str(write_ledger(team / f"dev-{d}.jsonl", items)))
    return team, paths


@pytest.fixture
def two_workers(monkeypatch):
    """Fork for any number of bytes, on two cores."""
    monkeypatch.setattr(parallel, "PARALLEL_BYTES", 1)
    monkeypatch.setenv("CCO_HOOKS_REPORT_WORKERS", "2")


def test_deal_gives_the_largest_first_to_the_least_loaded():
    pending = [(10, "a"), (70, "b"), (30, "c"), (40, "d"), (5, "e")]
    # b 70 | d 40, then c to d's (70), a to the first of two equals (80), e to the other (75)
    assert fanout.deal(pending, 2) == [["b", "a"], ["d", "c", "e"]]
    assert fanout.deal(pending, 1) == [["b", "d", "c", "a", "e"]]


def test_bytes_to_scan_is_what_the_saved_summary_lacks(tmp_path):
    _, paths = _team(tmp_path, developers=1)
    path = paths[0]
    size = os.path.getsize(path)
    assert fanout.bytes_to_scan(path, zones.UTC) == size  # no summary yet
    run_json([path])
    assert fanout.bytes_to_scan(path, zones.UTC) == 0
    extra = line(spawn(tool_use_id="one-more"))
    with open(path, "a") as f:
        f.write(extra)
    assert fanout.bytes_to_scan(path, zones.UTC) == len(extra.encode())
    assert fanout.bytes_to_scan(str(tmp_path / "missing.jsonl"), zones.UTC) == 0


@needs_fork
@pytest.mark.parametrize("group_by", ["agent", "project", "session", "day"])
def test_a_team_scanned_by_workers_reports_what_one_process_does(tmp_path, two_workers, monkeypatch, group_by):
    team, paths = _team(tmp_path)
    pattern = str(team / "*.jsonl")
    expected = run_json([pattern], group_by=group_by, use_summary=False)
    calls = []
    real = fanout.summarize_all

    def spy(*args, **kwargs):
        done = real(*args, **kwargs)
        calls.append(sorted(done))
        return done

    monkeypatch.setattr(fanout, "summarize_all", spy)
    assert run_json([pattern], group_by=group_by) == expected
    # This process did its share; a forked worker saved the summaries of the others.
    assert calls and 0 < len(calls[0]) < len(paths)
    assert all(os.path.exists(summary_file.summary_path(p)) for p in paths)
    assert all(fanout.bytes_to_scan(p, zones.UTC) == 0 for p in paths)
    assert run_json([pattern], group_by=group_by) == expected  # now from the saved summaries


@needs_fork
def test_a_failing_worker_leaves_its_ledgers_to_this_process(tmp_path, two_workers, monkeypatch):
    team, paths = _team(tmp_path)
    pattern = str(team / "*.jsonl")
    expected = run_json([pattern], use_summary=False)
    parent = os.getpid()
    real = fanout.summarize

    def fails_in_a_worker(*args, **kwargs):
        if os.getpid() != parent:
            raise OSError("disk gone")
        return real(*args, **kwargs)

    monkeypatch.setattr(fanout, "summarize", fails_in_a_worker)
    assert run_json([pattern]) == expected
    assert all(fanout.bytes_to_scan(p, zones.UTC) == 0 for p in paths)


def test_one_ledger_or_little_to_scan_forks_nothing(tmp_path, monkeypatch):
    monkeypatch.setenv("CCO_HOOKS_REPORT_WORKERS", "2")
    _, paths = _team(tmp_path, developers=3)
    monkeypatch.setattr(os, "fork", lambda: pytest.fail("forked"))
    assert fanout.summarize_all(paths[:1], zones.UTC) == {}
    assert fanout.summarize_all(paths, zones.UTC) == {}  # far under PARALLEL_BYTES
