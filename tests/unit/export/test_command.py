"""``cco-hooks export`` against an OTLP receiver on 127.0.0.1: what is sent, and that each record
is sent once across runs, refusals, an unreachable collector and a crash after the acknowledgement."""

import datetime as dt
import json
import os
import socket
import stat

import pytest

from cco_hooks.errors import CcoHooksError
from cco_hooks.export import command, cursor
from tests.support import ledger_records as lr
from tests.support.otlp_receiver import GrpcReceiver


def _ledger(tmp_path, items):
    return lr.write_ledger(tmp_path / "state" / "ledger.jsonl", items)


def _records():
    return [
        lr.spawn(),
        lr.spawn(agent_type="code-reviewer", cost_usd=0.2, requested_cost_usd=0.1, savings_usd=-0.1, action="rewrite"),
        lr.denied(agent_type="python-pro"),
        lr.unpriced(agent_type="python-pro"),
        lr.session(cost=1.5),
    ]


def _sum(received, name, **attributes):
    return sum(p.value for p in received.points_named(name, **attributes))


def run(ledger, **kwargs):
    lines = []
    code = command.run_export(ledger=ledger, out=lines.append, **kwargs)
    return code, "\n".join(lines)


def test_spawns_and_sessions_become_metrics_and_log_records(tmp_path, receiver, otel_env):
    otel_env.setenv("OTEL_RESOURCE_ATTRIBUTES", "team=platform,deployment.environment=dev")
    otel_env.setenv("OTEL_EXPORTER_OTLP_HEADERS", "authorization=Bearer t0ken")
    ledger = _ledger(tmp_path, _records())
    code, text = run(ledger)
    assert code == 0, text
    assert "exported 5 record(s) as metrics, 5 record(s) as logs" in text

    cost = "cco_hooks.subagent.cost.usage"
    assert _sum(receiver, cost, **{"gen_ai.agent.name": "python-pro"}) == pytest.approx(0.0123)
    assert _sum(receiver, cost, **{"cco_hooks.agent_type": "code-reviewer"}) == pytest.approx(0.2)
    assert _sum(receiver, "cco_hooks.subagent.requested_cost.usage") == pytest.approx(0.15)
    assert _sum(receiver, "cco_hooks.subagent.savings", **{"cco_hooks.agent_type": "code-reviewer"}) == pytest.approx(
        -0.1
    )
    assert _sum(receiver, "cco_hooks.subagent.count") == 4
    assert (
        _sum(receiver, "cco_hooks.subagent.count", **{"cco_hooks.status": "denied", "cco_hooks.decision": "deny"}) == 1
    )
    # tokens by kind, under Claude Code's own type names; both cache writes are cacheCreation
    tokens = "cco_hooks.subagent.token.usage"
    base = lr.BASE_SPAWN["tokens"]
    assert _sum(receiver, tokens, type="cacheRead", **{"cco_hooks.agent_type": "code-reviewer"}) == base["cache_read"]
    assert _sum(receiver, tokens, type="cacheCreation", **{"cco_hooks.agent_type": "code-reviewer"}) == (
        base["cache_write_5m"] + base["cache_write_1h"]
    )
    assert (
        _sum(receiver, tokens, **{"gen_ai.token.type": "output", "cco_hooks.status": "completed"}) == 2 * base["output"]
    )
    [session_point] = receiver.points_named("cco_hooks.session.cost")
    assert session_point.kind == "gauge" and session_point.value == 1.5
    assert session_point.attributes["session.id"] == lr.SESSION_A

    point = receiver.points_named(cost, **{"cco_hooks.agent_type": "python-pro"})[0]
    assert point.temporality == 1 and point.monotonic  # delta, as Claude Code's default
    assert point.unit == "USD" and point.scope == "cco_hooks"
    attrs = point.attributes
    assert attrs["gen_ai.request.model"] == "claude-sonnet-5-5"
    assert attrs["gen_ai.response.model"] == attrs["cco_hooks.actual_model"] == "claude-haiku-5-5"
    assert attrs["cco_hooks.enforced_model"] == "haiku"
    assert attrs["cco_hooks.decision"] == "rewrite" and attrs["cco_hooks.rule"] == "python-pro"
    assert attrs["cco_hooks.project"] == "/home/dev/proj" and attrs["session.id"] == lr.SESSION_A
    assert point.resource["service.name"] == "cco-hooks"
    assert point.resource["team"] == "platform" and point.resource["deployment.environment"] == "dev"

    logs = receiver.logs_of("cco_hooks")
    assert [log.event_name for log in logs] == ["cco_hooks.spawn"] * 4 + ["cco_hooks.session"]
    assert len({log.attributes["cco_hooks.record.id"] for log in logs}) == 5
    first = logs[0]
    assert first.attributes["cco_hooks.cost_usd"] == pytest.approx(0.0123)
    assert first.attributes["cco_hooks.tokens.cache_read"] == base["cache_read"]
    record_time = dt.datetime(2026, 11, 25, 20, 12, 51, 166000, tzinfo=dt.timezone.utc)
    assert first.time_unix_nano == round(record_time.timestamp() * 1000) * 1_000_000  # the record's own ts
    assert logs[-1].attributes["cco_hooks.session_cost_usd"] == 1.5
    assert "description" not in json.dumps([log.attributes for log in logs])  # no prompt-derived text
    assert all(h.get("authorization") == "Bearer t0ken" for h in receiver.headers)


def test_each_record_is_sent_once_across_runs(tmp_path, receiver):
    ledger = _ledger(tmp_path, _records())
    assert run(ledger)[0] == 0
    assert run(ledger)[0] == 0  # nothing new
    assert _sum(receiver, "cco_hooks.subagent.count") == 4 and len(receiver.logs) == 5
    lr.write_ledger(ledger, [lr.spawn(agent_type="late-one")], mode="a")
    code, text = run(ledger)
    assert code == 0 and "exported 1 record(s) as metrics" in text
    assert _sum(receiver, "cco_hooks.subagent.count") == 5 and len(receiver.logs) == 6
    assert mode_of(cursor.cursor_path(ledger)) == 0o600


def mode_of(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def test_a_torn_last_line_waits_for_its_end(tmp_path, receiver):
    ledger = _ledger(tmp_path, [lr.spawn(), lr.line(lr.spawn(agent_type="half"))[:40]])
    assert run(ledger)[0] == 0
    assert len(receiver.logs) == 1
    with open(ledger, "a") as f:
        f.write(lr.line(lr.spawn(agent_type="half"))[40:])
    assert run(ledger)[0] == 0
    assert [log.attributes["cco_hooks.agent_type"] for log in receiver.logs] == ["python-pro", "half"]


def test_a_refusing_collector_loses_nothing(tmp_path, receiver):
    ledger = _ledger(tmp_path, _records())
    receiver.refuse = True
    code, text = run(ledger)
    assert code == 1 and "nothing was lost" in text
    assert receiver.points == [] and receiver.logs == []
    state = cursor.load(ledger)
    assert all(state["signals"][s] == {"offset": 0, "inflight": None} for s in cursor.SIGNALS)
    receiver.refuse = False
    assert run(ledger)[0] == 0
    assert _sum(receiver, "cco_hooks.subagent.count") == 4 and len(receiver.logs) == 5


def test_an_unreachable_collector_loses_nothing(tmp_path, otel_env):
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    otel_env.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", f"http://127.0.0.1:{port}")
    otel_env.setenv("OTEL_EXPORTER_OTLP_TIMEOUT", "1000")
    ledger = _ledger(tmp_path, _records())
    code, text = run(ledger)
    assert code == 1 and f"127.0.0.1:{port}" in text
    assert cursor.load(ledger)["signals"]["metrics"]["offset"] == 0


def test_a_crash_after_the_acknowledgement_resends_the_batch_marked_as_a_retry(tmp_path, receiver, monkeypatch):
    """The one window: the collector took the batch, the process died before the cursor moved. The
    batch goes again (never lost), its log records marked as a retry with the same record ids."""
    ledger = _ledger(tmp_path, _records())
    real_save = cursor.save

    def save_then_die_after_the_ack(path, state):
        if any(entry["offset"] > 0 and entry["inflight"] is None for entry in state["signals"].values()):
            raise KeyboardInterrupt("killed between the acknowledgement and the cursor write")
        real_save(path, state)

    monkeypatch.setattr(cursor, "save", save_then_die_after_the_ack)
    with pytest.raises(KeyboardInterrupt):
        command.run_export(ledger=ledger, out=lambda _: None)
    monkeypatch.setattr(cursor, "save", real_save)
    first_ids = [log.attributes["cco_hooks.record.id"] for log in receiver.logs]
    assert receiver.requests["metrics"] == 1 and first_ids == []  # metrics went first, then the crash
    assert cursor.load(ledger)["signals"]["metrics"]["inflight"] is not None
    assert run(ledger)[0] == 0
    assert _sum(receiver, "cco_hooks.subagent.count") == 8  # the metrics batch, twice
    assert len(receiver.logs) == 5 and not any("cco_hooks.export.retry" in log.attributes for log in receiver.logs)
    assert run(ledger)[0] == 0 and len(receiver.logs) == 5


def test_a_log_batch_resent_after_a_crash_carries_the_same_ids(tmp_path, receiver, otel_env, monkeypatch):
    otel_env.setenv("OTEL_LOGS_EXPORTER", "otlp")  # logs only
    ledger = _ledger(tmp_path, _records())
    real_save = cursor.save

    def die_after_the_ack(path, state):
        if state["signals"]["logs"]["offset"] > 0:
            raise KeyboardInterrupt
        real_save(path, state)

    monkeypatch.setattr(cursor, "save", die_after_the_ack)
    with pytest.raises(KeyboardInterrupt):
        command.run_export(ledger=ledger, out=lambda _: None)
    monkeypatch.setattr(cursor, "save", real_save)
    assert run(ledger)[0] == 0
    first, again = receiver.logs[:5], receiver.logs[5:]
    assert [log.attributes["cco_hooks.record.id"] for log in again] == [
        log.attributes["cco_hooks.record.id"] for log in first
    ]
    assert all(log.attributes.get("cco_hooks.export.retry") is True for log in again)
    assert receiver.points == []


def test_only_the_signals_the_otel_exporter_variables_name(tmp_path, receiver, otel_env):
    otel_env.setenv("OTEL_METRICS_EXPORTER", "otlp")
    otel_env.setenv("OTEL_LOGS_EXPORTER", "none")
    assert run(_ledger(tmp_path, _records()))[0] == 0
    assert receiver.points and receiver.logs == []


def test_over_grpc(tmp_path, otel_env):
    with GrpcReceiver() as r:
        otel_env.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", r.endpoint)
        otel_env.setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc")
        code, text = run(_ledger(tmp_path, _records()))
        assert code == 0, text
        assert _sum(r.received, "cco_hooks.subagent.cost.usage") == pytest.approx(0.2123)
        assert len(r.received.logs) == 5


def test_a_protocol_we_cannot_send_is_an_error_naming_the_fix(tmp_path, receiver, otel_env):
    otel_env.setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "http/json")
    with pytest.raises(CcoHooksError, match="http/protobuf or grpc"):
        run(_ledger(tmp_path, _records()))
    assert receiver.requests == {"metrics": 0, "logs": 0}


def test_a_background_export_leaves_when_another_runs(tmp_path, receiver):
    ledger = _ledger(tmp_path, _records())
    with cursor.exclusive(ledger) as ok:
        assert ok
        assert run(ledger, background=True) == (0, "")
        assert run(ledger, wait_s=0.2)[0] == 1
    assert receiver.points == []
    assert run(ledger)[0] == 0 and len(receiver.logs) == 5


def test_a_replaced_ledger_is_exported_from_its_start(tmp_path, receiver):
    ledger = _ledger(tmp_path, _records())
    assert run(ledger)[0] == 0
    os.unlink(ledger)
    _ledger(tmp_path, [lr.spawn(agent_type="after-rotation")])
    code, text = run(ledger)
    assert code == 0 and "from its start" in text
    assert receiver.logs[-1].attributes["cco_hooks.agent_type"] == "after-rotation" and len(receiver.logs) == 6


def test_claude_codes_user_and_managed_settings_configure_the_export(tmp_path, otel_env, project):
    """Claude Code strips OTEL_* from its hooks' environment: the exporter a hook starts reads them
    from the settings' env blocks, the user's and the managed ones (managed wins); a variable of its
    own environment wins over both; a project's settings are never read."""
    from cco_hooks import paths
    from cco_hooks.export import otlp

    user_settings = os.path.join(paths.claude_config_dir(), "settings.json")
    os.makedirs(os.path.dirname(user_settings), exist_ok=True)
    with open(user_settings, "w") as f:
        json.dump({"env": {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://user:4318", "OTEL_SERVICE_NAME": "mine"}}, f)
    managed = tmp_path / "managed-settings.json"
    managed.write_text(json.dumps({"env": {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://managed:4318", "PATH": "/x"}}))
    project.write_config(json.dumps({"env": {"OTEL_EXPORTER_OTLP_HEADERS": "x=1"}}), name="settings.json")
    env = {"CCO_HOOKS_MANAGED_SETTINGS": str(managed), "HOME": os.environ["HOME"], "CLAUDE_PROJECT_DIR": "x"}
    env["CLAUDE_CONFIG_DIR"] = paths.claude_config_dir()
    merged = otlp.otel_environment(env)
    assert merged["OTEL_EXPORTER_OTLP_ENDPOINT"] == "http://managed:4318"
    assert merged["OTEL_SERVICE_NAME"] == "mine"
    assert "OTEL_EXPORTER_OTLP_HEADERS" not in merged and "PATH" not in merged
    own = otlp.otel_environment(dict(env, OTEL_EXPORTER_OTLP_ENDPOINT="http://own:4318"))
    assert own["OTEL_EXPORTER_OTLP_ENDPOINT"] == "http://own:4318"


def test_the_export_runs_on_the_settings_endpoint_and_leaves_the_environment_as_it_was(tmp_path, otel_env):
    from cco_hooks import paths
    from tests.support.otlp_receiver import HttpReceiver

    with HttpReceiver() as r:
        user_settings = os.path.join(paths.claude_config_dir(), "settings.json")
        os.makedirs(os.path.dirname(user_settings), exist_ok=True)
        with open(user_settings, "w") as f:
            json.dump({"env": {"OTEL_EXPORTER_OTLP_ENDPOINT": r.endpoint, "OTEL_LOGS_EXPORTER": "otlp"}}, f)
        before = dict(os.environ)
        assert run(_ledger(tmp_path, _records()))[0] == 0
        assert dict(os.environ) == before
        assert len(r.received.logs) == 5 and r.received.points == []
