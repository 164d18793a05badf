"""Hook I/O: reading the payload, printing the answer, telling the user once, logging errors, lazy imports."""

import io
import json
import os
import stat
import sys

import pytest

from cco_hooks import hookio
from tests.support.controls import ALL_RAW, ALL_SPELT, assert_shown_not_run
from tests.support.hookproc import Hooks, answer, check_answer


class Raising(io.RawIOBase):
    def __init__(self, exc):
        self.exc = exc

    def read(self, _n=-1):
        raise self.exc


def fake_stdout(monkeypatch):
    out = io.BytesIO()
    monkeypatch.setattr(sys, "stdout", io.TextIOWrapper(out, write_through=True))
    return out


def exc_info(message):
    try:
        raise ValueError(message)
    except ValueError:
        return sys.exc_info()


# --------------------------------------------------------------------------- read_payload


def test_read_payload_returns_the_object():
    """A JSON object on stdin is returned as a dict."""
    raw = b'{"tool_name": "Agent", "n": [1, 2]}'
    assert hookio.read_payload(io.BytesIO(raw)) == {"tool_name": "Agent", "n": [1, 2]}


@pytest.mark.parametrize("raw", [b"", b"[]", b"1", b'"x"', b"null", b"true"])
def test_read_payload_refuses_what_is_not_an_object(raw):
    """Empty input and any JSON value but an object: ``None``."""
    assert hookio.read_payload(io.BytesIO(raw)) is None


@pytest.mark.parametrize("raw", [b"{", b"{'a': 1}", b"\xff\xfe{}", b'{"a": 1} {"b": 2}', b"[" * 100_000])
def test_read_payload_refuses_invalid_json(raw):
    """Invalid, non-UTF-8, two objects, nesting past the recursion limit: ``None``."""
    assert hookio.read_payload(io.BytesIO(raw)) is None


def test_read_payload_takes_a_payload_of_exactly_the_limit(monkeypatch):
    """A payload of MAX_PAYLOAD_BYTES bytes is read."""
    monkeypatch.setattr(hookio, "MAX_PAYLOAD_BYTES", 16)
    raw = b'{"a": "' + b"x" * 7 + b'"}'
    assert len(raw) == 16
    assert hookio.read_payload(io.BytesIO(raw)) == {"a": "xxxxxxx"}


def test_read_payload_refuses_a_payload_over_the_limit(monkeypatch):
    """One byte over MAX_PAYLOAD_BYTES: ``None``, even though it is valid JSON."""
    monkeypatch.setattr(hookio, "MAX_PAYLOAD_BYTES", 16)
    raw = b'{"a": "' + b"x" * 8 + b'"}'
    assert len(raw) == 17
    assert hookio.read_payload(io.BytesIO(raw)) is None


def test_the_payload_limit_is_64_mib():
    """The documented limit: 64 MiB."""
    assert hookio.MAX_PAYLOAD_BYTES == 64 * 1024 * 1024


@pytest.mark.parametrize("exc", [OSError(5, "EIO"), ValueError("I/O operation on closed file")])
def test_read_payload_of_a_stream_that_raises_is_none(exc):
    """A read error or a closed stdin: ``None``, never an exception."""
    assert hookio.read_payload(Raising(exc)) is None


def test_read_payload_reads_sys_stdin_by_default(monkeypatch):
    """Without a stream, the bytes of sys.stdin are read."""
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b'{"cwd": "/p"}')))
    assert hookio.read_payload() == {"cwd": "/p"}


# --------------------------------------------------------------------------- emit


def test_emit_prints_one_ascii_json_line(monkeypatch):
    """An object is printed as one line of ASCII JSON (non-ASCII escaped)."""
    out = fake_stdout(monkeypatch)
    hookio.emit({"systemMessage": "café"})
    assert out.getvalue() == b'{"systemMessage":"caf\\u00e9"}\n'


def test_emit_spells_out_the_shown_texts_and_passes_the_input_on_exactly(monkeypatch):
    """The message and the reasons Claude Code shows are spelt visibly; ``updatedInput``, the
    spawn's own input, goes on byte for byte (escaping it would change the subagent's prompt)."""
    out = fake_stdout(monkeypatch)
    hookio.emit(
        {
            "systemMessage": f"m {ALL_RAW}",
            "hookSpecificOutput": {
                "hookEventName": "PreToolUse",
                "permissionDecisionReason": f"r {ALL_RAW}",
                "additionalContext": f"c {ALL_RAW}",
                "updatedInput": {"prompt": f"p {ALL_RAW}", "model": "haiku"},
            },
        }
    )
    obj = json.loads(out.getvalue())
    assert obj["systemMessage"] == f"m {ALL_SPELT}"
    assert obj["hookSpecificOutput"]["permissionDecisionReason"] == f"r {ALL_SPELT}"
    assert obj["hookSpecificOutput"]["additionalContext"] == f"c {ALL_SPELT}"
    assert obj["hookSpecificOutput"]["updatedInput"] == {"prompt": f"p {ALL_RAW}", "model": "haiku"}


def test_a_real_hook_denial_shows_a_hostile_project_and_agent_spelt_out(tmp_path, monkeypatch):
    """Enforce in a repository cloned under a hostile name, for a spawn of a hostile agent type: the
    real PreToolUse process's deny reason names both, spelt out, with no raw control character."""
    monkeypatch.chdir(tmp_path)
    hooks = Hooks(tmp_path, project=tmp_path / ALL_RAW)
    hooks.write_config(f"version: 1\nmode: enforce\nagents: {{{json.dumps(ALL_RAW)}: haiku}}\n")
    proc, _ = hooks.run("pre-tool-use", hooks.pre(subagent_type=ALL_RAW, model="opus"))
    assert proc.returncode == 0, proc.stderr
    check_answer("pre-tool-use", proc.stdout)
    spec = answer(proc.stdout)["hookSpecificOutput"]
    assert spec["permissionDecision"] == "deny"
    reason = spec["permissionDecisionReason"]
    assert_shown_not_run(reason, keep="")
    assert f"{tmp_path}/{ALL_SPELT}/.claude/cco-hooks.yaml" in reason  # the rule's file, whole


def test_a_real_hook_system_message_shows_a_hostile_config_key_spelt_out(hooks):
    """A config problem under a hostile key reaches the user as the real hook's systemMessage with
    the key spelt out, and no raw control character."""
    hooks.write_config(f"version: 1\nagents: {{{json.dumps(ALL_RAW)}: sonet}}\n")
    proc, _ = hooks.run("pre-tool-use", hooks.pre())
    assert proc.returncode == 0, proc.stderr
    check_answer("pre-tool-use", proc.stdout)
    message = answer(proc.stdout)["systemMessage"]
    assert "config problem" in message
    assert_shown_not_run(message, keep="")
    assert f"agents.{ALL_SPELT}" in message


def test_emit_none_prints_nothing(monkeypatch):
    """``None``: not even a newline."""
    out = fake_stdout(monkeypatch)
    hookio.emit(None)
    assert out.getvalue() == b""


# --------------------------------------------------------------------------- tell_once


def test_tell_once_returns_the_message_the_first_time_only(tmp_path):
    """First call: the message; every later call for the same topic: ``None``."""
    env = {"CLAUDE_CONFIG_DIR": str(tmp_path / "claude")}
    assert hookio.tell_once("topic-a", "hello", env) == "hello"
    assert hookio.tell_once("topic-a", "hello again", env) is None
    assert hookio.tell_once("topic-a", "hello", env) is None


def test_tell_once_topics_are_independent(tmp_path):
    """Another topic is told even after the first one was."""
    env = {"CLAUDE_CONFIG_DIR": str(tmp_path / "claude")}
    assert hookio.tell_once("topic-a", "a", env) == "a"
    assert hookio.tell_once("topic-b", "b", env) == "b"


def test_tell_once_leaves_a_private_marker(tmp_path):
    """The marker lives in <state>/told, in a 0700 directory, as a 0600 file."""
    env = {"CLAUDE_CONFIG_DIR": str(tmp_path / "claude")}
    hookio.tell_once("topic-a", "a", env)
    told = tmp_path / "claude" / "cco-hooks" / "told"
    [marker] = told.iterdir()
    assert stat.S_IMODE(told.stat().st_mode) == 0o700
    assert stat.S_IMODE(marker.stat().st_mode) == 0o600


def test_tell_once_tells_when_the_marker_dir_cannot_be_created(tmp_path):
    """If the marker cannot be written the message is returned every time: better told twice than never."""
    blocker = tmp_path / "claude"
    blocker.write_text("a file where the config dir should be")
    env = {"CLAUDE_CONFIG_DIR": str(blocker)}
    assert hookio.tell_once("topic-a", "a", env) == "a"
    assert hookio.tell_once("topic-a", "a", env) == "a"


# --------------------------------------------------------------------------- log_error


def test_log_error_writes_a_private_file_with_the_traceback(tmp_path):
    """errors.log is created 0600 and holds the event and the traceback; its path is returned."""
    env = {"CLAUDE_CONFIG_DIR": str(tmp_path / "claude")}
    path = hookio.log_error("stop", exc_info("first failure"), env)
    assert path == str(tmp_path / "claude" / "cco-hooks" / "errors.log")
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    text = open(path).read()
    assert text.startswith("--- ") and f" stop (pid {os.getpid()})\n" in text
    assert "Traceback (most recent call last)" in text and text.endswith("ValueError: first failure\n")


def test_log_error_appends(tmp_path):
    """A second error is added after the first; nothing is overwritten."""
    env = {"CLAUDE_CONFIG_DIR": str(tmp_path / "claude")}
    path = hookio.log_error("stop", exc_info("first failure"), env)
    hookio.log_error("session-end", exc_info("second failure"), env)
    text = open(path).read()
    assert text.count("--- ") == 2
    assert text.index("first failure") < text.index(" session-end (pid ") < text.index("second failure")


def test_log_error_makes_an_existing_wide_log_private(tmp_path):
    """An errors.log left 0644 (tracebacks hold paths and payloads) is 0600 after the next error,
    its old text kept."""
    env = {"CLAUDE_CONFIG_DIR": str(tmp_path / "claude")}
    log = tmp_path / "claude" / "cco-hooks" / "errors.log"
    log.parent.mkdir(parents=True)
    log.write_text("--- earlier\n")
    log.chmod(0o644)
    hookio.log_error("stop", exc_info("later failure"), env)
    assert stat.S_IMODE(os.stat(log).st_mode) == 0o600
    text = log.read_text()
    assert text.startswith("--- earlier\n") and text.endswith("ValueError: later failure\n")


def test_a_failing_hook_process_makes_an_existing_wide_errors_log_private(hooks):
    """In a real hook process whose settling fails: the error is appended to the 0644 errors.log,
    which is 0600 afterwards."""
    log = hooks.config / "cco-hooks" / "errors.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    log.write_text("--- earlier\n")
    log.chmod(0o644)
    failing_stop = (
        "import sys\n"
        "from cco_hooks import accounting, hook_main\n"
        "def boom(*args, **kwargs):\n"
        "    raise RuntimeError('settling failed')\n"
        "accounting.settle = boom\n"
        "sys.exit(hook_main.main(['stop']))\n"
    )
    proc = hooks.start("stop", argv=[sys.executable, "-c", failing_stop])
    out, err = proc.communicate(json.dumps(hooks.session_event("Stop")).encode(), timeout=60)
    assert proc.returncode == 0, err
    assert b"internal error in the stop hook" in out
    assert stat.S_IMODE(os.stat(log).st_mode) == 0o600
    text = log.read_text()
    assert text.startswith("--- earlier\n") and "RuntimeError: settling failed" in text


def test_log_error_that_cannot_write_still_returns_the_path(tmp_path):
    """An unwritable state dir: no exception, and the path the user would look at."""
    blocker = tmp_path / "claude"
    blocker.write_text("not a directory")
    env = {"CLAUDE_CONFIG_DIR": str(blocker)}
    assert hookio.log_error("stop", exc_info("lost"), env) == os.path.join(str(blocker), "cco-hooks", "errors.log")


def test_internal_error_message_is_cut_at_200_characters():
    """The message names the event, the type and at most 200 characters of the error, and the log."""
    text = hookio.internal_error_message("stop", ValueError("x" * 500), "/l/errors.log")
    assert text == (
        f"cco-hooks: internal error in the stop hook (ValueError: {'x' * 200}); the spawn proceeds unchanged. "
        "Details: /l/errors.log. Please report it."
    )


# --------------------------------------------------------------------------- OnFirstUse


def test_on_first_use_does_not_import_before_an_attribute_is_used(monkeypatch):
    """Creating the stand-in imports nothing and leaves it in the namespace."""
    monkeypatch.delitem(sys.modules, "cco_hooks.coerce", raising=False)
    monkeypatch.delattr("cco_hooks.coerce", raising=False)
    namespace = {}
    stand_in = hookio.OnFirstUse("coerce", namespace)
    namespace["coerce"] = stand_in
    assert "cco_hooks.coerce" not in sys.modules
    assert namespace["coerce"] is stand_in


def test_on_first_use_imports_and_replaces_itself_on_first_attribute_access(monkeypatch):
    """The first attribute access imports the module, returns its attribute and puts the module in the namespace."""
    monkeypatch.delitem(sys.modules, "cco_hooks.coerce", raising=False)
    monkeypatch.delattr("cco_hooks.coerce", raising=False)
    namespace = {}
    namespace["coerce"] = hookio.OnFirstUse("coerce", namespace)
    assert namespace["coerce"].text("ab") == "ab"
    assert namespace["coerce"] is sys.modules["cco_hooks.coerce"]


# --------------------------------------------------------------------------- the wait deadline


@pytest.fixture
def no_deadline_after():
    yield
    hookio.clear_deadline()


def test_each_hook_waits_in_all_well_inside_its_registered_timeout(no_deadline_after):
    """The process's deadline: PreToolUse (10 s registered) waits 5 s in all, the others (30 s)
    20 s; every wait ends by it, however long it asked for."""
    from cco_hooks import claude_code

    for _event, arg, _matcher, registered in claude_code.HOOK_EVENTS:
        budget = hookio.start_deadline(arg, now=1000.0) - 1000.0
        assert budget + 5 <= registered  # at least 5 s left for the work itself
        assert hookio.wait_until(3600.0, now=1000.0) == 1000.0 + budget  # a long wait: cut
        assert hookio.wait_until(0.5, now=1000.0) == 1000.5  # a short one: its own
        assert hookio.wait_until(10.0, now=1000.0 + budget + 1) == 1000.0 + budget  # past it: none
    assert hookio.start_deadline("pre-tool-use", now=0.0) == 5.0
    hookio.clear_deadline()
    assert hookio.wait_until(10.0, now=50.0) == 60.0  # the CLI: no process deadline


def test_stdin_still_open_at_the_deadline_raises_payload_timeout(no_deadline_after):
    """A pipe whose writer never closes it: the read gives up at the deadline (here already past),
    whatever part of a payload it has."""
    read_end, write_end = os.pipe()
    try:
        os.write(write_end, b'{"tool_name": "Agent", ')
        hookio.start_deadline("pre-tool-use", now=-100.0)
        with open(read_end, "rb", buffering=0, closefd=False) as stream:
            with pytest.raises(hookio.PayloadTimeout):
                hookio.read_payload(stream)
    finally:
        os.close(read_end)
        os.close(write_end)


def test_a_payload_on_a_closed_pipe_is_read_whole_within_the_deadline(no_deadline_after):
    read_end, write_end = os.pipe()
    payload = b'{"tool_name": "Agent", "pad": "' + b"x" * 300_000 + b'"}'

    import threading

    def write():
        with open(write_end, "wb") as f:
            f.write(payload)

    writer = threading.Thread(target=write)
    writer.start()
    hookio.start_deadline("pre-tool-use")
    with open(read_end, "rb") as stream:
        assert hookio.read_payload(stream) == {"tool_name": "Agent", "pad": "x" * 300_000}
    writer.join()


def test_a_payload_over_the_size_cap_on_a_pipe_is_refused(no_deadline_after, monkeypatch):
    monkeypatch.setattr(hookio, "MAX_PAYLOAD_BYTES", 1000)
    read_end, write_end = os.pipe()
    os.write(write_end, b'{"a": "' + b"x" * 5000 + b'"}')
    os.close(write_end)
    hookio.start_deadline("stop")
    with open(read_end, "rb") as stream:
        assert hookio.read_payload(stream) is None
