"""An OTLP receiver on 127.0.0.1 for the tests: HTTP/protobuf (and gRPC, with grpcio), decoded
with the official ``opentelemetry-proto`` messages into plain points and log records.

No OpenTelemetry Collector is packaged on PyPI, npm or Debian (only its Go modules are), so the
tests stand in for one with the protocol's own message classes: what a collector would accept is
what this accepts. ``refuse = True`` answers 503 (HTTP) / UNAVAILABLE (gRPC), as a collector that is
down behind a proxy does.
"""

from __future__ import annotations

import dataclasses
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from opentelemetry.proto.collector.logs.v1 import logs_service_pb2
from opentelemetry.proto.collector.metrics.v1 import metrics_service_pb2


def _value(any_value):
    kind = any_value.WhichOneof("value")
    if kind is None:
        return None
    value = getattr(any_value, kind)
    if kind == "array_value":
        return [_value(v) for v in value.values]
    if kind == "kvlist_value":
        return {kv.key: _value(kv.value) for kv in value.values}
    return value


def _attrs(key_values) -> dict:
    return {kv.key: _value(kv.value) for kv in key_values}


@dataclasses.dataclass
class Point:
    name: str
    kind: str  # sum | gauge
    value: float
    attributes: dict
    resource: dict
    scope: str
    temporality: int  # 1 delta, 2 cumulative (gauges: 0)
    monotonic: bool
    unit: str


@dataclasses.dataclass
class LogRecord:
    body: object
    attributes: dict
    resource: dict
    scope: str
    event_name: str
    time_unix_nano: int


class Received:
    """Everything received, from every transport, in arrival order."""

    def __init__(self):
        self.lock = threading.Lock()
        self.points: list[Point] = []
        self.logs: list[LogRecord] = []
        self.requests = {"metrics": 0, "logs": 0}
        self.refuse = False
        self.headers: list[dict] = []  # each HTTP request's headers, lower-cased names

    def add_metrics(self, request):
        points = []
        for rm in request.resource_metrics:
            resource = _attrs(rm.resource.attributes)
            for sm in rm.scope_metrics:
                for metric in sm.metrics:
                    kind = metric.WhichOneof("data")
                    data = getattr(metric, kind)
                    temporality = getattr(data, "aggregation_temporality", 0)
                    monotonic = getattr(data, "is_monotonic", False)
                    for dp in getattr(data, "data_points", ()):
                        value = dp.as_double if dp.WhichOneof("value") == "as_double" else dp.as_int
                        points.append(
                            Point(
                                metric.name,
                                kind,
                                value,
                                _attrs(dp.attributes),
                                resource,
                                sm.scope.name,
                                temporality,
                                monotonic,
                                metric.unit,
                            )
                        )
        with self.lock:
            self.requests["metrics"] += 1
            self.points.extend(points)

    def add_logs(self, request):
        logs = []
        for rl in request.resource_logs:
            resource = _attrs(rl.resource.attributes)
            for sl in rl.scope_logs:
                for record in sl.log_records:
                    logs.append(
                        LogRecord(
                            _value(record.body),
                            _attrs(record.attributes),
                            resource,
                            sl.scope.name,
                            record.event_name,
                            record.time_unix_nano,
                        )
                    )
        with self.lock:
            self.requests["logs"] += 1
            self.logs.extend(logs)

    def points_named(self, name, **attributes):
        with self.lock:
            return [
                p
                for p in self.points
                if p.name == name and all(p.attributes.get(k) == v for k, v in attributes.items())
            ]

    def logs_of(self, scope):
        with self.lock:
            return [record for record in self.logs if record.scope == scope]


class _Handler(BaseHTTPRequestHandler):
    server_version = "otlp-test-receiver"

    def log_message(self, *args):
        pass

    def do_POST(self):  # noqa: N802 - http.server's name
        received: Received = self.server.received
        body = self.rfile.read(int(self.headers.get("content-length") or 0))
        path = self.path.split("?")[0]
        with received.lock:
            received.headers.append({k.lower(): v for k, v in self.headers.items()})
        if received.refuse:
            self.send_response(503)
            self.send_header("content-length", "0")
            self.end_headers()
            return
        kinds = {
            "/v1/metrics": (
                metrics_service_pb2.ExportMetricsServiceRequest,
                received.add_metrics,
                metrics_service_pb2.ExportMetricsServiceResponse,
            ),
            "/v1/logs": (
                logs_service_pb2.ExportLogsServiceRequest,
                received.add_logs,
                logs_service_pb2.ExportLogsServiceResponse,
            ),
        }
        if path not in kinds or "json" in (self.headers.get("content-type") or ""):
            self.send_response(404 if path not in kinds else 415)
            self.send_header("content-length", "0")
            self.end_headers()
            return
        request_type, add, response_type = kinds[path]
        request = request_type()
        request.ParseFromString(body)
        add(request)
        answer = response_type().SerializeToString()
        self.send_response(200)
        self.send_header("content-type", "application/x-protobuf")
        self.send_header("content-length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)


class HttpReceiver:
    """``with HttpReceiver() as r:`` — ``r.endpoint`` is ``http://127.0.0.1:<port>``."""

    def __init__(self, received: Received | None = None):
        self.received = received or Received()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.server.received = self.received
        self.endpoint = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc_info):
        self.server.shutdown()
        self.server.server_close()


class GrpcReceiver:
    """The same over gRPC (grpcio), on ``r.endpoint`` ``http://127.0.0.1:<port>`` (plaintext)."""

    def __init__(self, received: Received | None = None):
        from concurrent import futures

        import grpc
        from opentelemetry.proto.collector.logs.v1 import logs_service_pb2_grpc
        from opentelemetry.proto.collector.metrics.v1 import metrics_service_pb2_grpc

        self.received = received or Received()
        received_ = self.received

        def _answer(add, response_type):
            def handle(request, context):
                if received_.refuse:
                    context.abort(grpc.StatusCode.UNAVAILABLE, "refusing, as the test asked")
                add(request)
                return response_type()

            return handle

        class Metrics(metrics_service_pb2_grpc.MetricsServiceServicer):
            Export = staticmethod(_answer(received_.add_metrics, metrics_service_pb2.ExportMetricsServiceResponse))

        class Logs(logs_service_pb2_grpc.LogsServiceServicer):
            Export = staticmethod(_answer(received_.add_logs, logs_service_pb2.ExportLogsServiceResponse))

        self.server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
        metrics_service_pb2_grpc.add_MetricsServiceServicer_to_server(Metrics(), self.server)
        logs_service_pb2_grpc.add_LogsServiceServicer_to_server(Logs(), self.server)
        port = self.server.add_insecure_port("127.0.0.1:0")
        self.endpoint = f"http://127.0.0.1:{port}"

    def __enter__(self):
        self.server.start()
        return self

    def __exit__(self, *exc_info):
        self.server.stop(0)
