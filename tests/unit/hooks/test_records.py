"""Record builders: pricing from the transcript, the counterfactual, and one set of fields for every spawn record."""

import json
import time

import pytest

from cco_hooks import pricing, records, transcript
from tests.support.hookproc import COST, SCHEMA_PATH, SID, only


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
