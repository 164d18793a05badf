"""OTLP export in the real Claude Code CLI, with Claude Code's own telemetry pointed at the same
receiver (tests/support/otlp_receiver.py on 127.0.0.1), both configured as a team would: the
``env`` block of the user's Claude Code settings.

Claude Code removes every ``OTEL_*`` variable from its hooks' environment, so the exporter a hook
starts reads them from those settings (``export/otlp.py``); this test is where that is shown.

The comparison, per session: Claude Code's ``claude_code.cost.usage`` has one delta point per API
request of the session (main loop, subagents, side requests), with ``query_source`` (``main``,
``subagent``, …) and ``model``. The ledger holds the same session two ways: the session record
(Claude Code's ``cost-state`` total; exported as the ``cco_hooks.session.cost`` gauge) and one
spawn record per subagent (``cco_hooks.subagent.cost.usage``). So Claude Code's points for the
session sum to our session gauge, and its ``query_source=subagent`` points sum to our subagent
cost, each to 1e-9 (the two sides add the same per-request costs in another order).
"""

from __future__ import annotations

import json
import time

import pytest

from cco_hooks import export_start
from cco_hooks import ledger as ledger_mod
from tests.support.claude_cli import cco_hooks_cli, run_claude
from tests.support.fake_api import FakeAnthropicAPI, Scenario, Spawn, Usage
from tests.support.otlp_receiver import HttpReceiver

pytestmark = pytest.mark.e2e

TURNS = (Usage(input_tokens=1_500, output_tokens=300), Usage(input_tokens=700, output_tokens=200))


def _wait_for(condition, seconds=90.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return False


def _sum(points):
    return sum(p.value for p in points)


def test_our_export_lands_beside_claude_codes_own_and_agrees_with_it(claude_bin, e2e_project, e2e_home, tmp_path):
    ledger = tmp_path / "ledger.jsonl"
    assert cco_hooks_cli("install", "--scope", "project", project=e2e_project, home=e2e_home).returncode == 0
    (e2e_home / ".claude" / "cco-hooks.yaml").write_text(
        "version: 1\nagents: {general-purpose: haiku}\nexport: {otlp: true}\n"
    )
    with HttpReceiver() as receiver:
        (e2e_home / ".claude" / "settings.json").write_text(
            json.dumps(
                {
                    "env": {
                        "CLAUDE_CODE_ENABLE_TELEMETRY": "1",
                        "OTEL_METRICS_EXPORTER": "otlp",
                        "OTEL_LOGS_EXPORTER": "otlp",
                        "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
                        "OTEL_EXPORTER_OTLP_ENDPOINT": receiver.endpoint,
                        "OTEL_METRIC_EXPORT_INTERVAL": "1000",
                        "OTEL_LOGS_EXPORT_INTERVAL": "1000",
                        "OTEL_RESOURCE_ATTRIBUTES": "team=platform",
                    }
                }
            )
        )
        sessions = []
        for marker in ("SUB-OTEL-1", "SUB-OTEL-2"):
            api = FakeAnthropicAPI().start()
            try:
                api.set_scenario(
                    Scenario(
                        spawns=[Spawn(marker=marker, subagent_type="general-purpose", model="sonnet", turns=TURNS)]
                    )
                )
                result = run_claude(
                    e2e_project,
                    "SCENARIO-MAIN run",
                    fake_api=api,
                    home=e2e_home,
                    claude_bin=claude_bin,
                    env_extra={"CCO_HOOKS_LEDGER": str(ledger)},
                )
            finally:
                api.stop()
            assert not api.errors, api.errors
            assert result.returncode == 0, result.describe()
            sessions.append(result.session_id)
        received = receiver.received
        # the exporters the hooks started (detached, after settling) catch up with the ledger
        assert _wait_for(lambda: ledger.exists() and not export_start._behind(str(ledger)))
        records = list(ledger_mod.iter_records(str(ledger)))
        assert _wait_for(lambda: len(received.logs_of("cco_hooks")) == len(records))
        assert _wait_for(
            lambda: all(received.points_named("claude_code.cost.usage", **{"session.id": s}) for s in sessions)
        )
        time.sleep(1)  # Claude Code's last delta points are flushed at its exit, already received

    for session in sessions:
        spawns = [r for r in records if r["kind"] == "spawn" and r["session_id"] == session]
        [session_record] = [r for r in records if r["kind"] == "session" and r["session_id"] == session]
        assert len(spawns) == 1 and spawns[0]["status"] == "completed"
        theirs = received.points_named("claude_code.cost.usage", **{"session.id": session})
        their_subagents = [p for p in theirs if p.attributes.get("query_source") == "subagent"]
        ours = received.points_named("cco_hooks.subagent.cost.usage", **{"session.id": session})
        [our_session] = received.points_named("cco_hooks.session.cost", **{"session.id": session})

        assert their_subagents and ours
        assert abs(_sum(ours) - _sum(their_subagents)) < 1e-9
        assert abs(our_session.value - _sum(theirs)) < 1e-9
        assert abs(_sum(ours) - spawns[0]["cost_usd"]) < 1e-9
        # the same agent and model on both sides, and the same user and session to join on
        assert {p.attributes.get("agent.name") for p in their_subagents} == {"general-purpose"}
        assert {p.attributes["model"] for p in their_subagents} == {p.attributes["gen_ai.response.model"] for p in ours}
        assert {p.attributes["user.id"] for p in theirs} == {p.attributes["user.id"] for p in ours}
        our = ours[0].attributes
        assert our["gen_ai.agent.name"] == "general-purpose" and our["cco_hooks.decision"] == "rewrite"
        assert (
            our["cco_hooks.enforced_model"] == "haiku"
            and our["gen_ai.request.model"] == spawns[0]["requested_model_id"]
        )
        savings = received.points_named("cco_hooks.subagent.savings", **{"session.id": session})
        assert abs(_sum(savings) - spawns[0]["savings_usd"]) < 1e-9 and _sum(savings) > 0
        assert ours[0].resource["team"] == "platform" == theirs[0].resource["team"]
        assert ours[0].resource["service.name"] == "cco-hooks"

    # every record exactly once, whatever number of hooks started an exporter
    ids = [log.attributes["cco_hooks.record.id"] for log in received.logs_of("cco_hooks")]
    assert len(ids) == len(set(ids)) == len(records)
    assert _sum(received.points_named("cco_hooks.subagent.count")) == sum(r["kind"] == "spawn" for r in records)
