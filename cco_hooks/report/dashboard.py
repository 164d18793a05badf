"""What the HTML report shows beside the report document: views of the same summaries and filters.

The page's totals are the JSON report's own ``totals`` (``document.build_report`` with the same
options): nothing here sums them again. The views add what one ``--by`` cannot show at once —
spend and savings per day and agent type, spend by model, the decisions (rewrites, denials), the
top sessions and drift — each built by ``build_report`` or ``drift_report`` too, except the day by
agent type cross table, which is one pass over the summaries' rows with the same filters.
"""

import datetime as _dt

from cco_hooks.report.document import build_report, drift_report
from cco_hooks.report.rows import AGENT, COST, DAY, REQ_BASE, REQ_COST, merge_sums, nano_to_usd, sum_rows
from cco_hooks.report.summary import PARTS, with_tails

TOP_SESSIONS = 10  # sessions listed, by cost
TOP_AGENTS = 8  # agent types with a colour of their own in the daily charts; the rest are "other"
DRIFT_LISTED = 20  # latest drifted spawns listed
OTHER_AGENTS = "other agent types"


def build_dashboard(summaries, doc, filters, ledgers=()):
    """The views the HTML page shows beside ``doc`` (the report document, already built from
    ``summaries`` with ``filters``)."""

    def rows_by(group_by):
        return build_report(summaries, group_by, filters, ledgers)["rows"]

    sessions = rows_by("session")
    return {
        "daily": daily_by_agent(summaries, filters),
        "models": rows_by("model"),
        "decisions": rows_by("decision"),
        "sessions": sessions[:TOP_SESSIONS],
        "sessions_not_listed": max(0, len(sessions) - TOP_SESSIONS),
        "drift": doc["drift"] if "drift" in doc else drift_report(summaries, filters, DRIFT_LISTED),
    }


def daily_by_agent(summaries, filters):
    """Spend and savings per day and agent type, in USD: ``{"days": [day, ...], "agents": [agent,
    ...], "cost": {agent: [per day]}, "savings": {agent: [per day]}}``. Days in date order (every
    day from the first to the last, a day without spawns as 0); agent types by cost, highest first,
    the ``TOP_AGENTS`` costliest with their own series and the rest summed as ``OTHER_AGENTS``."""
    key_ok = None if filters.empty else filters.key_ok
    cells = {}  # (day, agent) -> [WIDTH sums]
    for s in with_tails(summaries):
        for p in range(PARTS):
            rows = s.partition(p)[0]
            pairs = (((key[DAY], key[AGENT]), row) for key, row in rows.items() if key_ok is None or key_ok(key))
            merge_sums(cells, sum_rows(pairs))
    by_agent = {}
    for (_, agent), sums in cells.items():
        by_agent[agent] = by_agent.get(agent, 0) + sums[COST]
    ranked = sorted(by_agent, key=lambda a: (-by_agent[a], a is None, a or ""))
    agents = ranked[:TOP_AGENTS]
    if len(ranked) > TOP_AGENTS:
        agents.append(OTHER_AGENTS)
    series = set(agents)
    days = _day_range(sorted({day for day, _ in cells if day is not None}))
    where = {day: i for i, day in enumerate(days)}
    cost = {agent: [0] * len(days) for agent in agents}
    savings = {agent: [0] * len(days) for agent in agents}
    for (day, agent), sums in cells.items():
        if day not in where:
            continue
        name = agent if agent in series else OTHER_AGENTS
        cost[name][where[day]] += sums[COST]
        savings[name][where[day]] += sums[REQ_COST] - sums[REQ_BASE]
    return {
        "days": days,
        "agents": agents,
        "cost": {a: [nano_to_usd(v) for v in values] for a, values in cost.items()},
        "savings": {a: [nano_to_usd(v) for v in values] for a, values in savings.items()},
    }


def _day_range(days):
    """Every day from the first of ``days`` to the last (a chart's axis has no holes); days that
    are no date (from a line no hook wrote) are kept, after the dates, as they are."""
    dates, odd = [], []
    for day in days:
        try:
            dates.append(_dt.date.fromisoformat(day))
        except (TypeError, ValueError):
            odd.append(day)
    if not dates:
        return odd
    first, last = min(dates), max(dates)
    span = (last - first).days
    if span > 3660:  # ten years of bars is no chart: keep the days that have spawns
        return [d.isoformat() for d in sorted(dates)] + odd
    return [(first + _dt.timedelta(days=i)).isoformat() for i in range(span + 1)] + odd
