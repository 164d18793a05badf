"""coerce: untrusted JSON values are taken only when they are what we expect."""

import pytest

from cco_hooks import coerce
from tests.support.controls import BIDI_CONTROLS, HOSTILE


@pytest.mark.parametrize(
    ("value", "limit", "expected"),
    [
        ("abc", 3, "abc"),
        ("abcd", 3, None),
        ("", 3, None),
        (None, 3, None),
        (5, 3, None),
        (["a"], 3, None),
    ],
)
def test_text(value, limit, expected):
    assert coerce.text(value, limit) == expected


def test_text_default_limit_is_200():
    assert coerce.text("x" * 200) == "x" * 200 and coerce.text("x" * 201) is None


@pytest.mark.parametrize(("value", "expected"), [("abcdef", "abc"), ("ab", "ab"), ("", None), (3, None)])
def test_cut(value, expected):
    assert coerce.cut(value, 3) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (0, 0),
        (1.5, 1.5),
        (-2, -2),
        (True, None),
        (False, None),
        ("1", None),
        (None, None),
        (float("nan"), None),
        (float("inf"), None),
        (float("-inf"), None),
    ],
)
def test_number(value, expected):
    assert coerce.number(value) == expected and type(coerce.number(value)) is type(expected)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (0, 0),
        (7, 7),
        (7.9, 7),
        (-1, None),
        (-0.5, None),
        (True, None),
        (float("nan"), None),
        (1e15, None),
        ("3", None),
    ],
)
def test_count(value, expected):
    assert coerce.count(value) == expected


def test_mapping():
    given = {"a": 1}
    assert coerce.mapping(given) is given
    assert coerce.mapping(["a"]) == {} and coerce.mapping(None) == {}


# --------------------------------------------------------------------------- visible


@pytest.mark.parametrize("attack", sorted(HOSTILE))
def test_visible_spells_out_each_control_a_terminal_would_act_on(attack):
    """ESC sequences, OSC 52, BEL, CR, the C1 CSI and U+202E come out spelt, never raw."""
    raw, spelt = HOSTILE[attack]
    assert coerce.visible(f"agent{raw}x") == f"agent{spelt}x"


def test_visible_spells_every_c0_del_c1_and_bidi_control():
    """Each of the 32 C0 controls, DEL, the 32 C1 controls and the 12 bidi controls is spelt out."""
    controls = [chr(c) for c in (*range(0x20), *range(0x7F, 0xA0))] + list(BIDI_CONTROLS)
    for c in controls:
        shown = coerce.visible(c)
        assert shown.startswith("\\") and shown.isascii() and shown.isprintable(), (c, shown)
    assert coerce.visible("a\nb\tc") == "a\\nb\\tc"  # one value, one line
    assert coerce.visible("\x00\x7f\x85\u2066") == "\\x00\\x7f\\x85\\u2066"


def test_visible_leaves_printable_text_alone():
    """Printable text, non-ASCII and backslashes included, is returned as it is (the same object)."""
    for text in ("python-pro", "café → 東京 …", "C:\\Users\\x", "", "a b"):
        assert coerce.visible(text) is text
    # not printable to Python, but no control: a no-break space and a zero-width joiner stay
    assert coerce.visible("a\u00a0b\u200dc") == "a\u00a0b\u200dc"


def test_visible_keeps_what_it_is_told_to():
    """``keep="\\n"``: a multi-line message keeps its own line breaks; every other control is spelt."""
    assert coerce.visible("one\x1b[2J\ntwo\r", keep="\n") == "one\\x1b[2J\ntwo\\r"
    assert coerce.visible("a\nb") == "a\\nb"  # the shared table is not changed by a keep


def test_visible_of_a_non_string_is_its_str():
    assert coerce.visible(12) == "12" and coerce.visible(None) == "None"
