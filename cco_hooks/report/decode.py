"""Ledger lines into the few fields a report needs: two decoders, one rule.

``msgspec`` (the ``fast`` extra) decodes each line straight into those fields, type- and
range-checked in C, and skips the rest without building it; without it, ``orjson`` or the stdlib
parse whole dicts and ``decode_dict`` makes the same checks in Python. Both apply one rule: a line
that is not one JSON object of ledger schema v1 with the fields below, of the right types and in
range, raises one of the backend's ``errors`` (the scan skips it and counts it).
"""

from typing import Annotated, Literal

from cco_hooks import records
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
        v: Literal[1, 2]  # the ledger schema versions read (records.SCHEMA_VERSION and before)
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
        v: Literal[1, 2]  # the ledger schema versions read (records.SCHEMA_VERSION and before)
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


def _str(value):
    if type(value) is not str:
        raise _Invalid
    return value


def _opt_str(value):
    if value is not None and type(value) is not str:
        raise _Invalid
    return value


def _cost(value):
    """None, or a float in [0, MAX_COST_USD] (an int is taken as a float, as msgspec does)."""
    if value is None:
        return None
    t = type(value)
    if t is int:
        value = float(value)
    elif t is not float:
        raise _Invalid
    if not 0 <= value <= MAX_COST_USD:  # NaN fails this too
        raise _Invalid
    return value


def _tokens(value):
    if value is None:
        return None
    if type(value) is not dict:
        raise _Invalid
    tokens = _Tokens()
    for name in _TOKEN_FIELDS:
        count = value[name]
        if type(count) is not int or not 0 <= count <= MAX_TOKENS:
            raise _Invalid
        setattr(tokens, name, count)
    return tokens


def _decision(value):
    if type(value) is not dict:
        raise _Invalid
    decision = _Decision()
    decision.action = value["action"]
    if decision.action not in ACTIONS:
        raise _Invalid
    return decision


def _spawn(r):
    s = _Spawn()
    s.ts = _str(r["ts"])
    s.session_id = _opt_str(r["session_id"])
    s.project = _opt_str(r.get("project"))
    s.agent_type = _opt_str(r["agent_type"])
    s.enforced_model = _opt_str(r["enforced_model"])
    s.actual_model = _opt_str(r["actual_model"])
    s.decision = _decision(r["decision"])
    s.status = r["status"]
    if s.status not in STATUSES:
        raise _Invalid
    s.tokens = _tokens(r["tokens"])
    s.cost_usd = _cost(r["cost_usd"])
    s.requested_cost_usd = _cost(r["requested_cost_usd"])
    return s


def _session(r):
    s = _Session()
    s.ts = _str(r["ts"])
    s.session_id = _opt_str(r["session_id"])
    s.project = _opt_str(r.get("project"))
    s.session_cost_usd = _cost(r["session_cost_usd"])
    return s


def decode_dict(line):
    """The checks msgspec's types make, for a parser that returns plain dicts."""
    r = loads(line)
    if type(r) is not dict or type(r.get("v")) is not int or r["v"] not in (1, 2):
        raise _Invalid
    kind = r.get("kind")
    if kind == "spawn":
        return _spawn(r)
    if kind == "session":
        return _session(r)
    raise _Invalid


class Backend:
    """How lines become records: ``decode(line)`` raises one of ``errors`` for a bad line, else
    returns a ``spawn_type`` or a ``session_type``."""

    def __init__(self, name, decode, errors, spawn_type, session_type):
        self.name = name
        self.decode = decode
        self.errors = errors
        self.spawn_type = spawn_type
        self.session_type = session_type


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
