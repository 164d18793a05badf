"""Budget reservations for a parallel fan-out, end to end: the real Claude Code CLI (each tested release),
our hooks registered by `cco-hooks install --scope project`, the fake Messages API.

The main loop launches 7 spawns in ONE response (7 parallel Agent tool_use blocks). Each would run
away (10 scripted tool turns of 10,000 input tokens on haiku). ``caps: {max_usd}`` holds each running
spawn to its cap (its tool calls are denied near it, and — like a model that obeys — it then
reports), and each launched spawn reserves that cap against the session budget while it runs. So
only as many spawns start as the budget can hold at their cap, the rest are denied with a reason
naming what is reserved, and what the session spends stays within ``session_usd``. Without
reservations all 7 would have started, before any of them had spent anything.
"""

from __future__ import annotations

import pytest

from cco_hooks import ledger, paths, pricing
from tests.support.claude_cli import cco_hooks_cli
from tests.support.fake_api import Scenario, Spawn, Usage

pytestmark = pytest.mark.e2e

HEAVY = Usage(input_tokens=10_000, output_tokens=1_000)
PER_REQUEST = pricing.load_prices(override_path="/nonexistent").cost("claude-haiku-5-5", HEAVY.to_api())
CAP = 2.5 * PER_REQUEST  # per spawn: two requests run, the third (its report) ends it
SESSION_CAP = 3.8 * CAP  # room for three spawns' reservations, not four
SPAWNS = 7


def test_a_parallel_fan_out_stays_within_the_session_budget(run_e2e, fake_api, e2e_project, e2e_home):
    (e2e_project / ".claude" / "cco-hooks.yaml").write_text(
        f"version: 1\ncaps: {{max_usd: {CAP!r}}}\nbudget: {{session_usd: {SESSION_CAP!r}}}\n"
    )
    installed = cco_hooks_cli("install", "--scope", "project", project=e2e_project, home=e2e_home)
    assert installed.returncode == 0, installed.stderr
    markers = [f"FAN-{n}" for n in range(SPAWNS)]
    fake_api.set_scenario(
        Scenario(
            spawns=[
                Spawn(m, model="haiku", run_in_background=False, turns=[HEAVY] * 10, reports_when_denied=True)
                for m in markers
            ]
        )
    )
    result = run_e2e(timeout=240)
    assert result.returncode == 0, result.describe()
    main_first = result.requests_for("main")[0]
    assert main_first.answer == "spawn"  # all seven in one response

    ran = [m for m in markers if result.requests_for(m)]
    denied = [m for m in markers if result.agent_call(m).denied]
    assert len(ran) == 3 and sorted(ran + denied) == sorted(markers), result.describe()
    for m in denied:
        text = result.agent_call(m).result_text
        assert "this session's budget" in text and "reserved by running spawns" in text, text
    for m in ran:  # each stopped near its cap and reported to the parent
        assert len(result.requests_for(m)) == 3
        assert f"report from {m}" in (result.agent_call(m).result_text or "")

    records, skipped = ledger.read_records(paths.default_ledger_path())
    spawns = [r for r in records if r["kind"] == "spawn"]
    assert skipped == 0 and sorted(r["status"] for r in spawns) == ["completed"] * 3 + ["denied"] * 4
    completed = [r for r in spawns if r["status"] == "completed"]
    for r in completed:
        assert r["capped"]["cap"] == "max_usd" and r["cost_usd"] <= CAP + PER_REQUEST
    assert sum(r["cost_usd"] for r in completed) <= SESSION_CAP
    assert all(r["decision"]["rule"] == "budget.session_usd" for r in spawns if r["status"] == "denied")
