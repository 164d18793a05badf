"""Text an attacker puts in an agent name, a config key or a path, to act on the terminal that shows
it; and the check that output shows it spelt out instead.

``HOSTILE`` maps each attack to ``(raw text, how coerce.visible spells it)``: the erase-screen CSI,
an OSC 52 that writes the clipboard, a bell, a carriage return that overwrites the line, the C1
CSI (0x9b, one byte on 8-bit terminals) and the right-to-left override. ``ALL`` is one name holding
every one of them.
"""

HOSTILE = {
    "erase screen": ("\x1b[2J", "\\x1b[2J"),
    "OSC 52 clipboard": ("\x1b]52;c;aGk=\x07", "\\x1b]52;c;aGk=\\x07"),
    "bell": ("\x07", "\\x07"),
    "carriage return": ("\r", "\\r"),
    "C1 CSI": ("\x9b2J", "\\x9b2J"),
    "right-to-left override": ("\u202e", "\\u202e"),
}
ALL_RAW = "evil" + "".join(raw for raw, _ in HOSTILE.values()) + "name"
ALL_SPELT = "evil" + "".join(spelt for _, spelt in HOSTILE.values()) + "name"

BIDI_CONTROLS = "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"


def raw_controls(text: str, keep: str = "\n") -> list[str]:
    """The control characters in ``text`` a terminal would act on (``keep`` allowed: the output's
    own line breaks)."""
    return [c for c in text if c not in keep and (ord(c) < 0x20 or 0x7F <= ord(c) < 0xA0 or c in BIDI_CONTROLS)]


def assert_shown_not_run(text: str, keep: str = "\n") -> None:
    """No raw control character in ``text``; every hostile one spelt out, in one piece."""
    assert not raw_controls(text, keep), f"raw controls {raw_controls(text, keep)!r} in {text!r}"
    assert ALL_SPELT in text, f"{ALL_SPELT!r} not in {text!r}"
