"""The hook entry points and settle(): one joined, exactly priced record per spawn, whatever order the hooks fire in."""

import json
import multiprocessing
import os
import time
from pathlib import Path

import pytest

from cco_hooks import accounting, completion, ledger, pending, pricing, totals, transcript
from tests.support.disk_full import DiskFull
from tests.support.hookproc import (
    COST,
    COST_STATE,
    FINAL_TEXT,
    PROMPT_MARKER,
    SESSION_LINES,
    SID,
    only,
    schema_validator,
)

VALIDATOR = schema_validator()


def test_foreground_order_stop_before_post(hooks):
    hooks.run_pre("toolu_3", model="opus")
    hooks.write_transcript("a887642912c4f6be6")
    hooks.write_meta("a887642912c4f6be6", "toolu_3")
    hooks.run_stop(hooks.stop("a887642912c4f6be6"))
    assert hooks.records() == []  # waits for its PostToolUse (moments later)
    hooks.run_post(hooks.post_completed("toolu_3", "a887642912c4f6be6", model_in="opus"))
    r = only(hooks.records())
    assert r["status"] == "completed" and r["priced"] is True
    assert r["tool_use_id"] == "toolu_3" and r["agent_id"] == "a887642912c4f6be6"
    assert r["session_id"] == SID and r["project"] == str(hooks.project)
    assert r["agent_type"] == "general-purpose" and r["description"] == "a"
    assert r["background"] is False
    assert r["requested_model"] == "opus" and r["requested_model_id"] == "claude-opus-5-5"
    assert r["actual_model"] == "claude-opus-5-5"
    assert r["tokens"] == {
        "input": 91500,
        "output": 1000,
        "cache_read": 40000,
        "cache_write_5m": 2500,
        "cache_write_1h": 10000,
    }
    assert r["requests"] == 2
    assert r["cost_usd"] == pytest.approx(0.4865, abs=1e-9)
    assert r["requested_cost_usd"] == pytest.approx(0.4865, abs=1e-9)
    assert r["savings_usd"] == pytest.approx(0, abs=1e-12)
    assert r["by_model"] == {"claude-opus-5-5": {"requests": 2, "cost_usd": pytest.approx(0.4865, abs=1e-9)}}
    assert r["duration_ms"] == 538  # PostToolUse totalDurationMs
    assert r["claude_code_version"] == "2.1.328"
    assert r["transcript_complete"] is True and r["unpriced_reason"] is None
    assert r["decision"]["action"] == "none"
    assert hooks.pending() == []


def test_background_order_post_before_stop(hooks):
    hooks.run_pre("toolu_2", model="haiku", background=True)
    hooks.run_post(hooks.post_async("toolu_2", "ab89ef272c1ab95db", model_in="haiku"))
    assert hooks.records() == []
    hooks.write_transcript("ab89ef272c1ab95db", model="claude-haiku-5-5")
    hooks.run_stop(hooks.stop("ab89ef272c1ab95db"))
    r = only(hooks.records())
    assert r["background"] is True
    assert r["cost_usd"] == pytest.approx(COST["claude-haiku-5-5"], abs=1e-9)
    assert r["duration_ms"] == 504  # from the transcript's timestamps
    assert hooks.pending() == []


def test_rewrite_counterfactual_and_savings(hooks):
    hooks.run_pre("toolu_1", model="sonnet", enforced="haiku", action="rewrite")
    hooks.write_transcript("a9290afd8a1e9bebf", model="claude-haiku-5-5")
    hooks.write_meta("a9290afd8a1e9bebf", "toolu_1")
    hooks.run_stop(hooks.stop("a9290afd8a1e9bebf"))
    hooks.run_post(hooks.post_completed("toolu_1", "a9290afd8a1e9bebf", model="claude-haiku-5-5", model_in="haiku"))
    r = only(hooks.records())
    assert r["requested_model"] == "sonnet" and r["enforced_model"] == "haiku"
    assert r["requested_model_id"] == "claude-sonnet-5-5" and r["actual_model"] == "claude-haiku-5-5"
    assert r["decision"] == {
        "action": "rewrite",
        "mode": "rewrite",
        "rule": "general-purpose",
        "layer": "project",
        "source": str(hooks.project / ".claude" / "cco-hooks.yaml"),
        "reason": "test",
        "would": None,
    }
    assert r["cost_usd"] == pytest.approx(0.0516125, abs=1e-9)
    assert r["requested_cost_usd"] == pytest.approx(0.24325, abs=1e-9)
    assert r["savings_usd"] == pytest.approx(0.24325 - 0.0516125, abs=1e-9)


def test_no_model_named_uses_the_parents_model_as_counterfactual(hooks):
    """toolu_1 was issued by a claude-opus-5-5 message in the session transcript."""
    hooks.run_pre("toolu_1", model=None, enforced="haiku", action="rewrite")
    hooks.write_transcript("a9290afd8a1e9bebf", model="claude-haiku-5-5")
    hooks.run_post(hooks.post_async("toolu_1", "a9290afd8a1e9bebf", model_in="haiku"))
    hooks.run_stop(hooks.stop("a9290afd8a1e9bebf"))
    r = only(hooks.records())
    assert r["requested_model"] is None
    assert r["requested_model_id"] == "claude-opus-5-5"
    assert r["requested_cost_usd"] == pytest.approx(0.4865, abs=1e-9)
    assert r["savings_usd"] == pytest.approx(0.4865 - 0.0516125, abs=1e-9)


def test_the_reference_session_agrees_with_claude_codes_cost_state(hooks):
    """The captured session: opus main loop, three subagents (sonnet foreground, haiku background,
    opus foreground). Spawn records + the main loop's own requests must equal cost-state per model,
    and the Stop hook's session record gives the subagents' share."""
    spawns = [
        ("toolu_1", "a9290afd8a1e9bebf", "sonnet", "claude-sonnet-5-5", False),
        ("toolu_2", "ab89ef272c1ab95db", "haiku", "claude-haiku-5-5", True),
        ("toolu_3", "a887642912c4f6be6", "opus", "claude-opus-5-5", False),
    ]
    for tu, _agent, alias, _model, background in spawns:
        hooks.run_pre(tu, model=alias, background=background)
    for tu, agent, alias, model, background in spawns:
        hooks.write_transcript(agent, model=model)
        if background:
            hooks.run_post(hooks.post_async(tu, agent, model=model, model_in=alias))
            hooks.run_stop(hooks.stop(agent))
        else:
            hooks.write_meta(agent, tu)
            hooks.run_stop(hooks.stop(agent))
            hooks.run_post(hooks.post_completed(tu, agent, model=model, model_in=alias))
    records = hooks.records()
    assert len(records) == 3
    main = transcript.read_usage(str(hooks.session_transcript))  # the session's own (main loop) requests
    for model, usage in COST_STATE["modelUsage"].items():
        spent = sum(r["cost_usd"] for r in records if r["actual_model"] == model)
        spent += sum(hooks.prices.cost(q["model"], q["usage"]) for q in main.requests if q["model"] == model)
        assert spent == pytest.approx(usage["costUSD"], abs=1e-9), model
    accounting.on_session_end(hooks.session_event("Stop"), hooks.ledger)
    session = only(hooks.records("session"))
    assert session["session_cost_usd"] == pytest.approx(COST_STATE["totalCostUSD"], abs=1e-12)
    assert session["model_costs"] == {m: u["costUSD"] for m, u in COST_STATE["modelUsage"].items()}
    assert session["claude_code_version"] == "2.1.328"
    share = sum(r["cost_usd"] for r in records) / session["session_cost_usd"]
    assert share == pytest.approx((0.4865 + 0.24325 + 0.0516125) / 0.7826825, abs=1e-9)


def test_final_line_landing_during_the_bounded_wait(hooks, monkeypatch):
    """SubagentStop fired before the final message was on disk; it lands during the hook's bounded
    wait (on a fake clock: the first poll's sleep is when Claude Code writes it), and the hook then
    records the spawn itself, without waiting out the rest of its window."""
    hooks.run_pre("toolu_2", model="haiku", background=True)
    hooks.run_post(hooks.post_async("toolu_2", "ab89ef272c1ab95db", model_in="haiku"))
    hooks.write_transcript("ab89ef272c1ab95db", model="claude-haiku-5-5", upto=3)
    clock = {"now": 1000.0, "sleeps": 0}

    def sleep(seconds):
        clock["now"] += seconds
        clock["sleeps"] += 1
        if clock["sleeps"] == 1:  # the final line lands while the hook waits
            hooks.write_transcript("ab89ef272c1ab95db", model="claude-haiku-5-5")

    monkeypatch.setattr(time, "monotonic", lambda: clock["now"])
    monkeypatch.setattr(time, "sleep", sleep)
    accounting.on_subagent_stop(hooks.stop("ab89ef272c1ab95db"), hooks.ledger, hooks.prices)
    assert clock["sleeps"] == 1  # it stopped waiting once the line was there
    r = only(hooks.records())  # recorded by the SubagentStop hook itself
    assert r["requests"] == 2


def test_replaying_every_hook_twice_gives_one_record(hooks):
    for _ in range(2):
        hooks.run_pre("toolu_3", model="opus")
        hooks.write_transcript("a887642912c4f6be6")
        hooks.write_meta("a887642912c4f6be6", "toolu_3")
        hooks.run_stop(hooks.stop("a887642912c4f6be6"))
        hooks.run_post(hooks.post_completed("toolu_3", "a887642912c4f6be6", model_in="opus"))
    assert len(hooks.records()) == 1
    assert hooks.pending() == []
    assert hooks.settle(later=completion.ORPHAN_S + 1, force=True) == 0
    # a late replay does not wait for a final message: the tombstone is checked first
    slept = []
    with pytest.MonkeyPatch.context() as fake:
        fake.setattr(time, "sleep", slept.append)
        accounting.on_subagent_stop(hooks.stop("a887642912c4f6be6"), hooks.ledger, hooks.prices)
    assert slept == []
    assert len(hooks.records()) == 1


def test_denied_spawn_is_recorded_at_once(hooks):
    payload = hooks.pre("toolu_9", model="opus")
    decision = hooks.decision(payload, action="deny")
    accounting.on_pre_tool_use(payload, decision, hooks.ledger)
    accounting.on_pre_tool_use(payload, decision, hooks.ledger)
    r = only(hooks.records())
    assert r["status"] == "denied" and r["cost_usd"] == 0.0 and r["requests"] == 0
    assert r["decision"]["action"] == "deny" and r["requested_model_id"] == "claude-opus-5-5"
    assert r["requested_cost_usd"] is None and r["savings_usd"] is None
    assert hooks.pending() == []
    hooks.run_post(hooks.post_completed("toolu_9", "a0000000000000009"))
    assert len(hooks.records()) == 1


def test_observe_decision_is_recorded(hooks):
    payload = hooks.pre("toolu_3", model="opus")
    decision = hooks.decision(payload, action="observe")
    decision["would"] = "rewrite"
    decision["mode"] = "observe"
    accounting.on_pre_tool_use(payload, decision, hooks.ledger)
    hooks.write_transcript("a887642912c4f6be6")
    hooks.write_meta("a887642912c4f6be6", "toolu_3")
    hooks.run_stop(hooks.stop("a887642912c4f6be6"))
    hooks.run_post(hooks.post_completed("toolu_3", "a887642912c4f6be6", model_in="opus"))
    r = only(hooks.records())
    assert r["decision"]["action"] == "observe" and r["decision"]["would"] == "rewrite"


def test_post_hook_for_another_tool_is_ignored(hooks):
    payload = hooks.post_completed("toolu_3", "a887642912c4f6be6")
    payload["tool_name"] = "TaskCreate"
    hooks.run_post(payload)
    assert hooks.pending() == [] and hooks.records() == []


def test_parts_in_flight_hold_no_text(hooks):
    hooks.run_pre("toolu_2", model="haiku", background=True)
    hooks.run_post(hooks.post_async("toolu_2", "ab89ef272c1ab95db", model_in="haiku"))
    accounting.on_subagent_stop(hooks.stop("ab89ef272c1ab95db"), hooks.ledger, hooks.prices)
    files = list(Path(pending.pending_dir(hooks.ledger)).glob("*.json"))
    assert len(files) == 3
    for path in files:
        data = path.read_bytes()
        assert PROMPT_MARKER.encode() not in data and FINAL_TEXT.encode() not in data


def test_session_record_from_cost_state(hooks):
    payload = hooks.session_event("Stop")
    accounting.on_session_end(payload, hooks.ledger)
    accounting.on_session_end(payload, hooks.ledger)  # nothing new: no second line
    r = only(hooks.records("session"))
    assert r["session_cost_usd"] == 0.7826825000000001
    assert r["model_costs"]["claude-haiku-5-5"] == 0.051612500000000006
    assert r["has_unknown_model_cost"] is False and r["project"] == str(hooks.project)
    state = dict(COST_STATE, totalCostUSD=1.5)
    with open(hooks.session_transcript, "a") as f:
        f.write(json.dumps(state) + "\n")
    accounting.on_session_end(payload, hooks.ledger)
    records = hooks.records("session")
    assert [x["session_cost_usd"] for x in records] == [0.7826825000000001, 1.5]


def test_session_record_refuses_other_sessions_and_strange_files(hooks, tmp_path):
    payload = dict(hooks.base(), session_id="other-session")
    accounting.on_session_end(payload, hooks.ledger)
    elsewhere = tmp_path / "x" / "notes.jsonl"
    elsewhere.parent.mkdir()
    elsewhere.write_text("".join(SESSION_LINES))
    accounting.on_session_end(dict(hooks.base(), transcript_path=str(elsewhere)), hooks.ledger)
    accounting.on_session_end(dict(hooks.base(), transcript_path="/dev/zero"), hooks.ledger)
    assert hooks.records("session") == []


GARBAGE = [
    None,
    0,
    -1,
    1.5,
    float("nan"),
    True,
    "",
    "x" * 5000,
    "../../etc/passwd",
    "a\0b",
    [],
    ["a"],
    {},
    {"a": 1},
    "/dev/zero",
    "toolu_ok",
]


def _mutations(payload):
    yield payload
    for key in list(payload):
        for bad in GARBAGE:
            yield dict(payload, **{key: bad})
        value = payload[key]
        if isinstance(value, dict):
            for inner in list(value):
                for bad in GARBAGE:
                    yield dict(payload, **{key: dict(value, **{inner: bad})})


def test_hooks_survive_garbage_in_every_field(hooks):
    hooks.write_transcript("a887642912c4f6be6")
    hooks.write_meta("a887642912c4f6be6", "toolu_3")
    pre_payload = hooks.pre("toolu_3", model="opus")
    decision = hooks.decision(pre_payload)
    for junk in (None, [], "x", 5, {}, {"tool_use_id": ["x"]}):
        accounting.on_pre_tool_use(junk, decision, hooks.ledger)
        accounting.on_post_tool_use(junk, hooks.ledger, hooks.prices)
        accounting.on_subagent_stop(junk, hooks.ledger, hooks.prices)
        accounting.on_session_end(junk, hooks.ledger)
        accounting.on_pre_tool_use(pre_payload, junk, hooks.ledger)
    for bad_ledger in (None, 5, "", [], "\0", "relative/ledger.jsonl", "/", "/x\0y"):
        accounting.on_pre_tool_use(pre_payload, decision, bad_ledger)
        accounting.on_post_tool_use(hooks.post_completed("toolu_3", "a887642912c4f6be6"), bad_ledger, hooks.prices)
        accounting.on_session_end(hooks.base(), bad_ledger)
        assert accounting.settle(bad_ledger, hooks.prices) == 0
    for payload in _mutations(pre_payload):
        accounting.on_pre_tool_use(payload, decision, hooks.ledger)
    n = 0
    for key in list(decision):
        for bad in GARBAGE:
            n += 1
            accounting.on_pre_tool_use(
                dict(pre_payload, tool_use_id=f"toolu_g{n}"), dict(decision, **{key: bad}), hooks.ledger
            )
    old_wait = accounting.STOP_WAIT_S
    accounting.STOP_WAIT_S = 0.0
    try:
        for payload in _mutations(hooks.stop("a887642912c4f6be6")):
            accounting.on_subagent_stop(payload, hooks.ledger, hooks.prices)
    finally:
        accounting.STOP_WAIT_S = old_wait
    for payload in _mutations(hooks.post_completed("toolu_3", "a887642912c4f6be6")):
        accounting.on_post_tool_use(payload, hooks.ledger, hooks.prices)
    for payload in _mutations(hooks.session_event("Stop")):
        accounting.on_session_end(payload, hooks.ledger)
    for prices in (None, 5, "x"):
        assert accounting.settle(hooks.ledger, prices, force=True) == 0
    accounting.settle(hooks.ledger, hooks.prices, now=time.time() + completion.ORPHAN_S * 2, force=True)
    records, skipped = ledger.read_records(hooks.ledger)
    assert skipped == 0
    for r in records:
        VALIDATOR.validate(r)
        blob = json.dumps(r)
        assert PROMPT_MARKER not in blob and FINAL_TEXT not in blob
    # a spawn is its session and its id: a garbage session id is another session (or none at all)
    spawns = [(r["session_id"], r["tool_use_id"]) for r in records if r["kind"] == "spawn" and r["tool_use_id"]]
    assert len(spawns) == len(set(spawns))
    assert sum(1 for _, t in spawns if t.startswith("toolu_g")) == n  # each garbage decision: one record
    assert hooks.pending() == []


def _hook_worker(ledger_path, prices_path, calls, barrier):
    prices = pricing.load_prices(prices_path)
    barrier.wait(10)
    for name, payload in calls:
        if name == "post":
            accounting.on_post_tool_use(payload, ledger_path, prices)
        elif name == "stop":
            accounting.on_subagent_stop(payload, ledger_path, prices)
        accounting.settle(ledger_path, prices)


def test_concurrent_hooks_for_the_same_spawn_give_one_record(hooks, tmp_path):
    hooks.run_pre("toolu_3", model="opus")
    hooks.write_transcript("a887642912c4f6be6")
    hooks.write_meta("a887642912c4f6be6", "toolu_3")
    post = hooks.post_completed("toolu_3", "a887642912c4f6be6", model_in="opus")
    stop = hooks.stop("a887642912c4f6be6")
    ctx = multiprocessing.get_context("fork")
    barrier = ctx.Barrier(6)
    calls = [
        [("stop", stop), ("post", post)],
        [("post", post), ("stop", stop)],
        [("stop", stop)],
        [("post", post)],
        [("settle", None)],
        [("post", post), ("post", post)],
    ]
    procs = [
        ctx.Process(target=_hook_worker, args=(hooks.ledger, str(tmp_path / "none.json"), c, barrier)) for c in calls
    ]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    r = only(hooks.records())
    assert r["cost_usd"] == pytest.approx(0.4865, abs=1e-9)
    assert hooks.pending() == []


def test_parallel_spawns_each_recorded_once(hooks, tmp_path):
    n = 8
    agents = [f"a{i:016x}" for i in range(1, n + 1)]
    for i, agent in enumerate(agents):
        hooks.run_pre(f"toolu_p{i}", model="haiku", background=True)
        hooks.write_transcript(agent, model="claude-haiku-5-5")
    ctx = multiprocessing.get_context("fork")
    barrier = ctx.Barrier(n)
    procs = []
    for i, agent in enumerate(agents):
        calls = [("post", hooks.post_async(f"toolu_p{i}", agent, model_in="haiku")), ("stop", hooks.stop(agent))]
        procs.append(ctx.Process(target=_hook_worker, args=(hooks.ledger, str(tmp_path / "none.json"), calls, barrier)))
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    # A hook that could not get the lock by its deadline (a slow disk, a loaded machine) leaves its
    # part pending, by design; the next settle (any later hook, or the report) records it, once.
    hooks.settle()
    records = hooks.records()
    assert sorted(r["agent_id"] for r in records) == sorted(agents)
    assert hooks.pending() == []
    assert sum(r["cost_usd"] for r in records) == pytest.approx(n * COST["claude-haiku-5-5"], abs=1e-9)


def test_fork_counterfactual_is_the_parents_model(hooks):
    payload = hooks.pre("toolu_1", model="haiku")
    decision = hooks.decision(payload)
    payload["tool_input"]["subagent_type"] = "fork"
    decision["agent_type"] = "fork"
    accounting.on_pre_tool_use(payload, decision, hooks.ledger)
    hooks.write_transcript("a9290afd8a1e9bebf", model="claude-opus-5-5")
    post = hooks.post_async("toolu_1", "a9290afd8a1e9bebf", model="claude-opus-5-5", model_in="haiku")
    post["tool_input"]["subagent_type"] = "fork"
    hooks.run_post(post)
    hooks.run_stop(hooks.stop("a9290afd8a1e9bebf"))
    r = only(hooks.records())
    assert r["requested_model"] == "haiku" and r["requested_model_id"] == "claude-opus-5-5"
    assert r["savings_usd"] == pytest.approx(0, abs=1e-12)


def test_pre_tool_use_does_not_wait_for_the_ledger_lock(hooks):
    ctx = multiprocessing.get_context("fork")
    ready, release = ctx.Event(), ctx.Event()

    def hold():
        with ledger.locked(hooks.ledger):
            ready.set()
            release.wait(10)

    holder = ctx.Process(target=hold)
    holder.start()
    try:
        assert ready.wait(10)
        slept = []
        with pytest.MonkeyPatch.context() as fake:
            fake.setattr(time, "sleep", slept.append)
            hooks.run_pre("toolu_3", model="opus")
        assert slept == []  # PreToolUse never waits for the lock to write its part
        assert hooks.pending() == [f"{SID}.toolu_3.pre.json"]
    finally:
        release.set()
        holder.join(10)


def test_settle_without_pending_dir_is_cheap_and_zero(hooks):
    assert accounting.settle(hooks.ledger, hooks.prices) == 0
    assert not os.path.exists(pending.pending_dir(hooks.ledger))


# --------------------------------------------------------------------------- identity and durability

OTHER_SID = "0c0c0c0c-1111-4222-8333-444444444444"
AGENT = "a887642912c4f6be6"


def spawn_in(hooks, session, tool_use_id, agent_id, model="claude-opus-5-5"):
    """A foreground spawn of ``session``, through the accounting hooks: PreToolUse, SubagentStop,
    PostToolUse (its subagent transcript written first)."""
    hooks.write_transcript(agent_id, model=model, session=session)
    pre = hooks.in_session(hooks.pre(tool_use_id, model="opus"), session)
    accounting.on_pre_tool_use(pre, hooks.decision(pre), hooks.ledger)
    hooks.run_stop(hooks.in_session(hooks.stop(agent_id, path=hooks.transcript_path(agent_id, session)), session))
    hooks.run_post(hooks.in_session(hooks.post_completed(tool_use_id, agent_id, model, model_in="opus"), session))


def test_two_sessions_reusing_a_tool_use_id_are_both_recorded(hooks):
    """Proxies mint short ids that every session reuses: a spawn is its session and its id."""
    spawn_in(hooks, SID, "toolu_1", "a1111111111111111")
    spawn_in(hooks, OTHER_SID, "toolu_1", "a2222222222222222", model="claude-haiku-5-5")
    spawn_in(hooks, OTHER_SID, "toolu_1", "a2222222222222222", model="claude-haiku-5-5")  # a replay
    records = hooks.records()
    assert sorted((r["session_id"], r["tool_use_id"], r["agent_id"]) for r in records) == sorted(
        [(SID, "toolu_1", "a1111111111111111"), (OTHER_SID, "toolu_1", "a2222222222222222")]
    )
    by_session = {r["session_id"]: r["cost_usd"] for r in records}
    assert by_session[SID] == pytest.approx(COST["claude-opus-5-5"], abs=1e-9)
    assert by_session[OTHER_SID] == pytest.approx(COST["claude-haiku-5-5"], abs=1e-9)
    assert hooks.pending() == []
    assert hooks.settle(later=completion.ORPHAN_S + 1, force=True) == 0


def test_parts_are_joined_within_their_session_only(hooks):
    """The same tool_use_id in another session never lends this spawn its PostToolUse."""
    hooks.run_pre("toolu_1", model="opus")
    hooks.write_transcript("a2222222222222222", session=OTHER_SID)
    other = hooks.in_session(hooks.post_completed("toolu_1", "a2222222222222222", model_in="opus"), OTHER_SID)
    hooks.run_post(other)
    r = only(hooks.records())
    assert r["session_id"] == OTHER_SID and r["requested_model"] == "opus" and r["decision"]["action"] == "unknown"
    assert hooks.pending() == [f"{SID}.toolu_1.pre.json"]  # this session's spawn still waits for its own


def test_a_stop_under_a_newer_session_id_joins_the_session_that_spawned_it(hooks):
    """A background agent may end after ``/clear`` started a new session id: its SubagentStop is
    filed under the session its transcript lives in (the one that spawned it), so it joins its own
    PreToolUse and PostToolUse, and the spawn is recorded once."""
    hooks.write_transcript(AGENT)
    hooks.run_pre("toolu_3", model="opus")
    hooks.run_post(hooks.post_async("toolu_3", AGENT, model_in="opus"))
    hooks.run_stop(hooks.in_session(hooks.stop(AGENT), OTHER_SID))
    assert hooks.settle(later=completion.ORPHAN_S + 1, force=True) == 0
    r = only(hooks.records())
    assert (r["session_id"], r["tool_use_id"], r["agent_id"]) == (SID, "toolu_3", AGENT)
    assert r["status"] == "completed" and hooks.pending() == []


def test_a_payload_without_a_session_has_a_bucket_of_its_own(hooks):
    payload = hooks.pre("toolu_1", model="opus")
    del payload["session_id"]
    accounting.on_pre_tool_use(payload, hooks.decision(payload), hooks.ledger)
    hooks.run_pre("toolu_1", model="opus")
    assert hooks.pending() == [f"{SID}.toolu_1.pre.json", "~.toolu_1.pre.json"]


def test_a_late_post_tool_use_after_a_stop_only_settle_consumes_the_pre_part(hooks):
    """No meta file: the SubagentStop is settled by its agent id alone, the tool_use_id unknown.
    The PostToolUse that comes later makes no second record, and the pre part (which would
    otherwise become an orphan record a day later) goes with it."""
    hooks.run_pre("toolu_3", model="opus")
    hooks.write_transcript(AGENT)
    hooks.run_stop(hooks.stop(AGENT))
    assert hooks.settle(later=completion.GRACE_S + 1) == 1
    assert only(hooks.records())["tool_use_id"] is None
    assert hooks.pending() == [f"{SID}.toolu_3.pre.json"]
    hooks.run_post(hooks.post_completed("toolu_3", AGENT, model_in="opus"))
    assert hooks.pending() == []
    assert pending.is_settled(pending.pending_dir(hooks.ledger), "tu", SID, "toolu_3")
    assert hooks.settle(later=completion.ORPHAN_S + 3600, force=True) == 0
    hooks.run_post(hooks.post_completed("toolu_3", AGENT, model_in="opus"))  # replayed
    hooks.run_stop(hooks.stop(AGENT))
    assert len(hooks.records()) == 1


def test_an_agent_found_by_its_meta_after_a_stop_only_settle_is_not_recorded_again(hooks):
    """The stop was settled alone before its meta file was written; the pre part, orphaned, later
    finds the agent by that meta file: the agent is in the ledger already, so no second record."""
    hooks.run_pre("toolu_3", model="opus")
    hooks.write_transcript(AGENT)
    hooks.run_stop(hooks.stop(AGENT))
    assert hooks.settle(later=completion.GRACE_S + 1) == 1
    hooks.write_meta(AGENT, "toolu_3")
    assert hooks.settle(later=completion.STALE_S + 1) == 0
    assert hooks.settle(later=completion.ORPHAN_S + 1, force=True) == 0
    assert len(hooks.records()) == 1 and hooks.pending() == []


@pytest.mark.parametrize("content", [b"", b"12", b"not a number", b"\xff\xfe"])
def test_a_tombstone_the_ledger_does_not_bear_out_never_hides_a_spawn(hooks, content):
    """An empty, torn or garbled tombstone (a disk filled while an older version wrote it), with no
    record of the spawn in the ledger: the spawn is recorded anyway, once."""
    pdir = Path(pending.pending_dir(hooks.ledger))
    (pdir / "tombstones").mkdir(parents=True)
    (pdir / "tombstones" / f"tu.{SID}.toolu_3").write_bytes(content)
    (pdir / "tombstones" / f"ag.{SID}.{AGENT}").write_bytes(content)
    hooks.run_pre("toolu_3", model="opus")
    hooks.write_transcript(AGENT)
    hooks.run_post(hooks.post_completed("toolu_3", AGENT, model_in="opus"))
    r = only(hooks.records())
    assert r["tool_use_id"] == "toolu_3" and r["cost_usd"] == pytest.approx(COST["claude-opus-5-5"], abs=1e-9)
    assert hooks.pending() == []


@pytest.mark.parametrize("content", [b"", b"99999999", b"garbage"])
def test_a_damaged_tombstone_of_a_recorded_spawn_still_stops_a_replay(hooks, content):
    """The other way round: the spawn IS in the ledger and its tombstone is damaged. The ledger
    shows the record, so a replayed hook adds nothing, and the tombstone is repaired."""
    hooks.run_pre("toolu_3", model="opus")
    hooks.write_transcript(AGENT)
    hooks.run_post(hooks.post_completed("toolu_3", AGENT, model_in="opus"))
    pdir = pending.pending_dir(hooks.ledger)
    for kind, key in (("tu", "toolu_3"), ("ag", AGENT)):
        Path(pdir, "tombstones", f"{kind}.{SID}.{key}").write_bytes(content)
    hooks.run_pre("toolu_3", model="opus")
    hooks.run_post(hooks.post_completed("toolu_3", AGENT, model_in="opus"))
    hooks.run_stop(hooks.stop(AGENT))
    assert hooks.settle(later=completion.ORPHAN_S + 1, force=True) == 0
    assert len(hooks.records()) == 1 and hooks.pending() == []
    assert pending.settled_offset(pdir, "tu", SID, "toolu_3") == 0  # the record's offset, found in the ledger


def full_disk_paths(hooks, where):
    pdir = pending.pending_dir(hooks.ledger)
    return {
        "pending store": [pdir],
        "tombstones": [os.path.join(pdir, pending.TOMBSTONES_DIRNAME)],
        "ledger": [hooks.ledger],
        "totals": [  # the totals and its temporary files (``.<name>.<pid>.<random>.tmp``)
            hooks.ledger + ".totals.json",
            os.path.join(os.path.dirname(hooks.ledger), "." + os.path.basename(hooks.ledger) + ".totals.json.*"),
        ],
    }[where]


@pytest.mark.parametrize(
    "where, how",
    [
        (where, how)
        for where in ("pending store", "tombstones", "ledger", "totals")
        for how in ("open", "write", "replace")
        if not (where == "ledger" and how == "replace")  # the ledger is appended to, never renamed
    ],
)
def test_a_full_disk_while_settling_loses_nothing_and_doubles_nothing(hooks, where, how):
    """ENOSPC while the PostToolUse writes its part, a tombstone, the ledger line or the totals:
    nothing is recorded half, no tombstone is trusted, the parts stay; once space is back the
    spawn is recorded exactly once and the running totals agree with the ledger."""
    hooks.run_pre("toolu_3", model="opus")
    hooks.write_transcript(AGENT)
    hooks.write_meta(AGENT, "toolu_3")
    hooks.run_stop(hooks.stop(AGENT))
    assert hooks.records() == []
    with DiskFull(full_disk_paths(hooks, where), modes=[how]) as full:
        hooks.run_post(hooks.post_completed("toolu_3", AGENT, model_in="opus"))
        hooks.settle(later=completion.GRACE_S + 1)
    assert full.failures > 0
    pdir = pending.pending_dir(hooks.ledger)
    records, skipped = hooks.read_ledger()
    assert skipped == 0  # no torn line left behind
    if where == "totals":  # the record is whole; only the running totals lag behind
        assert len(records) == 1
    else:
        assert records == []
        assert not pending.is_settled(pdir, "tu", SID, "toolu_3")
        assert not pending.is_settled(pdir, "ag", SID, AGENT)
        assert f"{SID}.toolu_3.pre.json" in hooks.pending() and f"{SID}.agent-{AGENT}.stop.json" in hooks.pending()
    hooks.settle(later=completion.GRACE_S + 1)  # space is back
    r = only(hooks.records())
    assert r["tool_use_id"] == "toolu_3" and r["agent_id"] == AGENT
    assert r["cost_usd"] == pytest.approx(COST["claude-opus-5-5"], abs=1e-9)
    assert hooks.pending() == []
    hooks.run_post(hooks.post_completed("toolu_3", AGENT, model_in="opus"))
    assert hooks.settle(later=completion.ORPHAN_S + 1, force=True) == 0
    assert len(hooks.records()) == 1
    counted = sum(day["usd"] for day in totals.read_totals(hooks.ledger)["days"].values())
    assert counted == pytest.approx(r["cost_usd"], abs=1e-12)


def test_a_denied_spawn_on_a_full_disk_is_recorded_once_space_is_back(hooks):
    payload = hooks.pre("toolu_9", model="opus")
    decision = hooks.decision(payload, action="deny")
    with DiskFull([hooks.ledger], modes=["write"]) as full:
        accounting.on_pre_tool_use(payload, decision, hooks.ledger)
    assert full.failures == 1 and hooks.read_ledger() == ([], 0)
    assert hooks.pending() == [f"{SID}.toolu_9.pre.json"]  # the denial waits in its part
    assert hooks.settle() == 1
    assert only(hooks.records())["status"] == "denied"
    accounting.on_pre_tool_use(payload, decision, hooks.ledger)
    assert len(hooks.records()) == 1 and hooks.pending() == []


def test_a_hook_without_the_lock_never_removes_a_tombstone(hooks, monkeypatch):
    """The lock timed out: a settle may be between its tombstone and its record right now, so the
    hook takes the tombstone's word and leaves it (checking it against the ledger, it would find
    no record yet and remove it under the settle)."""

    class TimedOut:
        def __init__(self, path, timeout=None):
            pass

        def __enter__(self):
            return False

        def __exit__(self, *exc_info):
            return None

    pdir = pending.pending_dir(hooks.ledger)
    pending.mark_settled(pdir, "tu", SID, "toolu_3", pending.ledger_size(hooks.ledger))
    monkeypatch.setattr(ledger, "locked", TimedOut)
    accounting.on_post_tool_use(hooks.post_completed("toolu_3", AGENT), hooks.ledger, hooks.prices)
    assert pending.is_settled(pdir, "tu", SID, "toolu_3") and hooks.pending() == []
