"""JSON for the hook processes, on the C accelerator ``_json`` alone.

``import json`` costs ~7.5 ms here because it imports ``re`` (and ``re`` imports ``enum``): more
than our whole latency budget. ``_json`` (the C half of the stdlib ``json``) parses and escapes
just as correctly; this module only supplies the few lines of glue ``json`` would have.
"""

from cco_hooks import c_module

_json = c_module("_json")  # import _json, without importlib's path finder (see there)

_WHITESPACE = " \t\n\r"


class JSONError(ValueError):
    """The text is not one JSON value."""


def _parse_constant(name: str) -> float:
    # NaN / Infinity are not JSON; the stdlib accepts them, we refuse them so that what we
    # accept is exactly what every other JSON reader accepts.
    raise JSONError(f"{name} is not valid JSON")


class _ScannerContext:
    # The attributes c_make_scanner reads (see Modules/_json.c).
    strict = True
    object_hook = None
    object_pairs_hook = None
    parse_float = float
    parse_int = int
    parse_constant = staticmethod(_parse_constant)
    memo = {}


_scan_once = _json.make_scanner(_ScannerContext())


def loads(text: str | bytes):
    """Parse one JSON value, like ``json.loads``; raises ``JSONError`` on anything else."""
    if isinstance(text, (bytes, bytearray)):
        text = bytes(text).decode("utf-8")  # UnicodeDecodeError is a ValueError too
    if text.startswith("\ufeff"):
        raise JSONError("unexpected UTF-8 BOM")
    start = 0
    end = len(text)
    while start < end and text[start] in _WHITESPACE:
        start += 1
    try:
        value, stop = _scan_once(text, start)
    except StopIteration as exc:
        raise JSONError(f"expecting a value at character {exc.value}") from None
    except RecursionError:
        raise JSONError("JSON nested too deeply") from None
    except ValueError as exc:
        raise JSONError(str(exc)) from None
    except SystemError:
        # The C scanner reports most syntax errors through json.decoder.JSONDecodeError, which it
        # looks up in sys.modules without importing it; we never import json (it imports re), so
        # there it fails with "returned NULL without setting an exception" (CPython 3.10-3.12).
        raise JSONError("not valid JSON") from None
    while stop < end and text[stop] in _WHITESPACE:
        stop += 1
    if stop != end:
        raise JSONError(f"extra data at character {stop}")
    return value


def _default(value):
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


_encoder = _json.make_encoder(
    None,  # markers: skip the cycle check, we never build cyclic data
    _default,
    _json.encode_basestring_ascii,
    None,  # indent
    ":",
    ",",
    False,  # sort_keys
    False,  # skipkeys
    False,  # allow_nan
)


def dumps(value) -> str:
    """Compact, ASCII-only JSON (so a record is one line whatever its text holds)."""
    return "".join(_encoder(value, 0))
