"""coerce: untrusted JSON values are taken only when they are what we expect."""

import pytest

from cco_hooks import coerce


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
