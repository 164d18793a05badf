"""``cco-hooks pricing``: the price table in use, shipped prices plus the config's override file.

Named ``pricing_cmd`` so it is never mistaken for ``cco_hooks.pricing``, the price table itself.
The table fits the terminal: the prose is wrapped, and where the full table (every rate of every
model in one row, 170-odd columns) is too wide, columns move out of it one by one into lists below
it (the internal tier name first, then long-prompt and fast rates, then the dated IDs).
"""

from __future__ import annotations

import json
import os
import shutil
import textwrap
from collections.abc import Callable

from cco_hooks import paths, pricing
from cco_hooks.config import build as config_build

RATE_KEYS = ("input", "output", "cache_write_5m", "cache_write_1h", "cache_read")
RATES_SPELT = "input/output/5m write/1h write/cache read"


def run_pricing(
    fmt: str, project_dir: str | None, env: dict, out: Callable[[str], None], width: int | None = None
) -> int:
    """Print the prices as a table that fits ``width`` columns (default: the terminal's), or as JSON
    in the shape of an override file; then any warnings."""
    project = paths.project_dir(env=env, chosen=project_dir, default=os.getcwd())
    routing = config_build.build_routing(project, env)
    prices = pricing.load_prices(override_path=routing["pricing_file"])
    if fmt == "json":
        out(json.dumps(prices.as_table(), indent=2))
        for warning in prices.warnings:
            out(f"warning: {warning}")
        return 0
    width = shutil.get_terminal_size((80, 24)).columns if width is None else width
    out(format_fitted(prices, max(width, 40)))
    return 0


def _rate(value) -> str:
    return "-" if value is None else f"{value:g}"


def _rates(rates: dict) -> str:
    return "/".join(_rate(rates.get(key)) for key in RATE_KEYS)


def _long_prompt(lp) -> str:
    return "-" if not lp else f">{lp['above_prompt_tokens']:,}: {_rates(lp)}"


def _table(header: tuple, rows: list, numeric: set) -> list[str]:
    widths = [max(len(header[i]), *(len(r[i]) for r in rows)) if rows else len(header[i]) for i in range(len(header))]

    def line(cells):
        return "  ".join(
            c.rjust(w) if i in numeric else c.ljust(w) for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        ).rstrip()

    return [line(header), line(tuple("-" * w for w in widths)), *(line(r) for r in rows)]


def _layout(rows: list, level: int, width: int) -> list[str]:
    """The table at one of four levels: 0 every column; 1 without the tier; 2 long-prompt and fast
    rates listed below; 3 dated IDs listed below too."""
    header = ["model", "tier", "input", "output", "5m write", "1h write", "cache read", "long prompt", "fast", "from"]
    cells = []
    for row in rows:
        model = row["model"]
        if level < 3 and row["first_party_id"] and row["first_party_id"].lower() != model:
            model = f"{model} ({row['first_party_id']})"
        rates = [_rate(row[key]) for key in RATE_KEYS]
        cells.append(
            [
                model,
                row["tier"],
                *rates,
                _long_prompt(row["long_prompt"]),
                _rates(row["fast"]) if row["fast"] else "-",
                row["origin"] or "",
            ]
        )
    drop = ({1} if level >= 1 else set()) | ({7, 8} if level >= 2 else set())
    keep = [i for i in range(len(header)) if i not in drop]
    numeric = {keep.index(i) for i in (2, 3, 4, 5, 6)}
    lines = _table(tuple(header[i] for i in keep), [tuple(c[i] for i in keep) for c in cells], numeric)
    if level >= 2:
        long_rows = [(r["model"], _long_prompt(r["long_prompt"])) for r in rows if r["long_prompt"]]
        fast_rows = [(r["model"], _rates(r["fast"])) for r in rows if r["fast"]]
        for title, listed in (
            (f"Long-prompt rates ({RATES_SPELT}):", long_rows),
            (f"Fast-mode rates ({RATES_SPELT}):", fast_rows),
        ):
            if listed:
                name_width = max(len(name) for name, _ in listed)
                lines += ["", *textwrap.wrap(title, width, subsequent_indent="  ")]
                lines += [f"  {name.ljust(name_width)}  {text}" for name, text in listed]
    return lines


def format_fitted(prices, width: int) -> str:
    """``cco-hooks pricing``'s text in ``width`` columns (a table cell is never cut: a model whose
    name alone is wider is the one line that may be)."""
    wrap = lambda text: textwrap.wrap(text, width, subsequent_indent="  ", break_on_hyphens=False)  # noqa: E731
    lines = wrap(f"Price table dated {prices.date or 'unknown'} — {prices.source or 'unknown source'}")
    lines += wrap(
        "USD per million tokens (web search: USD per request). Long-prompt rates apply to a whole request when its "
        "prompt (input + cache writes + cache reads) is above the threshold; fast rates to a request in fast mode. "
        "Usage served in the US (inference_geo us) costs 1.1× (web search excepted)."
    )
    if prices.override_path:
        extra = ", ".join(x for x in (prices.override_date, prices.override_source) if x)
        lines += wrap(f"Overrides from {prices.override_path}" + (f" ({extra})" if extra else ""))
    rows = prices.table_rows()
    for level in range(4):
        table = _layout(rows, level, width)
        if max(map(len, table), default=0) <= width:
            break
    lines += ["", *table]
    dated = [
        (r["model"], r["first_party_id"])
        for r in rows
        if r["first_party_id"] and r["first_party_id"].lower() != r["model"]
    ]
    if level >= 3 and dated:
        lines += ["", *wrap("Dated IDs: " + ", ".join(f"{model} = {first}" for model, first in dated) + ".")]
    if prices.aliases:
        lines += ["", *wrap("Aliases: " + ", ".join(f"{a} → {m}" for a, m in sorted(prices.aliases.items())))]
    lines += wrap("A model not listed here is recorded as unpriced (never 0).")
    for warning in prices.warnings:
        lines += wrap(f"warning: {warning}")
    return "\n".join(lines)
