"""Concurrency and crashes (issue 5.3): many hook processes at once, and writers killed with SIGKILL.

- 32 concurrent sessions of 50 spawns each, every spawn one real hook process (the command `install`
  registers): three in four a foreground PostToolUse that joins, prices its transcript and appends
  (settle under the ledger lock, running totals), one in four a PreToolUse denied by an enforce rule
  (appends at once). Every spawn is in the ledger exactly once, no line is torn, the report counts
  them all, and the budget's running totals equal the ledger to the last digit.
- A writer killed with SIGKILL at each point of a settle — before its append, half-way through the
  line, after the line but before the totals, half-way through the totals file — leaves a ledger
  every reader accepts, and loses nothing: the next hook settles the killed spawn exactly once. The
  kills are deterministic: the child process is the real hook code with one function replaced by
  one that kills its own process at that point.
- A writer killed by another process while it holds the lock mid-line: a hook waiting for the lock
  goes on once the kernel releases it, and its record starts on a line of its own.
"""

from __future__ import annotations

import io
import json
import os
import select
import signal
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from cco_hooks import ledger, pending, snapshot, totals
from cco_hooks.records import SCHEMA_VERSION
from cco_hooks.report.command import run_report
from tests.support.hookproc import Hooks, check_state
from tests.support.locations import REPO

WORKERS, SPAWNS = 32, 50
CONFIG = "version: 1\nagents: {enforced-agent: {model: haiku, mode: enforce}}\nbudget: {daily_usd: 100000}\n"


@pytest.fixture
def hooks(tmp_path):
    h = Hooks(tmp_path)
    h.write_config(CONFIG)
    snapshot.load(str(h.project))  # compile the config snapshot once, before the crowd arrives
    return h


def report_totals(path):
    """``cco-hooks report --format json`` totals for the ledger, and the lines it skipped."""
    out = io.StringIO()
    assert run_report(ledgers=[path], fmt="json", stdout=out, settle=False, use_summary=False) == 0
    doc = json.loads(out.getvalue())
    return doc["totals"], doc["skipped_lines"]


def assert_ledger_matches_totals(hooks):
    records, _ = hooks.read_ledger()
    spent = sum(r["cost_usd"] for r in records if r.get("kind") == "spawn" and r.get("cost_usd"))
    running = totals.read_totals(hooks.ledger)
    counted = sum(day["usd"] for day in running["days"].values())
    assert counted == pytest.approx(spent, rel=1e-12, abs=1e-12)


def test_32_sessions_of_50_spawns_at_once_are_all_counted(hooks):
    """1,600 hook processes, 32 at a time: every spawn once, no torn line, the report agrees."""
    jobs = []
    for w in range(WORKERS):
        session = f"session-{w:02d}"
        batch = []
        for i in range(SPAWNS):
            tool_use_id, agent_id = f"toolu_w{w}s{i}", f"aw{w}s{i}"
            if (w + i) % 4 == 0:
                payload = dict(hooks.pre(tool_use_id, "enforced-agent", "sonnet"), session_id=session)
                batch.append(("pre-tool-use", payload, tool_use_id))
            else:
                hooks.write_transcript(agent_id, session=session)
                payload = dict(hooks.post_completed(tool_use_id, agent_id), session_id=session)
                batch.append(("post-tool-use", payload, tool_use_id))
        jobs.append(batch)

    def session(batch):
        for event, payload, _ in batch:
            proc, _ = hooks.run(event, payload, timeout=120)
            assert proc.returncode == 0 and proc.stderr == b"", proc.stderr.decode()

    with ThreadPoolExecutor(WORKERS) as pool:
        for future in [pool.submit(session, batch) for batch in jobs]:
            future.result()

    stats = {}
    records = [r for r in ledger.iter_records(hooks.ledger, stats) if r["kind"] == "spawn"]
    expected = {tool_use_id for batch in jobs for _, _, tool_use_id in batch}
    assert stats["skipped"] == 0
    assert len(records) == WORKERS * SPAWNS and {r["tool_use_id"] for r in records} == expected
    assert sum(r["status"] == "denied" for r in records) == WORKERS * SPAWNS // 4
    assert all(r["status"] == "completed" and r["cost_usd"] > 0 for r in records if r["status"] != "denied")
    with open(hooks.ledger, "rb") as f:
        lines = f.read().split(b"\n")
    assert lines[-1] == b"" and all(json.loads(line)["v"] == SCHEMA_VERSION for line in lines[:-1])  # no torn line
    reported_totals, skipped = report_totals(hooks.ledger)
    # the report counts the spawns that ran, and the denied ones apart
    assert (reported_totals["spawns"], reported_totals["denials"], skipped) == (
        WORKERS * SPAWNS * 3 // 4,
        WORKERS * SPAWNS // 4,
        0,
    )
    assert reported_totals["cost_usd"] == pytest.approx(sum(r["cost_usd"] for r in records))
    assert_ledger_matches_totals(hooks)
    leftovers = [n for n in os.listdir(pending.pending_dir(hooks.ledger)) if n.endswith((".json", ".tmp"))]
    assert leftovers == []
    check_state(hooks)


# --------------------------------------------------------------------------- SIGKILL

CHILD = r"""
import os, signal, sys
sys.path.insert(0, {repo!r})
from cco_hooks import hook_main, ledger, totals
from cco_hooks.records import SCHEMA_VERSION

point = sys.argv[1]
write = os.write
RECORD, TOTALS = b'{{"v":%d,"kind":"spawn"' % SCHEMA_VERSION, b'{{"v":1,"ledger"'


def die(*args, **kwargs):
    os.kill(os.getpid(), signal.SIGKILL)


def wait_for_kill():
    sys.stdout.write("torn\n")
    sys.stdout.flush()
    while True:
        signal.pause()


def half_then(prefix, after):
    # os.write, except that the write of data starting with prefix stops half-way: then after()
    def patched(fd, data):
        if bytes(data[:len(prefix)]) == prefix:
            write(fd, bytes(data[: len(data) // 2]))
            after()
        return write(fd, data)
    return patched


if point == "before-append":
    ledger.append = die
elif point == "mid-line":
    os.write = half_then(RECORD, die)
elif point == "after-line":
    totals.sync = die  # the record is whole; the totals and the pending parts lag behind
elif point == "mid-totals":
    os.write = half_then(TOTALS, die)
elif point == "held-mid-line":
    os.write = half_then(RECORD, wait_for_kill)
sys.exit(hook_main.main(["post-tool-use"]))
"""


def spawn_child(hooks, point):
    return hooks.start("post-tool-use", argv=[sys.executable, "-c", CHILD.format(repo=str(REPO)), point])


def priced_spawn(hooks, n):
    hooks.write_transcript(f"ak{n}")
    return hooks.post_completed(f"toolu_k{n}", f"ak{n}")


@pytest.mark.parametrize("point", ["before-append", "mid-line", "after-line", "mid-totals"])
def test_a_writer_killed_anywhere_in_a_settle_loses_nothing(hooks, point):
    """SIGKILL at any point of a settle: the ledger stays readable, the records before it are
    intact, and the next hook records the killed spawn exactly once; the totals agree."""
    for n in range(3):
        assert hooks.run("post-tool-use", priced_spawn(hooks, n))[0].returncode == 0
    child = spawn_child(hooks, point)
    child.communicate(json.dumps(priced_spawn(hooks, 3)).encode(), timeout=60)
    assert child.returncode == -signal.SIGKILL

    stats = {}
    assert len(list(ledger.iter_records(hooks.ledger, stats))) == (4 if point in ("after-line", "mid-totals") else 3)
    assert stats["skipped"] == (1 if point == "mid-line" else 0)  # only the torn tail: readers skip it

    proc, _ = hooks.run("post-tool-use", priced_spawn(hooks, 4))  # the next hook settles what is left
    assert proc.returncode == 0 and proc.stderr == b""
    stats = {}
    records = list(ledger.iter_records(hooks.ledger, stats))
    assert sorted(r["tool_use_id"] for r in records) == [f"toolu_k{n}" for n in range(5)]
    assert all(r["status"] == "completed" for r in records)
    assert stats["skipped"] == (1 if point == "mid-line" else 0)
    assert_ledger_matches_totals(hooks)
    reported_totals, skipped = report_totals(hooks.ledger)
    assert reported_totals["spawns"] == 5 and skipped == (1 if point == "mid-line" else 0)


def test_a_lock_holder_killed_mid_line_frees_the_lock_for_the_next_writer(hooks):
    """The writer is killed by another process while it holds the lock with half a line written;
    a hook already waiting for the lock then appends on a line of its own, and settles the killed
    spawn too."""
    assert hooks.run("post-tool-use", priced_spawn(hooks, 0))[0].returncode == 0
    holder = spawn_child(hooks, "held-mid-line")
    holder.stdin.write(json.dumps(priced_spawn(hooks, 1)).encode())
    holder.stdin.close()
    ready, _, _ = select.select([holder.stdout], [], [], 60)
    assert ready and holder.stdout.readline() == b"torn\n", holder.stderr.read().decode()
    waiting = hooks.start("post-tool-use")
    waiting.stdin.write(json.dumps(priced_spawn(hooks, 2)).encode())
    waiting.stdin.close()
    time.sleep(0.3)  # not needed for correctness: only so that the waiter is usually blocked on the lock
    assert waiting.poll() is None or waiting.returncode == 0
    os.kill(holder.pid, signal.SIGKILL)
    holder.wait(timeout=30)
    assert waiting.wait(timeout=60) == 0 and waiting.stderr.read() == b""
    holder.stdout.close()
    holder.stderr.close()
    waiting.stdout.close()
    waiting.stderr.close()

    stats = {}
    records = list(ledger.iter_records(hooks.ledger, stats))
    assert sorted(r["tool_use_id"] for r in records) == ["toolu_k0", "toolu_k1", "toolu_k2"]
    assert stats["skipped"] == 1  # the dead writer's half line, now a line of its own
    with open(hooks.ledger, "rb") as f:
        assert f.read().endswith(b"\n")
    assert_ledger_matches_totals(hooks)
