"""Per-spawn caps inside a running subagent, end to end: the real Claude Code CLI (each tested release),
our hooks registered by `cco-hooks install --scope project`, the fake Messages API.

The fake API scripts a subagent that keeps calling Bash, turn after turn. With ``caps:
{max_tool_calls: 3, warn_at: 0.5}`` PreToolUse (registered for every tool) lets its first three calls
run, adds one wrap-up note (``additionalContext``) at the second, and denies every call after the
third with a reason telling it to stop and report. What the CLI sent back to the API shows it: the
denied calls' tool_results carry our reason, and the subagent's final report reaches the parent
(the main loop's next request holds it). The ledger records the spawn as capped, by which cap.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cco_hooks import ledger, paths
from tests.support.claude_cli import cco_hooks_cli
from tests.support.fake_api import Scenario, Spawn, Usage

pytestmark = pytest.mark.e2e

TURNS = 7  # tool calls the scripted subagent makes before its final answer


def tool_results(request) -> list[dict]:
    """The tool_result blocks of a request's last user message."""
    last = [m for m in request.messages if m.get("role") == "user"][-1]
    content = last.get("content")
    return (
        [b for b in content if isinstance(b, dict) and b.get("type") == "tool_result"]
        if isinstance(content, list)
        else []
    )


def block_text(block: dict) -> str:
    content = block.get("content")
    if isinstance(content, str):
        return content
    return "".join(c.get("text", "") for c in content or () if isinstance(c, dict))


def test_a_subagent_stops_at_its_tool_call_cap_and_its_report_reaches_the_parent(
    run_e2e, fake_api, e2e_project, e2e_home
):
    (e2e_project / ".claude" / "cco-hooks.yaml").write_text("version: 1\ncaps: {max_tool_calls: 3, warn_at: 0.5}\n")
    installed = cco_hooks_cli("install", "--scope", "project", project=e2e_project, home=e2e_home)
    assert installed.returncode == 0, installed.stderr
    fake_api.set_scenario(Scenario(spawns=[Spawn("SUB-0", run_in_background=False, turns=[Usage()] * (TURNS + 1))]))
    result = run_e2e()
    assert result.returncode == 0, result.describe()

    sub = result.requests_for("SUB-0")
    assert len(sub) == TURNS + 1, result.describe()  # it went on to its final answer
    answered = [tool_results(r) for r in sub[1:]]  # request k+1 carries the result of tool call k
    assert all(len(blocks) == 1 for blocks in answered)
    denied = [b for (b,) in answered if b.get("is_error") and "caps.max_tool_calls" in block_text(b)]
    ran = [b for (b,) in answered if not b.get("is_error")]
    assert len(ran) == 3 and len(denied) == TURNS - 3, [block_text(b) for (b,) in answered]
    assert all("final report" in block_text(b) for b in denied)
    # the wrap-up note reached the subagent once, with the result of its second call: both releases
    # send an allowed PreToolUse's additionalContext as a system message after the tool_result,
    # "PreToolUse:Bash hook additional context: …"; a denial is the tool_result itself, is_error,
    # "PreToolUse:Bash hook error: <our reason>"
    bodies = [json.dumps(r.body) for r in sub]
    assert "Wrap up now" not in bodies[1] and "Wrap up now" in bodies[2]
    assert sum(body.count("Wrap up now") for body in bodies[-1:]) == 1

    # its report reached the parent: the Agent call's result and the main loop's next request hold it
    call = result.agent_call("SUB-0")
    assert not call.is_error and "report from SUB-0" in (call.result_text or "")
    main = result.requests_for("main")
    assert "report from SUB-0" in json.dumps(main[-1].body)

    records, skipped = ledger.read_records(paths.default_ledger_path())
    (record,) = [r for r in records if r["kind"] == "spawn"]
    assert skipped == 0 and record["status"] == "completed"
    assert record["capped"] == {"cap": "max_tool_calls", "limit": 3, "at": 4}
    assert not list(Path(paths.default_ledger_path()).parent.glob("live/*.json"))  # settled: cursor gone
