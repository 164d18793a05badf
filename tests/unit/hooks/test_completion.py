"""When a spawn is complete: the SubagentStop race, grace, stale and orphan ages, spawns seen by only some hooks."""

import os
import time

import pytest

from cco_hooks import accounting, completion
from tests.support.hookproc import (
    COST,
    only,
    scene_in_clean_cwd,
)


@pytest.fixture
def scene(tmp_path, monkeypatch):
    yield from scene_in_clean_cwd(tmp_path, monkeypatch)


def test_stop_before_the_transcript_exists_is_settled_later_exactly_once(scene):
    scene.run_pre("toolu_2", requested="haiku", background=True)
    scene.run_post(scene.post_async("toolu_2", "ab89ef272c1ab95db", model_in="haiku"))
    start = time.monotonic()
    scene.run_stop(scene.stop("ab89ef272c1ab95db"))
    elapsed = time.monotonic() - start
    assert 0.4 <= elapsed < 1.5  # the bounded wait, then it is left pending
    assert scene.records() == []
    assert any(n.endswith(".stop.json") for n in scene.pending())
    scene.write_transcript("ab89ef272c1ab95db", model="claude-haiku-5-5")
    assert scene.settle() == 1
    assert scene.settle() == 0
    assert scene.settle(force=True, later=3600) == 0
    r = only(scene.records())
    assert r["cost_usd"] == pytest.approx(COST["claude-haiku-5-5"], abs=1e-9)
    assert r["transcript_complete"] is True


def test_stop_with_the_final_line_missing(scene):
    scene.run_pre("toolu_2", requested="haiku", background=True)
    scene.run_post(scene.post_async("toolu_2", "ab89ef272c1ab95db", model_in="haiku"))
    scene.write_transcript("ab89ef272c1ab95db", model="claude-haiku-5-5", upto=3)
    scene.run_stop(scene.stop("ab89ef272c1ab95db"))
    assert scene.records() == []
    scene.write_transcript("ab89ef272c1ab95db", model="claude-haiku-5-5")
    assert scene.settle() == 1
    r = only(scene.records())
    assert r["requests"] == 2
    assert r["cost_usd"] == pytest.approx(COST["claude-haiku-5-5"], abs=1e-9)


def test_stop_with_a_torn_final_line(scene):
    scene.run_pre("toolu_3", requested="opus")
    scene.write_meta("a887642912c4f6be6", "toolu_3")
    scene.write_transcript("a887642912c4f6be6", upto=3, torn=True)
    scene.run_stop(scene.stop("a887642912c4f6be6"))
    scene.run_post(scene.post_completed("toolu_3", "a887642912c4f6be6", model_in="opus"))
    assert scene.records() == []
    scene.write_transcript("a887642912c4f6be6")
    scene.run_post(scene.post_completed("toolu_3", "a887642912c4f6be6", model_in="opus"))  # a replay, too
    r = only(scene.records())
    assert r["cost_usd"] == pytest.approx(0.4865, abs=1e-9)
    assert scene.settle(later=7200, force=True) == 0
    assert len(scene.records()) == 1


def test_incomplete_transcript_is_priced_as_is_when_stale(scene):
    scene.run_pre("toolu_2", requested="haiku", background=True)
    scene.run_post(scene.post_async("toolu_2", "ab89ef272c1ab95db", model_in="haiku"))
    scene.write_transcript("ab89ef272c1ab95db", model="claude-haiku-5-5", upto=3)
    scene.run_stop(scene.stop("ab89ef272c1ab95db"))
    assert scene.settle(later=60) == 0  # not stale yet, no force
    assert scene.settle(later=completion.STALE_S + 1) == 1
    r = only(scene.records())
    assert r["transcript_complete"] is False and r["requests"] == 1
    assert r["cost_usd"] == pytest.approx(2550e-6, abs=1e-12)


def test_text_mismatch_is_tolerated_after_the_grace_when_the_transcript_ended(scene):
    scene.run_pre("toolu_2", requested="haiku", background=True)
    scene.run_post(scene.post_async("toolu_2", "ab89ef272c1ab95db", model_in="haiku"))
    scene.write_transcript("ab89ef272c1ab95db", model="claude-haiku-5-5")
    accounting.on_subagent_stop(
        scene.stop("ab89ef272c1ab95db", final_text="spelt differently"), scene.ledger, scene.prices
    )
    assert scene.records() == []
    assert scene.settle(later=completion.GRACE_S + 1) == 1
    r = only(scene.records())
    assert r["transcript_complete"] is True and r["cost_usd"] == pytest.approx(COST["claude-haiku-5-5"], abs=1e-9)


def test_transcript_never_appears_force_records_it_unpriced(scene):
    scene.run_pre("toolu_2", requested="haiku", background=True)
    scene.run_post(scene.post_async("toolu_2", "ab89ef272c1ab95db", model_in="haiku"))
    accounting.on_subagent_stop(scene.stop("ab89ef272c1ab95db"), scene.ledger, scene.prices)
    assert scene.settle(later=1) == 0
    assert scene.settle(later=1, force=True) == 0  # younger than the force grace
    assert scene.settle(later=10) == 0
    assert scene.settle(later=10, force=True) == 1
    r = only(scene.records())
    assert r["status"] == "unpriced" and r["unpriced_reason"] == "transcript_missing"
    assert r["cost_usd"] is None and r["tokens"] is None
    assert r["requested_model"] == "haiku" and r["agent_id"] == "ab89ef272c1ab95db"


def test_transcript_never_appears_settled_when_stale(scene):
    scene.run_pre("toolu_2", requested="haiku", background=True)
    scene.run_post(scene.post_async("toolu_2", "ab89ef272c1ab95db", model_in="haiku"))
    accounting.on_subagent_stop(scene.stop("ab89ef272c1ab95db"), scene.ledger, scene.prices)
    assert scene.settle(later=completion.STALE_S + 1) == 1
    assert only(scene.records())["unpriced_reason"] == "transcript_missing"


@pytest.mark.parametrize("where", ["outside", "dev-zero", "directory", "fifo"])
def test_transcript_that_may_not_be_read(scene, tmp_path, where):
    if where == "outside":
        elsewhere = tmp_path / "elsewhere"
        elsewhere.mkdir()
        path = elsewhere / "agent-ab89ef272c1ab95db.jsonl"
        path.write_text("".join(scene.transcript_lines("ab89ef272c1ab95db")))
        reason = "transcript_not_allowed"
    elif where == "dev-zero":
        path = scene.agent_path("ab89ef272c1ab95db")
        path.symlink_to("/dev/zero")
        reason = "transcript_not_allowed"
    elif where == "fifo":
        path = scene.agent_path("ab89ef272c1ab95db")
        os.mkfifo(path)
        reason = "transcript_not_regular"
    else:
        path = scene.agent_path("ab89ef272c1ab95db")
        path.mkdir()
        reason = "transcript_not_regular"
    scene.run_pre("toolu_2", requested="haiku", background=True)
    scene.run_post(scene.post_async("toolu_2", "ab89ef272c1ab95db", model_in="haiku"))
    start = time.monotonic()
    scene.run_stop(scene.stop("ab89ef272c1ab95db", path=path))
    assert time.monotonic() - start < 0.4  # no point waiting for such a file
    r = only(scene.records())
    assert r["status"] == "unpriced" and r["unpriced_reason"] == reason


def test_background_settled_from_meta_without_subagent_stop(scene):
    scene.run_pre("toolu_2", requested="haiku", background=True)
    scene.run_post(scene.post_async("toolu_2", "ab89ef272c1ab95db", model_in="haiku"))
    scene.write_transcript("ab89ef272c1ab95db", model="claude-haiku-5-5")
    scene.write_meta("ab89ef272c1ab95db", "toolu_2", finished=False, shape="background")
    assert scene.settle(force=True, later=3600) == 0  # still running: even force leaves it
    scene.write_meta("ab89ef272c1ab95db", "toolu_2", finished=True, shape="background")
    assert scene.settle() == 1
    r = only(scene.records())
    assert r["cost_usd"] == pytest.approx(COST["claude-haiku-5-5"], abs=1e-9)
    # the late SubagentStop changes nothing
    scene.run_stop(scene.stop("ab89ef272c1ab95db"))
    assert len(scene.records()) == 1 and scene.pending() == []


def test_running_background_spawn_given_up_after_orphan_age(scene):
    scene.run_pre("toolu_2", requested="haiku", background=True)
    scene.run_post(scene.post_async("toolu_2", "ab89ef272c1ab95db", model_in="haiku"))
    scene.write_transcript("ab89ef272c1ab95db", model="claude-haiku-5-5", upto=3)
    assert scene.settle(later=completion.ORPHAN_S - 60, force=True) == 0
    assert scene.settle(later=completion.ORPHAN_S + 60) == 1
    r = only(scene.records())
    assert r["transcript_complete"] is False and r["requests"] == 1


def test_foreground_post_without_subagent_stop(scene):
    scene.run_pre("toolu_3", requested="opus")
    scene.write_transcript("a887642912c4f6be6")
    scene.run_post(scene.post_completed("toolu_3", "a887642912c4f6be6", model_in="opus"))
    r = only(scene.records())
    assert r["cost_usd"] == pytest.approx(0.4865, abs=1e-9) and r["transcript_complete"] is True


def test_stop_without_post_is_joined_to_its_pre_by_meta(scene):
    scene.run_pre("toolu_3", requested="opus")
    scene.write_transcript("a887642912c4f6be6")
    scene.write_meta("a887642912c4f6be6", "toolu_3")
    scene.run_stop(scene.stop("a887642912c4f6be6"))
    assert scene.settle(later=5) == 0  # its PostToolUse may still come
    assert scene.settle(later=completion.GRACE_S + 1) == 1
    r = only(scene.records())
    assert r["tool_use_id"] == "toolu_3" and r["requested_model"] == "opus"
    assert r["decision"]["action"] == "none" and r["background"] is False
    assert scene.pending() == []
    scene.run_post(scene.post_completed("toolu_3", "a887642912c4f6be6", model_in="opus"))  # too late: ignored
    assert len(scene.records()) == 1


def test_internal_helper_agent_seen_only_by_subagent_stop(scene):
    scene.write_transcript("a1111111111111111")
    payload = scene.stop("a1111111111111111")
    payload["agent_type"] = ""
    scene.run_stop(payload)
    assert scene.settle(later=completion.GRACE_S + 1) == 1
    r = only(scene.records())
    assert r["tool_use_id"] is None and r["decision"]["action"] == "unknown"
    assert r["agent_type"] == "" and r["cost_usd"] == pytest.approx(0.4865, abs=1e-9)


def test_pre_only_orphan(scene):
    scene.run_pre("toolu_7", requested="opus")
    assert scene.settle(later=completion.STALE_S + 1) == 0
    assert scene.settle(later=completion.ORPHAN_S - 1, force=True) == 0
    assert scene.settle(later=completion.ORPHAN_S + 1) == 1
    r = only(scene.records())
    assert r["status"] == "unpriced" and r["unpriced_reason"] == "no_result"


def test_pre_only_found_by_meta_scan_when_both_other_hooks_were_missed(scene):
    scene.run_pre("toolu_3", requested="opus")
    scene.write_transcript("a887642912c4f6be6")
    scene.write_meta("a887642912c4f6be6", "toolu_3")
    assert scene.settle(later=60) == 0
    assert scene.settle(later=completion.STALE_S + 1) == 1
    r = only(scene.records())
    assert r["agent_id"] == "a887642912c4f6be6" and r["cost_usd"] == pytest.approx(0.4865, abs=1e-9)


def test_post_without_agent_id(scene):
    scene.run_pre("toolu_3", requested="opus")
    payload = scene.post_completed("toolu_3", "x")
    del payload["tool_response"]["agentId"]
    scene.run_post(payload)
    r = only(scene.records())
    assert r["status"] == "unpriced" and r["unpriced_reason"] == "no_agent_id"
