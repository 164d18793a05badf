"""Record builders: pricing from the transcript, the counterfactual, and one set of fields for every spawn record."""

import json
import time

import pytest

from cco_hooks import pricing, records, transcript
from tests.support.hookproc import COST, SCHEMA_PATH, SESSION_LINES, SID, only
from tests.support.ledger_prices import ReferencePrices
from tests.support.locations import REPO

REFERENCE = ReferencePrices(REPO / "tests" / "fixtures" / "claude-code-2.1.328-prices.json")
SESSION_LINES_TEXT = SESSION_LINES


def _group(hooks, **parts):
    """A spawn's parts as settle() joins them (pre, post, stop, meta)."""
    pre_payload = hooks.pre("toolu_3", model="opus")
    decision = hooks.decision(pre_payload)
    now = time.time()
    group = {
        "tool_use_id": "toolu_3",
        "agent_id": "a887642912c4f6be6",
        "pre": {
            "v": 1,
            "ts": now - 5,
            "part": "pre",
            "tool_use_id": "toolu_3",
            "session_id": SID,
            "transcript_path": str(hooks.session_transcript),
            "project": str(hooks.project),
            "requested_model": "opus",
            "agent_type": "general-purpose",
            "decision": records.decision_fields(decision),
        },
        "post": {
            "v": 1,
            "ts": now,
            "part": "post",
            "tool_use_id": "toolu_3",
            "agent_id": "a887642912c4f6be6",
            "status": "completed",
            "resolved_model": "claude-opus-5-5",
            "duration_ms": 538,
        },
        "stop": None,
        "meta": None,
    }
    group.update(parts)
    return group


def test_every_spawn_record_kind_has_exactly_the_fields_of_a_priced_spawn(hooks):
    """Completed, unpriced, denied and failed-to-settle records all carry the same keys — the
    priced spawn record's, which are exactly the schema's spawn properties."""
    hooks.write_transcript("a887642912c4f6be6")
    usage = transcript.read_usage(str(hooks.transcript_path("a887642912c4f6be6")))
    now = time.time()
    spawn = records.spawn_record(_group(hooks), hooks.prices, usage, now)
    assert spawn["status"] == "completed"
    expected = set(spawn)
    assert expected == set(json.loads(SCHEMA_PATH.read_text())["$defs"]["spawn"]["properties"])
    kinds = {
        "unpriced": records.unpriced_record(_group(hooks), hooks.prices, "transcript_missing", now),
        "denied": records.denied_record(_group(hooks)["pre"]),
        "failed": records.failed_record(_group(hooks), hooks.prices, now),
        "failed, parts unreadable": records.failed_record(_group(hooks, pre="garbage"), hooks.prices, now),
        "blank": records.blank_spawn_record(now),
    }
    for kind, record in kinds.items():
        assert set(record) == expected, (kind, expected ^ set(record))
        assert record["kind"] == "spawn" and record["v"] == records.SCHEMA_VERSION
    assert kinds["failed, parts unreadable"]["unpriced_reason"] == "internal_error"
    assert kinds["failed, parts unreadable"]["decision"]["action"] == "unknown"


def test_decision_fields_record_unknown_actions_as_unknown():
    fields = records.decision_fields({"action": "explode", "would": "maybe", "reason": "r" * 500})
    assert fields["action"] == "unknown" and fields["would"] is None and len(fields["reason"]) == records.REASON_CHARS
    assert set(fields) == set(records.DECISION_KEYS)
    assert all(records.decision_fields({"action": a})["action"] == a for a in records.DECISION_ACTIONS)


def test_unknown_model_is_unpriced_never_zero(hooks):
    hooks.run_pre("toolu_3", model="sonnet")
    hooks.write_transcript("a887642912c4f6be6", model="claude-nova-9")
    hooks.write_meta("a887642912c4f6be6", "toolu_3")
    hooks.run_stop(hooks.stop("a887642912c4f6be6"))
    hooks.run_post(hooks.post_completed("toolu_3", "a887642912c4f6be6", model="claude-nova-9", model_in="sonnet"))
    r = only(hooks.records())
    assert r["status"] == "unpriced" and r["priced"] is False
    assert r["cost_usd"] is None and r["savings_usd"] is None
    assert "claude-nova-9" in r["unpriced_reason"]
    assert r["by_model"] == {"claude-nova-9": {"requests": 2, "cost_usd": None}}
    assert r["tokens"]["input"] == 91500  # the tokens are kept: a later price can settle them
    assert r["requested_cost_usd"] == pytest.approx(COST["claude-sonnet-5-5"], abs=1e-9)


def test_unpriced_requested_model_gives_null_counterfactual(hooks, tmp_path):
    override = tmp_path / "prices.json"
    override.write_text(json.dumps({"aliases": {"fable": "claude-fable-99"}}))
    hooks.prices = pricing.load_prices(str(override))
    hooks.run_pre("toolu_3", model="fable", enforced="opus", action="rewrite")
    hooks.write_transcript("a887642912c4f6be6")
    hooks.write_meta("a887642912c4f6be6", "toolu_3")
    hooks.run_stop(hooks.stop("a887642912c4f6be6"))
    hooks.run_post(hooks.post_completed("toolu_3", "a887642912c4f6be6", model_in="opus"))
    r = only(hooks.records())
    assert r["requested_model_id"] == "claude-fable-99"
    assert r["requested_cost_usd"] is None and r["savings_usd"] is None
    assert r["cost_usd"] == pytest.approx(0.4865, abs=1e-9)


def test_web_search_requests_are_priced(hooks):
    lines = hooks.transcript_lines("a887642912c4f6be6")
    last = json.loads(lines[-1])
    last["message"]["usage"]["server_tool_use"]["web_search_requests"] = 3
    lines[-1] = json.dumps(last) + "\n"
    hooks.transcript_path("a887642912c4f6be6").write_text("".join(lines))
    hooks.run_pre("toolu_3", model="opus")
    hooks.run_post(hooks.post_completed("toolu_3", "a887642912c4f6be6", model_in="opus"))
    r = only(hooks.records())
    assert r["web_search_requests"] == 3
    assert r["cost_usd"] == pytest.approx(0.4865 + 0.03, abs=1e-9)


# --------------------------------------------------------------------------- the counterfactual

AGENT_FILE_HAIKU = {"python-pro": {"model": "haiku", "source": "/p/.claude/agents/python-pro.md"}}


def _run_spawn(hooks, model_ran, **pre):
    """One foreground spawn through PreToolUse, SubagentStop and PostToolUse; its record."""
    hooks.run_pre("toolu_1", **pre)
    hooks.write_transcript("a1", model=model_ran)
    hooks.write_meta("a1", "toolu_1")
    hooks.run_stop(hooks.stop("a1"))
    hooks.run_post(hooks.post_completed("toolu_1", "a1", model=model_ran, model_in=pre.get("model")))
    return only(hooks.records())


def test_a_spawn_the_agent_file_already_puts_on_haiku_saves_exactly_nothing(hooks):
    """No model in the call, an agent file saying haiku, no rule: Claude Code runs it on haiku
    anyway, so the counterfactual is haiku (not the parent's opus) and the savings are 0."""
    r = _run_spawn(hooks, "claude-haiku-5-5", model=None, subagent_type="python-pro", agent_models=AGENT_FILE_HAIKU)
    assert r["v"] == records.SCHEMA_VERSION == 2
    assert (r["requested_source"], r["requested_model"]) == ("agent_file", "haiku")
    assert r["requested_model_id"] == "claude-haiku-5-5"
    assert r["cost_usd"] == pytest.approx(COST["claude-haiku-5-5"], abs=1e-12)
    assert r["requested_cost_usd"] == r["cost_usd"] and r["savings_usd"] == 0.0


@pytest.mark.parametrize("action", ["none", "allow", "observe"])
def test_a_spawn_the_hook_did_not_change_saves_exactly_zero(hooks, action):
    """Even when the counterfactual's model prices differently from what ran (here the call asked
    for opus, and the transcript shows haiku), a spawn the hook did not touch saved nothing."""
    r = _run_spawn(hooks, "claude-haiku-5-5", model="opus", enforced="haiku", action=action)
    assert r["decision"]["action"] == action
    assert r["requested_cost_usd"] == r["cost_usd"] and r["savings_usd"] == 0.0


def test_a_rewrite_onto_the_model_it_would_run_anyway_saves_exactly_zero(hooks):
    r = _run_spawn(
        hooks,
        "claude-haiku-5-5",
        model=None,
        subagent_type="python-pro",
        enforced="haiku",
        action="rewrite",
        agent_models=AGENT_FILE_HAIKU,
    )
    assert r["decision"]["action"] == "rewrite"
    assert r["requested_cost_usd"] == r["cost_usd"] and r["savings_usd"] == 0.0


def test_a_rewrite_that_made_a_spawn_dearer_shows_negative_savings(hooks):
    """The agent file says haiku, the config says sonnet: the rewrite costs more than haiku would."""
    r = _run_spawn(
        hooks,
        "claude-sonnet-5-5",
        model=None,
        subagent_type="python-pro",
        enforced="sonnet",
        action="rewrite",
        agent_models=AGENT_FILE_HAIKU,
    )
    assert (r["requested_source"], r["requested_model_id"]) == ("agent_file", "claude-haiku-5-5")
    assert r["requested_cost_usd"] == pytest.approx(COST["claude-haiku-5-5"], abs=1e-9)
    assert r["savings_usd"] == pytest.approx(COST["claude-haiku-5-5"] - COST["claude-sonnet-5-5"], abs=1e-9)
    assert r["savings_usd"] < 0


def test_a_pinned_alias_is_priced_at_the_pinned_model(hooks):
    """ANTHROPIC_DEFAULT_OPUS_MODEL in the hook's environment: a call asking for opus, rewritten to
    haiku, would have run on the pinned model and is priced at its rates. (The parent runs on
    sonnet here: a parent of the opus family would have taken the spawn onto its own model.)"""
    hooks.session_transcript.write_text(
        "".join(SESSION_LINES_TEXT).replace('"model":"claude-opus-5-5"', '"model":"claude-sonnet-5-5"')
    )
    r = _run_spawn(
        hooks,
        "claude-haiku-5-5",
        model="opus",
        enforced="haiku",
        action="rewrite",
        env={"ANTHROPIC_DEFAULT_OPUS_MODEL": "claude-opus-4-1-20250805"},
    )
    assert (r["requested_source"], r["requested_model_id"]) == ("call", "claude-opus-4-1-20250805")
    usages = [json.loads(line)["message"]["usage"] for line in hooks.transcript_lines("a1") if '"assistant"' in line]
    expected = REFERENCE.cost("claude-opus-4-1-20250805", {json.dumps(u): u for u in usages}.values())
    assert r["requested_cost_usd"] == pytest.approx(expected, abs=1e-9)
    assert r["requested_cost_usd"] > COST["claude-opus-5-5"]


def test_an_alias_of_the_parent_s_family_is_the_parent_s_exact_model(hooks):
    """The parent ran on claude-opus-4-1 (the session transcript says so): a call asking for opus
    runs on that model in Claude Code, so that is the counterfactual."""
    hooks.session_transcript.write_text(
        "".join(SESSION_LINES_TEXT).replace('"model":"claude-opus-5-5"', '"model":"claude-opus-4-1-20250805"')
    )
    r = _run_spawn(hooks, "claude-haiku-5-5", model="opus", enforced="haiku", action="rewrite")
    assert (r["requested_source"], r["requested_model_id"]) == ("call", "claude-opus-4-1-20250805")


def test_a_spawn_naming_no_model_falls_back_to_the_env_var_then_the_parent(hooks):
    r = _run_spawn(
        hooks,
        "claude-haiku-5-5",
        model=None,
        enforced="haiku",
        action="rewrite",
        env={"CLAUDE_CODE_SUBAGENT_MODEL": "sonnet"},
    )
    assert (r["requested_source"], r["requested_model"], r["requested_model_id"]) == (
        "env",
        "sonnet",
        "claude-sonnet-5-5",
    )
    assert r["savings_usd"] == pytest.approx(COST["claude-sonnet-5-5"] - COST["claude-haiku-5-5"], abs=1e-9)


def test_a_fork_is_the_parent_s_model(hooks):
    r = _run_spawn(hooks, "claude-opus-5-5", model="haiku", subagent_type="fork")
    assert (r["requested_source"], r["requested_model"], r["requested_model_id"]) == ("parent", None, "claude-opus-5-5")
    assert r["savings_usd"] == 0.0


def test_a_pre_part_of_schema_1_is_still_settled_with_the_old_counterfactual(hooks):
    """A pre part written before the upgrade (no requested_source): the call's alias."""
    hooks.write_transcript("a887642912c4f6be6", model="claude-haiku-5-5")
    usage = transcript.read_usage(str(hooks.transcript_path("a887642912c4f6be6")))
    group = _group(hooks)
    group["pre"]["decision"]["action"] = "rewrite"
    r = records.spawn_record(group, hooks.prices, usage, time.time())
    assert (r["requested_source"], r["requested_model_id"]) == ("call", "claude-opus-5-5")
    assert r["savings_usd"] == pytest.approx(COST["claude-opus-5-5"] - COST["claude-haiku-5-5"], abs=1e-9)


def test_a_gateway_s_model_is_unpriced_until_the_price_file_names_it(hooks, tmp_path):
    """Behind a gateway (claude-code-router) the transcript names the model that answered, e.g.
    deepseek-chat: the README says it is recorded unpriced (cost null, the requested cost still
    priced) until the user's price file gives it a tier; then it is priced at that tier."""
    hooks.spend(1, model="deepseek-chat")
    first = hooks.records()[-1]
    assert (first["actual_model"], first["status"], first["cost_usd"]) == ("deepseek-chat", "unpriced", None)
    assert first["unpriced_reason"] == "no price for model deepseek-chat"
    assert first["requested_cost_usd"] == pytest.approx(COST["claude-sonnet-5-5"], abs=1e-9)
    price_file = tmp_path / "gateway-prices.json"
    price_file.write_text(json.dumps({"models": {"deepseek-chat": {"tier": "tier_3_15"}}}))
    hooks.write_user_config(f"version: 1\npricing: {{file: {json.dumps(str(price_file))}}}\n")
    hooks.spend(2, model="deepseek-chat")
    second = hooks.records()[-1]
    hooks.spend(3, model="claude-sonnet-4-5")  # the same requests on a model of that tier
    on_tier = hooks.records()[-1]
    assert second["status"] == "completed" and second["unpriced_reason"] is None
    assert second["cost_usd"] == pytest.approx(on_tier["cost_usd"], abs=1e-9) and second["cost_usd"] > 0
