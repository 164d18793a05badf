"""Accounting: one joined, exactly priced record per spawn, whatever order the hooks fire in."""

import copy
import json
import multiprocessing
import os
import stat
import threading
import time
from pathlib import Path

import jsonschema
import pytest

from cco_hooks import accounting, ledger, pricing, transcript
from tests.support.locations import PAYLOADS, REPO

SID = "b8a8b81e-3282-4085-80a5-d0ba9a4a7d23"
SCHEMA = json.loads((REPO / "config" / "ledger.schema.json").read_text())
VALIDATOR = jsonschema.Draft202012Validator(SCHEMA)
SUB_LINES = [json.loads(line) for line in (PAYLOADS / "subagent-transcript.jsonl").read_text().splitlines()]
SESSION_LINES = (PAYLOADS / "session-transcript.jsonl").read_text().splitlines(keepends=True)
COST_STATE = json.loads(SESSION_LINES[-1])

# the two requests of the captured subagent, priced on each model (Claude Code's costUSD)
COST = {"claude-opus-5-5": 0.4865, "claude-sonnet-5-5": 0.24325, "claude-haiku-5-5": 0.0516125}
PROMPT_MARKER = "TOP-SECRET-PROMPT-MARKER"
FINAL_MARKER = "FINAL-REPORT-MARKER"


def load(name):
    return json.loads((PAYLOADS / name).read_text())


class Scene:
    """A Claude config dir with a session transcript, subagent transcripts and hook payloads."""

    def __init__(self, tmp_path):
        self.tmp = tmp_path
        self.config = Path(os.environ["CLAUDE_CONFIG_DIR"])
        self.ledger = os.environ["CCO_HOOKS_LEDGER"]
        self.project = self.config / "projects" / "-home-dev-proj"
        self.project.mkdir(parents=True, exist_ok=True)
        self.session = self.project / f"{SID}.jsonl"
        self.session.write_text("".join(SESSION_LINES))
        self.subagents = self.project / SID / "subagents"
        self.subagents.mkdir(parents=True, exist_ok=True)
        self.prices = pricing.load_prices(override_path=str(tmp_path / "no-override.json"))

    # -- files
    def agent_path(self, agent_id):
        return self.subagents / f"agent-{agent_id}.jsonl"

    def transcript_lines(self, agent_id, model="claude-opus-5-5", final_text=FINAL_MARKER):
        lines = copy.deepcopy(SUB_LINES)
        for obj in lines:
            obj["agentId"] = agent_id
            if obj["type"] == "assistant":
                obj["message"]["model"] = model
                for block in obj["message"]["content"]:
                    if block.get("type") == "text":
                        block["text"] = final_text
            elif obj["type"] == "user" and isinstance(obj["message"]["content"], str):
                obj["message"]["content"] = PROMPT_MARKER
        return [json.dumps(o) + "\n" for o in lines]

    def write_transcript(self, agent_id, model="claude-opus-5-5", final_text=FINAL_MARKER, upto=None, torn=False):
        lines = self.transcript_lines(agent_id, model, final_text)
        keep = lines if upto is None else lines[:upto]
        data = "".join(keep)
        if torn:
            nxt = lines[len(keep)]
            data += nxt[: len(nxt) // 2]
        self.agent_path(agent_id).write_text(data)
        return self.agent_path(agent_id)

    def write_meta(self, agent_id, tool_use_id="toolu_1", finished=True, shape="foreground"):
        meta = {"agentType": "general-purpose", "description": "d", "toolUseId": tool_use_id,
                "requestShape": shape, "model": "opus", "finished": finished}
        (self.subagents / f"agent-{agent_id}.meta.json").write_text(json.dumps(meta))

    # -- payloads
    def base(self):
        return {"session_id": SID, "transcript_path": str(self.session), "cwd": "/home/dev/proj",
                "permission_mode": "bypassPermissions"}

    def pre(self, tool_use_id, requested="sonnet", enforced=None, action="none", background=False, description="a"):
        payload = dict(self.base(), hook_event_name="PreToolUse", tool_name="Agent", tool_use_id=tool_use_id,
                       tool_input={"description": description, "prompt": PROMPT_MARKER, "subagent_type": "general-purpose",
                                   "run_in_background": background})
        if requested:
            payload["tool_input"]["model"] = requested
        decision = {"action": action, "mode": "rewrite", "rule": "general-purpose" if action != "none" else None,
                    "layer": "project" if action != "none" else None,
                    "source": "/home/dev/proj/.claude/cco-hooks.yaml" if action != "none" else None,
                    "reason": "test", "requested_model": requested, "enforced_model": enforced,
                    "agent_type": "general-purpose", "effort": None, "would": None, "updated_input": None}
        return payload, decision

    def _post(self, template, tool_use_id, agent_id, model, model_in):
        payload = load(template)
        payload.update(self.base())
        payload["tool_use_id"] = tool_use_id
        payload["tool_input"]["prompt"] = PROMPT_MARKER
        payload["tool_response"]["prompt"] = PROMPT_MARKER
        if model_in:
            payload["tool_input"]["model"] = model_in
        else:
            payload["tool_input"].pop("model", None)
        payload["tool_response"]["agentId"] = agent_id
        payload["tool_response"]["resolvedModel"] = model
        return payload

    def post_completed(self, tool_use_id, agent_id, model="claude-opus-5-5", final_text=FINAL_MARKER, model_in=None):
        payload = self._post("PostToolUse_completed.json", tool_use_id, agent_id, model, model_in)
        payload["tool_response"]["content"][-1]["text"] = final_text
        return payload

    def post_async(self, tool_use_id, agent_id, model="claude-haiku-5-5", model_in=None):
        return self._post("PostToolUse_async_launched.json", tool_use_id, agent_id, model, model_in)

    def stop(self, agent_id, final_text=FINAL_MARKER, path=None):
        payload = load("SubagentStop.json")
        payload.update(self.base())
        payload["agent_id"] = agent_id
        payload["agent_transcript_path"] = str(path or self.agent_path(agent_id))
        payload["last_assistant_message"] = final_text
        return payload

    # -- hook calls
    def run_pre(self, *args, **kwargs):
        payload, decision = self.pre(*args, **kwargs)
        accounting.on_pre_tool_use(payload, decision, self.ledger)

    def run_post(self, payload):
        accounting.on_post_tool_use(payload, self.ledger, self.prices)
        accounting.settle(self.ledger, self.prices)

    def run_stop(self, payload):
        accounting.on_subagent_stop(payload, self.ledger, self.prices)
        accounting.settle(self.ledger, self.prices)

    def settle(self, later=0.0, force=False):
        return accounting.settle(self.ledger, self.prices, now=time.time() + later, force=force)

    def records(self, kind="spawn"):
        records, skipped = ledger.read_records(self.ledger)
        assert skipped == 0
        for r in records:
            VALIDATOR.validate(r)
        return [r for r in records if r.get("kind") == kind]

    def pending(self):
        try:
            return sorted(n for n in os.listdir(accounting.pending_dir(self.ledger)) if n.endswith(".json"))
        except FileNotFoundError:
            return []


@pytest.fixture
def scene(tmp_path, monkeypatch):
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    monkeypatch.chdir(cwd)  # nothing may ever be written relative to the cwd
    yield Scene(tmp_path)
    assert os.listdir(cwd) == []


def only(records):
    assert len(records) == 1, records
    return records[0]


# --------------------------------------------------------------------------- orders


def test_foreground_order_stop_before_post(scene):
    scene.run_pre("toolu_3", requested="opus")
    scene.write_transcript("a887642912c4f6be6")
    scene.write_meta("a887642912c4f6be6", "toolu_3")
    scene.run_stop(scene.stop("a887642912c4f6be6"))
    assert scene.records() == []  # waits for its PostToolUse (moments later)
    scene.run_post(scene.post_completed("toolu_3", "a887642912c4f6be6", model_in="opus"))
    r = only(scene.records())
    assert r["status"] == "completed" and r["priced"] is True
    assert r["tool_use_id"] == "toolu_3" and r["agent_id"] == "a887642912c4f6be6"
    assert r["session_id"] == SID and r["project"] == "/home/dev/proj"
    assert r["agent_type"] == "general-purpose" and r["description"] == "a"
    assert r["background"] is False
    assert r["requested_model"] == "opus" and r["requested_model_id"] == "claude-opus-5-5"
    assert r["actual_model"] == "claude-opus-5-5"
    assert r["tokens"] == {"input": 91500, "output": 1000, "cache_read": 40000, "cache_write_5m": 2500, "cache_write_1h": 10000}
    assert r["requests"] == 2
    assert r["cost_usd"] == pytest.approx(0.4865, abs=1e-9)
    assert r["requested_cost_usd"] == pytest.approx(0.4865, abs=1e-9)
    assert r["savings_usd"] == pytest.approx(0, abs=1e-12)
    assert r["by_model"] == {"claude-opus-5-5": {"requests": 2, "cost_usd": pytest.approx(0.4865, abs=1e-9)}}
    assert r["duration_ms"] == 538  # PostToolUse totalDurationMs
    assert r["claude_code_version"] == "2.1.328"
    assert r["transcript_complete"] is True and r["unpriced_reason"] is None
    assert r["decision"]["action"] == "none"
    assert scene.pending() == []


def test_background_order_post_before_stop(scene):
    scene.run_pre("toolu_2", requested="haiku", background=True)
    scene.run_post(scene.post_async("toolu_2", "ab89ef272c1ab95db", model_in="haiku"))
    assert scene.records() == []
    scene.write_transcript("ab89ef272c1ab95db", model="claude-haiku-5-5")
    scene.run_stop(scene.stop("ab89ef272c1ab95db"))
    r = only(scene.records())
    assert r["background"] is True
    assert r["cost_usd"] == pytest.approx(COST["claude-haiku-5-5"], abs=1e-9)
    assert r["duration_ms"] == 504  # from the transcript's timestamps
    assert scene.pending() == []


def test_rewrite_counterfactual_and_savings(scene):
    scene.run_pre("toolu_1", requested="sonnet", enforced="haiku", action="rewrite")
    scene.write_transcript("a9290afd8a1e9bebf", model="claude-haiku-5-5")
    scene.write_meta("a9290afd8a1e9bebf", "toolu_1")
    scene.run_stop(scene.stop("a9290afd8a1e9bebf"))
    scene.run_post(scene.post_completed("toolu_1", "a9290afd8a1e9bebf", model="claude-haiku-5-5", model_in="haiku"))
    r = only(scene.records())
    assert r["requested_model"] == "sonnet" and r["enforced_model"] == "haiku"
    assert r["requested_model_id"] == "claude-sonnet-5-5" and r["actual_model"] == "claude-haiku-5-5"
    assert r["decision"] == {"action": "rewrite", "mode": "rewrite", "rule": "general-purpose", "layer": "project",
                             "source": "/home/dev/proj/.claude/cco-hooks.yaml", "reason": "test", "would": None}
    assert r["cost_usd"] == pytest.approx(0.0516125, abs=1e-9)
    assert r["requested_cost_usd"] == pytest.approx(0.24325, abs=1e-9)
    assert r["savings_usd"] == pytest.approx(0.24325 - 0.0516125, abs=1e-9)


def test_no_model_named_uses_the_parents_model_as_counterfactual(scene):
    """toolu_1 was issued by a claude-opus-5-5 message in the session transcript."""
    scene.run_pre("toolu_1", requested=None, enforced="haiku", action="rewrite")
    scene.write_transcript("a9290afd8a1e9bebf", model="claude-haiku-5-5")
    scene.run_post(scene.post_async("toolu_1", "a9290afd8a1e9bebf", model_in="haiku"))
    scene.run_stop(scene.stop("a9290afd8a1e9bebf"))
    r = only(scene.records())
    assert r["requested_model"] is None
    assert r["requested_model_id"] == "claude-opus-5-5"
    assert r["requested_cost_usd"] == pytest.approx(0.4865, abs=1e-9)
    assert r["savings_usd"] == pytest.approx(0.4865 - 0.0516125, abs=1e-9)


def test_the_reference_session_agrees_with_claude_codes_cost_state(scene):
    """The captured session: opus main loop, three subagents (sonnet foreground, haiku background,
    opus foreground). Spawn records + the main loop's own requests must equal cost-state per model,
    and the Stop hook's session record gives the subagents' share."""
    spawns = [("toolu_1", "a9290afd8a1e9bebf", "sonnet", "claude-sonnet-5-5", False),
              ("toolu_2", "ab89ef272c1ab95db", "haiku", "claude-haiku-5-5", True),
              ("toolu_3", "a887642912c4f6be6", "opus", "claude-opus-5-5", False)]
    for tu, agent, alias, model, background in spawns:
        scene.run_pre(tu, requested=alias, background=background)
    for tu, agent, alias, model, background in spawns:
        scene.write_transcript(agent, model=model)
        if background:
            scene.run_post(scene.post_async(tu, agent, model=model, model_in=alias))
            scene.run_stop(scene.stop(agent))
        else:
            scene.write_meta(agent, tu)
            scene.run_stop(scene.stop(agent))
            scene.run_post(scene.post_completed(tu, agent, model=model, model_in=alias))
    records = scene.records()
    assert len(records) == 3
    main = transcript.read_usage(str(scene.session))  # the session's own (main loop) requests
    for model, usage in COST_STATE["modelUsage"].items():
        spent = sum(r["cost_usd"] for r in records if r["actual_model"] == model)
        spent += sum(scene.prices.cost(q["model"], q["usage"]) for q in main.requests if q["model"] == model)
        assert spent == pytest.approx(usage["costUSD"], abs=1e-9), model
    accounting.on_stop(dict(scene.base(), hook_event_name="Stop"), scene.ledger)
    session = only(scene.records("session"))
    assert session["session_cost_usd"] == pytest.approx(COST_STATE["totalCostUSD"], abs=1e-12)
    assert session["model_costs"] == {m: u["costUSD"] for m, u in COST_STATE["modelUsage"].items()}
    assert session["claude_code_version"] == "2.1.328"
    share = sum(r["cost_usd"] for r in records) / session["session_cost_usd"]
    assert share == pytest.approx((0.4865 + 0.24325 + 0.0516125) / 0.7826825, abs=1e-9)


# --------------------------------------------------------------------------- the race


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


def test_final_line_landing_during_the_bounded_wait(scene):
    scene.run_pre("toolu_2", requested="haiku", background=True)
    scene.run_post(scene.post_async("toolu_2", "ab89ef272c1ab95db", model_in="haiku"))
    scene.write_transcript("ab89ef272c1ab95db", model="claude-haiku-5-5", upto=3)

    def finish():
        time.sleep(0.1)
        scene.write_transcript("ab89ef272c1ab95db", model="claude-haiku-5-5")

    thread = threading.Thread(target=finish)
    thread.start()
    start = time.monotonic()
    accounting.on_subagent_stop(scene.stop("ab89ef272c1ab95db"), scene.ledger, scene.prices)
    elapsed = time.monotonic() - start
    thread.join()
    assert elapsed < 0.45
    r = only(scene.records())  # recorded by the SubagentStop hook itself
    assert r["requests"] == 2


def test_incomplete_transcript_is_priced_as_is_when_stale(scene):
    scene.run_pre("toolu_2", requested="haiku", background=True)
    scene.run_post(scene.post_async("toolu_2", "ab89ef272c1ab95db", model_in="haiku"))
    scene.write_transcript("ab89ef272c1ab95db", model="claude-haiku-5-5", upto=3)
    scene.run_stop(scene.stop("ab89ef272c1ab95db"))
    assert scene.settle(later=60) == 0  # not stale yet, no force
    assert scene.settle(later=accounting.STALE_S + 1) == 1
    r = only(scene.records())
    assert r["transcript_complete"] is False and r["requests"] == 1
    assert r["cost_usd"] == pytest.approx(2550e-6, abs=1e-12)


def test_text_mismatch_is_tolerated_after_the_grace_when_the_transcript_ended(scene):
    scene.run_pre("toolu_2", requested="haiku", background=True)
    scene.run_post(scene.post_async("toolu_2", "ab89ef272c1ab95db", model_in="haiku"))
    scene.write_transcript("ab89ef272c1ab95db", model="claude-haiku-5-5")
    accounting.on_subagent_stop(scene.stop("ab89ef272c1ab95db", final_text="spelt differently"), scene.ledger, scene.prices)
    assert scene.records() == []
    assert scene.settle(later=accounting.GRACE_S + 1) == 1
    r = only(scene.records())
    assert r["transcript_complete"] is True and r["cost_usd"] == pytest.approx(COST["claude-haiku-5-5"], abs=1e-9)


# --------------------------------------------------------------------------- never lost, never twice


def test_replaying_every_hook_twice_gives_one_record(scene):
    for _ in range(2):
        scene.run_pre("toolu_3", requested="opus")
        scene.write_transcript("a887642912c4f6be6")
        scene.write_meta("a887642912c4f6be6", "toolu_3")
        scene.run_stop(scene.stop("a887642912c4f6be6"))
        scene.run_post(scene.post_completed("toolu_3", "a887642912c4f6be6", model_in="opus"))
    assert len(scene.records()) == 1
    assert scene.pending() == []
    assert scene.settle(later=accounting.ORPHAN_S + 1, force=True) == 0
    # a late replay does not wait 0.5 s: the tombstone is checked first
    start = time.monotonic()
    accounting.on_subagent_stop(scene.stop("a887642912c4f6be6"), scene.ledger, scene.prices)
    assert time.monotonic() - start < 0.3
    assert len(scene.records()) == 1


def test_denied_spawn_is_recorded_at_once(scene):
    payload, decision = scene.pre("toolu_9", requested="opus", action="deny")
    accounting.on_pre_tool_use(payload, decision, scene.ledger)
    accounting.on_pre_tool_use(payload, decision, scene.ledger)
    r = only(scene.records())
    assert r["status"] == "denied" and r["cost_usd"] == 0.0 and r["requests"] == 0
    assert r["decision"]["action"] == "deny" and r["requested_model_id"] == "claude-opus-5-5"
    assert r["requested_cost_usd"] is None and r["savings_usd"] is None
    assert scene.pending() == []
    scene.run_post(scene.post_completed("toolu_9", "a0000000000000009"))
    assert len(scene.records()) == 1


def test_observe_decision_is_recorded(scene):
    payload, decision = scene.pre("toolu_3", requested="opus", action="observe")
    decision["would"] = "rewrite"
    decision["mode"] = "observe"
    accounting.on_pre_tool_use(payload, decision, scene.ledger)
    scene.write_transcript("a887642912c4f6be6")
    scene.write_meta("a887642912c4f6be6", "toolu_3")
    scene.run_stop(scene.stop("a887642912c4f6be6"))
    scene.run_post(scene.post_completed("toolu_3", "a887642912c4f6be6", model_in="opus"))
    r = only(scene.records())
    assert r["decision"]["action"] == "observe" and r["decision"]["would"] == "rewrite"


def test_unknown_model_is_unpriced_never_zero(scene):
    scene.run_pre("toolu_3", requested="sonnet")
    scene.write_transcript("a887642912c4f6be6", model="claude-nova-9")
    scene.write_meta("a887642912c4f6be6", "toolu_3")
    scene.run_stop(scene.stop("a887642912c4f6be6"))
    scene.run_post(scene.post_completed("toolu_3", "a887642912c4f6be6", model="claude-nova-9", model_in="sonnet"))
    r = only(scene.records())
    assert r["status"] == "unpriced" and r["priced"] is False
    assert r["cost_usd"] is None and r["savings_usd"] is None
    assert "claude-nova-9" in r["unpriced_reason"]
    assert r["by_model"] == {"claude-nova-9": {"requests": 2, "cost_usd": None}}
    assert r["tokens"]["input"] == 91500  # the tokens are kept: a later price can settle them
    assert r["requested_cost_usd"] == pytest.approx(COST["claude-sonnet-5-5"], abs=1e-9)


def test_unpriced_requested_model_gives_null_counterfactual(scene, tmp_path):
    override = tmp_path / "prices.json"
    override.write_text(json.dumps({"aliases": {"fable": "claude-fable-99"}}))
    scene.prices = pricing.load_prices(str(override))
    scene.run_pre("toolu_3", requested="fable", enforced="opus", action="rewrite")
    scene.write_transcript("a887642912c4f6be6")
    scene.write_meta("a887642912c4f6be6", "toolu_3")
    scene.run_stop(scene.stop("a887642912c4f6be6"))
    scene.run_post(scene.post_completed("toolu_3", "a887642912c4f6be6", model_in="opus"))
    r = only(scene.records())
    assert r["requested_model_id"] == "claude-fable-99"
    assert r["requested_cost_usd"] is None and r["savings_usd"] is None
    assert r["cost_usd"] == pytest.approx(0.4865, abs=1e-9)


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
    assert scene.settle(later=accounting.STALE_S + 1) == 1
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
    assert scene.settle(later=accounting.ORPHAN_S - 60, force=True) == 0
    assert scene.settle(later=accounting.ORPHAN_S + 60) == 1
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
    assert scene.settle(later=accounting.GRACE_S + 1) == 1
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
    assert scene.settle(later=accounting.GRACE_S + 1) == 1
    r = only(scene.records())
    assert r["tool_use_id"] is None and r["decision"]["action"] == "unknown"
    assert r["agent_type"] == "" and r["cost_usd"] == pytest.approx(0.4865, abs=1e-9)


def test_pre_only_orphan(scene):
    scene.run_pre("toolu_7", requested="opus")
    assert scene.settle(later=accounting.STALE_S + 1) == 0
    assert scene.settle(later=accounting.ORPHAN_S - 1, force=True) == 0
    assert scene.settle(later=accounting.ORPHAN_S + 1) == 1
    r = only(scene.records())
    assert r["status"] == "unpriced" and r["unpriced_reason"] == "no_result"


def test_pre_only_found_by_meta_scan_when_both_other_hooks_were_missed(scene):
    scene.run_pre("toolu_3", requested="opus")
    scene.write_transcript("a887642912c4f6be6")
    scene.write_meta("a887642912c4f6be6", "toolu_3")
    assert scene.settle(later=60) == 0
    assert scene.settle(later=accounting.STALE_S + 1) == 1
    r = only(scene.records())
    assert r["agent_id"] == "a887642912c4f6be6" and r["cost_usd"] == pytest.approx(0.4865, abs=1e-9)


def test_post_without_agent_id(scene):
    scene.run_pre("toolu_3", requested="opus")
    payload = scene.post_completed("toolu_3", "x")
    del payload["tool_response"]["agentId"]
    scene.run_post(payload)
    r = only(scene.records())
    assert r["status"] == "unpriced" and r["unpriced_reason"] == "no_agent_id"


def test_post_hook_for_another_tool_is_ignored(scene):
    payload = scene.post_completed("toolu_3", "a887642912c4f6be6")
    payload["tool_name"] = "TaskCreate"
    scene.run_post(payload)
    assert scene.pending() == [] and scene.records() == []


# --------------------------------------------------------------------------- files, privacy


def test_modes_and_no_prompt_text_anywhere(scene):
    scene.run_pre("toolu_2", requested="haiku", background=True, description="d" * 300)
    scene.run_post(scene.post_async("toolu_2", "ab89ef272c1ab95db", model_in="haiku"))
    pdir = Path(accounting.pending_dir(scene.ledger))
    assert stat.S_IMODE(pdir.stat().st_mode) == 0o700
    for part in pdir.glob("*.json"):
        assert stat.S_IMODE(part.stat().st_mode) == 0o600
    scene.write_transcript("ab89ef272c1ab95db", model="claude-haiku-5-5")
    scene.run_stop(scene.stop("ab89ef272c1ab95db"))
    r = only(scene.records())
    assert r["description"] == "d" * 80
    assert stat.S_IMODE(os.stat(scene.ledger).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(os.path.dirname(scene.ledger)).st_mode) == 0o700
    for tomb in (pdir / "settled").iterdir():
        assert stat.S_IMODE(tomb.stat().st_mode) == 0o600
    assert stat.S_IMODE((pdir / "settled").stat().st_mode) == 0o700
    for path in Path(os.path.dirname(scene.ledger)).rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            assert PROMPT_MARKER.encode() not in data, path
            assert FINAL_MARKER.encode() not in data, path


def test_parts_in_flight_hold_no_text(scene):
    scene.run_pre("toolu_2", requested="haiku", background=True)
    scene.run_post(scene.post_async("toolu_2", "ab89ef272c1ab95db", model_in="haiku"))
    accounting.on_subagent_stop(scene.stop("ab89ef272c1ab95db"), scene.ledger, scene.prices)
    files = list(Path(accounting.pending_dir(scene.ledger)).glob("*.json"))
    assert len(files) == 3
    for path in files:
        data = path.read_bytes()
        assert PROMPT_MARKER.encode() not in data and FINAL_MARKER.encode() not in data


# --------------------------------------------------------------------------- session record


def test_session_record_from_cost_state(scene):
    payload = dict(scene.base(), hook_event_name="Stop")
    accounting.on_stop(payload, scene.ledger)
    accounting.on_stop(payload, scene.ledger)  # nothing new: no second line
    r = only(scene.records("session"))
    assert r["session_cost_usd"] == 0.7826825000000001
    assert r["model_costs"]["claude-haiku-5-5"] == 0.051612500000000006
    assert r["has_unknown_model_cost"] is False and r["project"] == "/home/dev/proj"
    state = dict(COST_STATE, totalCostUSD=1.5)
    with open(scene.session, "a") as f:
        f.write(json.dumps(state) + "\n")
    accounting.on_stop(payload, scene.ledger)
    records = scene.records("session")
    assert [x["session_cost_usd"] for x in records] == [0.7826825000000001, 1.5]


def test_session_record_refuses_other_sessions_and_strange_files(scene, tmp_path):
    payload = dict(scene.base(), session_id="other-session")
    accounting.on_stop(payload, scene.ledger)
    elsewhere = tmp_path / "x" / "notes.jsonl"
    elsewhere.parent.mkdir()
    elsewhere.write_text("".join(SESSION_LINES))
    accounting.on_stop(dict(scene.base(), transcript_path=str(elsewhere)), scene.ledger)
    accounting.on_stop(dict(scene.base(), transcript_path="/dev/zero"), scene.ledger)
    assert scene.records("session") == []


# --------------------------------------------------------------------------- garbage in


GARBAGE = [None, 0, -1, 1.5, float("nan"), True, "", "x" * 5000, "../../etc/passwd", "a\0b", [], ["a"], {}, {"a": 1},
           "/dev/zero", "toolu_ok"]


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


def test_hooks_survive_garbage_in_every_field(scene):
    scene.write_transcript("a887642912c4f6be6")
    scene.write_meta("a887642912c4f6be6", "toolu_3")
    pre_payload, decision = scene.pre("toolu_3", requested="opus")
    for junk in (None, [], "x", 5, {}, {"tool_use_id": ["x"]}):
        accounting.on_pre_tool_use(junk, decision, scene.ledger)
        accounting.on_post_tool_use(junk, scene.ledger, scene.prices)
        accounting.on_subagent_stop(junk, scene.ledger, scene.prices)
        accounting.on_stop(junk, scene.ledger)
        accounting.on_pre_tool_use(pre_payload, junk, scene.ledger)
    for bad_ledger in (None, 5, "", [], "\0", "relative/ledger.jsonl", "/", "/x\0y"):
        accounting.on_pre_tool_use(pre_payload, decision, bad_ledger)
        accounting.on_post_tool_use(scene.post_completed("toolu_3", "a887642912c4f6be6"), bad_ledger, scene.prices)
        accounting.on_stop(scene.base(), bad_ledger)
        assert accounting.settle(bad_ledger, scene.prices) == 0
    for payload in _mutations(pre_payload):
        accounting.on_pre_tool_use(payload, decision, scene.ledger)
    n = 0
    for key in list(decision):
        for bad in GARBAGE:
            n += 1
            accounting.on_pre_tool_use(dict(pre_payload, tool_use_id=f"toolu_g{n}"), dict(decision, **{key: bad}), scene.ledger)
    old_wait = accounting.STOP_WAIT_S
    accounting.STOP_WAIT_S = 0.0
    try:
        for payload in _mutations(scene.stop("a887642912c4f6be6")):
            accounting.on_subagent_stop(payload, scene.ledger, scene.prices)
    finally:
        accounting.STOP_WAIT_S = old_wait
    for payload in _mutations(scene.post_completed("toolu_3", "a887642912c4f6be6")):
        accounting.on_post_tool_use(payload, scene.ledger, scene.prices)
    for payload in _mutations(dict(scene.base(), hook_event_name="Stop")):
        accounting.on_stop(payload, scene.ledger)
    for prices in (None, 5, "x"):
        assert accounting.settle(scene.ledger, prices, force=True) == 0
    accounting.settle(scene.ledger, scene.prices, now=time.time() + accounting.ORPHAN_S * 2, force=True)
    records, skipped = ledger.read_records(scene.ledger)
    assert skipped == 0
    for r in records:
        VALIDATOR.validate(r)
        blob = json.dumps(r)
        assert PROMPT_MARKER not in blob and FINAL_MARKER not in blob
    tool_use_ids = [r["tool_use_id"] for r in records if r["kind"] == "spawn" and r["tool_use_id"]]
    assert len(tool_use_ids) == len(set(tool_use_ids))
    assert sum(1 for t in tool_use_ids if t.startswith("toolu_g")) == n  # each garbage decision: one record
    assert scene.pending() == []


def test_garbage_in_the_pending_dir(scene):
    pdir = Path(accounting.pending_dir(scene.ledger))
    (pdir / "settled").mkdir(parents=True)
    (pdir / "toolu_a.pre.json").write_text("{garbage")
    (pdir / "toolu_b.pre.json").write_text("[1, 2]")
    (pdir / "toolu_c.post.json").write_text(json.dumps({"ts": "yesterday", "agent_id": ["x"], "status": 5}))
    (pdir / "agent-zz.stop.json").write_text(json.dumps({"ts": None, "agent_transcript_path": 5, "last_digest": []}))
    (pdir / "bad name!.pre.json").write_text("{}")
    (pdir / "toolu_d.pre.json").mkdir()
    (pdir / "toolu_e.pre.json").write_text(json.dumps({"ts": 1, "decision": "deny", "transcript_path": ["x"]}))
    (pdir / ".toolu_f.pre.json.123.tmp").write_text("half")
    (pdir / "unrelated.txt").write_text("hello")
    for later in (0, accounting.GRACE_S + 1, accounting.STALE_S + 1, accounting.ORPHAN_S + 1):
        scene.settle(later=later, force=True)
    records, skipped = ledger.read_records(scene.ledger)
    assert skipped == 0
    for r in records:
        VALIDATOR.validate(r)


# --------------------------------------------------------------------------- concurrency


def _hook_worker(ledger_path, prices_path, calls, barrier):
    prices = pricing.load_prices(prices_path)
    barrier.wait(10)
    for name, payload in calls:
        if name == "post":
            accounting.on_post_tool_use(payload, ledger_path, prices)
        elif name == "stop":
            accounting.on_subagent_stop(payload, ledger_path, prices)
        accounting.settle(ledger_path, prices)


def test_concurrent_hooks_for_the_same_spawn_give_one_record(scene, tmp_path):
    scene.run_pre("toolu_3", requested="opus")
    scene.write_transcript("a887642912c4f6be6")
    scene.write_meta("a887642912c4f6be6", "toolu_3")
    post = scene.post_completed("toolu_3", "a887642912c4f6be6", model_in="opus")
    stop = scene.stop("a887642912c4f6be6")
    ctx = multiprocessing.get_context("fork")
    barrier = ctx.Barrier(6)
    calls = [[("stop", stop), ("post", post)], [("post", post), ("stop", stop)], [("stop", stop)], [("post", post)],
             [("settle", None)], [("post", post), ("post", post)]]
    procs = [ctx.Process(target=_hook_worker, args=(scene.ledger, str(tmp_path / "none.json"), c, barrier)) for c in calls]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    r = only(scene.records())
    assert r["cost_usd"] == pytest.approx(0.4865, abs=1e-9)
    assert scene.pending() == []


def test_parallel_spawns_each_recorded_once(scene, tmp_path):
    n = 8
    agents = [f"a{i:016x}" for i in range(1, n + 1)]
    for i, agent in enumerate(agents):
        scene.run_pre(f"toolu_p{i}", requested="haiku", background=True)
        scene.write_transcript(agent, model="claude-haiku-5-5")
    ctx = multiprocessing.get_context("fork")
    barrier = ctx.Barrier(n)
    procs = []
    for i, agent in enumerate(agents):
        calls = [("post", scene.post_async(f"toolu_p{i}", agent, model_in="haiku")), ("stop", scene.stop(agent))]
        procs.append(ctx.Process(target=_hook_worker, args=(scene.ledger, str(tmp_path / "none.json"), calls, barrier)))
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    records = scene.records()
    assert sorted(r["agent_id"] for r in records) == sorted(agents)
    assert sum(r["cost_usd"] for r in records) == pytest.approx(n * COST["claude-haiku-5-5"], abs=1e-9)


# --------------------------------------------------------------------------- budget wiring


def test_priced_spawn_adds_to_the_budget_totals(scene):
    scene.run_pre("toolu_3", requested="opus")
    scene.write_transcript("a887642912c4f6be6")
    scene.run_post(scene.post_completed("toolu_3", "a887642912c4f6be6", model_in="opus"))
    totals = json.loads(Path(scene.ledger + ".totals.json").read_text())
    day = next(iter(totals["days"].values()))
    assert day["usd"] == pytest.approx(0.4865, abs=1e-9)
    assert totals["sessions"][SID]["usd"] == pytest.approx(0.4865, abs=1e-9)


# --------------------------------------------------------------------------- more edges


def test_fork_counterfactual_is_the_parents_model(scene):
    payload, decision = scene.pre("toolu_1", requested="haiku")
    payload["tool_input"]["subagent_type"] = "fork"
    decision["agent_type"] = "fork"
    accounting.on_pre_tool_use(payload, decision, scene.ledger)
    scene.write_transcript("a9290afd8a1e9bebf", model="claude-opus-5-5")
    post = scene.post_async("toolu_1", "a9290afd8a1e9bebf", model="claude-opus-5-5", model_in="haiku")
    post["tool_input"]["subagent_type"] = "fork"
    scene.run_post(post)
    scene.run_stop(scene.stop("a9290afd8a1e9bebf"))
    r = only(scene.records())
    assert r["requested_model"] == "haiku" and r["requested_model_id"] == "claude-opus-5-5"
    assert r["savings_usd"] == pytest.approx(0, abs=1e-12)


def test_pre_tool_use_does_not_wait_for_the_ledger_lock(scene):
    ctx = multiprocessing.get_context("fork")
    ready, release = ctx.Event(), ctx.Event()

    def hold():
        with ledger.locked(scene.ledger):
            ready.set()
            release.wait(10)

    holder = ctx.Process(target=hold)
    holder.start()
    try:
        assert ready.wait(10)
        start = time.monotonic()
        scene.run_pre("toolu_3", requested="opus")
        assert time.monotonic() - start < 0.2
        assert scene.pending() == ["toolu_3.pre.json"]
    finally:
        release.set()
        holder.join(10)


def test_tombstones_are_swept_after_their_ttl(scene):
    scene.run_pre("toolu_3", requested="opus")
    scene.write_transcript("a887642912c4f6be6")
    scene.run_post(scene.post_completed("toolu_3", "a887642912c4f6be6", model_in="opus"))
    settled = Path(accounting.pending_dir(scene.ledger)) / "settled"
    assert sorted(os.listdir(settled)) == ["ag-a887642912c4f6be6", "tu-toolu_3"]
    scene.settle(later=accounting.TOMBSTONE_TTL_S - 3600, force=True)
    assert len(os.listdir(settled)) == 2
    scene.settle(later=accounting.TOMBSTONE_TTL_S + 3600, force=True)
    assert os.listdir(settled) == []


def test_settle_without_pending_dir_is_cheap_and_zero(scene):
    assert accounting.settle(scene.ledger, scene.prices) == 0
    assert not os.path.exists(accounting.pending_dir(scene.ledger))


def test_web_search_requests_are_priced(scene):
    lines = scene.transcript_lines("a887642912c4f6be6")
    last = json.loads(lines[-1])
    last["message"]["usage"]["server_tool_use"]["web_search_requests"] = 3
    lines[-1] = json.dumps(last) + "\n"
    scene.agent_path("a887642912c4f6be6").write_text("".join(lines))
    scene.run_pre("toolu_3", requested="opus")
    scene.run_post(scene.post_completed("toolu_3", "a887642912c4f6be6", model_in="opus"))
    r = only(scene.records())
    assert r["web_search_requests"] == 3
    assert r["cost_usd"] == pytest.approx(0.4865 + 0.03, abs=1e-9)
