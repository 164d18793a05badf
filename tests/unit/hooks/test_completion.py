"""When a spawn is complete: the SubagentStop race, grace, stale and orphan ages, spawns seen by only some hooks."""

import os
import time

import pytest

from cco_hooks import accounting, completion
from tests.support.hookproc import COST, only


def test_stop_before_the_transcript_exists_is_settled_later_exactly_once(hooks, monkeypatch):
    hooks.run_pre("toolu_2", model="haiku", background=True)
    hooks.run_post(hooks.post_async("toolu_2", "ab89ef272c1ab95db", model_in="haiku"))
    clock = {"now": 1000.0}
    monkeypatch.setattr(time, "monotonic", lambda: clock["now"])
    monkeypatch.setattr(time, "sleep", lambda s: clock.__setitem__("now", clock["now"] + s))
    hooks.run_stop(hooks.stop("ab89ef272c1ab95db"))
    monkeypatch.undo()
    # the bounded wait (on the fake clock), then it is left pending
    assert accounting.stop_wait_s() <= clock["now"] - 1000.0 < accounting.stop_wait_s() + 0.2
    assert hooks.records() == []
    assert any(n.endswith(".stop.json") for n in hooks.pending())
    hooks.write_transcript("ab89ef272c1ab95db", model="claude-haiku-5-5")
    assert hooks.settle() == 1
    assert hooks.settle() == 0
    assert hooks.settle(force=True, later=3600) == 0
    r = only(hooks.records())
    assert r["cost_usd"] == pytest.approx(COST["claude-haiku-5-5"], abs=1e-9)
    assert r["transcript_complete"] is True


def test_stop_with_the_final_line_missing(hooks):
    hooks.run_pre("toolu_2", model="haiku", background=True)
    hooks.run_post(hooks.post_async("toolu_2", "ab89ef272c1ab95db", model_in="haiku"))
    hooks.write_transcript("ab89ef272c1ab95db", model="claude-haiku-5-5", upto=3)
    hooks.run_stop(hooks.stop("ab89ef272c1ab95db"))
    assert hooks.records() == []
    hooks.write_transcript("ab89ef272c1ab95db", model="claude-haiku-5-5")
    assert hooks.settle() == 1
    r = only(hooks.records())
    assert r["requests"] == 2
    assert r["cost_usd"] == pytest.approx(COST["claude-haiku-5-5"], abs=1e-9)


def test_stop_with_a_torn_final_line(hooks):
    hooks.run_pre("toolu_3", model="opus")
    hooks.write_meta("a887642912c4f6be6", "toolu_3")
    hooks.write_transcript("a887642912c4f6be6", upto=3, torn=True)
    hooks.run_stop(hooks.stop("a887642912c4f6be6"))
    hooks.run_post(hooks.post_completed("toolu_3", "a887642912c4f6be6", model_in="opus"))
    assert hooks.records() == []
    hooks.write_transcript("a887642912c4f6be6")
    hooks.run_post(hooks.post_completed("toolu_3", "a887642912c4f6be6", model_in="opus"))  # a replay, too
    r = only(hooks.records())
    assert r["cost_usd"] == pytest.approx(0.4865, abs=1e-9)
    assert hooks.settle(later=7200, force=True) == 0
    assert len(hooks.records()) == 1


def test_incomplete_transcript_is_priced_as_is_when_stale(hooks):
    hooks.run_pre("toolu_2", model="haiku", background=True)
    hooks.run_post(hooks.post_async("toolu_2", "ab89ef272c1ab95db", model_in="haiku"))
    hooks.write_transcript("ab89ef272c1ab95db", model="claude-haiku-5-5", upto=3)
    hooks.run_stop(hooks.stop("ab89ef272c1ab95db"))
    assert hooks.settle(later=60) == 0  # not stale yet, no force
    assert hooks.settle(later=completion.STALE_S + 1) == 1
    r = only(hooks.records())
    assert r["transcript_complete"] is False and r["requests"] == 1
    assert r["cost_usd"] == pytest.approx(2550e-6, abs=1e-12)


def test_text_mismatch_is_tolerated_after_the_grace_when_the_transcript_ended(hooks):
    hooks.run_pre("toolu_2", model="haiku", background=True)
    hooks.run_post(hooks.post_async("toolu_2", "ab89ef272c1ab95db", model_in="haiku"))
    hooks.write_transcript("ab89ef272c1ab95db", model="claude-haiku-5-5")
    accounting.on_subagent_stop(
        hooks.stop("ab89ef272c1ab95db", final_text="spelt differently"), hooks.ledger, hooks.prices
    )
    assert hooks.records() == []
    assert hooks.settle(later=completion.GRACE_S + 1) == 1
    r = only(hooks.records())
    assert r["transcript_complete"] is True and r["cost_usd"] == pytest.approx(COST["claude-haiku-5-5"], abs=1e-9)


def test_transcript_never_appears_force_records_it_unpriced(hooks):
    hooks.run_pre("toolu_2", model="haiku", background=True)
    hooks.run_post(hooks.post_async("toolu_2", "ab89ef272c1ab95db", model_in="haiku"))
    accounting.on_subagent_stop(hooks.stop("ab89ef272c1ab95db"), hooks.ledger, hooks.prices)
    assert hooks.settle(later=1) == 0
    assert hooks.settle(later=1, force=True) == 0  # younger than the force grace
    assert hooks.settle(later=10) == 0
    assert hooks.settle(later=10, force=True) == 1
    r = only(hooks.records())
    assert r["status"] == "unpriced" and r["unpriced_reason"] == "transcript_missing"
    assert r["cost_usd"] is None and r["tokens"] is None
    assert r["requested_model"] == "haiku" and r["agent_id"] == "ab89ef272c1ab95db"


def test_transcript_never_appears_settled_when_stale(hooks):
    hooks.run_pre("toolu_2", model="haiku", background=True)
    hooks.run_post(hooks.post_async("toolu_2", "ab89ef272c1ab95db", model_in="haiku"))
    accounting.on_subagent_stop(hooks.stop("ab89ef272c1ab95db"), hooks.ledger, hooks.prices)
    assert hooks.settle(later=completion.STALE_S + 1) == 1
    assert only(hooks.records())["unpriced_reason"] == "transcript_missing"


@pytest.mark.parametrize("where", ["outside", "dev-zero", "directory", "fifo"])
def test_transcript_that_may_not_be_read(hooks, tmp_path, where):
    if where == "outside":
        elsewhere = tmp_path / "elsewhere"
        elsewhere.mkdir()
        path = elsewhere / "agent-ab89ef272c1ab95db.jsonl"
        path.write_text("".join(hooks.transcript_lines("ab89ef272c1ab95db")))
        reason = "transcript_not_allowed"
    elif where == "dev-zero":
        path = hooks.transcript_path("ab89ef272c1ab95db")
        path.symlink_to("/dev/zero")
        reason = "transcript_not_allowed"
    elif where == "fifo":
        path = hooks.transcript_path("ab89ef272c1ab95db")
        os.mkfifo(path)
        reason = "transcript_not_regular"
    else:
        path = hooks.transcript_path("ab89ef272c1ab95db")
        path.mkdir()
        reason = "transcript_not_regular"
    hooks.run_pre("toolu_2", model="haiku", background=True)
    hooks.run_post(hooks.post_async("toolu_2", "ab89ef272c1ab95db", model_in="haiku"))
    slept = []
    with pytest.MonkeyPatch.context() as fake:
        fake.setattr(time, "sleep", slept.append)
        hooks.run_stop(hooks.stop("ab89ef272c1ab95db", path=path))
    assert slept == []  # no point waiting for such a file
    r = only(hooks.records())
    assert r["status"] == "unpriced" and r["unpriced_reason"] == reason


def test_background_settled_from_meta_without_subagent_stop(hooks):
    hooks.run_pre("toolu_2", model="haiku", background=True)
    hooks.run_post(hooks.post_async("toolu_2", "ab89ef272c1ab95db", model_in="haiku"))
    hooks.write_transcript("ab89ef272c1ab95db", model="claude-haiku-5-5")
    hooks.write_meta("ab89ef272c1ab95db", "toolu_2", finished=False, shape="background")
    assert hooks.settle(force=True, later=3600) == 0  # still running: even force leaves it
    hooks.write_meta("ab89ef272c1ab95db", "toolu_2", finished=True, shape="background")
    assert hooks.settle() == 1
    r = only(hooks.records())
    assert r["cost_usd"] == pytest.approx(COST["claude-haiku-5-5"], abs=1e-9)
    # the late SubagentStop changes nothing
    hooks.run_stop(hooks.stop("ab89ef272c1ab95db"))
    assert len(hooks.records()) == 1 and hooks.pending() == []


def test_running_background_spawn_given_up_after_orphan_age(hooks):
    hooks.run_pre("toolu_2", model="haiku", background=True)
    hooks.run_post(hooks.post_async("toolu_2", "ab89ef272c1ab95db", model_in="haiku"))
    hooks.write_transcript("ab89ef272c1ab95db", model="claude-haiku-5-5", upto=3)
    assert hooks.settle(later=completion.ORPHAN_S - 60, force=True) == 0
    assert hooks.settle(later=completion.ORPHAN_S + 60) == 1
    r = only(hooks.records())
    assert r["transcript_complete"] is False and r["requests"] == 1


def test_foreground_post_without_subagent_stop(hooks):
    hooks.run_pre("toolu_3", model="opus")
    hooks.write_transcript("a887642912c4f6be6")
    hooks.run_post(hooks.post_completed("toolu_3", "a887642912c4f6be6", model_in="opus"))
    r = only(hooks.records())
    assert r["cost_usd"] == pytest.approx(0.4865, abs=1e-9) and r["transcript_complete"] is True


def test_stop_without_post_is_joined_to_its_pre_by_meta(hooks):
    hooks.run_pre("toolu_3", model="opus")
    hooks.write_transcript("a887642912c4f6be6")
    hooks.write_meta("a887642912c4f6be6", "toolu_3")
    hooks.run_stop(hooks.stop("a887642912c4f6be6"))
    assert hooks.settle(later=5) == 0  # its PostToolUse may still come
    assert hooks.settle(later=completion.GRACE_S + 1) == 1
    r = only(hooks.records())
    assert r["tool_use_id"] == "toolu_3" and r["requested_model"] == "opus"
    assert r["decision"]["action"] == "none" and r["background"] is False
    assert hooks.pending() == []
    hooks.run_post(hooks.post_completed("toolu_3", "a887642912c4f6be6", model_in="opus"))  # too late: ignored
    assert len(hooks.records()) == 1


def test_internal_helper_agent_seen_only_by_subagent_stop(hooks):
    hooks.write_transcript("a1111111111111111")
    payload = hooks.stop("a1111111111111111")
    payload["agent_type"] = ""
    hooks.run_stop(payload)
    assert hooks.settle(later=completion.GRACE_S + 1) == 1
    r = only(hooks.records())
    assert r["tool_use_id"] is None and r["decision"]["action"] == "unknown"
    assert r["agent_type"] == "" and r["cost_usd"] == pytest.approx(0.4865, abs=1e-9)


def test_pre_only_orphan(hooks):
    hooks.run_pre("toolu_7", model="opus")
    assert hooks.settle(later=completion.STALE_S + 1) == 0
    assert hooks.settle(later=completion.ORPHAN_S - 1, force=True) == 0
    assert hooks.settle(later=completion.ORPHAN_S + 1) == 1
    r = only(hooks.records())
    assert r["status"] == "unpriced" and r["unpriced_reason"] == "no_result"


def test_pre_only_found_by_meta_scan_when_both_other_hooks_were_missed(hooks):
    hooks.run_pre("toolu_3", model="opus")
    hooks.write_transcript("a887642912c4f6be6")
    hooks.write_meta("a887642912c4f6be6", "toolu_3")
    assert hooks.settle(later=60) == 0
    assert hooks.settle(later=completion.STALE_S + 1) == 1
    r = only(hooks.records())
    assert r["agent_id"] == "a887642912c4f6be6" and r["cost_usd"] == pytest.approx(0.4865, abs=1e-9)


def test_post_without_agent_id(hooks):
    hooks.run_pre("toolu_3", model="opus")
    payload = hooks.post_completed("toolu_3", "x")
    del payload["tool_response"]["agentId"]
    hooks.run_post(payload)
    r = only(hooks.records())
    assert r["status"] == "unpriced" and r["unpriced_reason"] == "no_agent_id"


def test_a_post_tool_use_a_day_late_after_a_stop_only_settle_is_not_a_second_record(hooks, monkeypatch):
    """The SubagentStop came alone (no meta file, so its tool_use_id unknown) and was settled by its
    agent id; the PostToolUse arrives a day later, when the spawn's pre part is old enough to be
    given up as an orphan. It is consumed instead: one record, the first."""
    hooks.run_pre("toolu_3", model="opus")
    hooks.write_transcript("a887642912c4f6be6")
    hooks.run_stop(hooks.stop("a887642912c4f6be6"))
    assert hooks.settle(later=completion.GRACE_S + 1) == 1
    first = only(hooks.records())
    real_time = time.time
    monkeypatch.setattr(time, "time", lambda: real_time() + completion.ORPHAN_S + 3600)  # a day later
    hooks.run_post(hooks.post_completed("toolu_3", "a887642912c4f6be6", model_in="opus"))
    assert hooks.settle(later=completion.ORPHAN_S, force=True) == 0
    assert hooks.records() == [first] and hooks.pending() == []
