"""Config text is untrusted input: a layer committed in a repository reaches everyone who clones it.
Parse it within limits, and quote its values cut short.

Limits, each refused with a message naming the limit and the fix (never a hang or a crash):

- size: at most ``MAX_BYTES``, checked with ``fstat`` before reading, and the read itself is bounded;
- nesting: at most ``MAX_DEPTH`` levels of mappings and lists (YAML and JSON);
- values: at most ``MAX_VALUES`` values (mappings, lists and scalars) and ``MAX_TEXT_CHARS`` characters
  of scalar text, counted as the document *expands*: a YAML alias counts everything its anchor holds,
  so nested aliases ("billion laughs") are refused while they are counted, never expanded;
- aliases: at most ``MAX_ALIASES``, and none that refers to the node it sits in (a recursive alias).

YAML is read by libyaml's parser (PyYAML's C extension) when present — the pure-Python scanner is about
ten times slower — and composed by a counting composer, then built by the safe constructor (no Python
tags). Real configs are a few KiB (the largest CCO orchestra configs ~70 KB, a few thousand values), at
most a handful of levels and aliases.
"""

from __future__ import annotations

import json
import os
import reprlib
import stat

import yaml
from yaml.composer import Composer
from yaml.constructor import SafeConstructor
from yaml.events import AliasEvent, ScalarEvent
from yaml.resolver import Resolver

MAX_BYTES = 256 * 1024
MAX_DEPTH = 64
MAX_VALUES = 20_000
MAX_TEXT_CHARS = 1024 * 1024
MAX_ALIASES = 500
QUOTE_CHARS = 80
_ELLIPSIS = "…"


class LimitExceeded(ValueError):
    """A layer over one of the limits; the message says which and the fix (it follows "<file> ")."""


# ----------------------------------------------------------------------------- quoting


class _ShortRepr(reprlib.Repr):
    """``reprlib`` that cuts a string at its end with "…" (its own cut drops the middle)."""

    def repr_str(self, x, level):
        return repr(x) if len(x) <= self.maxstring else repr(x[: self.maxstring]) + _ELLIPSIS


_REPR = _ShortRepr()
_REPR.maxlevel, _REPR.maxdict, _REPR.maxlist, _REPR.maxtuple, _REPR.maxset = 3, 6, 6, 6, 6
_REPR.maxstring, _REPR.maxother, _REPR.maxlong = QUOTE_CHARS, QUOTE_CHARS, QUOTE_CHARS


def shorten(text, limit=QUOTE_CHARS) -> str:
    """``text`` as it is when short, else its first ``limit`` characters and "…"."""
    text = str(text)
    return text if len(text) <= limit else text[:limit] + _ELLIPSIS


def quote(value, limit=QUOTE_CHARS) -> str:
    """``repr(value)`` for a message, bounded in time and length whatever the value holds: nested
    containers are elided by ``reprlib`` before anything is built, then the text is cut short."""
    try:
        text = _REPR.repr(value)
    except Exception:  # a value whose repr fails still gets a message
        text = f"<{type(value).__name__}>"
    return shorten(text, limit)


# ----------------------------------------------------------------------------- reading


def read_text(path) -> tuple[str | None, str | None]:
    """The file's text, or ``(None, why)``: not readable, not a regular file, too large, not UTF-8."""
    try:
        # O_NONBLOCK: a named pipe must not hang the hook; only a regular file is a config.
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError as exc:
        return None, f"cannot be read ({exc.strerror}); check its permissions"
    except ValueError:  # a path with a NUL byte
        return None, "cannot be opened (its name holds a NUL byte); rename it"
    with os.fdopen(fd, "rb") as f:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            return None, "is not a regular file; point the layer at a YAML or JSON file"
        if info.st_size > MAX_BYTES:
            return None, _too_large(info.st_size)
        try:
            raw = f.read(MAX_BYTES + 1)  # bounded even if the file grows after the fstat
        except OSError as exc:
            return None, f"cannot be read ({exc.strerror}); check its permissions"
    if len(raw) > MAX_BYTES:
        return None, _too_large(len(raw))
    try:
        return raw.decode("utf-8"), None
    except UnicodeDecodeError as exc:
        return None, f"is not UTF-8 text (byte {exc.start}); save it as UTF-8"


def _too_large(size) -> str:
    return (
        f"is {size:,} bytes, more than the {MAX_BYTES // 1024} KiB a config layer may be (the largest CCO configs "
        "are ~70 KB): keep only the routing config in it"
    )


def parse(text, is_json) -> tuple[object, str | None]:
    """Parsed content of YAML or JSON text within the limits, or ``(None, why)``."""
    if is_json:
        return _parse_json(text)
    loader = _BoundedLoader(text)
    try:
        return loader.get_single_data(), None
    except LimitExceeded as exc:
        return None, str(exc)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" at line {mark.line + 1} column {mark.column + 1}" if mark is not None else ""
        reason = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        return None, f"is not valid YAML: {shorten(reason)}{at}; fix the YAML syntax"
    except (ValueError, RecursionError) as exc:  # e.g. an integer of 5,000 digits
        return None, f"is not a usable YAML config: {shorten(exc)}; fix the value"
    finally:
        loader.dispose()


def _parse_json(text):
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        return None, f"is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}; fix the JSON syntax"
    except RecursionError:
        return None, _too_deep()
    except ValueError as exc:  # e.g. an integer of 5,000 digits
        return None, f"is not a usable JSON config: {shorten(exc)}; fix the value"
    try:
        _check_json_tree(data)
    except LimitExceeded as exc:
        return None, str(exc)
    return data, None


def _check_json_tree(data):
    """Depth, value and text limits over parsed JSON, without recursion."""
    values = chars = 0
    stack = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        values += 1
        if depth > MAX_DEPTH:
            raise LimitExceeded(_too_deep())
        if values > MAX_VALUES:
            raise LimitExceeded(_too_many_values())
        if isinstance(value, dict):
            chars += sum(len(k) for k in value)
            stack.extend((v, depth + 1) for v in value.values())
        elif isinstance(value, list):
            stack.extend((v, depth + 1) for v in value)
        elif isinstance(value, str):
            chars += len(value)
        if chars > MAX_TEXT_CHARS:
            raise LimitExceeded(_too_much_text())


def _too_deep() -> str:
    return f"nests mappings or lists more than {MAX_DEPTH} levels deep; a config needs a handful of levels: flatten it"


def _too_many_values() -> str:
    return (
        f"holds more than {MAX_VALUES:,} values (counting what each YAML alias repeats); a config has a few "
        "hundred: remove what is not config, or repeated aliases"
    )


def _too_much_text() -> str:
    return (
        f"holds more than {MAX_TEXT_CHARS // (1024 * 1024)} MiB of text (counting what each YAML alias repeats); "
        "a config holds tens of KiB at most: remove repeated aliases of long values"
    )


# ----------------------------------------------------------------------------- the YAML loader


class _CountingComposer(Composer):
    """PyYAML's composer, counting as it goes: depth, values and text as the document expands
    (an alias adds what its anchor holds), aliases. Over a limit it raises ``LimitExceeded``."""

    def __init__(self):
        Composer.__init__(self)
        self._depth = 0
        self._values = 0
        self._chars = 0
        self._aliases = 0
        self._anchored = {}  # id(anchored node) -> (values, chars) it expands to; absent while composing

    def _add(self, values, chars):
        self._values += values
        self._chars += chars
        if self._values > MAX_VALUES:
            raise LimitExceeded(_too_many_values())
        if self._chars > MAX_TEXT_CHARS:
            raise LimitExceeded(_too_much_text())

    def compose_node(self, parent, index):
        event = self.peek_event()
        if isinstance(event, AliasEvent):
            self._aliases += 1
            if self._aliases > MAX_ALIASES:
                raise LimitExceeded(
                    f"uses more than {MAX_ALIASES} YAML aliases (*name); a config needs few: write the values out"
                )
            node = self.anchors.get(event.anchor)
            if node is not None:  # an undefined alias is the composer's own error, below
                size = self._anchored.get(id(node))
                if size is None:
                    raise LimitExceeded(
                        f"has a recursive YAML alias (*{shorten(event.anchor, 40)} inside the node it names); "
                        "a config cannot be recursive: remove the alias"
                    )
                self._add(*size)
            return Composer.compose_node(self, parent, index)
        self._depth += 1
        if self._depth > MAX_DEPTH:
            raise LimitExceeded(_too_deep())
        before = (self._values, self._chars)
        self._add(1, len(event.value) if isinstance(event, ScalarEvent) else 0)
        node = Composer.compose_node(self, parent, index)
        self._depth -= 1
        if getattr(event, "anchor", None) is not None:
            self._anchored[id(node)] = (self._values - before[0], self._chars - before[1])
        return node


if getattr(yaml, "__with_libyaml__", False):
    from yaml._yaml import CParser as _Parser

    def _init_parser(loader, text):
        _Parser.__init__(loader, text)

    _PARSER_BASES = (_Parser,)
else:  # pragma: no cover - PyYAML wheels ship libyaml; a source build may not
    from yaml.parser import Parser
    from yaml.reader import Reader
    from yaml.scanner import Scanner

    def _init_parser(loader, text):
        Reader.__init__(loader, text)
        Scanner.__init__(loader)
        Parser.__init__(loader)

    _PARSER_BASES = (Reader, Scanner, Parser)


class _BoundedLoader(_CountingComposer, *_PARSER_BASES, SafeConstructor, Resolver):
    """``yaml.SafeLoader`` with the counting composer in front of the (C) parser's events."""

    def __init__(self, text):
        _init_parser(self, text)
        _CountingComposer.__init__(self)
        SafeConstructor.__init__(self)
        Resolver.__init__(self)

    def dispose(self):
        dispose = getattr(super(), "dispose", None)
        if dispose is not None:
            dispose()
