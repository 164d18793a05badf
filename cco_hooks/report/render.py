"""The report document (``document.build_report``) as text: a table, Markdown, CSV or JSON.

Every text in a report comes from the ledger, which quotes payloads and configs: an agent type, a
project path or a model name may hold any character. So nothing reaches a terminal or a
spreadsheet as an instruction:

- table and Markdown: each text is spelt visibly (``coerce.visible``: ``\\x1b``, ``\\x9b``,
  ``\\u202e``, ``\\n``...), so no control character reaches the terminal raw and a row stays one line;
- CSV: text cells are spelt visibly too (a CSV is often read on the terminal), then neutralised as
  OWASP recommends for CSV injection: a text cell beginning with ``=``, ``+``, ``-``, ``@``, a tab
  or a carriage return gets a ``'`` in front, so a spreadsheet shows it as text, never runs it as a
  formula; cells are quoted as the ``csv`` module does (a quote doubled, a cell with a comma, quote
  or line break in quotes). Numbers are left numbers: a negative saving stays ``-0.12``, and only
  cells that are text (keys, ids, models, paths) are ever prefixed;
- JSON escapes every C0 control itself; the C1 controls, DEL and the bidi controls, which JSON
  allows raw, are written as ``\\u`` escapes too (the same string to any JSON reader).
"""

import csv
import io
import json
import re
import textwrap

from cco_hooks.coerce import BIDI_CONTROLS, visible
from cco_hooks.errors import CcoHooksError

FORMATS = ("table", "json", "csv", "markdown")

# ---- numbers --------------------------------------------------------------------------------


def format_usd(x):
    """``$0.0123`` under a dollar, ``$12.34`` under a thousand, ``$12,345`` above."""
    if x is None:
        return "-"
    sign = "-" if x < 0 else ""
    x = abs(x)
    if x == 0:
        return "$0"
    if x < 0.00005:
        return f"{sign}<$0.0001"
    if x < 0.99995:
        return f"{sign}${x:.4f}"
    if x < 999.995:
        return f"{sign}${x:.2f}"
    return f"{sign}${x:,.0f}"


def format_tokens(n):
    """Token counts in two or three significant figures: 950, 1.2k, 34k, 560M."""
    n = int(n)
    if n < 1000:
        return str(n)
    for div, suffix in ((1e3, "k"), (1e6, "M"), (1e9, "G"), (1e12, "T")):
        v = n / div
        if v < 9.95:
            return f"{v:.1f}{suffix}"
        if v < 999.5 or suffix == "T":
            return f"{v:.0f}{suffix}"
    return str(n)  # pragma: no cover


def format_pct(p):
    return "-" if p is None else f"{p:.0f}%"


def format_savings(savings, pct):
    """The savings and % cells. An upgrade (a rewrite to a dearer model) saves a negative amount:
    shown as what it cost extra, its percentage left out ("-3794%" says nothing a reader can use)."""
    if savings is not None and savings < 0:
        return format_usd(-savings) + " extra", "-"
    return format_usd(savings), format_pct(pct)


# ---- the table --------------------------------------------------------------------------------

_NONE_KEY = "(none)"


def _key_text(key):
    return _NONE_KEY if key is None else visible(key)


def _cells(row):
    """The table's cells for one row (or the totals)."""
    t = row["tokens"]
    flag_cost = "*" if row["unpriced"] else " "
    flag_req = "*" if row["unpriced"] or row["requested_unpriced"] else " "
    return [
        str(row["spawns"]),
        f"{format_tokens(t['input'])}/{format_tokens(t['output'])}/{format_tokens(t['cache_read'] + t['cache_write'])}",
        format_usd(row["cost_usd"]) + flag_cost,
        format_usd(row["requested_cost_usd"]) + flag_req,
        *format_savings(row["savings_usd"], row["savings_pct"]),
        f"{row['rewrites']}/{row['denials']}",
    ]


_HEADERS = [
    ("", "spawns"),
    ("tokens", "in/out/cache"),
    ("", "cost "),
    ("cost at ", "requested "),
    ("", "savings"),
    ("", "%"),
    ("rewrites", "/denials"),
]


def _truncate(text, width, left=False):
    if len(text) <= width:
        return text
    if width <= 1:
        return text[:width]
    return "…" + text[-(width - 1) :] if left else text[: width - 1] + "…"


# Model IDs as the ledger spells them: ``[provider prefix.]claude-<family>-<version>[-date|@date][-v1:0]``.
_MODEL_DATE = re.compile(r"[-@](20\d{6})(?=$|-v\d+(:\d+)?$)")
_MODEL_PROVIDER_SUFFIX = re.compile(r"-v\d+(:\d+)?$")


def short_model(name, level):
    """A model ID shortened by ``level`` steps, family and version always kept:
    1 drops a provider's suffix and the release date (``claude-sonnet-4-5``), 2 also the
    ``claude-`` prefix and any provider prefix before it (``sonnet-4-5``)."""
    if level >= 1:
        name = _MODEL_PROVIDER_SUFFIX.sub("", _MODEL_DATE.sub("", name))
    if level >= 2 and "claude-" in name:
        name = name[name.index("claude-") + len("claude-") :]
    return name


def _fit_models(keys, width):
    """The model keys at the least shortening that fits them all in ``width`` (else the most), and
    whether any was shortened."""
    for level in (0, 1, 2):
        shown = [short_model(k, level) for k in keys]
        if max(map(len, shown), default=0) <= width:
            break
    return shown, level > 0


def _footnotes(doc, shortened_models=False):
    totals = doc["totals"]
    notes = []
    if any(r["savings_usd"] is not None and r["savings_usd"] < 0 for r in [*doc["rows"], totals]):
        notes.append(
            "extra: cost more than the requested model would have (a rewrite to a dearer model, an upgrade); "
            "JSON and CSV give it as a negative savings_usd."
        )
    if shortened_models:
        notes.append(
            "Models are shown without the claude- prefix and release date to fit; --format json has them whole."
        )
    if totals["unpriced"] or totals["requested_unpriced"]:
        parts = []
        if totals["unpriced"]:
            n = totals["unpriced"]
            parts.append(
                f"{n} unpriced spawn{'s' * (n != 1)} (no price for the model, or no "
                f"readable transcript) {'are' if n != 1 else 'is'} in no cost sum"
            )
        if totals["requested_unpriced"]:
            n = totals["requested_unpriced"]
            parts.append(
                f"{n} spawn{'s' * (n != 1)} without a price at the requested model "
                f"{'are' if n != 1 else 'is'} in no requested cost or savings"
            )
        notes.append("* " + "; ".join(parts) + ".")
    if totals["session_cost_usd"] is not None:
        share = totals["subagent_share"]
        notes.append(
            f"Sessions: subagents cost {format_usd(totals['subagent_cost_in_sessions_usd'])} of "
            f"{format_usd(totals['session_cost_usd'])} ({'-' if share is None else f'{share * 100:.0f}%'}) "
            f"in {totals['sessions']} session{'s' * (totals['sessions'] != 1)} with a recorded cost."
        )
    if totals["drift"] and "drift" not in doc:
        n = totals["drift"]
        notes.append(
            f"Drift: {n} spawn{'s' * (n != 1)} ran on another model than the enforced one (cco-hooks report --drift)."
        )
    if doc["skipped_lines"]:
        n = doc["skipped_lines"]
        notes.append(f"{n} ledger line{'s' * (n != 1)} skipped (torn, corrupt, or not a ledger record).")
    if doc.get("pending"):
        n = doc["pending"]
        notes.append(
            f"{n} spawn{'s are' if n != 1 else ' is'} still pending (running, or waiting for "
            f"{'their' if n != 1 else 'its'} transcript): in no row yet; a later report counts "
            f"{'them' if n != 1 else 'it'}."
        )
    if doc["group_by"] in ("day", "week", "month"):
        zone = doc.get("time_zone") or "UTC"
        where = "local time" if zone == "local" else visible(zone)
        notes.append(f"Days are in {where}; weeks are ISO weeks (Monday to Sunday).")
    return notes


def _empty_text(doc):
    """No rows: say which ledgers were read, so a wrong path or ``CCO_HOOKS_LEDGER`` shows."""
    matched = "" if _no_filters(doc) else " matching the filters"
    ledgers = [visible(path) for path in doc.get("ledgers") or ()]
    if not ledgers:
        return f"No spawns recorded{matched}: no ledger was read."
    if len(ledgers) == 1:
        return f"No spawns recorded{matched} in {ledgers[0]}."
    named = ", ".join(ledgers[:5]) + (f" and {len(ledgers) - 5} more" if len(ledgers) > 5 else "")
    return f"No spawns recorded{matched} in the {len(ledgers)} ledgers read: {named}."


def _no_filters(doc):
    f = doc["filters"]
    return not (f["since"] or f["until"] or f["sessions"] or f["projects"] or f["agents"])


def render_table(doc, width=80):
    """A plain-text table that fits ``width`` columns when it can (the key column gives way)."""
    lines = []
    shortened = False
    if not doc["rows"]:
        lines.append(_empty_text(doc))
    else:
        body = [[_key_text(r["key"])] + _cells(r) for r in doc["rows"]]
        total = ["total"] + _cells(doc["totals"])
        headers = [("", doc["group_by"])] + _HEADERS
        ncols = len(headers)
        widths = [max(len(h[0]), len(h[1])) for h in headers]
        for cells in body + [total]:
            for i, c in enumerate(cells):
                widths[i] = max(widths[i], len(c))
        sep = 2
        if sum(widths) + sep * (ncols - 1) > width:
            sep = 1
        room = width - sum(widths[1:]) - sep * (ncols - 1)
        if widths[0] > room:
            widths[0] = max(room, 12, len("total"))
            if doc["group_by"] == "model":  # cut the prefix and date, never the family and version
                keys, shortened = _fit_models([cells[0] for cells in body], widths[0])
                for cells, key in zip(body, keys, strict=True):
                    cells[0] = key
                widths[0] = min(widths[0], max(len(headers[0][1]), len("total"), *map(len, keys)))
        left = doc["group_by"] == "project"
        gap = " " * sep

        def line(cells):
            out = [_truncate(cells[0], widths[0], left).ljust(widths[0])]
            out += [c.rjust(w) for c, w in zip(cells[1:], widths[1:], strict=True)]
            return gap.join(out).rstrip()

        lines.append(line([h[0] for h in headers]))
        lines.append(line([h[1] for h in headers]))
        lines.append(gap.join("-" * w for w in widths))
        lines.extend(line(cells) for cells in body)
        lines.append(gap.join("-" * w for w in widths))
        lines.append(line(total))
        lines.append("")
    for note in _footnotes(doc, shortened):
        lines.extend(textwrap.wrap(note, max(width, 40), subsequent_indent="  ", break_on_hyphens=False))
    if "drift" in doc:
        if lines and lines[-1] != "":
            lines.append("")
        lines.extend(render_drift_text(doc["drift"], width))
    while lines and lines[-1] == "":
        lines.pop()
    return "\n".join(lines) + "\n"


def render_drift_text(drift, width=80):
    n = drift["spawns"]
    if not n:
        return ["Drift: no spawn ran on another model than the enforced one."]
    lines = [f"Drift: {n} spawn{'s' * (n != 1)} ran on another model than the enforced one."]
    cw = max(len(c) for c in drift["by_cause"])
    nw = max(len(str(v)) for v in drift["by_cause"].values())
    indent = " " * (2 + cw + 2 + nw + 2)
    for cause, count in drift["by_cause"].items():
        text = f"  {cause.ljust(cw)}  {str(count).rjust(nw)}  {drift['causes'].get(cause, '')}"
        lines.extend(
            textwrap.wrap(text, max(width, 60), subsequent_indent=indent, break_on_hyphens=False, drop_whitespace=True)
            if len(text) > max(width, 60)
            else [text]
        )
    if drift["listed"]:
        lines.append("")
        header = ["when (UTC)", "session", "agent", "enforced", "actual", "cause"]
        rows = [_drift_cells(e) for e in drift["listed"]]
        widths = [max(len(r[i]) for r in rows + [header]) for i in range(len(header))]
        for r in [header] + rows:
            lines.append("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip())
        if drift["not_listed"]:
            lines.append(f"({drift['not_listed']} earlier not listed; --limit 0 lists all.)")
    return lines


def _drift_cells(entry):
    """One drifted spawn's cells as the drift lists show them, each spelt visibly (from the ledger)."""
    return [
        visible((entry["ts"] or "")[:16].replace("T", " ")),
        visible((entry["session_id"] or "-")[:8]),
        visible(entry["agent_type"] or _NONE_KEY),
        visible(entry["enforced_model"] or "-"),
        visible(entry["actual_model"] or "-"),
        visible(entry["cause"]),
    ]


# ---- Markdown ---------------------------------------------------------------------------------


def render_markdown(doc):
    lines = []
    if not doc["rows"]:
        lines.append(_empty_text(doc))
    else:
        header = [
            doc["group_by"],
            "spawns",
            "tokens in/out/cache",
            "cost",
            "cost at requested",
            "savings",
            "%",
            "rewrites/denials",
        ]
        lines.append("| " + " | ".join(header) + " |")
        lines.append("| --- | " + " | ".join("---:" for _ in header[1:]) + " |")

        for r in doc["rows"]:
            cells = [_markdown_text(_key_text(r["key"]))] + [c.strip() for c in _cells(r)]
            lines.append("| " + " | ".join(cells) + " |")
        cells = ["**total**"] + [f"**{c.strip()}**" for c in _cells(doc["totals"])]
        lines.append("| " + " | ".join(cells) + " |")
        lines.append("")
    lines.extend(_footnotes(doc))
    if "drift" in doc:
        lines.append("")
        lines.extend(render_drift_markdown(doc["drift"]))
    while lines and lines[-1] == "":
        lines.pop()
    return "\n".join(lines) + "\n"


def _markdown_text(text):
    """A cell's text (already spelt visibly) that cannot end its cell early."""
    return text.replace("|", "\\|")


def render_drift_markdown(drift):
    lines = render_drift_text(drift)[:1]
    if drift["spawns"]:
        lines += ["", "| cause | spawns | meaning |", "| --- | ---: | --- |"]
        lines += [f"| {c} | {n} | {drift['causes'].get(c, '')} |" for c, n in drift["by_cause"].items()]
        if drift["listed"]:
            lines += [
                "",
                "| when (UTC) | session | agent | enforced | actual | cause |",
                "| --- | --- | --- | --- | --- | --- |",
            ]
            for e in drift["listed"]:
                lines.append("| " + " | ".join(_markdown_text(c) for c in _drift_cells(e)) + " |")
    return lines


# ---- CSV and JSON -----------------------------------------------------------------------------

CSV_FIELDS = (
    "spawns",
    "unpriced",
    "denials",
    "rewrites",
    "drift",
    "tokens_input",
    "tokens_output",
    "tokens_cache_read",
    "tokens_cache_write",
    "cost_usd",
    "requested_cost_usd",
    "requested_unpriced",
    "savings_usd",
    "savings_pct",
)
DRIFT_CSV_FIELDS = (
    "ts",
    "session_id",
    "project",
    "agent_type",
    "tool_use_id",
    "action",
    "requested_model",
    "enforced_model",
    "actual_model",
    "cause",
    "claude_code_version",
    "ledger",
)


# What a spreadsheet reads as the start of a formula (OWASP, "CSV Injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value):
    """One CSV cell: ``None`` empty, a number as it is, text spelt visibly and, when it begins as a
    formula would, behind a ``'`` (see the module docstring)."""
    if value is None:
        return ""
    if not isinstance(value, str):
        return value
    text = visible(value)  # a tab or CR is spelt out, yet the cell still gets its quote
    return "'" + text if value.startswith(FORMULA_STARTS) else text


def render_csv(doc):
    """One row per group then a ``total`` row (column ``row``); with ``--drift``, the drift list.
    Text cells are neutralised (``csv_cell``); numbers are written as numbers."""
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    if "drift" in doc:
        w.writerow(DRIFT_CSV_FIELDS)
        for e in doc["drift"]["listed"]:
            w.writerow([csv_cell(e[f]) for f in DRIFT_CSV_FIELDS])
        return out.getvalue()
    w.writerow(("row", doc["group_by"]) + CSV_FIELDS)

    def values(r):
        flat = dict(r)
        for name, value in r["tokens"].items():
            flat["tokens_" + name] = value
        return [csv_cell(flat[f]) for f in CSV_FIELDS]

    for r in doc["rows"]:
        w.writerow(["group", csv_cell(r["key"])] + values(r))
    w.writerow(["total", ""] + values(doc["totals"]))
    return out.getvalue()


# What JSON allows raw in a string but a terminal acts on: DEL, the C1 controls, the bidi controls.
_JSON_ESCAPES = {c: f"\\u{c:04x}" for c in (*range(0x7F, 0xA0), *map(ord, BIDI_CONTROLS))}


def render_json(doc):
    """The document as JSON (config/report.schema.json), non-ASCII text as it is, except the
    controls JSON allows raw, written as ``\\u`` escapes: the same strings to a JSON reader."""
    return json.dumps(doc, indent=2, ensure_ascii=False).translate(_JSON_ESCAPES) + "\n"


def render(doc, fmt="table", width=80):
    if fmt == "table":
        return render_table(doc, width)
    if fmt == "json":
        return render_json(doc)
    if fmt == "csv":
        return render_csv(doc)
    if fmt == "markdown":
        return render_markdown(doc)
    raise CcoHooksError(f'Unknown format "{fmt}"; expected one of {", ".join(FORMATS)}.')
