"""The report as one self-contained HTML page (``cco-hooks report --format html``).

One file that opens anywhere, offline: no script, no external style, font or image; the charts are
inline SVG, and a Content-Security-Policy lets the page load nothing at all (``default-src 'none'``),
so a page passed around a team cannot call out. Light and dark follow the reader's system
(``prefers-color-scheme``).

The totals are the report document's own ``totals`` (the JSON report's, for the same options),
each shown beside its exact value in a ``data-value`` attribute (``data-total`` names the field), so
a reader — or a test in a browser — can hold the page to the JSON report. The views
(``dashboard.build_dashboard``) come from the same summaries and filters.

Every text on the page comes from the ledger (agent types, projects, models, session ids: from
payloads), so each is spelt visibly (``coerce.visible``: controls and bidi overrides written out)
and then HTML-escaped (``html.escape``, quotes included): no text can become markup.
"""

import html
import math

from cco_hooks.coerce import visible
from cco_hooks.report.render import _footnotes, format_pct, format_tokens, format_usd

# Series colours (Okabe and Ito's colour-blind-safe set, then brown), readable on both the light and
# dark background; the last, grey, is the agent types summed as "other" (dashboard.TOP_AGENTS + 1).
PALETTE = ("#0072b2", "#e69f00", "#009e73", "#cc79a7", "#56b4e9", "#d55e00", "#f0e442", "#a6761d", "#8c8c8c")
CHART_WIDTH = 960
CHART_HEIGHT = 260
_MARGIN = {"left": 72, "right": 12, "top": 12, "bottom": 28}

_STYLE = """
:root { color-scheme: light dark; --bg: #ffffff; --fg: #1b1f24; --muted: #5a636e; --rule: #d8dee4;
  --card: #f4f6f8; --bar: #0072b2; --neg: #d55e00; }
@media (prefers-color-scheme: dark) {
  :root { --bg: #0f1115; --fg: #e6e8eb; --muted: #9aa4af; --rule: #30363d; --card: #181c22;
    --bar: #56b4e9; --neg: #f5793a; }
}
* { box-sizing: border-box; }
body { margin: 0 auto; max-width: 1040px; padding: 24px; background: var(--bg); color: var(--fg);
  font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
h1 { font-size: 22px; margin: 0 0 4px; } h2 { font-size: 17px; margin: 28px 0 8px; }
.meta, .note, .muted { color: var(--muted); } .meta { margin: 0 0 16px; }
.totals { display: grid; grid-template-columns: repeat(auto-fill, minmax(150px, 1fr)); gap: 8px; margin: 0; }
.totals div { background: var(--card); border: 1px solid var(--rule); border-radius: 6px; padding: 8px 10px; }
.totals dt { color: var(--muted); font-size: 12px; } .totals dd { margin: 2px 0 0; font-size: 18px; font-weight: 600; }
table { border-collapse: collapse; width: 100%; font-variant-numeric: tabular-nums; }
th, td { padding: 4px 8px; border-bottom: 1px solid var(--rule); text-align: right; vertical-align: top; }
th:first-child, td:first-child { text-align: left; overflow-wrap: anywhere; }
th { color: var(--muted); font-weight: 600; } tfoot td { font-weight: 600; border-bottom: none; }
.bar { display: inline-block; height: 10px; background: var(--bar); border-radius: 2px; vertical-align: middle; }
svg { width: 100%; height: auto; display: block; } svg text { fill: var(--muted); font-size: 11px; }
svg .axis { stroke: var(--rule); } svg .zero { stroke: var(--muted); }
.legend { display: flex; flex-wrap: wrap; gap: 4px 14px; margin: 6px 0 0; padding: 0; list-style: none; }
.legend i { display: inline-block; width: 10px; height: 10px; border-radius: 2px; margin-right: 5px; }
.neg { color: var(--neg); } th.t, td.t { text-align: left; } td.barcell { width: 35%; text-align: left; }
h3 { font-size: 15px; margin: 18px 0 6px; }
"""


def text(value):
    """Text from the ledger for the page: spelt visibly, then escaped (quotes too)."""
    spelt = visible("" if value is None else value)
    return html.escape(spelt.encode("utf-8", "backslashreplace").decode("utf-8"), quote=True)


def _key(value):
    return "(none)" if value is None else text(value)


def _exact(value):
    """A number as its exact value attribute: what the JSON report holds for it."""
    return "" if value is None else html.escape(repr(value), quote=True)


# ---- the totals --------------------------------------------------------------------------------


def _totals(doc):
    t = doc["totals"]
    share = t["subagent_share"]
    items = [
        ("cost_usd", "Spend", format_usd(t["cost_usd"])),
        ("requested_cost_usd", "Cost at requested models", format_usd(t["requested_cost_usd"])),
        ("savings_usd", "Savings", format_usd(t["savings_usd"])),
        ("savings_pct", "Saved", format_pct(t["savings_pct"])),
        ("spawns", "Spawns", str(t["spawns"])),
        ("unpriced", "Unpriced", str(t["unpriced"])),
        ("rewrites", "Rewrites", str(t["rewrites"])),
        ("denials", "Denials", str(t["denials"])),
        ("drift", "Drift", str(t["drift"])),
        ("sessions", "Sessions with a cost", str(t["sessions"])),
        ("subagent_share", "Subagent share", "-" if share is None else f"{share * 100:.0f}%"),
    ]
    cells = [
        f'<div><dt>{label}</dt><dd data-total="{name}" data-value="{_exact(t[name])}">{shown}</dd></div>'
        for name, label, shown in items
    ]
    tokens = t["tokens"]
    cells.append(
        '<div><dt>Tokens in / out / cache</dt><dd data-total="tokens" '
        f'data-value="{tokens["input"]} {tokens["output"]} {tokens["cache_read"]} {tokens["cache_write"]}">'
        f"{format_tokens(tokens['input'])} / {format_tokens(tokens['output'])} / "
        f"{format_tokens(tokens['cache_read'] + tokens['cache_write'])}</dd></div>"
    )
    return '<dl class="totals" id="totals">' + "".join(cells) + "</dl>"


# ---- charts ------------------------------------------------------------------------------------


def _nice_step(span, ticks=4):
    """A round step (1, 2 or 5 times a power of ten) that cuts ``span`` into about ``ticks``."""
    raw = span / ticks
    power = 10.0 ** _floor_log10(raw)
    for m in (1, 2, 5, 10):
        if m * power >= raw:
            return m * power
    return 10 * power  # pragma: no cover


def _floor_log10(x):
    n = 0
    while x >= 10:
        x /= 10
        n += 1
    while x < 1:
        x *= 10
        n -= 1
    return n


def _tick_label(value, step):
    """A y-axis label with as many decimals as the step needs: $0.5, $1.0, $25, -$0.02."""
    decimals = max(0, -_floor_log10(step))
    sign = "-" if value < -step / 1e6 else ""
    return f"{sign}${abs(value):,.{decimals}f}"


def stacked_chart(days, agents, series, title):
    """An inline SVG of ``series`` (``{agent: [USD per day]}``) stacked per day, negative values
    below the zero line; each bar segment carries a tooltip (``<title>``)."""
    if not days:
        return '<p class="muted">No spawns recorded.</p>'
    top = bottom = 0.0
    for i in range(len(days)):
        up = sum(v[i] for v in series.values() if v[i] > 0)
        down = sum(v[i] for v in series.values() if v[i] < 0)
        top, bottom = max(top, up), min(bottom, down)
    if top == bottom:
        top = 1.0
    step = _nice_step(top - bottom)
    top = step * math.ceil(top / step)
    bottom = -step * math.ceil(-bottom / step)
    left, right, upper, lower = _MARGIN["left"], _MARGIN["right"], _MARGIN["top"], _MARGIN["bottom"]
    plot_w = CHART_WIDTH - left - right
    plot_h = CHART_HEIGHT - upper - lower

    def y(value):
        return upper + (top - value) / (top - bottom) * plot_h

    band = plot_w / len(days)
    bar = max(band * 0.8, 0.5)
    out = [
        f'<svg viewBox="0 0 {CHART_WIDTH} {CHART_HEIGHT}" role="img" aria-label="{text(title)}">',
    ]
    tick = bottom
    while tick <= top + step / 2:
        ty = y(tick)
        out.append(f'<line class="axis" x1="{left}" x2="{CHART_WIDTH - right}" y1="{ty:.1f}" y2="{ty:.1f}"/>')
        out.append(f'<text x="{left - 6}" y="{ty + 4:.1f}" text-anchor="end">{_tick_label(tick, step)}</text>')
        tick += step
    out.append(f'<line class="zero" x1="{left}" x2="{CHART_WIDTH - right}" y1="{y(0):.1f}" y2="{y(0):.1f}"/>')
    labels = max(1, -(-len(days) // 12))  # at most about a dozen day labels
    for i, day in enumerate(days):
        x = left + i * band + (band - bar) / 2
        up = down = 0.0
        for n, agent in enumerate(agents):
            value = series[agent][i]
            if not value:
                continue
            if value > 0:
                y0, y1 = y(up + value), y(up)
                up += value
            else:
                y0, y1 = y(down), y(down + value)
                down += value
            tip = f"{day} · {agent if agent is not None else '(none)'}: {format_usd(value)}"
            out.append(
                f'<rect x="{x:.2f}" y="{y0:.2f}" width="{bar:.2f}" height="{max(y1 - y0, 0.5):.2f}" '
                f'fill="{PALETTE[n % len(PALETTE)]}"><title>{text(tip)}</title></rect>'
            )
        if i % labels == 0:
            cx = left + i * band + band / 2
            out.append(f'<text x="{cx:.1f}" y="{CHART_HEIGHT - 8}" text-anchor="middle">{text(day[5:])}</text>')
    out.append("</svg>")
    return "".join(out)


def _legend(agents):
    items = [
        f'<li><i style="background:{PALETTE[n % len(PALETTE)]}"></i>{_key(agent)}</li>'
        for n, agent in enumerate(agents)
    ]
    return '<ul class="legend">' + "".join(items) + "</ul>"


# ---- tables ------------------------------------------------------------------------------------


def _money(value):
    shown = text(format_usd(value))
    return f'<span class="neg">{shown}</span>' if value is not None and value < 0 else shown


def _sums_cells(row):
    t = row["tokens"]
    return [
        str(row["spawns"]),
        f"{format_tokens(t['input'])}/{format_tokens(t['output'])}/{format_tokens(t['cache_read'] + t['cache_write'])}",
        _money(row["cost_usd"]) + ("*" if row["unpriced"] else ""),
        _money(row["requested_cost_usd"]) + ("*" if row["unpriced"] or row["requested_unpriced"] else ""),
        _money(row["savings_usd"]),
        text(format_pct(row["savings_pct"])),
        f"{row['rewrites']}/{row['denials']}",
    ]


_SUMS_HEADERS = ["spawns", "tokens in/out/cache", "cost", "cost at requested", "savings", "%", "rewrites/denials"]


def _table(first_header, headers, rows, foot=None, table_id=None, classes=()):
    """A table; ``classes``: per column after the first, its cells' class (``t`` text, left-aligned)."""
    ident = f' id="{table_id}"' if table_id else ""
    classes = list(classes) + [""] * (len(headers) - len(classes))
    attrs = [""] + [f' class="{c}"' if c else "" for c in classes]
    out = [f"<table{ident}><thead><tr><th>{text(first_header)}</th>"]
    out += [f"<th{a}>{text(h)}</th>" for h, a in zip(headers, attrs[1:], strict=True)]
    out.append("</tr></thead><tbody>")
    for cells in rows:
        out.append("<tr>" + "".join(f"<td{a}>{c}</td>" for c, a in zip(cells, attrs, strict=True)) + "</tr>")
    out.append("</tbody>")
    if foot is not None:
        out.append("<tfoot><tr>" + "".join(f"<td>{c}</td>" for c in foot) + "</tr></tfoot>")
    out.append("</table>")
    return "".join(out)


def _by_model(models):
    if not models:
        return '<p class="muted">No spawns recorded.</p>'
    most = max((r["cost_usd"] for r in models), default=0) or 1
    rows = []
    for r in models:
        width = max(0.0, r["cost_usd"] / most * 100)
        rows.append(
            [
                _key(r["key"]),
                f'<span class="bar" style="width:{width:.1f}%"></span>',
                str(r["spawns"]),
                _money(r["cost_usd"]) + ("*" if r["unpriced"] else ""),
                _money(r["savings_usd"]),
            ]
        )
    return _table("model", ["", "spawns", "cost", "savings"], rows, table_id="by-model", classes=["barcell"])


def _decisions(doc, decisions):
    t = doc["totals"]
    rows = [[_key(r["key"]), str(r["spawns"]), str(r["denials"]), _money(r["cost_usd"])] for r in decisions]
    table = _table("decision", ["spawns", "denied", "cost"], rows, table_id="decisions")
    return (
        f"<p>{t['rewrites']} spawn{'s' * (t['rewrites'] != 1)} rewritten, {t['denials']} denied, "
        f"{t['drift']} ran on another model than the enforced one.</p>" + table
    )


def _drift(drift):
    if not drift["spawns"]:
        return '<p class="muted">No spawn ran on another model than the enforced one.</p>'
    causes = [[text(c), str(n), text(drift["causes"].get(c, ""))] for c, n in drift["by_cause"].items()]
    out = [
        "<h3>Drift by cause</h3>",
        _table("cause", ["spawns", "meaning"], causes, table_id="drift-causes", classes=["", "t"]),
    ]
    if drift["listed"]:
        listed = [
            [
                text((e["ts"] or "")[:16].replace("T", " ")),
                text((e["session_id"] or "-")[:8]),
                _key(e["agent_type"]),
                text(e["enforced_model"] or "-"),
                text(e["actual_model"] or "-"),
                text(e["cause"]),
            ]
            for e in drift["listed"]
        ]
        out.append("<h3>Latest drifted spawns</h3>")
        out.append(_table("when (UTC)", ["session", "agent", "enforced", "actual", "cause"], listed, classes=["t"] * 5))
        if drift["not_listed"]:
            out.append(f'<p class="note">{drift["not_listed"]} earlier not listed.</p>')
    return "".join(out)


def _sessions(sessions, not_listed):
    if not sessions:
        return '<p class="muted">No spawns recorded.</p>'
    rows = []
    for r in sessions:
        share = r.get("subagent_share")
        rows.append(
            [
                _key(r["key"]),
                str(r["spawns"]),
                _money(r["cost_usd"]) + ("*" if r["unpriced"] else ""),
                _money(r["savings_usd"]),
                _money(r.get("session_cost_usd")),
                "-" if share is None else f"{share * 100:.0f}%",
            ]
        )
    headers = ["spawns", "subagent cost", "savings", "session cost", "subagent share"]
    table = _table("session", headers, rows, table_id="sessions")
    more = f'<p class="note">{not_listed} more not listed.</p>' if not_listed else ""
    return table + more


def _main_table(doc):
    if not doc["rows"]:
        return '<p class="muted">No spawns recorded.</p>'
    rows = [[_key(r["key"])] + _sums_cells(r) for r in doc["rows"]]
    foot = ["total"] + _sums_cells(doc["totals"])
    return _table(doc["group_by"], _SUMS_HEADERS, rows, foot, table_id="rows")


# ---- the page ----------------------------------------------------------------------------------

_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'"


def render_html(doc, views):
    """The page: ``doc`` is the report document (the JSON report), ``views`` what
    ``dashboard.build_dashboard`` built beside it."""
    daily = views["daily"]
    f = doc["filters"]
    chosen = [
        f"{name} {', '.join(map(text, f[name])) if isinstance(f[name], list) else text(f[name])}"
        for name in ("since", "until", "sessions", "projects", "agents")
        if f[name]
    ]
    ledgers = ", ".join(text(p) for p in doc["ledgers"]) or "the live ledger"
    zone = "local time" if doc["time_zone"] == "local" else text(doc["time_zone"])
    meta = f"Ledgers: {ledgers}. Days in {zone}." + (f" Filters: {'; '.join(chosen)}." if chosen else "")
    notes = "".join(f'<p class="note">{text(n)}</p>' for n in _footnotes(doc))
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        '<meta name="color-scheme" content="light dark">',
        "<title>cco-hooks report</title>",
        f"<style>{_STYLE}</style></head><body>",
        "<h1>cco-hooks report</h1>",
        f'<p class="meta">{meta}</p>',
        _totals(doc),
        "<h2>Spend per day, by agent type</h2>",
        stacked_chart(daily["days"], daily["agents"], daily["cost"], "Spend per day, by agent type"),
        _legend(daily["agents"]),
        "<h2>Savings per day, by agent type</h2>",
        stacked_chart(daily["days"], daily["agents"], daily["savings"], "Savings per day, by agent type"),
        _legend(daily["agents"]),
        "<h2>Spend by model</h2>",
        _by_model(views["models"]),
        "<h2>Rewrites, denials and drift</h2>",
        _decisions(doc, views["decisions"]),
        _drift(views["drift"]),
        "<h2>Top sessions</h2>",
        _sessions(views["sessions"], views["sessions_not_listed"]),
        f"<h2>By {text(doc['group_by'])}</h2>",
        _main_table(doc),
        notes,
        "</body></html>",
    ]
    return "\n".join(parts) + "\n"
