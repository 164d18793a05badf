"""The summary's rows: money in nano-dollars, the day check, and adding rows up by group and rollup."""

import pytest

from cco_hooks.report import rows
from cco_hooks.report.rows import AGENT, COST, DAY, DECISION, MODEL, PROJECT, SESSION, SPAWNS, T_IN, WIDTH


def row(spawns=0, tokens_in=0, cost=0):
    values = [0] * WIDTH
    values[SPAWNS], values[T_IN], values[COST] = spawns, tokens_in, cost
    return values


def key(
    day="2026-03-01", session="s1", project="/p", agent="general-purpose", model="claude-opus-5-5", decision="none"
):
    return (day, session, project, agent, model, decision)


def test_the_key_and_value_fields_are_laid_out_as_indexed():
    """The index constants name the fields they stand for."""
    named = {"day": DAY, "session": SESSION, "project": PROJECT, "agent": AGENT, "model": MODEL, "decision": DECISION}
    assert {name: rows.KEY_FIELDS.index(name) for name in named} == named
    assert {name: rows.VALUE_FIELDS.index(name) for name in ("spawns", "tokens_input", "cost_nusd")} == {
        "spawns": SPAWNS,
        "tokens_input": T_IN,
        "cost_nusd": COST,
    }
    assert WIDTH == len(rows.VALUE_FIELDS) == 13


def test_the_rollup_dims_leave_out_the_session():
    """Sessions are unbounded, so no rollup is kept by session."""
    assert rows.ROLLUP_DIMS == (DAY, PROJECT, AGENT, MODEL, DECISION)


def test_the_record_bounds_keep_a_row_inside_int64():
    """A thousand records at the cost and token caps still sum inside an int64."""
    assert 1000 * rows.MAX_COST_USD * rows.NANO < 2**63
    assert 1000 * rows.MAX_TOKENS < 2**63


# --------------------------------------------------------------------------- nano_to_usd


@pytest.mark.parametrize(
    ("nano", "usd"), [(0, 0.0), (486_500_000, 0.4865), (1_500_000_000, 1.5), (-250_000_000, -0.25)]
)
def test_nano_to_usd(nano, usd):
    """Nano-dollars divided by 10**9."""
    assert rows.nano_to_usd(nano) == usd


def test_nano_to_usd_is_a_float():
    """Whole dollars come back as a float, as JSON reports print them."""
    assert type(rows.nano_to_usd(2_000_000_000)) is float


# --------------------------------------------------------------------------- valid_day


@pytest.mark.parametrize("day", ["2026-03-01", "0000-00-00", "9999-12-31"])
def test_valid_day_accepts_yyyy_mm_dd(day):
    """Ten ASCII characters: four digits, dash, two digits, dash, two digits."""
    assert rows.valid_day(day) is True


@pytest.mark.parametrize(
    "day",
    [
        "2026-3-01",
        "2026-03-1",
        "2026/03/01",
        "20260301",
        "2026-03-01T",
        "2026-03-0x",
        "+026-03-01",
        "2026-03- 1",
        "２０２６-03-01",
        "2026-٠٣-01",
        "",
        None,
        20260301,
        b"2026-03-01",
    ],
)
def test_valid_day_refuses_the_rest(day):
    """Another length or separator, a sign, a space, non-ASCII digits, not a str: refused."""
    assert rows.valid_day(day) is False


def test_valid_day_refuses_a_str_subclass():
    """Only an exact ``str``: a subclass could change what slicing returns."""

    class Day(str):
        pass

    assert rows.valid_day(Day("2026-03-01")) is False


# --------------------------------------------------------------------------- sum_rows and merge_sums


def test_sum_rows_of_nothing_is_empty():
    """No pairs, no groups."""
    assert rows.sum_rows([]) == {}


def test_sum_rows_adds_the_rows_of_each_group_column_by_column():
    """Rows of the same group are summed per column; groups stay apart."""
    pairs = [("a", row(1, 10, 100)), ("b", row(2, 20, 200)), ("a", row(3, 30, 300)), ("a", row(0, 0, 5))]
    assert rows.sum_rows(pairs) == {"a": row(4, 40, 405), "b": row(2, 20, 200)}


def test_sum_rows_copies_a_single_row():
    """A group of one row is a new list: changing the sum never changes the row it came from."""
    original = row(1, 10, 100)
    sums = rows.sum_rows([("a", original)])
    sums["a"][SPAWNS] = 99
    assert original == row(1, 10, 100)


def test_sum_rows_is_exact_for_large_values():
    """Sums near the int64 range are exact (no float on the way)."""
    big = rows.MAX_COST_USD * rows.NANO
    assert rows.sum_rows([("a", row(cost=big)), ("a", row(cost=big + 1))])["a"][COST] == 2 * big + 1


def test_sum_rows_is_exact_past_64_bits():
    """Counts the hooks can write past the fast decoder's bounds (read by the hooks' rules) add up
    exactly, whatever their size: Python's integers take over from the int64 array."""
    huge = 10**30
    sums = rows.sum_rows(
        [("a", row(spawns=1, tokens_in=huge)), ("a", row(spawns=1, tokens_in=huge + 1)), ("b", row(2))]
    )
    assert sums["a"][T_IN] == 2 * huge + 1 and sums["a"][SPAWNS] == 2 and sums["b"][SPAWNS] == 2


def test_merge_sums_adds_into_existing_groups_and_copies_new_ones():
    """Existing groups are added to column by column; a new group is copied, not shared."""
    acc = {"a": row(1, 10, 100)}
    new = row(5, 50, 500)
    rows.merge_sums(acc, {"a": row(2, 20, 200), "b": new})
    assert acc == {"a": row(3, 30, 300), "b": row(5, 50, 500)}
    new[SPAWNS] = 99
    assert acc["b"][SPAWNS] == 5


def test_merge_sums_of_nothing_leaves_acc_as_it_is():
    """Merging an empty dict changes nothing."""
    acc = {"a": row(1)}
    rows.merge_sums(acc, {})
    assert acc == {"a": row(1)}


# --------------------------------------------------------------------------- roll_up


def test_roll_up_sums_by_each_bounded_key_field():
    """Every rollup dim gets the rows summed by its own field; there is no rollup by session."""
    work = {
        key(): row(1, 10, 100),
        key(session="s2", agent="Explore", model="claude-haiku-5-5"): row(2, 20, 200),
        key(day="2026-03-02", project="/q", decision="rewrite"): row(4, 40, 400),
    }
    rollups = {}
    rows.roll_up(rollups, work)
    assert rollups == {
        DAY: {"2026-03-01": row(3, 30, 300), "2026-03-02": row(4, 40, 400)},
        PROJECT: {"/p": row(3, 30, 300), "/q": row(4, 40, 400)},
        AGENT: {"general-purpose": row(5, 50, 500), "Explore": row(2, 20, 200)},
        MODEL: {"claude-opus-5-5": row(5, 50, 500), "claude-haiku-5-5": row(2, 20, 200)},
        DECISION: {"none": row(3, 30, 300), "rewrite": row(4, 40, 400)},
    }


def test_roll_up_adds_to_the_rollups_already_there():
    """A second batch of work is added to the sums of the first."""
    rollups = {}
    rows.roll_up(rollups, {key(): row(1, 10, 100)})
    rows.roll_up(rollups, {key(session="s2"): row(2, 20, 200), key(agent="Plan"): row(4, 40, 400)})
    assert rollups[DAY] == {"2026-03-01": row(7, 70, 700)}
    assert rollups[AGENT] == {"general-purpose": row(3, 30, 300), "Plan": row(4, 40, 400)}
    assert rollups[MODEL] == {"claude-opus-5-5": row(7, 70, 700)}


def test_roll_up_leaves_the_work_rows_unchanged():
    """The rows of ``work`` are read, never added into."""
    first, second = row(1, 10, 100), row(2, 20, 200)
    rows.roll_up({}, {key(): first, key(session="s2"): second})
    rows.roll_up({}, {key(): first})
    assert (first, second) == (row(1, 10, 100), row(2, 20, 200))


def test_roll_up_of_no_work_leaves_empty_rollups():
    """Nothing to add: each dim has an empty rollup."""
    rollups = {}
    rows.roll_up(rollups, {})
    assert rollups == {DAY: {}, PROJECT: {}, AGENT: {}, MODEL: {}, DECISION: {}}
