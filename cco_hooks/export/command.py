"""``cco-hooks export``: send the ledger's records not yet exported to an OTLP collector, once.

Run by hand or from cron/CI, or started detached by a hook after it settled a spawn
(``export_start.py``, ``--background``: it does not wait for another exporter and prints nothing).
Each signal (metrics, logs) goes through the ledger in batches from its own cursor
(``export/cursor.py``): a batch the collector does not acknowledge stops that signal's run and
leaves its cursor where it was, so an unreachable collector loses nothing.
"""

from __future__ import annotations

import os

from cco_hooks import fastjson, files, paths
from cco_hooks.errors import CcoHooksError
from cco_hooks.export import cursor as cursors

BATCH_RECORDS = 500
EXPORT_TIMEOUT_MS = 15_000


def _configured_ledger(project, env) -> str:
    from cco_hooks.config import build

    routing = build.build_routing(project, env)
    return paths.ledger_path(routing.get("ledger_path"), env)


def _records(lines):
    entries = []
    for offset, line in lines:
        try:
            record = fastjson.loads(line.decode("utf-8"))
        except Exception:  # noqa: BLE001 - a torn or corrupt line is no record: skipped, as the report does
            continue
        if isinstance(record, dict):
            entries.append((offset, record))
    return entries


def _send(signal, batch):
    """True when the collector acknowledged the batch."""
    if signal == "metrics":
        metric_exporter, data = batch.metrics_data()
        try:
            if data is None or not data.resource_metrics:
                return True
            from opentelemetry.sdk.metrics.export import MetricExportResult

            return metric_exporter.export(data, timeout_millis=EXPORT_TIMEOUT_MS) == MetricExportResult.SUCCESS
        finally:
            metric_exporter.shutdown(timeout_millis=1000)
    log_exporter, logs = batch.log_records()
    try:
        if not logs:
            return True
        from opentelemetry.sdk._logs.export import LogRecordExportResult

        return log_exporter.export(logs) == LogRecordExportResult.SUCCESS
    finally:
        log_exporter.shutdown()


def export_signal(ledger_path, env, signal, state, stats) -> bool:
    """Send ``signal``'s unsent records, batch by batch; False when the collector did not take one."""
    from cco_hooks.export import otlp

    entry = state["signals"][signal]
    prefix = f"{state['device']}:{state['inode']}"
    while True:
        retry = entry["inflight"] is not None
        end, lines = cursors.read_lines(ledger_path, entry["offset"], BATCH_RECORDS)
        if end == entry["offset"]:
            entry["inflight"] = None
            return True
        entry["inflight"] = [entry["offset"], end]
        cursors.save(ledger_path, state)
        entries = _records(lines)
        ok = _send(signal, otlp.Batch(env, entries, prefix, retry)) if entries else True
        if not ok:
            entry["inflight"] = None  # refused or unreachable: the same range goes again next time
            cursors.save(ledger_path, state)
            return False
        entry["offset"], entry["inflight"] = end, None
        cursors.save(ledger_path, state)
        stats[signal] = stats.get(signal, 0) + len(entries)


def run_export(ledger=None, project=None, env=None, out=print, background=False, wait_s=60.0) -> int:
    """Export once; 0 when everything in the ledger has been acknowledged, 1 when the collector
    did not take all of it (it stays for the next run), 2 (``CcoHooksError``) for a setup error."""
    from cco_hooks.export import otlp

    env = otlp.otel_environment(dict(os.environ) if env is None else env)
    ledger_path = ledger or _configured_ledger(project, env)
    # the SDK's exporters and Resource read os.environ themselves: give them the same variables
    saved = dict(os.environ)
    os.environ.update({key: value for key, value in env.items() if key.startswith("OTEL_")})
    try:
        return _run_export(ledger_path, env, out, background, wait_s)
    finally:
        os.environ.clear()
        os.environ.update(saved)


def _run_export(ledger_path, env, out, background, wait_s) -> int:
    from cco_hooks.export import otlp

    signals = otlp.enabled_signals(env)
    if not signals:
        if not background:
            out(
                "cco-hooks: nothing to export: OTEL_METRICS_EXPORTER and OTEL_LOGS_EXPORTER name no `otlp`. "
                "Fix: set either to otlp (or unset both)."
            )
        return 0
    for signal in signals:
        otlp.protocol(env, signal)  # a wrong protocol is an error before anything is sent
    if not os.path.exists(ledger_path):
        if not background:
            out(f"cco-hooks: no ledger at {ledger_path} yet: nothing to export.")
        return 0
    try:
        files.check_own(ledger_path)
    except files.UnsafeFile as exc:
        raise CcoHooksError(str(exc)) from None
    stats: dict = {}
    failed = []
    # A hook's exporter that finds the lock taken leaves: the running one sends its records too,
    # since it looks at the ledger again after it lets the lock go (below).
    while True:
        with cursors.exclusive(ledger_path, 0.0 if background else wait_s) as ok:
            if not ok:
                if not background:
                    out(f"cco-hooks: another export of {ledger_path} is still running; try again later.")
                    return 1
                return 0
            state = cursors.load(ledger_path)
            if state["reset"] and not background:
                out(f"cco-hooks: {state['reset']}; exporting {ledger_path} from its start.")
            failed = [s for s in signals if not export_signal(ledger_path, env, s, state, stats)]
        if failed:
            break
        # A record appended after our last read, whose hook's exporter found the lock taken, is
        # ours to send: look again now that the lock is free, and go round if there is one.
        after = cursors.load(ledger_path)
        offsets = {after["signals"][s]["offset"] for s in signals}
        if all(cursors.read_lines(ledger_path, offset, 1)[0] == offset for offset in offsets):
            break
    if not background:
        sent = ", ".join(f"{stats.get(s, 0)} record(s) as {s}" for s in signals)
        out(f"cco-hooks: exported {sent} from {ledger_path}.")
        if failed:
            endpoint = otlp._env(env, failed[0], "ENDPOINT") or "the default endpoint"
            out(
                f"cco-hooks: the collector ({endpoint}) did not take the {', '.join(failed)}; nothing was lost, "
                "the next `cco-hooks export` sends them. Check OTEL_EXPORTER_OTLP_ENDPOINT and that the collector runs."
            )
    return 1 if failed else 0
