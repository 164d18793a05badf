"""``feedback: true`` end to end: the real Claude Code CLI (each tested release) puts what PostToolUse
told it — the spawn's model, its cost and the budget left — into the next main-loop request.

One foreground spawn on haiku, its usage known; the fake API records every request. The main loop's
request after the spawn (the one that carries its tool_result) must contain the spawn's model and
exactly the cost the ledger recorded for it (an independent price calculation checks that cost), and
the budget left; without ``feedback`` it contains none of it.
"""

from __future__ import annotations

import json

import pytest

from cco_hooks import budget, ledger, paths
from tests.support.claude_cli import assistant_usages, cco_hooks_cli
from tests.support.fake_api import Scenario, Spawn, Usage
from tests.support.ledger_prices import ReferencePrices
from tests.support.locations import FIXTURES

pytestmark = pytest.mark.e2e

PRICES = ReferencePrices(FIXTURES / "claude-code-2.1.328-prices.json")
TURNS = (Usage(input_tokens=2_000, output_tokens=300), Usage(input_tokens=3_000, output_tokens=400))


def main_requests_after_spawn(run, marker):
    """The main loop's requests made after the subagent's last one."""
    last_sub = max(r.seq for r in run.requests_for(marker))
    return [r for r in run.requests_for("main") if r.seq > last_sub]


def run_one_spawn(run_e2e, fake_api, e2e_project, e2e_home, config):
    (e2e_project / ".claude" / "cco-hooks.yaml").write_text(config)
    result = cco_hooks_cli("install", "--scope", "project", project=e2e_project, home=e2e_home)
    assert result.returncode == 0, result.stderr
    fake_api.set_scenario(Scenario(spawns=[Spawn("SUB-FB", model="haiku", run_in_background=False, turns=TURNS)]))
    run = run_e2e()
    assert run.returncode == 0, run.describe()
    assert fake_api.subagent_finished("SUB-FB")
    records, skipped = ledger.read_records(paths.default_ledger_path())
    spawns = [r for r in records if r["kind"] == "spawn"]
    assert skipped == 0 and len(spawns) == 1 and spawns[0]["status"] == "completed", spawns
    return run, spawns[0]


def test_the_next_main_loop_request_carries_the_spawns_model_cost_and_budget_left(
    run_e2e, fake_api, e2e_project, e2e_home
):
    run, record = run_one_spawn(
        run_e2e, fake_api, e2e_project, e2e_home, "version: 1\nfeedback: true\nbudget: {session_usd: 5}\n"
    )
    assert record["actual_model"] == run.model_for("SUB-FB")  # the model of the subagent's own requests
    usages = [u["usage"] for u in assistant_usages(run.subagent_transcript_for("SUB-FB"))]
    cost = PRICES.cost(record["actual_model"], usages)  # priced independently of cco_hooks.pricing
    assert record["cost_usd"] == pytest.approx(cost, abs=1e-9)
    told = (
        f"cco-hooks: the general-purpose spawn ran on {record['actual_model']} and cost {budget.format_usd(cost)}."
        f" Budget left: this session {budget.format_usd(5 - cost)} of $5.00."
    )
    after = main_requests_after_spawn(run, "SUB-FB")
    assert after, run.describe()
    assert told in json.dumps(after[0].messages, ensure_ascii=False), json.dumps(after[0].messages)[-3000:]


def test_without_feedback_the_main_loop_hears_nothing_of_costs(run_e2e, fake_api, e2e_project, e2e_home):
    run, _record = run_one_spawn(run_e2e, fake_api, e2e_project, e2e_home, "version: 1\nbudget: {session_usd: 5}\n")
    after = main_requests_after_spawn(run, "SUB-FB")
    assert after and "cco-hooks: the general-purpose spawn" not in json.dumps(after[0].messages)
