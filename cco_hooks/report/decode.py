"""Ledger lines into the few fields a report needs: two decoders, one rule.

``msgspec`` (the ``fast`` extra) decodes each line straight into those fields, type- and
range-checked in C, and skips the rest without building it; without it, ``orjson`` or the stdlib
parse whole dicts and ``decode_dict`` makes the same checks in Python. Both apply one rule: a line
that is not one JSON object of ledger schema v1 or later with the fields below, of the right types
and in range, raises one of the backend's ``errors``.

The fast decoders are stricter than the hooks: msgspec and orjson refuse a lone surrogate
(``"\\ud800"``, valid JSON, which the hooks' ``fastjson`` writes for such a string), and the
fast path bounds its counts to keep its sums in 64 bits. A line they refuse is read again by
``decode_lenient`` (the stdlib parser, the hooks' own rules: any count, any finite cost), so the
report counts every record the hooks wrote; only a line that fails that too is skipped and counted.
Strings from that path have their lone surrogates spelt out (``\\ud800``), so every key can be
written to the summary and printed.
"""

from typing import Annotated, Literal

from cco_hooks import fastjson, records
from cco_hooks.report.rows import MAX_COST_USD, MAX_TOKENS

try:  # the fast path: decode only the fields we need, type-checked in C
    import msgspec
except ImportError:  # pragma: no cover - exercised by the dict backend tests instead
    msgspec = None

try:
    import orjson

    loads = orjson.loads
    LOADS_ERRORS = (orjson.JSONDecodeError, ValueError, TypeError)
except ImportError:  # pragma: no cover
    from cco_hooks.fastjson import loads

    LOADS_ERRORS = (ValueError, TypeError)

# A recorded decision's action: what the hooks write, and "unknown" for what they could not tell.
ACTIONS = records.DECISION_ACTIONS + (records.UNKNOWN_ACTION,)
STATUSES = ("completed", "denied", "unpriced")

if msgspec is not None:
    _Count = Annotated[int, msgspec.Meta(ge=0, le=MAX_TOKENS)]
    _Cost = Annotated[float, msgspec.Meta(ge=0, le=MAX_COST_USD)] | None

    class _MsTokens(msgspec.Struct, gc=False):
        input: _Count
        output: _Count
        cache_read: _Count
        cache_write_5m: _Count
        cache_write_1h: _Count

    class _MsDecision(msgspec.Struct, gc=False):
        # Literal: msgspec returns the one interned str, so hashing and comparing it is free.
        action: Literal[ACTIONS]

    class _MsSpawn(msgspec.Struct, tag_field="kind", tag="spawn", gc=False):
        v: Annotated[int, msgspec.Meta(ge=1)]  # later schemas add fields; the ones read here stay
        ts: str
        session_id: str | None
        agent_type: str | None
        enforced_model: str | None
        actual_model: str | None
        decision: _MsDecision
        status: Literal[STATUSES]
        tokens: _MsTokens | None
        cost_usd: _Cost
        requested_cost_usd: _Cost
        project: str | None = None  # optional in ledger schema v1

    class _MsSession(msgspec.Struct, tag_field="kind", tag="session", gc=False):
        v: Annotated[int, msgspec.Meta(ge=1)]
        ts: str
        session_id: str | None
        session_cost_usd: _Cost
        project: str | None = None


class _Tokens:
    __slots__ = ("input", "output", "cache_read", "cache_write_5m", "cache_write_1h")


class _Decision:
    __slots__ = ("action",)


class _Spawn:
    __slots__ = (
        "ts",
        "session_id",
        "project",
        "agent_type",
        "enforced_model",
        "actual_model",
        "decision",
        "status",
        "tokens",
        "cost_usd",
        "requested_cost_usd",
    )


class _Session:
    __slots__ = ("ts", "session_id", "project", "session_cost_usd")


class _Invalid(ValueError):
    pass


_TOKEN_FIELDS = _Tokens.__slots__
_FLOAT_MAX = 1.7976931348623157e308


def spell_surrogates(text):
    """``text`` with each lone surrogate spelt out as ``\\udXXX``: a string the summary (marshal)
    can store and any terminal can print. Text without one is returned as it is."""
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        return "".join(f"\\u{ord(c):04x}" if 0xD800 <= ord(c) <= 0xDFFF else c for c in text)


class _Rules:
    """The checks on a dict record: ``strict`` (the fast path's bounds, for the orjson and stdlib
    backends) or not (the hooks' own rules: any count, any finite cost, for ``decode_lenient``)."""

    def __init__(self, strict, text):
        self.max_tokens = MAX_TOKENS if strict else None
        self.max_cost = MAX_COST_USD if strict else _FLOAT_MAX
        self.text = text

    def str(self, value):
        if type(value) is not str:
            raise _Invalid
        return self.text(value)

    def opt_str(self, value):
        if value is None:
            return None
        if type(value) is not str:
            raise _Invalid
        return self.text(value)

    def cost(self, value):
        """None, or a float in [0, max] (an int is taken as a float, as msgspec does)."""
        if value is None:
            return None
        t = type(value)
        if t is int:
            try:
                value = float(value)
            except OverflowError:
                raise _Invalid from None
        elif t is not float:
            raise _Invalid
        if not 0 <= value <= self.max_cost:  # NaN and infinities fail this too
            raise _Invalid
        return value

    def tokens(self, value):
        if value is None:
            return None
        if type(value) is not dict:
            raise _Invalid
        tokens = _Tokens()
        top = self.max_tokens
        for name in _TOKEN_FIELDS:
            count = value[name]
            if type(count) is not int or count < 0 or (top is not None and count > top):
                raise _Invalid
            setattr(tokens, name, count)
        return tokens

    def decision(self, value):
        if type(value) is not dict:
            raise _Invalid
        decision = _Decision()
        decision.action = value["action"]
        if decision.action not in ACTIONS:
            raise _Invalid
        return decision

    def spawn(self, r):
        s = _Spawn()
        s.ts = self.str(r["ts"])
        s.session_id = self.opt_str(r["session_id"])
        s.project = self.opt_str(r.get("project"))
        s.agent_type = self.opt_str(r["agent_type"])
        s.enforced_model = self.opt_str(r["enforced_model"])
        s.actual_model = self.opt_str(r["actual_model"])
        s.decision = self.decision(r["decision"])
        s.status = r["status"]
        if s.status not in STATUSES:
            raise _Invalid
        s.tokens = self.tokens(r["tokens"])
        s.cost_usd = self.cost(r["cost_usd"])
        s.requested_cost_usd = self.cost(r["requested_cost_usd"])
        return s

    def session(self, r):
        s = _Session()
        s.ts = self.str(r["ts"])
        s.session_id = self.opt_str(r["session_id"])
        s.project = self.opt_str(r.get("project"))
        s.session_cost_usd = self.cost(r["session_cost_usd"])
        return s

    def record(self, r):
        v = r.get("v") if type(r) is dict else None
        if type(v) is not int or v < 1:
            raise _Invalid
        kind = r.get("kind")
        if kind == "spawn":
            return self.spawn(r)
        if kind == "session":
            return self.session(r)
        raise _Invalid


def _same(text):
    return text


_STRICT = _Rules(True, _same)
_LENIENT = _Rules(False, spell_surrogates)


def decode_dict(line):
    """The checks msgspec's types make, for a parser that returns plain dicts."""
    return _STRICT.record(loads(line))


def decode_lenient(line):
    """A line by the hooks' own rules (a lone surrogate, a count past the fast path's bounds);
    ``None`` when it is not a record they could have written."""
    try:
        return _LENIENT.record(fastjson.loads(line))
    except (ValueError, TypeError, KeyError, RecursionError):
        return None


def loads_any(line):
    """A ledger line as a dict (or another JSON value), parsed as the hooks parse it when the fast
    parser refuses it; raises one of ``LOADS_ERRORS`` when it is not JSON at all."""
    try:
        return loads(line)
    except LOADS_ERRORS:
        return fastjson.loads(line)


class Backend:
    """How lines become records: ``decode(line)`` raises one of ``errors`` for a line it cannot
    read, else returns a ``spawn_type`` or a ``session_type``; ``lenient(line)`` reads such a line
    by the hooks' own rules into a ``_Spawn`` or ``_Session`` (``None``: not a record)."""

    def __init__(self, name, decode, errors, spawn_type, session_type, lenient=decode_lenient):
        self.name = name
        self.decode = decode
        self.errors = errors
        self.spawn_type = spawn_type
        self.session_type = session_type
        self.lenient = lenient


LENIENT_SPAWN, LENIENT_SESSION = _Spawn, _Session
DICT_BACKEND = Backend("dict", decode_dict, LOADS_ERRORS + (_Invalid, KeyError), _Spawn, _Session)
if msgspec is not None:
    MSGSPEC_BACKEND = Backend(
        "msgspec",
        msgspec.json.Decoder(_MsSpawn | _MsSession).decode,
        (msgspec.DecodeError,),
        _MsSpawn,
        _MsSession,
    )
    DEFAULT_BACKEND = MSGSPEC_BACKEND
else:  # pragma: no cover
    MSGSPEC_BACKEND = None
    DEFAULT_BACKEND = DICT_BACKEND
