"""Ledger records as OpenTelemetry metrics and log records, sent by the SDK's OTLP exporters.

Needs the ``otel`` extra (``pip install 'cco-hooks[otel]'``: opentelemetry-sdk and the OTLP
exporters over http/protobuf and gRPC); only ``cco-hooks export`` imports it, never a hook.

Configured as Claude Code's own telemetry is, by the standard variables, so both land in the same
collector: ``OTEL_METRICS_EXPORTER`` / ``OTEL_LOGS_EXPORTER`` (a signal is sent when its variable
names ``otlp``, or when neither variable is set), ``OTEL_EXPORTER_OTLP[_METRICS|_LOGS]_PROTOCOL``
(``http/protobuf``, the default, or ``grpc``), ``..._ENDPOINT``, ``..._HEADERS``, ``..._TIMEOUT`` (ms),
``OTEL_RESOURCE_ATTRIBUTES`` and ``OTEL_SERVICE_NAME`` (default ``cco-hooks``). Metrics are delta
sums, as Claude Code sends its own unless ``OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE``
says otherwise: each batch carries exactly the records in it, so a batch is never counted twice
by a backend unless it was sent twice (``export/cursor.py`` says when that can happen).

Names: the ``gen_ai.*`` attributes of OpenTelemetry's semantic conventions where one fits (the
agent's name, the requested and the response model, the provider, the token type), Claude Code's
own ``session.id``, ``user.id`` (its anonymous device id, read from its ``.claude.json``) and
``type`` for tokens (``input``, ``output``, ``cacheRead``, ``cacheCreation``, as in
``claude_code.token.usage``), and ``cco_hooks.*`` for the rest.
"""

from __future__ import annotations

import os

from cco_hooks import coerce, paths
from cco_hooks.errors import CcoHooksError

SCOPE = "cco_hooks"
PROTOCOLS = ("http/protobuf", "grpc")
# metric name → (unit, description)
METRICS = {
    "cco_hooks.subagent.cost.usage": ("USD", "What a settled subagent spawn cost, priced by Claude Code's rules"),
    "cco_hooks.subagent.requested_cost.usage": (
        "USD",
        "What the same requests would have cost on the model Claude Code would have run without cco-hooks",
    ),
    "cco_hooks.subagent.savings": ("USD", "requested cost minus cost (negative when routing made a spawn dearer)"),
    "cco_hooks.subagent.token.usage": ("tokens", "Tokens a subagent used, by type"),
    "cco_hooks.subagent.count": ("{spawn}", "Settled subagent spawns, denied ones included"),
    "cco_hooks.session.cost": ("USD", "A Claude Code session's whole cost (main loop and subagents), latest value"),
}
TOKEN_TYPES = (
    ("input", "input", "input"),
    ("output", "output", "output"),
    ("cache_read", "cacheRead", "input"),
    ("cache_write_5m", "cacheCreation", "input"),
    ("cache_write_1h", "cacheCreation", "input"),
)


def settings_files(env) -> list[str]:
    """The Claude Code settings whose ``env`` block may configure telemetry, lowest precedence
    first: the user's ``settings.json``, then the managed settings (which Claude Code lets nothing
    override). A project's settings are not read: a cloned repository must not choose where your
    spend is sent."""
    return [
        os.path.join(paths.claude_config_dir(env), "settings.json"),
        env.get("CCO_HOOKS_MANAGED_SETTINGS") or "/etc/claude-code/managed-settings.json",
    ]


def otel_environment(env) -> dict:
    """``env`` with the ``OTEL_*`` (and ``CLAUDE_CODE_ENABLE_TELEMETRY``) values of Claude Code's
    settings ``env`` blocks added where ``env`` has none.

    Claude Code removes every ``OTEL_*`` variable from the environment of the hooks it runs (both
    tested releases), so the exporter a hook starts never sees the variables Claude Code was given;
    the settings files are where a team configures Claude Code's telemetry, and so ours. A variable
    set in the exporter's own environment (``cco-hooks export`` from a shell, cron, CI) wins."""
    from cco_hooks import files

    merged: dict = {}
    for path in settings_files(env):
        try:
            data = files.read_json_object(path, 4 << 20)
        except (OSError, ValueError):
            continue
        block = coerce.mapping(coerce.mapping(data).get("env"))
        for key, value in block.items():
            if isinstance(key, str) and key.startswith("OTEL_") and isinstance(value, (str, int, float)):
                merged[key] = str(value)
    result = dict(env)
    for key, value in merged.items():
        result.setdefault(key, value)
    return result


def _import_sdk():
    try:
        from opentelemetry.sdk import metrics as sdk_metrics  # noqa: F401
    except ImportError as exc:
        raise CcoHooksError(
            f"OTLP export needs the OpenTelemetry SDK, which is not importable here ({exc}). "
            "Fix: python3 -m pip install 'cco-hooks[otel]'."
        ) from None


def _env(env, signal, name):
    """``OTEL_EXPORTER_OTLP_<SIGNAL>_<NAME>``, else ``OTEL_EXPORTER_OTLP_<NAME>``."""
    return env.get(f"OTEL_EXPORTER_OTLP_{signal.upper()}_{name}") or env.get(f"OTEL_EXPORTER_OTLP_{name}")


def enabled_signals(env) -> list[str]:
    """The signals the ``OTEL_*_EXPORTER`` variables ask for: each one naming ``otlp``; both when
    neither is set (the config key alone turned export on)."""
    chosen = {s: env.get(f"OTEL_{s.upper()}_EXPORTER") for s in ("metrics", "logs")}
    if not any(chosen.values()):
        return ["metrics", "logs"]
    return [s for s, value in chosen.items() if value and "otlp" in [v.strip() for v in value.split(",")]]


def protocol(env, signal) -> str:
    value = (_env(env, signal, "PROTOCOL") or "http/protobuf").strip()
    if value not in PROTOCOLS:
        raise CcoHooksError(
            f"OTEL_EXPORTER_OTLP_{signal.upper()}_PROTOCOL (or OTEL_EXPORTER_OTLP_PROTOCOL) is {value!r}; "
            f"cco-hooks exports over {' or '.join(PROTOCOLS)}. Fix: set one of those (Claude Code accepts them too)."
        )
    return value


def timeout_s(env, signal) -> float:
    """``OTEL_EXPORTER_OTLP[_<SIGNAL>]_TIMEOUT`` in milliseconds, as the specification and Claude Code
    (JavaScript SDK) read it; the Python exporters read the same variable as seconds, so it is
    handed to them converted. Default 10 s."""
    raw = _env(env, signal, "TIMEOUT")
    try:
        value = float(raw) / 1000 if raw else 10.0
    except ValueError:
        value = 10.0
    return value if value > 0 else 10.0


def exporter(env, signal):
    """The SDK's OTLP exporter for ``signal``, over the protocol the environment names. Endpoint,
    headers, timeout and TLS settings are read by the exporter itself from the same variables."""
    proto = protocol(env, signal)
    if signal == "metrics":
        from opentelemetry.sdk.metrics import Counter, Histogram, ObservableCounter, UpDownCounter
        from opentelemetry.sdk.metrics.export import AggregationTemporality

        cumulative = (env.get("OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE") or "").lower() == "cumulative"
        temporality = AggregationTemporality.CUMULATIVE if cumulative else AggregationTemporality.DELTA
        preferred = {kind: temporality for kind in (Counter, UpDownCounter, Histogram, ObservableCounter)}
        if proto == "grpc":
            from opentelemetry.exporter.otlp.proto.grpc.metric_exporter import OTLPMetricExporter
        else:
            from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
        return OTLPMetricExporter(preferred_temporality=preferred, timeout=timeout_s(env, signal))
    if proto == "grpc":
        from opentelemetry.exporter.otlp.proto.grpc._log_exporter import OTLPLogExporter
    else:
        from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
    return OTLPLogExporter(timeout=timeout_s(env, signal))


def resource(env):
    from opentelemetry.sdk.resources import Resource

    from cco_hooks import __version__

    base = {"service.name": env.get("OTEL_SERVICE_NAME") or "cco-hooks", "service.version": __version__}
    # Resource.create reads OTEL_RESOURCE_ATTRIBUTES and OTEL_SERVICE_NAME from os.environ
    return Resource.create(base)


def claude_user_id(env) -> str | None:
    """Claude Code's anonymous ``userID`` (the ``user.id`` on its own metrics), from its
    ``.claude.json``: in ``CLAUDE_CONFIG_DIR`` when that is set, else in the home directory."""
    from cco_hooks import files

    candidates = []
    if env.get("CLAUDE_CONFIG_DIR"):
        candidates.append(os.path.join(paths.claude_config_dir(env), ".claude.json"))
    candidates.append(os.path.join(os.path.expanduser("~"), ".claude.json"))
    for path in candidates:
        try:
            data = files.read_json_object(path, 16 << 20)
        except (OSError, ValueError):
            continue
        user_id = coerce.text(coerce.mapping(data).get("userID")) if data else None
        if user_id:
            return user_id
    return None


def _text(value):
    return value if isinstance(value, str) and value else None


def _attributes(record: dict, user_id) -> dict:
    """The attributes of a spawn's or a session's data points (``None`` values left out)."""
    decision = coerce.mapping(record.get("decision"))
    attrs = {
        "session.id": _text(record.get("session_id")),
        "user.id": user_id,
        "cco_hooks.project": _text(record.get("project")),
        "cco_hooks.claude_code_version": _text(record.get("claude_code_version")),
    }
    if record.get("kind") == "spawn":
        attrs |= {
            "gen_ai.operation.name": "invoke_agent",
            "gen_ai.provider.name": "anthropic",
            "gen_ai.agent.name": _text(record.get("agent_type")),
            "gen_ai.request.model": _text(record.get("requested_model_id")),
            "gen_ai.response.model": _text(record.get("actual_model")),
            "cco_hooks.agent_type": _text(record.get("agent_type")),
            "cco_hooks.requested_model": _text(record.get("requested_model_id"))
            or _text(record.get("requested_model")),
            "cco_hooks.requested_source": _text(record.get("requested_source")),
            "cco_hooks.enforced_model": _text(record.get("enforced_model")),
            "cco_hooks.actual_model": _text(record.get("actual_model")),
            "cco_hooks.decision": _text(decision.get("action")),
            "cco_hooks.mode": _text(decision.get("mode")),
            "cco_hooks.rule": _text(decision.get("rule")),
            "cco_hooks.rule_layer": _text(decision.get("layer")),
            "cco_hooks.status": _text(record.get("status")),
        }
    return {key: value for key, value in attrs.items() if value is not None}


def _number(value):
    return value if isinstance(value, (int, float)) and not isinstance(value, bool) and value == value else None


class Batch:
    """One batch of ledger records turned into OTLP data: ``metrics_data()`` and ``log_records()``."""

    def __init__(self, env, entries, record_id_prefix: str, retry: bool):
        """``entries``: ``(ledger offset, record dict)``."""
        _import_sdk()
        self.env = env
        self.entries = entries
        self.prefix = record_id_prefix
        self.retry = retry
        self.user_id = claude_user_id(env)

    def metrics_data(self):
        """The batch's records as one delta collection (a fresh meter: nothing from before)."""
        from opentelemetry.sdk.metrics import MeterProvider
        from opentelemetry.sdk.metrics.export import InMemoryMetricReader

        metric_exporter = exporter(self.env, "metrics")
        reader = InMemoryMetricReader(preferred_temporality=metric_exporter._preferred_temporality)
        provider = MeterProvider(resource=resource(self.env), metric_readers=[reader])
        meter = provider.get_meter(SCOPE, _version())
        instruments = {
            "cco_hooks.subagent.cost.usage": meter.create_counter,
            "cco_hooks.subagent.requested_cost.usage": meter.create_counter,
            "cco_hooks.subagent.savings": meter.create_up_down_counter,
            "cco_hooks.subagent.token.usage": meter.create_counter,
            "cco_hooks.subagent.count": meter.create_counter,
            "cco_hooks.session.cost": meter.create_gauge,
        }
        made = {
            name: create(name, unit=METRICS[name][0], description=METRICS[name][1])
            for name, create in instruments.items()
        }
        for _offset, record in self.entries:
            attrs = _attributes(record, self.user_id)
            if record.get("kind") == "session":
                cost = _number(record.get("session_cost_usd"))
                if cost is not None:
                    made["cco_hooks.session.cost"].set(cost, attrs)
                continue
            if record.get("kind") != "spawn":
                continue
            made["cco_hooks.subagent.count"].add(1, attrs)
            cost, requested = _number(record.get("cost_usd")), _number(record.get("requested_cost_usd"))
            savings = _number(record.get("savings_usd"))
            if cost is not None and cost >= 0:
                made["cco_hooks.subagent.cost.usage"].add(cost, attrs)
            if requested is not None and requested >= 0:
                made["cco_hooks.subagent.requested_cost.usage"].add(requested, attrs)
            if savings is not None:
                made["cco_hooks.subagent.savings"].add(savings, attrs)
            tokens = coerce.mapping(record.get("tokens"))
            for key, cc_type, gen_ai_type in TOKEN_TYPES:
                count = _number(tokens.get(key))
                if count:
                    made["cco_hooks.subagent.token.usage"].add(
                        count, attrs | {"type": cc_type, "gen_ai.token.type": gen_ai_type}
                    )
        data = reader.get_metrics_data()
        provider.shutdown()
        return metric_exporter, data

    def log_records(self):
        """One log record per ledger record, at the record's own time, with every number in it."""
        from opentelemetry.sdk._logs import LoggerProvider
        from opentelemetry.sdk._logs.export import InMemoryLogRecordExporter, SimpleLogRecordProcessor

        collected = InMemoryLogRecordExporter()
        provider = LoggerProvider(resource=resource(self.env))
        provider.add_log_record_processor(SimpleLogRecordProcessor(collected))
        logger = provider.get_logger(SCOPE, _version())
        for offset, record in self.entries:
            kind = record.get("kind")
            if kind not in ("spawn", "session"):
                continue
            attrs = _attributes(record, self.user_id) | {
                "event.name": f"cco_hooks.{kind}",
                "cco_hooks.record.id": f"{self.prefix}:{offset}",
                "cco_hooks.record.ts": _text(record.get("ts")) or "",
            }
            if self.retry:
                attrs["cco_hooks.export.retry"] = True
            numbers = (
                ("cost_usd", "requested_cost_usd", "savings_usd", "requests", "duration_ms", "web_search_requests")
                if kind == "spawn"
                else ("session_cost_usd",)
            )
            for key in numbers:
                value = _number(record.get(key))
                if value is not None:
                    attrs[f"cco_hooks.{key}"] = value
            for key, value in coerce.mapping(record.get("tokens")).items():
                if _number(value) is not None and isinstance(key, str):
                    attrs[f"cco_hooks.tokens.{key}"] = value
            for model, cost in coerce.mapping(record.get("model_costs")).items():
                if _number(cost) is not None and isinstance(model, str):
                    attrs[f"cco_hooks.model_cost_usd.{model}"] = cost
            logger.emit(
                timestamp=_ts_nanos(record.get("ts")),
                body=f"cco_hooks.{kind}",
                attributes=attrs,
                event_name=f"cco_hooks.{kind}",
            )
        provider.force_flush()
        logs = collected.get_finished_logs()
        provider.shutdown()
        return exporter(self.env, "logs"), logs


def _version():
    from cco_hooks import __version__

    return __version__


def _ts_nanos(ts):
    """A record's ``ts`` (ISO 8601, ``Z``) in Unix nanoseconds; ``None`` (now) when it is not one."""
    if not isinstance(ts, str):
        return None
    from datetime import datetime

    try:
        moment = datetime.fromisoformat(ts.replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        return None
    return int(moment.timestamp() * 1_000_000) * 1000
