"""``hook_main.main`` in this process: the event dispatch, what it ignores, and how its own failures fail open."""

import json
import os

import pytest

from cco_hooks import accounting, claude_code, hook_main, paths, policy, snapshot
from tests.support.hookproc import EVENTS, answer, run_main

EXPECTED_EVENTS = "pre-tool-use, post-tool-use, subagent-stop, stop, session-end"


def error_log():
    return os.path.join(paths.state_dir(), "errors.log")


def boom(*_args, **_kwargs):
    raise RuntimeError("boom")


def internal_message(event, outcome="the spawn proceeds unchanged"):
    return (
        f"cco-hooks: internal error in the {event} hook (RuntimeError: boom); {outcome}. "
        f"Details: {error_log()}. Please report it."
    )


# --------------------------------------------------------------------------- dispatch


def test_an_unknown_event_is_one_line_on_stderr_and_exit_0(capsys):
    """An event we do not register: exit 0, nothing on stdout, one line naming it and the known ones."""
    code, out = run_main("pre-compact", {"tool_name": "Agent"})
    assert (code, out) == (0, b"")
    assert capsys.readouterr().err == (
        f"cco-hooks: unknown hook event 'pre-compact'; expected one of {EXPECTED_EVENTS}\n"
    )


def test_no_event_argument_is_an_unknown_event(capsys):
    """``main([])`` is the empty event: exit 0 and the same one line."""
    assert hook_main.main([]) == 0
    assert capsys.readouterr() == ("", f"cco-hooks: unknown hook event ''; expected one of {EXPECTED_EVENTS}\n")


def test_every_registered_event_has_a_handler():
    """The events Claude Code is told to run are exactly the ones main dispatches."""
    assert tuple(hook_main.HANDLERS) == claude_code.HOOK_ARGS


@pytest.mark.parametrize("event", EVENTS)
@pytest.mark.parametrize("stdin", [b"", b"[]", b'"Agent"', b"null", b"{not json", b"\xff\xfe"])
def test_stdin_that_is_not_a_json_object_gives_nothing(hooks, capsys, event, stdin):
    """Empty stdin, a JSON non-object or no JSON at all: exit 0, no output, nothing logged."""
    assert run_main(event, stdin) == (0, b"")
    assert capsys.readouterr().err == ""
    assert not os.path.exists(error_log())


@pytest.mark.parametrize("event", ["pre-tool-use", "post-tool-use"])
@pytest.mark.parametrize("tool_name", ["Bash", "agent", None])
def test_a_tool_that_is_not_a_spawn_is_ignored(hooks, event, tool_name):
    """PreToolUse/PostToolUse for another tool: no answer, and nothing written (no snapshot, ledger or
    pending part), whatever a config says."""
    hooks.write_config("version: 1\nmode: enforce\nagents: {general-purpose: haiku}\n")
    payload = hooks.post_completed("toolu_bash", "a1") if event == "post-tool-use" else hooks.pre("toolu_bash")
    payload["tool_name"] = tool_name
    assert run_main(event, payload) == (0, b"")
    assert not os.path.exists(paths.state_dir())
    assert not os.path.exists(os.path.dirname(hooks.ledger))


# --------------------------------------------------------------------------- internal errors


def test_an_internal_error_fails_open_and_is_told_once(hooks, monkeypatch):
    """A handler that raises: exit 0 with a systemMessage naming the error and the log; the next
    run with the same error is silent."""
    monkeypatch.setattr(accounting, "settle", boom)
    payload = hooks.session_event("Stop")
    code, out = run_main("stop", payload)
    assert code == 0
    assert answer(out) == {"systemMessage": internal_message("stop")}
    assert run_main("stop", payload) == (0, b"")


def test_an_internal_error_is_logged_with_its_traceback(hooks, monkeypatch):
    """Each failing run appends the event and the traceback to errors.log."""
    monkeypatch.setattr(accounting, "settle", boom)
    run_main("stop", hooks.session_event("Stop"))
    run_main("stop", hooks.session_event("Stop"))
    with open(error_log()) as f:
        text = f.read()
    assert text.count(" stop (pid ") == 2
    assert text.count("RuntimeError: boom") == 2 and "Traceback (most recent call last)" in text


def test_a_pre_tool_use_error_without_on_error_block_lets_the_spawn_through(hooks, monkeypatch):
    """on_error: allow (the default): a failing routing decision answers only the systemMessage."""
    monkeypatch.setattr(policy, "decide", boom)
    code, out = run_main("pre-tool-use", hooks.pre())
    assert code == 0
    assert answer(out) == {"systemMessage": internal_message("pre-tool-use")}


def test_a_pre_tool_use_error_with_on_error_block_denies_the_spawn_saying_why(hooks, monkeypatch):
    """on_error: block: the failing PreToolUse answers a deny naming the error, the log and the fix,
    plus the systemMessage the first time."""
    hooks.write_config("version: 1\non_error: block\n")
    monkeypatch.setattr(policy, "decide", boom)
    code, out = run_main("pre-tool-use", hooks.pre())
    assert code == 0
    deny = {
        "hookEventName": "PreToolUse",
        "permissionDecision": "deny",
        "permissionDecisionReason": (
            "cco-hooks: an internal error (RuntimeError), and on_error is block, so the spawn is denied. "
            f"Where: {error_log()}. Fix: please report it; set on_error: allow to let spawns through meanwhile"
        ),
    }
    told = internal_message("pre-tool-use", "the spawn is denied (on_error: block)")
    assert answer(out) == {"hookSpecificOutput": deny, "systemMessage": told}
    assert answer(run_main("pre-tool-use", hooks.pre("toolu_2"))[1]) == {"hookSpecificOutput": deny}


def test_the_message_for_a_blocked_spawn_does_not_say_it_proceeds(hooks, monkeypatch):
    """With on_error: block the spawn is denied, so the systemMessage must not claim it proceeds unchanged."""
    hooks.write_config("version: 1\non_error: block\n")
    monkeypatch.setattr(policy, "decide", boom)
    out = answer(run_main("pre-tool-use", hooks.pre())[1])
    assert out["hookSpecificOutput"]["permissionDecision"] == "deny"
    assert "proceeds unchanged" not in out["systemMessage"]


def test_an_error_in_post_tool_use_with_on_error_block_is_not_a_deny(hooks, monkeypatch):
    """on_error: block is about PreToolUse only: a failing PostToolUse still answers only the message."""
    hooks.write_config("version: 1\non_error: block\n")
    monkeypatch.setattr(accounting, "on_post_tool_use", boom)
    code, out = run_main("post-tool-use", hooks.post_completed("toolu_1", "a1"))
    assert code == 0
    assert answer(out) == {"systemMessage": internal_message("post-tool-use")}


def test_a_pre_tool_use_accounting_error_keeps_the_routing(hooks, monkeypatch):
    """Accounting that raises in PreToolUse leaves the rewrite as decided and adds the message."""
    hooks.write_config("version: 1\nagents: {general-purpose: haiku}\n")
    routed = answer(run_main("pre-tool-use", hooks.pre("toolu_ok"))[1])
    assert routed["hookSpecificOutput"]["updatedInput"]["model"] == "haiku"
    monkeypatch.setattr(accounting, "on_pre_tool_use", boom)
    code, out = run_main("pre-tool-use", hooks.pre("toolu_ok"))
    assert code == 0
    told = internal_message(
        "pre-tool-use accounting", "the spawn proceeds as routed, but may be missing from the ledger"
    )
    assert answer(out) == dict(routed, systemMessage=told)


def test_a_closed_stdout_still_exits_0(hooks, monkeypatch):
    """An answer that cannot be written (stdout closed) is dropped: exit 0, no exception."""
    monkeypatch.setattr(accounting, "settle", boom)
    monkeypatch.setattr(hook_main.hookio, "emit", boom)
    assert run_main("stop", hooks.session_event("Stop")) == (0, b"")


# --------------------------------------------------------------------------- a broken config layer

BROKEN_YAML = "version: 1\nagents: [unclosed\n"


def broken_layers(hooks):
    broken = snapshot.load(str(hooks.project))["broken"]
    assert len(broken) == 1 and str(hooks.project / ".claude" / "cco-hooks.yaml") in broken[0]
    return broken


def test_a_broken_layer_leaves_spawns_unchanged_and_is_told_once(hooks):
    """on_error: allow: no routing answer, the broken layer told once, then nothing."""
    hooks.write_config(BROKEN_YAML)
    [broken] = broken_layers(hooks)
    message = f"cco-hooks: a config layer is broken, so spawns are left unchanged: {broken}"
    assert answer(run_main("pre-tool-use", hooks.pre("toolu_1"))[1]) == {"systemMessage": message}
    assert run_main("pre-tool-use", hooks.pre("toolu_2")) == (0, b"")


def test_a_broken_layer_is_told_once_per_session_while_it_stays_broken(hooks):
    """Seven spawns a session launches in parallel (real hook processes): exactly one carries the
    notice. A later session is told again while the layer is still broken; the first one is not."""
    hooks.write_config(BROKEN_YAML)
    [broken] = broken_layers(hooks)
    message = f"cco-hooks: a config layer is broken, so spawns are left unchanged: {broken}"
    procs = [hooks.start("pre-tool-use") for _ in range(7)]
    answers = [
        answer(proc.communicate(json.dumps(hooks.pre(f"toolu_p{i}")).encode(), timeout=60)[0])
        for i, proc in enumerate(procs)
    ]
    assert sorted(answers, key=lambda a: a is None) == [{"systemMessage": message}] + [None] * 6
    assert hooks.run("pre-tool-use", hooks.pre("toolu_again"))[0].stdout == b""
    later = hooks.in_session(hooks.pre("toolu_later"), "5e55-later")
    assert answer(hooks.run("pre-tool-use", later)[0].stdout) == {"systemMessage": message}
    assert hooks.run("pre-tool-use", hooks.in_session(hooks.pre("toolu_later2"), "5e55-later"))[0].stdout == b""


def test_a_fixed_then_broken_again_layer_is_told_again_in_the_same_session(hooks):
    """The notice is about this breakage: a layer fixed and then broken another way is news."""
    hooks.write_config(BROKEN_YAML)
    assert answer(run_main("pre-tool-use", hooks.pre("toolu_1"))[1])["systemMessage"]
    hooks.write_config("version: 1\n")
    assert run_main("pre-tool-use", hooks.pre("toolu_2")) == (0, b"")
    hooks.write_config("version: 1\nagents: {unclosed\n")
    out = answer(run_main("pre-tool-use", hooks.pre("toolu_3"))[1])
    assert out["systemMessage"].startswith("cco-hooks: a config layer is broken")


def test_a_broken_layer_with_on_error_block_denies_naming_the_layer(hooks):
    """on_error: block in the user layer and a broken project layer: every spawn is denied, saying
    where and how to fix it; the systemMessage comes once."""
    hooks.config.mkdir(parents=True, exist_ok=True)
    (hooks.config / "cco-hooks.yaml").write_text("version: 1\non_error: block\n")
    hooks.write_config(BROKEN_YAML)
    [broken] = broken_layers(hooks)
    deny = {
        "hookEventName": "PreToolUse",
        "permissionDecision": "deny",
        "permissionDecisionReason": (
            "cco-hooks: a config layer is broken, and on_error is block, so the spawn is denied. "
            f"Where: {broken.removeprefix('error: ').rstrip('.')}. "
            "Fix: correct it (`cco-hooks config validate` lists every problem), or set on_error: allow"
        ),
    }
    message = (
        f"cco-hooks: a config layer is broken, so spawns are left unchanged (on_error: block denies them): {broken}"
    )
    assert answer(run_main("pre-tool-use", hooks.pre("toolu_1"))[1]) == {
        "hookSpecificOutput": deny,
        "systemMessage": message,
    }
    assert answer(run_main("pre-tool-use", hooks.pre("toolu_2"))[1]) == {"hookSpecificOutput": deny}


def test_the_deny_for_a_broken_layer_does_not_say_spawns_are_left_unchanged(hooks):
    """The reason a denied spawn is given must not claim spawns are left unchanged, nor end a sentence twice."""
    hooks.config.mkdir(parents=True, exist_ok=True)
    (hooks.config / "cco-hooks.yaml").write_text("version: 1\non_error: block\n")
    hooks.write_config(BROKEN_YAML)
    out = answer(run_main("pre-tool-use", hooks.pre("toolu_1"))[1])
    reason = out["hookSpecificOutput"]["permissionDecisionReason"]
    assert "unchanged" not in reason and ".." not in reason
