"""What the user is told, in the real Claude Code CLI (each tested release): a broken layer once per
session however many spawns run in parallel, and a budget downgrade as a denial would be.

Hooks registered by `cco-hooks install --scope project`; what they answered is read from the
stream's hook events (`--include-hook-events`), what the subagents ran on from the fake API's log.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support.claude_cli import cco_hooks_cli
from tests.support.fake_api import Scenario, Spawn

pytestmark = pytest.mark.e2e

BROKEN_NOTICE = "cco-hooks: a config layer is broken, so spawns are left unchanged"


@pytest.fixture
def installed(e2e_project: Path, e2e_home: Path) -> Path:
    result = cco_hooks_cli("install", "--scope", "project", project=e2e_project, home=e2e_home)
    assert result.returncode == 0, result.stderr
    return e2e_project


def pre_tool_use_messages(result) -> list[str]:
    """The systemMessage of each PreToolUse hook answer in the run ('' for an answer without one)."""
    messages = []
    for event in result.hook_events("PreToolUse"):
        if event.get("subtype") != "hook_response":
            continue
        stdout = (event.get("stdout") or event.get("output") or "").strip()
        answer = json.loads(stdout) if stdout.startswith("{") else {}
        messages.append(answer.get("systemMessage") or "")
    return messages


def run(run_e2e, fake_api, spawns):
    fake_api.set_scenario(Scenario(spawns=spawns))
    result = run_e2e()
    assert result.returncode == 0, result.describe()
    return result


def test_a_broken_layer_is_told_once_per_session_not_once_per_parallel_spawn(run_e2e, fake_api, installed):
    """Seven parallel spawns under a broken layer: all run as asked, one PreToolUse answer carries
    the notice; the next session (the layer still broken) is told once again."""
    broken = installed / ".claude" / "cco-hooks.local.yaml"
    broken.write_text("version: 1\nmode: [rewrite\n")
    spawns = [Spawn(f"SUB-{i}", model="sonnet", run_in_background=False) for i in range(7)]
    for session in range(2):
        result = run(run_e2e, fake_api, spawns)
        assert all(result.model_for(f"SUB-{i}") == "claude-sonnet-5-5" for i in range(7))
        messages = pre_tool_use_messages(result)
        assert len(messages) == 7, result.describe()
        told = [m for m in messages if m.startswith(BROKEN_NOTICE)]
        assert len(told) == 1 and str(broken) in told[0], (session, messages)


def test_a_budget_downgrade_tells_the_user(run_e2e, fake_api, installed, e2e_home):
    """A spent daily budget with on_exceed: downgrade: the next session's opus spawn runs on haiku,
    and the PreToolUse answer's systemMessage says which cap, where it is set, and the change."""
    user_layer = e2e_home / ".claude" / "cco-hooks.yaml"
    user_layer.write_text("version: 1\nbudget: {daily_usd: 0.000001, on_exceed: downgrade}\n")
    first = run(run_e2e, fake_api, [Spawn("SUB-0", model="opus", run_in_background=False)])
    assert first.model_for("SUB-0") == "claude-opus-5-5"
    second = run(run_e2e, fake_api, [Spawn("SUB-1", model="opus", run_in_background=False)])
    assert second.model_for("SUB-1") == "claude-haiku-5-5"
    [message] = [m for m in pre_tool_use_messages(second) if m]
    assert message.startswith("cco-hooks: the daily budget (budget.daily_usd, UTC day ")
    assert f"set in {user_layer})" in message and message.endswith("Downgraded from opus to haiku.")
