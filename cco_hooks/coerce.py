"""Values from payloads, transcripts and our own files, taken only when they are what we expect.

Every hook input is untrusted JSON: a field may be missing, of another type, huge, NaN or a bool
posing as a number. These return the value when it is usable and ``None`` (or ``{}``) when not, so
callers never branch on types themselves.

Stdlib only: every hook imports it.
"""

_INFINITIES = (float("inf"), float("-inf"))


def text(value, limit=200):
    """A non-empty string of at most ``limit`` characters, else ``None``."""
    if isinstance(value, str) and value and len(value) <= limit:
        return value
    return None


def cut(value, limit):
    """A non-empty string cut to ``limit`` characters, else ``None``."""
    if not isinstance(value, str) or not value:
        return None
    return value[:limit]


def number(value):
    """A finite int or float (never a bool), else ``None``."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    if value != value or value in _INFINITIES:
        return None
    return value


def count(value):
    """A non-negative whole number (a float from JSON is truncated), else ``None``."""
    if type(value) is int and value >= 0:
        return value
    if type(value) is float and value == value and 0 <= value < 1e15:
        return int(value)
    return None


def mapping(value):
    """``value`` when it is a dict, else an empty dict."""
    return value if isinstance(value, dict) else {}
