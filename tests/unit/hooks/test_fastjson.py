"""fastjson: the hooks' JSON, exactly what the stdlib json accepts and writes, minus NaN/Infinity."""

import json

import pytest

from cco_hooks import fastjson


@pytest.mark.parametrize("text", ['{"a": [1, 2.5, "x", null, true]}', " [] ", '"\\u00e9"', "0", b'{"b":{}}'])
def test_loads_agrees_with_the_stdlib(text):
    assert fastjson.loads(text) == json.loads(text)


@pytest.mark.parametrize(
    "text", ["", "   ", "{", "[1,]", "NaN", "[Infinity]", "-Infinity", '{"a":1} x', "\ufeff{}", b"\xff", "[" * 100000]
)
def test_loads_refuses_what_is_not_one_json_value(text):
    with pytest.raises(ValueError):
        fastjson.loads(text)


def test_dumps_is_compact_ascii_and_round_trips():
    value = {"é": "line\nbreak", "n": [1, 2.5, None, True], "s": "\ud800"}
    text = fastjson.dumps(value)
    assert text.isascii() and "\n" not in text and ", " not in text
    assert json.loads(text) == value


@pytest.mark.parametrize("value", [float("nan"), float("inf"), {"x": -float("inf")}])
def test_dumps_refuses_non_finite_numbers(value):
    with pytest.raises(ValueError):
        fastjson.dumps(value)


def test_dumps_refuses_what_json_cannot_hold():
    with pytest.raises(TypeError):
        fastjson.dumps({"x": object()})
