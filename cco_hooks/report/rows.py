"""The summary's rows: what a row's key and its sums are, and how rows are added up.

A scan adds every ledger record into the *row* of its key
``(day, session, project, agent type, actual model, decision action)``; a row holds the
``VALUE_FIELDS`` sums as integers (money in nano-dollars, so sums are exact and the order they are
added in never matters). Any report, for any ``--by`` and any filter, can be answered from rows.
"""

import array
from itertools import chain
from operator import add

KEY_FIELDS = ("day", "session", "project", "agent", "model", "decision")
DAY, SESSION, PROJECT, AGENT, MODEL, DECISION = range(len(KEY_FIELDS))
# The key fields bounded by the ledger's dimensions, not by its sessions: summed in memory.
ROLLUP_DIMS = (DAY, PROJECT, AGENT, MODEL, DECISION)

VALUE_FIELDS = (
    "spawns",  # launched spawns (status completed or unpriced)
    "denials",  # status denied: blocked by PreToolUse, never ran
    "unpriced",  # launched, cost unknown (cost_usd null): not in any cost sum
    "requested_unpriced",  # cost known, cost at the requested model unknown: not in savings
    "drift",  # ran on another model family than the one enforced
    "tokens_input",
    "tokens_output",
    "tokens_cache_read",
    "tokens_cache_write",  # 5-minute and 1-hour cache writes
    "cost_nusd",  # nano-dollars, over spawns whose cost is known
    "requested_cost_nusd",  # over spawns whose cost and requested cost are both known
    "requested_base_nusd",  # their own cost: savings = requested_cost - requested_base
    "rewrites",  # launched spawns whose decision was rewrite
)
(SPAWNS, DENIALS, UNPRICED, REQ_UNPRICED, DRIFT, T_IN, T_OUT, T_CREAD, T_CWRITE, COST, REQ_COST, REQ_BASE, REWRITES) = (
    range(len(VALUE_FIELDS))
)
WIDTH = len(VALUE_FIELDS)

NANO = 1_000_000_000  # money is summed in integer nano-dollars: exact, whatever the order
# The fast decoder's bounds: they keep its rows inside int64. A record past them is read by the
# hooks' own rules instead (decode.decode_lenient), never skipped; sums are then Python ints.
MAX_TOKENS = 10**12  # per category and spawn
MAX_COST_USD = 10**6  # per spawn or session


def nano_to_usd(nano):
    """Nano-dollars (the rows' exact integers) to USD."""
    return nano / NANO


def valid_day(day):
    """``YYYY-MM-DD`` (the first ten characters of an ISO 8601 ``ts``)."""
    return (
        type(day) is str
        and len(day) == 10
        and day[4] == "-"
        and day[7] == "-"
        and day.isascii()
        and (day[:4] + day[5:7] + day[8:]).isdigit()
    )


def sum_rows(pairs):
    """``{group: [WIDTH sums]}`` from ``(group, row)`` pairs; the columns are summed in C."""
    buckets = {}
    for g, row in pairs:
        bucket = buckets.get(g)
        if bucket is None:
            buckets[g] = [row]
        else:
            bucket.append(row)
    out = {}
    for g, rows in buckets.items():
        if len(rows) == 1:
            out[g] = list(rows[0])
        else:
            try:
                flat = array.array("q", chain.from_iterable(rows))
            except OverflowError:  # a sum past 64 bits (the hooks bound no count): Python's ints
                out[g] = list(map(sum, zip(*rows, strict=True)))
                continue
            out[g] = [sum(flat[c::WIDTH]) for c in range(WIDTH)]
    return out


def merge_sums(acc, sums):
    """Add ``{group: [sums]}`` into ``acc``."""
    for g, values in sums.items():
        prev = acc.get(g)
        acc[g] = list(values) if prev is None else list(map(add, prev, values))


def roll_up(rollups, work):
    """Add the rows of ``work`` (``{key: row}``) into the rollups of every bounded key field: by
    day, and through one smaller cube of (project, agent, model, decision), by each of those."""
    by_day = {}
    cube = {}
    for key, row in work.items():
        day = key[DAY]
        bucket = by_day.get(day)
        if bucket is None:
            by_day[day] = [row]
        else:
            bucket.append(row)
        rest = key[PROJECT:]
        bucket = cube.get(rest)
        if bucket is None:
            cube[rest] = [row]
        else:
            bucket.append(row)
    merge_sums(rollups.setdefault(DAY, {}), {g: list(map(sum, zip(*rows, strict=True))) for g, rows in by_day.items()})
    cube = {g: list(map(sum, zip(*rows, strict=True))) if len(rows) > 1 else rows[0] for g, rows in cube.items()}
    for dim in (PROJECT, AGENT, MODEL, DECISION):
        merge_sums(rollups.setdefault(dim, {}), sum_rows((g[dim - PROJECT], row) for g, row in cube.items()))
