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


# Characters a terminal or Claude Code's screen would act on instead of showing: C0 controls, DEL,
# C1 controls (0x9b alone starts a CSI on many terminals) and Unicode's bidi controls (Bidi_Control:
# they reorder what follows, so a name can read as another). Built on first use: most text never
# needs it.
BIDI_CONTROLS = "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
_escapes = None


def _escape_table():
    global _escapes
    if _escapes is None:
        table = {c: f"\\x{c:02x}" for c in (*range(0x20), *range(0x7F, 0xA0))}
        table.update({0x09: "\\t", 0x0A: "\\n", 0x0D: "\\r"})
        table.update({ord(c): f"\\u{ord(c):04x}" for c in BIDI_CONTROLS})
        _escapes = table
    return _escapes


def visible(value, keep=""):
    """``value`` as text a terminal shows as it is: every control character spelt out.

    For text from a payload, a transcript, a config or the ledger on its way to a terminal or to
    Claude Code. C0 controls (newline and tab too: a value is one line), DEL, C1 controls and the
    bidi controls become ``\\x1b``, ``\\x9b``, ``\\u202e``, ``\\n``...; everything else, backslashes included,
    is left as it is. ``keep`` names characters to leave alone (``"\\n"`` for a whole multi-line
    message we wrote ourselves). Not a string: its ``str()``, spelt the same way.
    """
    text = value if isinstance(value, str) else str(value)
    if text.isprintable():  # the everyday case, one C call: nothing to escape
        return text
    table = _escape_table()
    if keep:
        table = {c: e for c, e in table.items() if chr(c) not in keep}
    return text.translate(table)
