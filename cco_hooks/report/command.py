"""``cco-hooks report``: what subagents cost, grouped and filtered, as a table, JSON, CSV, Markdown
or one HTML page.

The numbers come from each ledger's incremental summary (``update.summarize``), so a repeated
report reads only the ledger lines appended since the last one.
"""

import datetime as _dt
import os
import shutil
import sys
import time

from cco_hooks import coerce, files, paths, pending, zones
from cco_hooks.errors import CcoHooksError
from cco_hooks.report import fanout
from cco_hooks.report.document import DRIFT_LIMIT, GROUPS, build_report
from cco_hooks.report.progress import Progress
from cco_hooks.report.query import Filters, parse_day, resolve_ledgers
from cco_hooks.report.render import FORMATS, format_usd, render
from cco_hooks.report.summary import DamagedSummary
from cco_hooks.report.update import summarize


def run_report(
    ledgers=(),
    group_by="agent",
    fmt="table",
    since=None,
    until=None,
    sessions=(),
    projects=(),
    agents=(),
    drift=False,
    drift_limit=DRIFT_LIMIT,
    fail_over=None,
    use_summary=True,
    settle=True,
    width=None,
    stdout=None,
    stderr=None,
    env=None,
    today=None,
    tz=None,
    output=None,
):
    """``cco-hooks report``: print the report on ``stdout``; returns the exit code.

    0, or 1 when ``fail_over`` (USD) is given and the selected cost exceeds it. Bad options raise
    ``CcoHooksError`` (the CLI's exit 2). ``ledgers`` are paths or globs; none means the live
    ledger, whose pending spawns are settled first (``settle``). ``use_summary=False`` scans the
    ledgers in full without reading or writing their summaries. A progress bar goes to ``stderr``
    when it is a terminal and a scan takes over a second. ``tz``: the time zone of days, weeks and
    months (``zones.zone``: local by default, UTC, ``+05:30``, an IANA name). ``output``: a file
    to write the report to (0600, replaced whole) instead of ``stdout``.
    """
    stdout = sys.stdout if stdout is None else stdout
    stderr = sys.stderr if stderr is None else stderr
    env = os.environ if env is None else env
    _check_options(fmt, group_by, fail_over)
    try:
        zone = zones.zone(tz)
    except ValueError as exc:
        raise CcoHooksError(f"--tz: {exc}") from None
    today = today or _dt.date.fromisoformat(zone.day(time.time()))
    filters = Filters(
        since=parse_day(since, today, "--since") if since else None,
        until=parse_day(until, today, "--until") if until else None,
        sessions=sessions,
        projects=projects,
        agents=agents,
        zone=zone,
    )
    ledger_paths = resolve_ledgers(ledgers, env)
    live = paths.ledger_path(None, env)
    pending_count = None
    if len(ledger_paths) == 1 and os.path.realpath(ledger_paths[0]) == os.path.realpath(live):
        if settle:
            _settle_live(live, stderr)
        pending_count = pending.count_pending(pending.pending_dir(live))

    def build(summaries):
        doc = build_report(
            summaries, group_by, filters, ledger_paths, drift=drift, drift_limit=drift_limit, pending=pending_count
        )
        if fmt != HTML:
            return doc, None
        from cco_hooks.report.dashboard import build_dashboard

        return doc, build_dashboard(summaries, doc, filters, ledger_paths)

    doc, views = _report(ledger_paths, use_summary, stderr, zone, build)
    if pending_count is not None:
        doc["reserved"] = _reserved(live)
    if fmt == HTML:
        from cco_hooks.report.html import render_html

        text = render_html(doc, views)
    else:
        if width is None:
            width = shutil.get_terminal_size((80, 24)).columns
        text = render(doc, fmt, width)
    if output is None:
        stdout.write(text)
    else:
        _write_output(output, text)
    if fail_over is not None and doc["totals"]["cost_usd"] > fail_over:
        stderr.write(
            f"cco-hooks report: cost {format_usd(doc['totals']['cost_usd'])} is over "
            f"--fail-over {format_usd(fail_over)}.\n"
        )
        return 1
    return 0


def _reserved(live):
    """What running spawns hold reserved against the budgets now (``budget.reservations``)."""
    from cco_hooks import budget

    try:
        return budget.reserved_now(live, None)
    except Exception:  # noqa: BLE001 - a figure on the side never breaks the report
        return None


HTML = "html"  # one self-contained page (report/html.py), beside the text formats of render.py
REPORT_FORMATS = (*FORMATS, HTML)


def _check_options(fmt, group_by, fail_over):
    if fmt not in REPORT_FORMATS:
        raise CcoHooksError(f'Unknown format "{fmt}"; expected one of {", ".join(REPORT_FORMATS)}.')
    if group_by not in GROUPS:
        raise CcoHooksError(f'Unknown grouping "{group_by}"; expected one of {", ".join(GROUPS)}.')
    if fail_over is not None and not (fail_over >= 0):
        raise CcoHooksError(f"--fail-over {fail_over} must be an amount in USD, 0 or more.")


def _write_output(path, text):
    """``-o FILE``: the report replaces ``path`` whole, 0600, never written through a link."""
    try:
        files.write_private(os.path.abspath(path), text.encode("utf-8", "backslashreplace"))
    except OSError as exc:
        raise CcoHooksError(
            f"Cannot write the report to {path}: {exc.strerror or exc}. Name a file in a directory you can write."
        ) from None


def _settle_live(ledger_path, stderr):
    """Price spawns still pending, so the report counts them; never breaks the report."""
    try:
        from cco_hooks import accounting, pricing
    except ImportError:  # pragma: no cover - accounting not installed in this build
        return
    try:
        accounting.settle(ledger_path, pricing.load_prices(), force=True)
    except Exception as exc:  # noqa: BLE001 - a report must not fail because settling did
        if getattr(exc, "filename", None) == ledger_path and not os.path.isfile(ledger_path):
            return  # the ledger is a pipe or a device: reading it says so, once
        stderr.write(
            f"cco-hooks report: pending spawns were not settled ({coerce.visible(exc)}); "
            "the report shows what the ledger holds.\n"
        )


def _summaries(ledger_paths, use_saved, save_summary, stderr, zone):
    """Each ledger's summary, brought up to date (a progress bar on a terminal's stderr)."""
    isatty = getattr(stderr, "isatty", None)
    show_progress = bool(isatty and isatty())
    done = {}
    if use_saved and save_summary:  # several ledgers: scanned by forked workers at once
        done = fanout.summarize_all(
            ledger_paths, zone, lambda path: Progress(stderr, os.path.basename(path)) if show_progress else None
        )
    found = []
    for path in ledger_paths:
        if path in done:
            found.append(done.pop(path))
            continue
        progress = Progress(stderr, coerce.visible(os.path.basename(path))) if show_progress else None
        try:
            found.append(summarize(path, use_saved=use_saved, save_summary=save_summary, progress=progress, zone=zone))
        except OSError as exc:
            for s in found + list(done.values()):
                s.close()
            raise CcoHooksError(f"Cannot read the ledger {path}: {exc.strerror or exc}.") from None
        finally:
            if progress is not None:
                progress.close()
    return found


def _report(ledger_paths, use_summary, stderr, zone, build):
    """``build(summaries)`` over the ledgers' summaries; when a saved summary turns out damaged,
    over summaries from a full scan instead. Every summary is closed afterwards."""
    summaries = []
    try:
        try:
            summaries = _summaries(ledger_paths, use_summary, use_summary, stderr, zone)
            return build(summaries)
        except DamagedSummary:  # a saved summary's rows fail their checksum: scan again
            for s in summaries:
                s.close()
            summaries = _summaries(ledger_paths, False, use_summary, stderr, zone)
            return build(summaries)
    finally:
        for s in summaries:  # the files their partitions are read from
            s.close()
