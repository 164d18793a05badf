"""A hook starts the exporter detached, only when export is configured and the ledger is ahead of
the cursor; the exporter (a real process) then sends what was settled."""

import os
import time

from cco_hooks import export_start
from cco_hooks.export import cursor
from tests.support import ledger_records as lr
from tests.support.hookproc import run_main
from tests.support.otlp_receiver import HttpReceiver


def _wait_for(condition, seconds=60.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return False


def _otel_env(monkeypatch, endpoint):
    for name in list(os.environ):
        if name.startswith("OTEL_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint)
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf")


def test_nothing_is_started_when_the_cursor_has_the_whole_ledger(tmp_path):
    ledger = str(tmp_path / "ledger.jsonl")
    assert export_start.start(ledger) is None  # no ledger yet
    lr.write_ledger(ledger, [lr.spawn()])
    assert export_start._behind(ledger)
    state = cursor.load(ledger)
    for entry in state["signals"].values():
        entry["offset"] = os.path.getsize(ledger)
    cursor.save(ledger, state)
    assert not export_start._behind(ledger)
    assert export_start.start(ledger) is None
    lr.write_ledger(ledger, [lr.spawn()], mode="a")
    assert export_start._behind(ledger)


def test_the_detached_exporter_sends_the_ledger(tmp_path, monkeypatch):
    ledger = lr.write_ledger(tmp_path / "ledger.jsonl", [lr.spawn(), lr.session()])
    with HttpReceiver() as receiver:
        _otel_env(monkeypatch, receiver.endpoint)
        pid = export_start.start(ledger)
        assert isinstance(pid, int)
        assert os.getsid(pid) == pid  # a session of its own: Claude Code's kill of the hook spares it
        assert _wait_for(lambda: len(receiver.received.logs) == 2)
        os.waitpid(pid, 0)
        assert {log.event_name for log in receiver.received.logs} == {"cco_hooks.spawn", "cco_hooks.session"}
    assert not export_start._behind(ledger)


def test_a_stop_hook_process_starts_the_export_when_configured(hooks, monkeypatch):
    lr.write_ledger(hooks.ledger, [lr.spawn(agent_type="settled-earlier")])
    with HttpReceiver() as receiver:
        _otel_env(monkeypatch, receiver.endpoint)
        proc, _ = hooks.run("stop", hooks.base())  # no export configured: nothing is sent
        assert proc.returncode == 0
        assert not os.path.exists(cursor.cursor_path(hooks.ledger))
        hooks.write_user_config("version: 1\nexport: {otlp: true}\n")
        proc, _ = hooks.run("stop", hooks.base())
        assert proc.returncode == 0 and proc.stdout == b""
        assert _wait_for(lambda: len(receiver.received.logs) == 1)
        assert receiver.received.logs[0].attributes["cco_hooks.agent_type"] == "settled-earlier"
        assert _wait_for(lambda: not export_start._behind(hooks.ledger))


def test_every_settling_event_starts_it_and_pre_tool_use_never(hooks, monkeypatch):
    hooks.write_user_config("version: 1\nexport: {otlp: true}\n")
    started = []
    monkeypatch.setattr(export_start, "start", started.append)
    run_main("pre-tool-use", hooks.pre())
    assert started == []
    for event, payload in (
        ("post-tool-use", hooks.post_completed("toolu_1", "a1")),
        ("subagent-stop", hooks.stop("a1")),
        ("stop", hooks.base()),
        ("session-end", hooks.session_event("SessionEnd")),
    ):
        run_main(event, payload)
        assert started[-1:] == [hooks.ledger], event
    assert len(started) == 4
