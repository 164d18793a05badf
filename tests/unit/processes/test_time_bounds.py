"""Every hook answers within its registered timeout: the waits of one process share one deadline.

The field failure: with the ledger lock held elsewhere, a PreToolUse budget denial waited for the
lock twice (the totals, then the denied record: 20 s) while Claude Code kills the hook at 10 s, so
the denial silently became "proceed"; stdin that was never closed kept a hook waiting forever.

No timing is asserted: the waits are counted on a fake clock (the deadline logic), and the real
processes are only guarded by a generous timeout.
"""

from __future__ import annotations

import fcntl
import json
import os
import time

import pytest

from cco_hooks import hookio, ledger, totals
from tests.support.hookproc import Hooks, answer

GUARD_S = 120  # a hang guard for the real processes, not a timing assertion


@pytest.fixture
def hooks(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return Hooks(tmp_path)


class LockHeld:
    """The ledger's lock held on another open file description, as another process holds it."""

    def __init__(self, ledger_path):
        self.fd = os.open(ledger.lock_path(ledger_path), os.O_RDWR | os.O_CREAT, 0o600)
        fcntl.flock(self.fd, fcntl.LOCK_EX)

    def release(self):
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None


def denial(out):
    spec = (out or {}).get("hookSpecificOutput") or {}
    return spec.get("permissionDecisionReason") if spec.get("permissionDecision") == "deny" else None


def denied_records(hooks):
    return [r for r in hooks.records() if r.get("status") == "denied"]


def test_a_budget_denial_with_the_lock_held_is_answered_within_5_s_and_recorded_later(hooks):
    """The lock is busy: the budget check (its totals file gone, so it wants the lock) and the
    denied record's write share the 5 s deadline, counted here on a fake clock; the hook still
    answers deny, leaves the denial as a pending part (never written unlocked), and the next hook
    that gets the lock records it once."""
    hooks.write_config("version: 1\nbudget: {daily_usd: 0.25}\n")
    hooks.spend(1)
    os.unlink(totals.totals_path(hooks.ledger))  # the budget check now rebuilds it under the lock
    held = LockHeld(hooks.ledger)
    clock = {"now": 10_000.0, "slept": 0.0}
    deadlines = []

    def sleep(seconds):
        assert seconds >= 0
        clock["now"] += seconds
        clock["slept"] += seconds

    real_start = hookio.start_deadline
    try:
        with pytest.MonkeyPatch.context() as fake:
            fake.setattr(time, "monotonic", lambda: clock["now"])
            fake.setattr(time, "sleep", sleep)
            fake.setattr(hookio, "start_deadline", lambda event, now=None: deadlines.append(real_start(event, now)))
            code, out = hooks.run_main("pre-tool-use", hooks.pre("toolu_late"))
    finally:
        held.release()
    assert code == 0
    assert "daily budget" in denial(answer(out))
    assert deadlines == [10_000.0 + 5.0]
    assert 0 < clock["slept"] <= hookio.WAIT_BUDGET_S["pre-tool-use"] == 5.0  # one budget for both waits
    assert denied_records(hooks) == []  # not written without the lock
    assert any("toolu_late" in name for name in hooks.pending())

    code, _ = hooks.run_main("stop", hooks.session_event("Stop"))  # the lock is free again
    assert code == 0
    [record] = denied_records(hooks)
    assert record["tool_use_id"] == "toolu_late" and record["decision"]["rule"] == "budget.daily_usd"
    hooks.run_main("stop", hooks.session_event("Stop"))
    assert len(denied_records(hooks)) == 1


def test_an_enforce_denial_in_a_real_hook_process_with_the_lock_held_still_denies(hooks):
    """A real PreToolUse process, the lock held by the test the whole time: it answers deny by
    itself (the guard is only against a hang), and the denial is recorded once the lock is free."""
    hooks.write_config("version: 1\nmode: enforce\nagents: {general-purpose: haiku}\n")
    os.makedirs(os.path.dirname(hooks.ledger), exist_ok=True)
    held = LockHeld(hooks.ledger)
    try:
        proc, _wall = hooks.run("pre-tool-use", hooks.pre("toolu_enforced", model="opus"), timeout=GUARD_S)
    finally:
        held.release()
    assert proc.returncode == 0, proc.stderr
    assert "haiku" in denial(answer(proc.stdout))
    assert denied_records(hooks) == []
    proc, _wall = hooks.run("stop", hooks.session_event("Stop"), timeout=GUARD_S)
    assert proc.returncode == 0, proc.stderr
    [record] = denied_records(hooks)
    assert record["tool_use_id"] == "toolu_enforced"


@pytest.mark.parametrize("event", ["pre-tool-use", "post-tool-use"])
def test_stdin_that_never_closes_ends_the_hook_by_itself_failing_open(hooks, event):
    """The payload's writer keeps stdin open: the hook gives up at its deadline, exits 0 and says
    once what happened; the tool call is left unchanged (no decision, nothing recorded)."""
    proc = hooks.start(event)
    try:
        proc.stdin.write(json.dumps(hooks.pre("toolu_open"))[:200].encode())
        proc.stdin.flush()
        code = proc.wait(timeout=GUARD_S)  # stdin still open
        out, err = proc.stdout.read(), proc.stderr.read()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stdin.close()
        proc.stdout.close()
        proc.stderr.close()
    assert code == 0, err
    reply = answer(out)
    assert set(reply) == {"systemMessage"}
    assert "stdin" in reply["systemMessage"] and "proceeds unchanged" in reply["systemMessage"]
    assert hooks.pending() == [] and not os.path.exists(hooks.ledger)


def test_the_subagent_stop_race_wait_ends_at_the_deadline(hooks, monkeypatch):
    """SubagentStop's wait for the final message (here asked for 10 s) ends at the process's
    deadline when less is left; its part is still written."""
    from cco_hooks import accounting

    hooks.write_transcript("a_race", upto=1)
    monkeypatch.setenv(accounting.STOP_WAIT_ENV, "10")
    clock = {"now": 0.0}
    try:
        with pytest.MonkeyPatch.context() as fake:
            fake.setattr(time, "monotonic", lambda: clock["now"])
            fake.setattr(time, "sleep", lambda s: clock.__setitem__("now", clock["now"] + s))
            hookio.start_deadline("subagent-stop", now=-hookio.DEFAULT_WAIT_BUDGET_S + 0.5)  # 0.5 s left
            accounting.on_subagent_stop(hooks.stop("a_race"), hooks.ledger, hooks.prices)
    finally:
        hookio.clear_deadline()
    assert clock["now"] <= 0.5 + accounting.STOP_POLL_S
    assert any("a_race" in name for name in hooks.pending())  # incomplete: its part waits


def test_a_million_line_transcript_is_priced_right_by_a_real_post_tool_use(hooks):
    """A subagent transcript of a million lines, most of them not assistant lines (some quoting
    ``"type":"assistant"`` in their text), each response on two lines, some growing their counts:
    a real PostToolUse process prices every request once, with the largest counts. (Its speed is
    in bench/README.md, not asserted here.)"""
    from tests.support import long_transcript

    path = hooks.transcript_path("a_long")
    path.parent.mkdir(parents=True, exist_ok=True)
    expected = long_transcript.write(path, 1_000_000, assistant_every=50)
    assert expected["lines"] >= 999_000 and expected["requests"] >= 19_000
    hooks.run_pre("toolu_long")
    proc, _wall = hooks.run(
        "post-tool-use",
        hooks.post_completed("toolu_long", "a_long", final_text=long_transcript.FINAL_TEXT),
        timeout=GUARD_S,
    )
    assert proc.returncode == 0, proc.stderr
    [record] = [r for r in hooks.records() if r.get("tool_use_id") == "toolu_long"]
    assert record["status"] == "completed" and record["transcript_complete"] is True
    assert record["requests"] == expected["requests"]
    tokens = record["tokens"]
    assert (tokens["input"], tokens["output"], tokens["cache_read"]) == (
        expected["input"],
        expected["output"],
        expected["cache_read"],
    )


def test_a_session_end_with_the_lock_held_is_recorded_later_never_unlocked(hooks):
    """SessionEnd cannot get the lock by its deadline (fake clock): its session record is not
    appended unlocked (its duplicate check needs the lock) but kept, and the next hook that gets
    the lock appends it, once; a second SessionEnd with nothing new adds no line."""
    os.makedirs(os.path.dirname(hooks.ledger), exist_ok=True)
    held = LockHeld(hooks.ledger)
    clock = {"now": 10_000.0}

    def sleep(seconds):
        clock["now"] += seconds

    try:
        with pytest.MonkeyPatch.context() as fake:
            fake.setattr(time, "monotonic", lambda: clock["now"])
            fake.setattr(time, "sleep", sleep)
            code, _ = hooks.run_main("session-end", hooks.session_event("SessionEnd"))
    finally:
        held.release()
    assert code == 0
    assert hooks.records("session") == []  # nothing written without the lock
    code, _ = hooks.run_main("stop", hooks.session_event("Stop"))  # the lock is free again
    assert code == 0
    [record] = hooks.records("session")
    assert record["session_cost_usd"] > 0
    hooks.run_main("session-end", hooks.session_event("SessionEnd"))
    hooks.run_main("stop", hooks.session_event("Stop"))
    assert len(hooks.records("session")) == 1
