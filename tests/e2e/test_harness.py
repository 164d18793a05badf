"""The end-to-end harness itself, with none of cco-hooks installed.

These prove that the fake Messages API speaks the protocol the real CLI expects, that scripted
spawns and usage reach Claude Code's transcripts exactly, and that a hook registered in a project's
``.claude/settings.json`` is honoured in the harness.
"""

from __future__ import annotations

import json
import os
import shlex
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.support.claude_cli import CHECKOUT_HOOK_BIN, RunResult, assistant_usages, claude_env, run_claude_command
from tests.support.fake_api import MAIN, OTHER, FakeAnthropicAPI, Scenario, Spawn, Usage

pytestmark = pytest.mark.e2e


# ----- helpers ---------------------------------------------------------------------------------


def _post(api: FakeAnthropicAPI, path: str, body: dict, headers: dict | None = None) -> tuple[int, str, bytes]:
    request = urllib.request.Request(
        api.base_url + path,
        data=json.dumps(body).encode(),
        method="POST",
        headers={"content-type": "application/json", **(headers or {})},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.headers.get("content-type", ""), response.read()
    except urllib.error.HTTPError as err:
        return err.code, err.headers.get("content-type", ""), err.read()


def _sse_events(raw: bytes) -> list[tuple[str, dict]]:
    events = []
    for chunk in raw.decode().split("\n\n"):
        if not chunk.strip():
            continue
        lines = dict(line.split(": ", 1) for line in chunk.splitlines())
        events.append((lines["event"], json.loads(lines["data"])))
    return events


def _assemble(events: list[tuple[str, dict]]) -> dict:
    """Rebuild the message a client would from the stream."""
    message = dict(events[0][1]["message"])
    blocks: dict[int, dict] = {}
    partial: dict[int, str] = {}
    for name, data in events[1:]:
        if name == "content_block_start":
            blocks[data["index"]] = dict(data["content_block"])
        elif name == "content_block_delta":
            delta = data["delta"]
            if delta["type"] == "text_delta":
                blocks[data["index"]]["text"] += delta["text"]
            else:
                partial[data["index"]] = partial.get(data["index"], "") + delta["partial_json"]
        elif name == "message_delta":
            message["stop_reason"] = data["delta"]["stop_reason"]
            message["usage"] = {**message["usage"], **data["usage"]}
    for index, text in partial.items():
        blocks[index]["input"] = json.loads(text)
    message["content"] = [blocks[i] for i in sorted(blocks)]
    return message


def _write_pretooluse_hook(project: Path, script_dir: Path, body: str) -> None:
    """Register ``body`` (Python reading the payload from stdin) as a PreToolUse hook for spawns."""
    script = script_dir / "hook.py"
    script.write_text(body)
    command = f"{shlex.quote(sys.executable)} {shlex.quote(str(script))}"
    settings = {
        "hooks": {"PreToolUse": [{"matcher": "Task|Agent", "hooks": [{"type": "command", "command": command}]}]}
    }
    (project / ".claude" / "settings.json").write_text(json.dumps(settings, indent=2))


def _usage_fields(usage: dict) -> tuple:
    cc = usage.get("cache_creation") or {}
    return (
        usage["input_tokens"],
        usage["output_tokens"],
        usage["cache_read_input_tokens"],
        usage["cache_creation_input_tokens"],
        cc.get("ephemeral_5m_input_tokens"),
        cc.get("ephemeral_1h_input_tokens"),
    )


def _scripted_fields(u: Usage) -> tuple:
    return (
        u.input_tokens,
        u.output_tokens,
        u.cache_read_input_tokens,
        u.cache_creation_total,
        u.ephemeral_5m_input_tokens,
        u.ephemeral_1h_input_tokens,
    )


# ----- the fake API alone ----------------------------------------------------------------------


def test_fake_api_speaks_the_messages_protocol() -> None:
    """The fake answers spawns, subagent turns, count_tokens and unknown paths as scripted."""
    spawn = Spawn(
        "SUB-0",
        model="sonnet",
        run_in_background=False,
        turns=[Usage(input_tokens=7, output_tokens=3, ephemeral_1h_input_tokens=11), Usage(cache_read_input_tokens=5)],
    )
    with FakeAnthropicAPI(Scenario(spawns=[spawn, Spawn("SUB-1")])) as api:
        main_body = {
            "model": "claude-opus-5-5",
            "stream": True,
            "tools": [{"name": "Agent"}, {"name": "Bash"}],
            "messages": [{"role": "user", "content": [{"type": "text", "text": "SCENARIO-MAIN go"}]}],
        }
        status, ctype, raw = _post(api, "/v1/messages?beta=true", main_body)
        assert status == 200 and ctype.startswith("text/event-stream")
        events = _sse_events(raw)
        assert [e for e, _ in events][0] == "message_start" and [e for e, _ in events][-2:] == [
            "message_delta",
            "message_stop",
        ]
        message = _assemble(events)
        assert message["model"] == "claude-opus-5-5" and message["stop_reason"] == "tool_use"
        assert [b["name"] for b in message["content"]] == ["Agent", "Agent"]  # parallel spawns, one response
        assert message["content"][0]["input"] == {
            "description": "task SUB-0",
            "prompt": "SUB-0 do the scripted task",
            "subagent_type": "general-purpose",
            "model": "sonnet",
            "run_in_background": False,
        }
        assert (
            "model" not in message["content"][1]["input"] and "run_in_background" not in message["content"][1]["input"]
        )

        sub = {
            "model": "claude-sonnet-5-5",
            "stream": True,
            "tools": [{"name": "Agent"}],
            "messages": [{"role": "user", "content": "SUB-0 do the scripted task"}],
        }
        first = _assemble(_sse_events(_post(api, "/v1/messages?beta=true", sub, {"x-claude-code-agent-id": "a1"})[2]))
        assert first["model"] == "claude-sonnet-5-5" and first["stop_reason"] == "tool_use"
        assert first["content"][0]["name"] == "Bash"
        assert _usage_fields(first["usage"]) == (7, 3, 0, 11, 0, 11)
        sub["messages"] += [
            {"role": "assistant", "content": first["content"]},
            {
                "role": "user",
                "content": [{"type": "tool_result", "tool_use_id": first["content"][0]["id"], "content": "hi"}],
            },
        ]
        sub["stream"] = False  # the non-streaming shape too
        status, ctype, raw = _post(api, "/v1/messages", sub, {"x-claude-code-agent-id": "a1"})
        last = json.loads(raw)
        assert status == 200 and last["stop_reason"] == "end_turn"
        assert last["content"] == [{"type": "text", "text": "report from SUB-0"}]
        assert last["id"] != first["id"] and last["id"].startswith("msg_")

        # an unscripted subagent (offered the Agent tool too) is never taken for the main loop
        helper = {
            "model": "claude-haiku-5-5",
            "stream": True,
            "tools": [{"name": "Agent"}],
            "messages": [{"role": "user", "content": "something else"}],
        }
        assert (
            _assemble(_sse_events(_post(api, "/v1/messages", helper, {"x-claude-code-agent-id": "a9"})[2]))[
                "stop_reason"
            ]
            == "end_turn"
        )

        assert json.loads(_post(api, "/v1/messages/count_tokens?beta=true", {"model": "m", "messages": []})[2]) == {
            "input_tokens": 1000
        }
        status, ctype, raw = _post(api, "/v1/nothing-here", {})
        assert status == 404 and json.loads(raw)["type"] == "error"

        got = [(r.actor, r.turn, r.answer, r.agent_id) for r in api.requests]
        assert got == [
            (MAIN, 0, "spawn", None),
            ("SUB-0", 0, "tool_use", "a1"),
            ("SUB-0", 1, "final", "a1"),
            (OTHER, None, "text", "a9"),
            (OTHER, None, "count_tokens", None),
            (OTHER, None, "not_found", None),
        ]
        assert api.subagent_finished("SUB-0") and not api.subagent_finished("SUB-1")
        assert not api.errors


def test_run_environment_is_built_from_scratch(e2e_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No variable of the caller's (real HOME, CLAUDE_*, ANTHROPIC_*, CCO_HOOKS_*) reaches the CLI."""
    monkeypatch.setenv("CLAUDE_CODE_SUBAGENT_MODEL", "opus")
    monkeypatch.setenv("ANTHROPIC_AUTH_TOKEN", "real-secret")
    monkeypatch.setenv("CCO_HOOKS_LEDGER", "/real/ledger.jsonl")
    env = claude_env(e2e_home, "http://127.0.0.1:9", {"CCO_HOOKS_CONFIG": "/x.yaml", "TMPDIR": None})
    assert env["HOME"] == str(e2e_home) and env["CLAUDE_CONFIG_DIR"] == str(e2e_home / ".claude")
    assert env["ANTHROPIC_BASE_URL"] == "http://127.0.0.1:9" and env["IS_SANDBOX"] == "1"
    assert env["CCO_HOOKS_CONFIG"] == "/x.yaml" and "TMPDIR" not in env
    for leaked in ("CLAUDE_CODE_SUBAGENT_MODEL", "ANTHROPIC_AUTH_TOKEN", "CCO_HOOKS_LEDGER"):
        assert leaked not in env
    # first this checkout's `cco-hook` (what a project-scope registration runs), then this Python
    assert env["PATH"].split(os.pathsep)[:2] == [CHECKOUT_HOOK_BIN, os.path.dirname(sys.executable)]


# ----- the real CLI ----------------------------------------------------------------------------


def _assert_ok(result: RunResult) -> None:
    assert result.returncode == 0, result.describe()
    assert result.unfinished_subagents() == [], result.describe()


def test_single_foreground_spawn_runs_on_the_requested_model(
    run_e2e, fake_api: FakeAnthropicAPI, e2e_home: Path
) -> None:
    """A foreground spawn asking for sonnet makes API requests for claude-sonnet-5-5."""
    fake_api.set_scenario(Scenario(spawns=[Spawn("SUB-0", model="sonnet", run_in_background=False)]))
    result = run_e2e()
    _assert_ok(result)

    assert result.model_for("SUB-0") == "claude-sonnet-5-5"
    call = result.agent_call("SUB-0")
    assert not call.is_error and "report from SUB-0" in call.result_text
    assert call.tool_use_result["status"] == "completed"
    assert call.tool_use_result["resolvedModel"] == "claude-sonnet-5-5"
    assert call.tool_use_result["agentId"] == result.agent_id_for("SUB-0")
    assert len(result.requests_for(MAIN)) == 2

    # everything landed in the throwaway config dir
    assert result.config_dir == e2e_home / ".claude"
    assert e2e_home / ".claude" / "projects" in result.session_transcript.parents
    usages = assistant_usages(result.subagent_transcript_for("SUB-0"))
    assert [u["model"] for u in usages] == ["claude-sonnet-5-5"]
    meta = result.subagent_meta(result.agent_id_for("SUB-0"))
    assert meta["toolUseId"] == call.tool_use_id and meta["model"] == "sonnet"


def test_parallel_spawns_with_cache_usage_reach_transcripts_and_cost_state(run_e2e, fake_api: FakeAnthropicAPI) -> None:
    """Three parallel spawns (two background) all finish; their scripted usage is what Claude Code records."""

    def turns(k: int) -> list[Usage]:
        return [
            Usage(
                input_tokens=1500 + k,
                output_tokens=300 + k,
                ephemeral_5m_input_tokens=2000 + k,
                ephemeral_1h_input_tokens=10000 + k,
            ),
            Usage(
                input_tokens=90000 + k,
                output_tokens=700 + k,
                ephemeral_5m_input_tokens=500 + k,
                cache_read_input_tokens=40000 + k,
            ),
        ]

    spawns = [
        Spawn("SUB-0", model="sonnet", run_in_background=False, turns=turns(0)),
        Spawn("SUB-1", model="haiku", turns=turns(1), delay_s=0.3),  # background by default
        Spawn("SUB-2", model="fable", run_in_background=True, turns=turns(2)),
    ]
    expected_model = {"SUB-0": "claude-sonnet-5-5", "SUB-1": "claude-haiku-5-5", "SUB-2": "claude-fable-5-2"}
    scenario = Scenario(spawns=spawns)
    fake_api.set_scenario(scenario)
    result = run_e2e(timeout=90)
    _assert_ok(result)

    statuses = {s.marker: result.agent_call(s.marker).tool_use_result["status"] for s in spawns}
    assert statuses == {"SUB-0": "completed", "SUB-1": "async_launched", "SUB-2": "async_launched"}
    for spawn in spawns:
        assert [r.turn for r in result.requests_for(spawn.marker)] == [0, 1], result.describe()
        assert result.model_for(spawn.marker) == expected_model[spawn.marker]
        usages = assistant_usages(result.subagent_transcript_for(spawn.marker))
        assert [u["model"] for u in usages] == [expected_model[spawn.marker]] * 2
        assert [_usage_fields(u["usage"]) for u in usages] == [_scripted_fields(u) for u in spawn.turns]

    cost_state = result.cost_state()
    assert cost_state is not None and cost_state["sessionId"] == result.session_id
    model_usage = cost_state["modelUsage"]
    for spawn in spawns:
        mu = model_usage[expected_model[spawn.marker]]
        assert mu["inputTokens"] == sum(u.input_tokens for u in spawn.turns)
        assert mu["outputTokens"] == sum(u.output_tokens for u in spawn.turns)
        assert mu["cacheReadInputTokens"] == sum(u.cache_read_input_tokens for u in spawn.turns)
        assert mu["cacheCreationEphemeral5mInputTokens"] == sum(u.ephemeral_5m_input_tokens for u in spawn.turns)
        assert mu["cacheCreationEphemeral1hInputTokens"] == sum(u.ephemeral_1h_input_tokens for u in spawn.turns)
        assert mu["costUSD"] > 0
    main_requests = result.requests_for(MAIN)
    assert len(main_requests) >= 2  # the first answer, then one per batch of completion notices
    main_model = model_usage[main_requests[0].model]
    assert main_model["inputTokens"] == scenario.main_usage.input_tokens * len(main_requests)
    assert cost_state["totalCostUSD"] == pytest.approx(sum(m["costUSD"] for m in model_usage.values()))
    assert cost_state["hasUnknownModelCost"] is False


def test_project_settings_hook_rewrites_the_spawn_model(
    run_e2e, fake_api: FakeAnthropicAPI, e2e_project: Path, tmp_path: Path
) -> None:
    """A PreToolUse hook in .claude/settings.json rewriting model to haiku makes the subagent run on haiku."""
    _write_pretooluse_hook(
        e2e_project,
        tmp_path,
        (
            "import json, sys\n"
            "payload = json.load(sys.stdin)\n"
            "tool_input = dict(payload['tool_input'], model='haiku')\n"
            "print(json.dumps({'hookSpecificOutput': {'hookEventName': 'PreToolUse', 'updatedInput': tool_input}}))\n"
        ),
    )
    fake_api.set_scenario(Scenario(spawns=[Spawn("SUB-0", model="sonnet", run_in_background=False)]))
    result = run_e2e()
    _assert_ok(result)

    assert result.model_for("SUB-0") == "claude-haiku-5-5"
    call = result.agent_call("SUB-0")
    assert call.input["model"] == "sonnet"  # what the model asked for, before the hook
    assert call.tool_use_result["resolvedModel"] == "claude-haiku-5-5"
    responses = [e for e in result.hook_events("PreToolUse") if e.get("subtype") == "hook_response"]
    assert len(responses) == 1 and responses[0]["exit_code"] == 0, result.hook_events()


def test_project_settings_hook_deny_reaches_the_main_loop(
    run_e2e, fake_api: FakeAnthropicAPI, e2e_project: Path, tmp_path: Path
) -> None:
    """A PreToolUse deny stops the spawn and its reason comes back as the Agent tool error."""
    _write_pretooluse_hook(
        e2e_project,
        tmp_path,
        (
            "import json, sys\n"
            "payload = json.load(sys.stdin)\n"
            "if 'SUB-DENY' in payload['tool_input']['prompt']:\n"
            "    print(json.dumps({'hookSpecificOutput': {'hookEventName': 'PreToolUse',\n"
            "                                             'permissionDecision': 'deny',\n"
            "                      'permissionDecisionReason': 'no opus here'}}))\n"
        ),
    )
    fake_api.set_scenario(
        Scenario(
            spawns=[
                Spawn("SUB-DENY", model="opus", run_in_background=False),
                Spawn("SUB-OK", model="haiku", run_in_background=False),
            ]
        )
    )
    result = run_e2e()
    _assert_ok(result)

    denied = result.agent_call("SUB-DENY")
    assert denied.denied and denied.result_text == "PreToolUse:Agent hook error: no opus here"
    assert result.requests_for("SUB-DENY") == []
    assert not result.agent_call("SUB-OK").is_error
    assert result.model_for("SUB-OK") == "claude-haiku-5-5"


def test_plugin_dir_hooks_apply_and_validate(
    run_e2e, claude_bin: str, fake_api: FakeAnthropicAPI, e2e_home: Path, tmp_path: Path
) -> None:
    """A plugin loaded with --plugin-dir validates and its PreToolUse hook applies."""
    plugin = tmp_path / "plugin"
    (plugin / ".claude-plugin").mkdir(parents=True)
    (plugin / "hooks").mkdir()
    (plugin / ".claude-plugin" / "plugin.json").write_text(json.dumps({"name": "harness-probe", "version": "0.0.1"}))
    (plugin / "hooks" / "rewrite.py").write_text(
        "import json, os, sys\n"
        "payload = json.load(sys.stdin)\n"
        "assert os.environ['CLAUDE_PLUGIN_ROOT'] and os.environ['CLAUDE_PROJECT_DIR']\n"
        "tool_input = dict(payload['tool_input'], model='haiku')\n"
        "print(json.dumps({'hookSpecificOutput': {'hookEventName': 'PreToolUse', 'updatedInput': tool_input}}))\n"
    )
    command = 'python3 -S "${CLAUDE_PLUGIN_ROOT}/hooks/rewrite.py"'  # python3 = this interpreter (PATH)
    (plugin / "hooks" / "hooks.json").write_text(
        json.dumps(
            {"hooks": {"PreToolUse": [{"matcher": "Task|Agent", "hooks": [{"type": "command", "command": command}]}]}}
        )
    )

    validated = run_claude_command(["plugin", "validate", str(plugin)], home=e2e_home, claude_bin=claude_bin)
    assert validated.returncode == 0, validated.stdout + validated.stderr
    assert "PreToolUse Task|Agent" in validated.stdout

    fake_api.set_scenario(Scenario(spawns=[Spawn("SUB-0", model="opus", run_in_background=False)]))
    result = run_e2e(plugin_dir=plugin)
    _assert_ok(result)
    assert result.model_for("SUB-0") == "claude-haiku-5-5"
