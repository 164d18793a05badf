"""A scripted stand-in for the Anthropic Messages API, for driving the real Claude Code CLI offline.

Stdlib only. One ``FakeAnthropicAPI`` is a ``ThreadingHTTPServer`` on ``127.0.0.1`` (port 0, i.e. a
free port), serving one ``Scenario``:

- ``POST /v1/messages`` (Claude Code adds ``?beta=true``): answered as a Server-Sent-Events stream
  (or one JSON message when the request did not ask for ``stream``), always with a
  ``content-length``.
- ``POST /v1/messages/count_tokens``: ``{"input_tokens": N}``.
- anything else: a 404 JSON error in the API's own shape (``GET`` of an unknown path too).

Who is asking ("actor") is worked out from the request alone, so retries and concurrency are safe:

- a **subagent**: a spawn's marker (``Spawn.marker``, which is put into the spawn's prompt) appears
  in the text of the request's first user message. For ``subagent_type: "fork"`` (which inherits the
  parent's conversation) the marker is looked for in the first user message that carries it, and
  the turn is counted from there. The subagent's turn is the number of assistant messages after that
  message: every scripted turn but the last is answered with one ``tool_use`` (``Bash echo hi`` by
  default), the last with the text ``report from <marker>`` and ``stop_reason: end_turn``.
- the **main** loop: the request offers the spawn tool (``Agent`` or ``Task``), has no
  ``x-claude-code-agent-id`` header (Claude Code 2.1.328 sends that header, the agent id, on every
  subagent request) and is none of the above. Its turn ``n`` (number of assistant messages in the
  request) is answered with the spawns of ``Scenario.waves[n]`` as parallel ``Agent`` tool_use
  blocks in ONE response, or with the final text once the waves are used up. Each background
  agent's completion notice makes the CLI send one more main-loop request (sometimes several
  notices share one), which also counts as a turn: script later waves only after foreground spawns.
- **other**: side requests (title generation, helper calls, ``count_tokens``, unknown paths) and
  requests of subagents that carry no scripted marker (they have an ``x-claude-code-agent-id``
  header). Messages requests get a short text answer with ``Scenario.other_usage``.

Every request is recorded (``RecordedRequest``): path, query, headers, ``model``, the full JSON
body, the actor, the turn, what was answered, the ``usage`` sent, and the agent id / session id
headers. ``message.model`` in each answer echoes
the request's ``model``; message ids are ``msg_<uuid4 hex>``, tool_use ids ``toolu_<n>`` (unique per
server).
"""

from __future__ import annotations

import dataclasses
import http.server
import json
import os
import threading
import time
import urllib.parse
import uuid
from collections.abc import Iterable, Sequence
from typing import Any

SPAWN_TOOL_NAMES = ("Agent", "Task")
MAIN = "main"
OTHER = "other"


@dataclasses.dataclass(frozen=True)
class Usage:
    """The ``usage`` one API response reports; Claude Code records and prices exactly this.

    ``cache_creation_input_tokens`` defaults to the sum of the two ephemeral parts; give it
    explicitly to script an inconsistent answer. ``breakdown=False`` leaves out the
    ``cache_creation`` object (as older API versions did).

    The fields Claude Code prices besides tokens are sent only when set: ``inference_geo``
    ("us" costs 1.1×), ``speed`` ("fast" uses a model's fast rates), ``web_search_requests`` (as
    ``server_tool_use.web_search_requests``) and ``iterations`` (the per-iteration usage list,
    sent as given).
    """

    input_tokens: int = 100
    output_tokens: int = 10
    cache_read_input_tokens: int = 0
    ephemeral_5m_input_tokens: int = 0
    ephemeral_1h_input_tokens: int = 0
    cache_creation_input_tokens: int | None = None
    breakdown: bool = True
    inference_geo: str | None = None
    speed: str | None = None
    web_search_requests: int | None = None
    iterations: list[dict[str, Any]] | None = None

    @property
    def cache_creation_total(self) -> int:
        if self.cache_creation_input_tokens is not None:
            return self.cache_creation_input_tokens
        return self.ephemeral_5m_input_tokens + self.ephemeral_1h_input_tokens

    def to_api(self) -> dict[str, Any]:
        usage: dict[str, Any] = {
            "input_tokens": self.input_tokens,
            "cache_creation_input_tokens": self.cache_creation_total,
            "cache_read_input_tokens": self.cache_read_input_tokens,
            "output_tokens": self.output_tokens,
        }
        if self.breakdown:
            usage["cache_creation"] = {
                "ephemeral_5m_input_tokens": self.ephemeral_5m_input_tokens,
                "ephemeral_1h_input_tokens": self.ephemeral_1h_input_tokens,
            }
        if self.web_search_requests is not None:
            usage["server_tool_use"] = {"web_search_requests": self.web_search_requests}
        if self.inference_geo is not None:
            usage["inference_geo"] = self.inference_geo
        if self.speed is not None:
            usage["speed"] = self.speed
        if self.iterations is not None:
            usage["iterations"] = [dict(iteration) for iteration in self.iterations]
        usage["service_tier"] = "standard"
        return usage


@dataclasses.dataclass
class Spawn:
    """One ``Agent`` tool call the main loop makes, and the script its subagent follows.

    ``tool_input()`` is exactly what the main loop sends: ``description``, ``prompt`` (contains the
    marker), and ``subagent_type`` / ``model`` / ``run_in_background`` / ``effort`` only when set
    (``None`` = left out), then ``extra_input`` merged on top (e.g. ``isolation``, or an invalid
    field on purpose).
    """

    marker: str
    description: str | None = None
    prompt: str | None = None
    subagent_type: str | None = "general-purpose"
    model: str | None = None
    run_in_background: bool | None = None
    effort: str | None = None
    extra_input: dict[str, Any] = dataclasses.field(default_factory=dict)
    turns: Sequence[Usage] = (Usage(),)
    tool_name: str = "Bash"
    tool_input_for_turns: dict[str, Any] = dataclasses.field(
        default_factory=lambda: {"command": "echo hi", "description": "say hi"}
    )
    final_text: str | None = None
    delay_s: float = 0.0  # wait this long before answering each of this subagent's requests
    # answer this subagent's requests only once this file exists (at most 60 s): ties the subagent's
    # progress to an event elsewhere (e.g. a hook of the main loop), not to the machine's speed
    wait_for_file: str | None = None
    # a model that obeys a hook's denial: once its last tool call was denied by a hook (the
    # tool_result is an error beginning "PreToolUse:"), it answers its report at once (the last
    # scripted turn's usage), instead of going on with the script
    reports_when_denied: bool = False

    def __post_init__(self) -> None:
        if not self.marker:
            raise ValueError("Spawn.marker must be a non-empty string")
        if not self.turns:
            raise ValueError(f"Spawn {self.marker}: at least one turn is needed")
        self.turns = tuple(self.turns)

    @property
    def report_text(self) -> str:
        return self.final_text if self.final_text is not None else f"report from {self.marker}"

    def tool_input(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "description": self.description if self.description is not None else f"task {self.marker}",
            "prompt": self.prompt if self.prompt is not None else f"{self.marker} do the scripted task",
        }
        if self.marker not in data["prompt"]:
            raise ValueError(f"Spawn {self.marker}: the prompt must contain the marker")
        for key in ("subagent_type", "model", "run_in_background", "effort"):
            value = getattr(self, key)
            if value is not None:
                data[key] = value
        data.update(self.extra_input)
        return data


@dataclasses.dataclass
class Scenario:
    """What the fake API answers.

    ``spawns`` is the first main-loop answer (parallel ``Agent`` calls). ``more_waves`` are the
    answers to the main loop's following turns (a list of spawn lists; an empty list = answer text).
    Markers must be unique across all waves.
    """

    spawns: Sequence[Spawn] = ()
    more_waves: Sequence[Sequence[Spawn]] = ()
    main_usage: Usage = Usage(input_tokens=120, output_tokens=9)
    main_final_text: str = "scenario done"
    other_usage: Usage = Usage(input_tokens=50, output_tokens=5)
    other_text: str = "ok"
    count_tokens: int = 1000

    def __post_init__(self) -> None:
        self.spawns = tuple(self.spawns)
        self.more_waves = tuple(tuple(w) for w in self.more_waves)
        markers = [s.marker for s in self.all_spawns()]
        if len(markers) != len(set(markers)):
            raise ValueError(f"duplicate spawn markers: {markers}")

    @property
    def waves(self) -> tuple[tuple[Spawn, ...], ...]:
        return (tuple(self.spawns),) + tuple(self.more_waves)

    def all_spawns(self) -> list[Spawn]:
        return [s for wave in self.waves for s in wave]

    def spawn(self, marker: str) -> Spawn:
        for s in self.all_spawns():
            if s.marker == marker:
                return s
        raise KeyError(marker)


@dataclasses.dataclass
class RecordedRequest:
    seq: int
    time: float
    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: Any
    model: str | None
    actor: str  # "main", a spawn marker, or "other"
    turn: int | None  # main / subagent turn index answered; None for "other"
    stream: bool
    answer: str  # "spawn", "tool_use", "final", "extra", "text", "count_tokens", "not_found"
    usage: dict[str, Any] | None
    message_id: str | None
    tool_use_ids: list[str]
    agent_id: str | None = None  # the ``x-claude-code-agent-id`` header (subagent requests only)
    session_id: str | None = None  # the ``x-claude-code-session-id`` header

    @property
    def messages(self) -> list[dict[str, Any]]:
        msgs = self.body.get("messages") if isinstance(self.body, dict) else None
        return [m for m in msgs or () if isinstance(m, dict)]

    @property
    def system_text(self) -> str:
        """The system prompt: the ``system`` field plus any ``role: "system"`` messages (2.1.328
        sends part of its system prompt as such a message)."""
        parts = []
        system = self.body.get("system") if isinstance(self.body, dict) else None
        if system:
            parts.append(_text_of(system))
        parts += [_text_of(m.get("content")) for m in self.messages if m.get("role") == "system"]
        return "\n".join(parts)

    @property
    def first_user_text(self) -> str:
        for m in self.messages:
            if m.get("role") == "user":
                return _text_of(m.get("content"))
        return ""

    @property
    def tool_names(self) -> list[str]:
        tools = self.body.get("tools") if isinstance(self.body, dict) else None
        return [t.get("name") for t in tools or () if isinstance(t, dict)]


def _last_tool_call_denied(messages: list) -> bool:
    """The last user message answers a tool call with a hook's denial (``PreToolUse:…`` error)."""
    users = [m for m in messages if isinstance(m, dict) and m.get("role") == "user"]
    content = users[-1].get("content") if users else None
    for block in content if isinstance(content, list) else ():
        if isinstance(block, dict) and block.get("type") == "tool_result" and block.get("is_error"):
            if _text_of_result(block.get("content")).startswith("PreToolUse:"):
                return True
    return False


def _text_of_result(content: Any) -> str:
    if isinstance(content, str):
        return content
    return "".join(c.get("text", "") for c in content or () if isinstance(c, dict))


def _text_of(content: Any) -> str:
    """All text in a message ``content`` (a string or blocks), tool_result blocks excluded."""
    if isinstance(content, str):
        return content
    parts: list[str] = []
    if isinstance(content, list):
        for block in content:
            if isinstance(block, dict) and block.get("type") == "text":
                text = block.get("text")
                if isinstance(text, str):
                    parts.append(text)
    return "\n".join(parts)


def _sse(event: str, data: dict[str, Any]) -> bytes:
    return f"event: {event}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n".encode()


class _State:
    def __init__(self, scenario: Scenario) -> None:
        self.scenario = scenario
        self.lock = threading.Lock()
        self.changed = threading.Condition(self.lock)
        self.requests: list[RecordedRequest] = []
        self.tool_counter = 0
        self.errors: list[str] = []
        # markers sorted longest first so "SUB-10" wins over "SUB-1"
        self.markers = sorted((s.marker for s in scenario.all_spawns()), key=len, reverse=True)

    def next_tool_id(self) -> str:
        with self.lock:
            self.tool_counter += 1
            return f"toolu_{self.tool_counter}"


class RequestQueries:
    """Questions about recorded requests, for anything with a ``requests`` list (the whole fake API,
    or one CLI run's share of it)."""

    requests: list

    def describe(self) -> str:  # pragma: no cover - overridden where there is more to say
        return ""

    def requests_for(self, actor: str) -> list[RecordedRequest]:
        """Messages requests of one actor: ``"main"``, ``"other"`` or a spawn marker."""
        return [r for r in self.requests if r.actor == actor and r.answer != "count_tokens"]

    def models_for(self, actor: str) -> list[str | None]:
        """The ``model`` each Messages request of ``actor`` carried, in order."""
        return [r.model for r in self.requests_for(actor)]

    def model_for(self, marker: str) -> str | None:
        """The one model a subagent's requests carried (AssertionError if none or several)."""
        models = set(self.models_for(marker))
        assert len(models) == 1, f"subagent {marker} made requests with models {models or 'none'}\n{self.describe()}"
        return models.pop()

    def subagent_finished(self, marker: str) -> bool:
        """Whether the subagent was answered its last scripted turn."""
        return any(r.answer in ("final", "extra") for r in self.requests_for(marker))


class FakeAnthropicAPI(RequestQueries):
    """The fake Messages API server. Use as a context manager, or ``start()`` / ``stop()``."""

    def __init__(self, scenario: Scenario | None = None) -> None:
        self._state = _State(scenario or Scenario())
        self._server: http.server.ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # ----- lifecycle -------------------------------------------------------------------------
    def start(self) -> FakeAnthropicAPI:
        if self._server is not None:
            return self
        state = self._state

        class Handler(_Handler):
            pass

        Handler.state = state
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        server.block_on_close = False
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.1}, name="fake-anthropic-api", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> FakeAnthropicAPI:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("the fake API is not running")
        return self._server.server_address[1]

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # ----- scripting ---------------------------------------------------------------------------
    @property
    def scenario(self) -> Scenario:
        return self._state.scenario

    def set_scenario(self, scenario: Scenario) -> None:
        """Replace the script (before a run). Recorded requests are kept; see ``clear()``."""
        with self._state.lock:
            self._state.scenario = scenario
            self._state.markers = sorted((s.marker for s in scenario.all_spawns()), key=len, reverse=True)

    def clear(self) -> None:
        with self._state.lock:
            self._state.requests.clear()
            self._state.errors.clear()

    # ----- inspection --------------------------------------------------------------------------
    @property
    def requests(self) -> list[RecordedRequest]:
        with self._state.lock:
            return list(self._state.requests)

    @property
    def errors(self) -> list[str]:
        """Handler exceptions (a bug in this fake, or a request it could not parse)."""
        with self._state.lock:
            return list(self._state.errors)

    def spawned_markers(self) -> list[str]:
        """Markers the main loop was told to spawn so far."""
        with self._state.lock:
            waves = self._state.scenario.waves
            answered = [r.turn for r in self._state.requests if r.actor == MAIN and r.answer == "spawn"]
        return [s.marker for t in sorted(set(answered)) for s in waves[t]]

    def wait_for(self, predicate, timeout: float) -> bool:
        """Wait (bounded) until ``predicate()`` is true; re-checked on each new request and every 0.25 s."""
        deadline = time.monotonic() + timeout
        while True:
            if predicate():
                return True
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            with self._state.changed:
                self._state.changed.wait(timeout=min(remaining, 0.25))

    def wait_subagents_finished(self, markers: Iterable[str] | None = None, timeout: float = 30.0) -> bool:
        wanted = list(markers) if markers is not None else [s.marker for s in self.scenario.all_spawns()]
        return self.wait_for(lambda: all(self.subagent_finished(m) for m in wanted), timeout)


class _Handler(http.server.BaseHTTPRequestHandler):
    state: _State
    protocol_version = "HTTP/1.1"
    server_version = "fake-anthropic/1"
    sys_version = ""

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        pass

    # ----- plumbing ----------------------------------------------------------------------------
    def _read_body(self) -> bytes:
        length = int(self.headers.get("content-length") or 0)
        if length <= 0:
            return b""
        return self.rfile.read(length)

    def _send(self, status: int, body: bytes, content_type: str, extra: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("content-type", content_type)
        self.send_header("content-length", str(len(body)))
        self.send_header("request-id", f"req_{uuid.uuid4().hex}")
        for key, value in (extra or {}).items():
            self.send_header(key, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)
        self.wfile.flush()

    def _send_json(self, status: int, data: Any) -> None:
        self._send(status, json.dumps(data).encode(), "application/json")

    def _not_found(self) -> None:
        self._send_json(
            404, {"type": "error", "error": {"type": "not_found_error", "message": f"no route {self.path}"}}
        )

    def _record(self, **fields: Any) -> RecordedRequest:
        st = self.state
        with st.changed:
            rec = RecordedRequest(seq=len(st.requests), time=time.time(), **fields)
            st.requests.append(rec)
            st.changed.notify_all()
        return rec

    def _record_side_request(self, answer: str, **fields: Any) -> RecordedRequest:
        """Record a request that is no model turn (token count, unknown path): no usage, no tools."""
        return self._record(
            **fields, actor=OTHER, turn=None, stream=False, answer=answer, usage=None, message_id=None, tool_use_ids=[]
        )

    # ----- verbs -------------------------------------------------------------------------------
    def do_GET(self) -> None:  # noqa: N802 - stdlib naming
        self._read_body()
        parsed = urllib.parse.urlsplit(self.path)
        self._record_side_request(
            "not_found",
            method="GET",
            path=parsed.path,
            query=parsed.query,
            headers=dict(self.headers),
            body=None,
            model=None,
        )
        self._not_found()

    do_HEAD = do_GET
    do_DELETE = do_GET
    do_PUT = do_GET

    def do_POST(self) -> None:  # noqa: N802 - stdlib naming
        try:
            self._post()
        except (BrokenPipeError, ConnectionResetError):
            pass
        except Exception as exc:  # keep serving; the test sees it in fake_api.errors
            with self.state.lock:
                self.state.errors.append(f"{type(exc).__name__}: {exc} ({self.path})")
            try:
                self._send_json(500, {"type": "error", "error": {"type": "api_error", "message": str(exc)}})
            except OSError:
                pass

    def _post(self) -> None:
        raw = self._read_body()
        parsed = urllib.parse.urlsplit(self.path)
        path = parsed.path.rstrip("/")
        try:
            body = json.loads(raw) if raw else {}
        except ValueError:
            body = {"_unparsed": raw.decode("utf-8", "replace")}
        model = body.get("model") if isinstance(body, dict) else None
        agent_id = self.headers.get("x-claude-code-agent-id") or None
        common = dict(
            method="POST",
            path=parsed.path,
            query=parsed.query,
            headers=dict(self.headers),
            body=body,
            model=model,
            agent_id=agent_id,
            session_id=self.headers.get("x-claude-code-session-id") or None,
        )

        if path == "/v1/messages/count_tokens":
            self._record_side_request("count_tokens", **common)
            self._send_json(200, {"input_tokens": self.state.scenario.count_tokens})
            return
        if path != "/v1/messages" or not isinstance(body, dict):
            self._record_side_request("not_found", **common)
            self._not_found()
            return

        actor, turn, blocks, stop_reason, usage, answer = self._plan(body, agent_id)
        if actor not in (MAIN, OTHER):
            spawn = self.state.scenario.spawn(actor)
            if spawn.wait_for_file:
                deadline = time.monotonic() + 60.0
                while not os.path.exists(spawn.wait_for_file) and time.monotonic() < deadline:
                    time.sleep(0.02)
            if spawn.delay_s > 0:
                time.sleep(min(spawn.delay_s, 60.0))
        message_id = f"msg_{uuid.uuid4().hex}"
        tool_ids = [b["id"] for b in blocks if b["type"] == "tool_use"]
        stream = bool(body.get("stream"))
        usage_api = usage.to_api()
        self._record(
            **common,
            actor=actor,
            turn=turn,
            stream=stream,
            answer=answer,
            usage=usage_api,
            message_id=message_id,
            tool_use_ids=tool_ids,
        )
        echo_model = model if isinstance(model, str) and model else "claude-opus-5-5"
        if stream:
            self._send(
                200,
                self._sse_body(message_id, echo_model, blocks, stop_reason, usage_api),
                "text/event-stream; charset=utf-8",
                {"cache-control": "no-cache"},
            )
        else:
            self._send_json(
                200,
                {
                    "id": message_id,
                    "type": "message",
                    "role": "assistant",
                    "model": echo_model,
                    "content": blocks,
                    "stop_reason": stop_reason,
                    "stop_sequence": None,
                    "usage": usage_api,
                },
            )

    # ----- the script --------------------------------------------------------------------------
    def _plan(self, body: dict[str, Any], agent_id: str | None):
        """-> (actor, turn, content blocks, stop_reason, Usage, answer kind)."""
        st = self.state
        scenario = st.scenario
        messages = body.get("messages") if isinstance(body.get("messages"), list) else []

        marker, start = self._find_marker(messages, st.markers)
        if marker is not None:
            spawn = scenario.spawn(marker)
            turn = sum(1 for m in messages[start + 1 :] if isinstance(m, dict) and m.get("role") == "assistant")
            if spawn.reports_when_denied and turn < len(spawn.turns) and _last_tool_call_denied(messages):
                return marker, turn, [_text_block(spawn.report_text)], "end_turn", spawn.turns[-1], "final"
            if turn < len(spawn.turns) - 1:
                block = {
                    "type": "tool_use",
                    "id": st.next_tool_id(),
                    "name": spawn.tool_name,
                    "input": dict(spawn.tool_input_for_turns),
                }
                return marker, turn, [block], "tool_use", spawn.turns[turn], "tool_use"
            if turn == len(spawn.turns) - 1:
                return marker, turn, [_text_block(spawn.report_text)], "end_turn", spawn.turns[turn], "final"
            # more requests than scripted (e.g. a Stop hook made it go on): short, cheap text
            return (
                marker,
                turn,
                [_text_block(spawn.report_text)],
                "end_turn",
                Usage(input_tokens=1, output_tokens=1),
                "extra",
            )

        tools = body.get("tools") if isinstance(body.get("tools"), list) else []
        # subagents are offered the Agent tool too: one that carries no scripted marker (an
        # internal helper agent, a nested spawn) must never be taken for the main loop
        if agent_id is None and any(isinstance(t, dict) and t.get("name") in SPAWN_TOOL_NAMES for t in tools):
            turn = sum(1 for m in messages if isinstance(m, dict) and m.get("role") == "assistant")
            waves = scenario.waves
            if turn < len(waves) and waves[turn]:
                blocks = [
                    {"type": "tool_use", "id": st.next_tool_id(), "name": "Agent", "input": s.tool_input()}
                    for s in waves[turn]
                ]
                return MAIN, turn, blocks, "tool_use", scenario.main_usage, "spawn"
            return MAIN, turn, [_text_block(scenario.main_final_text)], "end_turn", scenario.main_usage, "final"

        return OTHER, None, [_text_block(scenario.other_text)], "end_turn", scenario.other_usage, "text"

    @staticmethod
    def _find_marker(messages: list[Any], markers: list[str]) -> tuple[str | None, int]:
        """The spawn marker in the first user message (or, for forks, the first user message that
        carries one, tool results excluded) and that message's index."""
        first_user = True
        for index, message in enumerate(messages):
            if not isinstance(message, dict) or message.get("role") != "user":
                continue
            text = _text_of(message.get("content"))
            for marker in markers:
                if marker in text:
                    if first_user:
                        return marker, index
                    # not the first user message: only a fork directive counts, never a
                    # background agent's completion notice or hand-back seen by the main loop
                    if "<task-notification>" not in text and "report from" not in text:
                        return marker, index
            first_user = False
        return None, -1

    def _sse_body(
        self, message_id: str, model: str, blocks: list[dict[str, Any]], stop_reason: str, usage: dict[str, Any]
    ) -> bytes:
        start_usage = dict(usage)
        start_usage["output_tokens"] = min(1, usage.get("output_tokens", 0))
        out = [
            _sse(
                "message_start",
                {
                    "type": "message_start",
                    "message": {
                        "id": message_id,
                        "type": "message",
                        "role": "assistant",
                        "model": model,
                        "content": [],
                        "stop_reason": None,
                        "stop_sequence": None,
                        "usage": start_usage,
                    },
                },
            )
        ]
        for index, block in enumerate(blocks):
            if block["type"] == "text":
                out.append(
                    _sse(
                        "content_block_start",
                        {"type": "content_block_start", "index": index, "content_block": {"type": "text", "text": ""}},
                    )
                )
                out.append(
                    _sse(
                        "content_block_delta",
                        {
                            "type": "content_block_delta",
                            "index": index,
                            "delta": {"type": "text_delta", "text": block["text"]},
                        },
                    )
                )
            else:
                out.append(
                    _sse(
                        "content_block_start",
                        {
                            "type": "content_block_start",
                            "index": index,
                            "content_block": {
                                "type": "tool_use",
                                "id": block["id"],
                                "name": block["name"],
                                "input": {},
                            },
                        },
                    )
                )
                payload = json.dumps(block["input"])
                half = len(payload) // 2
                for piece in (payload[:half], payload[half:]):
                    out.append(
                        _sse(
                            "content_block_delta",
                            {
                                "type": "content_block_delta",
                                "index": index,
                                "delta": {"type": "input_json_delta", "partial_json": piece},
                            },
                        )
                    )
            out.append(_sse("content_block_stop", {"type": "content_block_stop", "index": index}))
        delta_usage = {k: v for k, v in usage.items() if k != "service_tier"}
        out.append(
            _sse(
                "message_delta",
                {
                    "type": "message_delta",
                    "delta": {"stop_reason": stop_reason, "stop_sequence": None},
                    "usage": delta_usage,
                },
            )
        )
        out.append(_sse("message_stop", {"type": "message_stop"}))
        return b"".join(out)


def _text_block(text: str) -> dict[str, Any]:
    return {"type": "text", "text": text}
