"""Budgets act before the spend (issue 5.4), end to end: the real Claude Code CLI (each tested release), our hooks
registered by `cco-hooks install --scope project` (or the repository loaded as a plugin), the fake
Messages API.

A tiny daily budget (``daily_usd: 0.000001``). The first `claude -p` run spawns one subagent, whose
usage costs far more: it runs, and its cost reaches the ledger and the running totals. The next
`claude -p` run — a new session, the same day, the same Claude config dir and ledger — spawns
again: PreToolUse denies it, Claude gets an error tool_result whose text names the budget, and the
fake API never hears from that subagent. With ``on_exceed: downgrade`` the second spawn runs on
haiku instead, whatever model it asked for.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cco_hooks import ledger, paths, totals
from tests.support.claude_cli import cco_hooks_cli
from tests.support.fake_api import Scenario, Spawn, Usage
from tests.support.locations import REPO

pytestmark = pytest.mark.e2e

SPEND = (Usage(input_tokens=2_000, output_tokens=300), Usage(input_tokens=3_000, output_tokens=400))


@pytest.fixture(params=["install", "plugin"])
def route(request, e2e_project: Path, e2e_home: Path):
    if request.param == "install":
        result = cco_hooks_cli("install", "--scope", "project", project=e2e_project, home=e2e_home)
        assert result.returncode == 0, result.stderr
        return {}
    return {"plugin_dir": REPO}


def first_run_spends(run_e2e, fake_api, route):
    """Run 1: one foreground spawn that costs more than the whole budget; it is recorded, priced."""
    fake_api.set_scenario(Scenario(spawns=[Spawn("SUB-0", model="sonnet", run_in_background=False, turns=SPEND)]))
    first = run_e2e(**route)
    assert first.returncode == 0, first.describe()
    assert fake_api.subagent_finished("SUB-0")
    records, skipped = ledger.read_records(paths.default_ledger_path())
    spawns = [r for r in records if r["kind"] == "spawn"]
    assert skipped == 0 and len(spawns) == 1 and spawns[0]["status"] == "completed"
    assert spawns[0]["cost_usd"] > 0.000001
    day = totals.read_totals(paths.default_ledger_path())["days"][totals.utc_day()]
    assert day["usd"] == pytest.approx(spawns[0]["cost_usd"])
    return first


def test_a_spent_daily_budget_denies_the_next_sessions_spawn(run_e2e, fake_api, route, e2e_project):
    """deny: the second session's spawn never runs, and Claude reads why (the budget)."""
    (e2e_project / ".claude" / "cco-hooks.yaml").write_text(
        "version: 1\nbudget: {daily_usd: 0.000001, on_exceed: deny}\n"
    )
    first = first_run_spends(run_e2e, fake_api, route)

    fake_api.set_scenario(Scenario(spawns=[Spawn("SUB-1", model="haiku", run_in_background=False, turns=SPEND)]))
    second = run_e2e(**route)
    assert second.returncode == 0, second.describe()
    assert second.session_id and second.session_id != first.session_id
    call = second.agent_call("SUB-1")
    assert call.denied, second.describe()
    assert "daily budget" in call.result_text and "budget.daily_usd" in call.result_text
    assert second.requests_for("SUB-1") == []  # the subagent never made a request
    records, skipped = ledger.read_records(paths.default_ledger_path())
    spawns = [r for r in records if r["kind"] == "spawn"]
    assert skipped == 0 and [r["status"] for r in spawns] == ["completed", "denied"]
    assert spawns[1]["session_id"] == second.session_id and spawns[1]["decision"]["rule"] == "budget.daily_usd"


def test_a_spent_budget_downgrades_the_next_sessions_spawn(run_e2e, fake_api, e2e_project, e2e_home):
    """downgrade: the second session's opus spawn runs — on haiku. Set in the user's own config: a
    repository's config cannot turn deny into downgrade."""
    (e2e_home / ".claude" / "cco-hooks.yaml").write_text(
        "version: 1\nbudget: {daily_usd: 0.000001, on_exceed: downgrade}\n"
    )
    result = cco_hooks_cli("install", "--scope", "project", project=e2e_project, home=e2e_home)
    assert result.returncode == 0, result.stderr
    first_run_spends(run_e2e, fake_api, {})

    fake_api.set_scenario(Scenario(spawns=[Spawn("SUB-1", model="opus", run_in_background=False)]))
    second = run_e2e()
    assert second.returncode == 0, second.describe()
    assert not second.agent_call("SUB-1").is_error
    assert second.model_for("SUB-1") == "claude-haiku-5-5"
    record = [r for r in ledger.read_records(paths.default_ledger_path())[0] if r["kind"] == "spawn"][-1]
    assert record["decision"]["rule"] == "budget.daily_usd" and record["enforced_model"] == "haiku"
    assert json.loads(Path(totals.totals_path(paths.default_ledger_path())).read_text())["v"] == 1
