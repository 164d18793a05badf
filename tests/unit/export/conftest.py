import pytest

from tests.support.otlp_receiver import HttpReceiver

OTEL_VARIABLES = (
    "OTEL_METRICS_EXPORTER",
    "OTEL_LOGS_EXPORTER",
    "OTEL_EXPORTER_OTLP_ENDPOINT",
    "OTEL_EXPORTER_OTLP_PROTOCOL",
    "OTEL_EXPORTER_OTLP_HEADERS",
    "OTEL_EXPORTER_OTLP_TIMEOUT",
    "OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE",
    "OTEL_RESOURCE_ATTRIBUTES",
    "OTEL_SERVICE_NAME",
)


@pytest.fixture
def otel_env(monkeypatch):
    """No OTEL_* variable from the machine running the tests; set what a test needs."""
    for name in OTEL_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    for name in list(__import__("os").environ):
        if name.startswith("OTEL_EXPORTER_OTLP_"):
            monkeypatch.delenv(name, raising=False)
    return monkeypatch


@pytest.fixture
def receiver(otel_env):
    """An OTLP/HTTP receiver on 127.0.0.1 that the OTEL_* variables point at."""
    with HttpReceiver() as r:
        otel_env.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", r.endpoint)
        otel_env.setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf")
        otel_env.setenv("OTEL_EXPORTER_OTLP_TIMEOUT", "3000")
        yield r.received
