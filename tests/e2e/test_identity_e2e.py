"""Spawn identity in the real Claude Code CLI: a spawn is its session and its id.

Local proxies and routers mint short tool ids that every session reuses. Here each session talks to
a fresh fake Messages API, whose tool_use ids start again at ``toolu_1``, and both sessions write
one ledger: each spawn must be recorded once, under its own session, and neither dropped as a
replay of the other. A background spawn whose SubagentStop comes before its PostToolUse
(``CCO_HOOKS_STOP_WAIT_S=0`` leaves the race to later hooks and the report) is settled once too.
"""

from __future__ import annotations

import pytest

from cco_hooks import ledger as ledger_mod
from tests.support.claude_cli import assistant_usages, cco_hooks_cli, run_claude
from tests.support.fake_api import FakeAnthropicAPI, Scenario, Spawn, Usage
from tests.support.ledger_prices import ReferencePrices
from tests.support.locations import FIXTURES

pytestmark = pytest.mark.e2e

PRICES = ReferencePrices(FIXTURES / "claude-code-2.1.328-prices.json")
TURNS = (Usage(input_tokens=1_500, output_tokens=300), Usage(input_tokens=700, output_tokens=200))


def run_session(claude_bin, project, home, ledger, marker, background):
    """One CLI session against its own fake API (so its ids start at toolu_1 again)."""
    api = FakeAnthropicAPI().start()
    try:
        api.set_scenario(
            Scenario(
                spawns=[
                    Spawn(marker=marker, subagent_type="general-purpose", turns=TURNS, run_in_background=background)
                ]
            )
        )
        result = run_claude(
            project,
            "SCENARIO-MAIN run",
            fake_api=api,
            home=home,
            claude_bin=claude_bin,
            env_extra={"CCO_HOOKS_LEDGER": str(ledger), "CCO_HOOKS_STOP_WAIT_S": "0"},
        )
    finally:
        api.stop()
    assert not api.errors, api.errors
    assert result.returncode == 0, result.describe()
    return result


def report_and_read(ledger, project, home):
    """Settle with ``cco-hooks report`` (as a user would); the ledger's spawn records."""
    report = cco_hooks_cli(
        "report", "--ledger", str(ledger), project=project, home=home, env_extra={"CCO_HOOKS_LEDGER": str(ledger)}
    )
    assert report.returncode == 0, report.stderr
    return [r for r in ledger_mod.iter_records(str(ledger)) if r.get("kind") == "spawn"]


def test_two_sessions_reusing_toolu_1_are_each_recorded_once(claude_bin, e2e_project, e2e_home, tmp_path):
    ledger = tmp_path / "ledger.jsonl"
    assert cco_hooks_cli("install", "--scope", "project", project=e2e_project, home=e2e_home).returncode == 0
    first = run_session(claude_bin, e2e_project, e2e_home, ledger, "SUB-ONE", background=False)
    second = run_session(claude_bin, e2e_project, e2e_home, ledger, "SUB-TWO", background=True)
    assert first.session_id != second.session_id
    spawns = report_and_read(ledger, e2e_project, e2e_home)
    assert sorted((r["session_id"], r["tool_use_id"], r["agent_id"]) for r in spawns) == sorted(
        [
            (first.session_id, "toolu_1", first.agent_id_for("SUB-ONE")),
            (second.session_id, "toolu_1", second.agent_id_for("SUB-TWO")),
        ]
    )
    for result, marker in ((first, "SUB-ONE"), (second, "SUB-TWO")):
        record = next(r for r in spawns if r["session_id"] == result.session_id)
        usages = [dict(u["usage"]) for u in assistant_usages(result.subagent_transcript_for(marker))]
        assert record["status"] == "completed" and record["requests"] == len(TURNS)
        assert abs(record["cost_usd"] - PRICES.cost(record["actual_model"], usages)) < 1e-9

    # a second report (settling again, replaying nothing) changes nothing
    assert report_and_read(ledger, e2e_project, e2e_home) == spawns
