"""Locate (or install) the real Claude Code CLI and run it offline against ``fake_api``.

Stdlib only.

The binaries
    The suite runs against every release in ``cco_hooks.claude_code.TESTED_VERSIONS`` (the pinned
    baseline and the newest release; ``versions_under_test()``), each installed in its own prefix
    ``<repo>/.cache/claude-code-<version>/`` (``.ci/run`` installs the same ones there).
    ``ensure_claude(version)`` returns ``<prefix>/node_modules/.bin/claude``; when that is missing or
    reports another version it runs ``npm install --no-audit --no-fund --prefix <prefix>
    @anthropic-ai/claude-code@<version>`` (about 6 s) under an exclusive file lock per prefix, so
    parallel pytest workers install each version once. Tests never skip for a missing CLI. npm runs
    with the caller's real environment (it needs the user's npm config for the registry); nothing
    else here uses the real home directory. ``$CCO_HOOKS_TEST_CLAUDE``, when set, replaces them all:
    that one binary is used as is (never installed over), whatever version it is, and the suite runs
    once, against it. Tests compare with what a binary's own ``--version`` says
    (``claude_version()``), never with a literal.

The run
    ``run_claude()`` runs ``claude -p PROMPT --output-format stream-json --verbose
    --dangerously-skip-permissions [--include-hook-events] [--plugin-dir DIR]`` in the project
    directory with a clean environment built from scratch: ``PATH`` (with ``tests/support/bin``
    first, whose ``cco-hook`` runs this checkout's hooks for the portable commands of
    ``install --scope project``, then the test interpreter's directory, so a hook's ``python3`` is
    this Python), ``LANG``/``LC_*``/``TZ``,
    ``PYTHONDONTWRITEBYTECODE`` when set, and
    ``HOME=<home>``, ``CLAUDE_CONFIG_DIR=<home>/.claude``, ``TMPDIR=<home>/tmp``,
    ``ANTHROPIC_BASE_URL=<fake API>``, ``ANTHROPIC_API_KEY=test``,
    ``CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1``, ``DISABLE_TELEMETRY=1``,
    ``DISABLE_AUTOUPDATER=1``, ``DISABLE_ERROR_REPORTING=1``, ``IS_SANDBOX=1``. No other variable
    of the caller's (no real ``HOME``, no ``CLAUDE_*``, ``ANTHROPIC_*``, ``CCO_HOOKS_*``) leaks in;
    ``env_extra`` adds or overrides variables (a value of ``None`` removes one).

What was observed with 2.1.328 (and what hook authors must know; the e2e suite rests on it for
every tested release)
    Where things land
    - ``CLAUDE_CONFIG_DIR`` is honoured: transcripts go to
      ``$CLAUDE_CONFIG_DIR/projects/<slug>/<session>.jsonl``, subagents to
      ``<session>/subagents/agent-<id>.jsonl`` + ``agent-<id>.meta.json``; ``.claude.json``,
      ``backups/``, ``sessions/``, ``session-env/``, ``shell-snapshots/``, ``plugins/`` are written
      inside it too. Without it the same tree lands in ``$HOME/.claude`` (and ``.claude.json`` in
      ``$HOME``). The slug is the project's absolute path with every character other than
      ``[A-Za-z0-9]`` replaced by ``-``. We set ``CLAUDE_CONFIG_DIR=$HOME/.claude`` so both agree.
    - ``TMPDIR`` is honoured: a background agent's ``outputFile`` is
      ``$TMPDIR/claude-<uid>/<slug>/<session>/tasks/<agent_id>.output``.
    - Transcripts hold many more line types than ``assistant``/``user`` (``attachment``,
      ``api-request``, ``api-request-blob``, ``queue-operation``, ``tools-used``, ``last-prompt``...).
    - The session's ``cost-state`` line is written once, when the CLI exits: it is NOT there
      yet when the ``Stop`` hook runs (not even the last one); the ``SessionEnd`` hook does see it.
    Hook processes
    - run with cwd = the project dir and the CLI's whole environment (so ``env_extra``, e.g.
      ``CCO_HOOKS_LEDGER``, reaches them) plus ``CLAUDE_PROJECT_DIR``, ``CLAUDE_CODE_SESSION_ID``,
      ``CLAUDE_PID``, ``CLAUDECODE=1``, ``CLAUDE_EFFORT``, ``CLAUDE_CODE_ENTRYPOINT=sdk-cli``;
      plugin hooks also get ``CLAUDE_PLUGIN_ROOT`` and ``CLAUDE_PLUGIN_DATA``
      (``$CLAUDE_CONFIG_DIR/plugins/data/<plugin>-inline`` for ``--plugin-dir``).
    - Parallel spawns run their ``PreToolUse`` hooks concurrently.
    - Foreground spawn: PreToolUse -> SubagentStart -> SubagentStop -> PostToolUse (``completed``).
      Background spawn: PreToolUse -> SubagentStart / PostToolUse (``async_launched``, either
      order) -> ... -> SubagentStop, often after the main loop's first ``Stop``.
    - ``agent-<id>.meta.json`` may not exist yet at SubagentStart or at a background spawn's
      PostToolUse; it does by SubagentStop.
    - At SubagentStop the subagent transcript often lacks the final assistant line (seen in about
      half the stops), or the file is missing; it appears within tens of milliseconds.
    - ``Stop`` fires once per main-loop turn: after the first answer (``background_tasks`` lists
      the agents still running) and again after each turn caused by a background completion notice
      (each preceded by ``UserPromptSubmit``). ``SessionEnd`` fires once, last.
    Runs
    - With ``-p`` the CLI waits for background agents: it exits only after every background
      subagent has finished and the main loop has answered the completion notice(s). The stream
      then holds several ``system/init`` and ``result`` events (one per main-loop turn batch).
    - Every subagent API request carries an ``x-claude-code-agent-id`` header (its agent id);
      every request an ``x-claude-code-session-id`` header.
    - The main loop runs on ``claude-opus-5-5`` by default. ``subagent_type: "fork"`` inherits the
      whole conversation and ignores ``model``.
    - No side requests (title generation, ``count_tokens``, GETs) were seen with
      ``CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1``; the fake API answers them anyway.
    - A run takes 0.6 to 3 s (plus scripted delays); a PreToolUse deny comes back as an error
      tool_result ``PreToolUse:Agent hook error: <reason>`` (``AgentCall.denied``).
"""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from cco_hooks.claude_code import PINNED_VERSION, TESTED_VERSIONS
from tests.support.fake_api import MAIN, OTHER, FakeAnthropicAPI, RecordedRequest, RequestQueries

NPM_PACKAGE = "@anthropic-ai/claude-code"
REPO_ROOT = Path(__file__).resolve().parents[2]
CACHE_ROOT = REPO_ROOT / ".cache"
SPAWN_TOOL_NAMES = ("Agent", "Task")

# npm needs the user's own npm config (registry, auth): captured at import, before any test
# fixture points HOME at a throwaway directory
_NPM_ENV = dict(os.environ)
# PYTHONDONTWRITEBYTECODE: hooks run from the source tree must not litter it with __pycache__
_PASSTHROUGH = ("LANG", "LC_ALL", "LC_CTYPE", "LC_MESSAGES", "TZ", "SYSTEMROOT", "PYTHONDONTWRITEBYTECODE")


class ClaudeCliError(RuntimeError):
    """The CLI could not be installed, or a run could not complete (timeout)."""


# ----- locate / install ------------------------------------------------------------------------


def _version_of(binary: Path | str, timeout: float = 60) -> str | None:
    try:
        with tempfile.TemporaryDirectory(prefix="cco-claude-version-") as home:
            env = _base_env(Path(home))
            env["CLAUDE_CONFIG_DIR"] = os.path.join(home, ".claude")
            env["DISABLE_AUTOUPDATER"] = "1"
            out = subprocess.run(
                [str(binary), "--version"],
                capture_output=True,
                text=True,
                timeout=timeout,
                stdin=subprocess.DEVNULL,
                env=env,
                cwd=home,
            )
    except (OSError, subprocess.SubprocessError):
        return None
    if out.returncode != 0:
        return None
    return out.stdout.strip().split(" ", 1)[0] or None


def install_prefix(version: str) -> Path:
    """Where ``version`` of the CLI is installed: one npm prefix per version, as ``.ci/run`` does."""
    return CACHE_ROOT / f"claude-code-{version}"


def installed_bin(version: str) -> Path:
    return install_prefix(version) / "node_modules" / ".bin" / "claude"


def claude_version(binary: Path | str) -> str:
    """The version ``binary --version`` prints (``"2.1.332"`` for ``2.1.332 (Claude Code)``)."""
    version = _version_of(binary)
    if version is None:
        raise ClaudeCliError(f"`{binary} --version` failed or printed nothing: is it a Claude Code CLI?")
    return version


def versions_under_test() -> tuple[str, ...]:
    """The releases the end-to-end suite runs against: ``TESTED_VERSIONS``, or only the version of
    ``$CCO_HOOKS_TEST_CLAUDE`` when that is set."""
    explicit = os.environ.get("CCO_HOOKS_TEST_CLAUDE")
    if explicit:
        return (claude_version(_explicit_bin(explicit)),)
    return TESTED_VERSIONS


def _explicit_bin(explicit: str) -> Path:
    path = Path(explicit).expanduser()
    if not (path.is_file() and os.access(path, os.X_OK)):
        raise ClaudeCliError(f"CCO_HOOKS_TEST_CLAUDE={explicit!r} is not an executable file: unset it or fix the path")
    return path


def ensure_claude(version: str = PINNED_VERSION, *, timeout: float = 600) -> str:
    """The path of a usable ``claude`` binary of ``version``, installing it into the repo cache when
    needed (``$CCO_HOOKS_TEST_CLAUDE``, when set, is returned as is, whatever its version)."""
    explicit = os.environ.get("CCO_HOOKS_TEST_CLAUDE")
    if explicit:
        return str(_explicit_bin(explicit))

    prefix, binary = install_prefix(version), installed_bin(version)
    prefix.mkdir(parents=True, exist_ok=True)
    lock_path = CACHE_ROOT / f"claude-code-{version}.install.lock"
    with open(lock_path, "a+") as lock:
        deadline = time.monotonic() + timeout
        while True:  # bounded wait for another worker's install
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise ClaudeCliError(f"timed out waiting for the install lock {lock_path}") from None
                time.sleep(0.2)
        try:
            if binary.exists() and _version_of(binary) == version:
                return str(binary)
            cmd = ["npm", "install", "--no-audit", "--no-fund", "--prefix", str(prefix), f"{NPM_PACKAGE}@{version}"]
            try:
                proc = subprocess.run(
                    cmd,
                    capture_output=True,
                    text=True,
                    timeout=timeout,
                    stdin=subprocess.DEVNULL,
                    env=_NPM_ENV,
                    cwd=str(prefix),
                )
            except FileNotFoundError as exc:
                raise ClaudeCliError("npm is not installed: it is needed to install the Claude Code CLI") from exc
            except subprocess.TimeoutExpired as exc:
                raise ClaudeCliError(f"`{' '.join(cmd)}` timed out after {timeout} s") from exc
            if proc.returncode != 0:
                raise ClaudeCliError(f"`{' '.join(cmd)}` failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
            got = _version_of(binary)
            if got != version:
                raise ClaudeCliError(f"installed {binary} but `claude --version` says {got!r}, expected {version}")
            return str(binary)
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


# ----- environment -----------------------------------------------------------------------------


# This checkout's `cco-hook` (see the script): what `install --scope project`'s commands run.
CHECKOUT_HOOK_BIN = str(Path(__file__).resolve().parent / "bin")


def _base_env(home: Path) -> dict[str, str]:
    path = os.environ.get("PATH", "/usr/local/bin:/usr/bin:/bin")
    python_dir = os.path.dirname(sys.executable)
    path = f"{python_dir}{os.pathsep}{path}" if python_dir else path
    env = {"PATH": f"{CHECKOUT_HOOK_BIN}{os.pathsep}{path}", "HOME": str(home)}
    for key in _PASSTHROUGH:
        if key in os.environ:
            env[key] = os.environ[key]
    return env


def claude_env(home: Path | str, base_url: str, env_extra: dict[str, str | None] | None = None) -> dict[str, str]:
    """The whole environment a run gets (see the module docstring)."""
    home = Path(home)
    env = _base_env(home)
    env.update(
        {
            "CLAUDE_CONFIG_DIR": str(home / ".claude"),
            "TMPDIR": str(home / "tmp"),
            "ANTHROPIC_BASE_URL": base_url,
            "ANTHROPIC_API_KEY": "test",
            "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
            "DISABLE_TELEMETRY": "1",
            "DISABLE_AUTOUPDATER": "1",
            "DISABLE_ERROR_REPORTING": "1",
            "IS_SANDBOX": "1",
        }
    )
    for key, value in (env_extra or {}).items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = str(value)
    return env


# ----- results ---------------------------------------------------------------------------------


def read_jsonl(path: Path | str) -> list[dict[str, Any]]:
    """The JSON objects of a JSONL file, skipping blank or torn lines."""
    out = []
    try:
        text = Path(path).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return out
    for line in text.splitlines():
        line = line.strip()
        if not line:
            continue
        try:
            obj = json.loads(line)
        except ValueError:
            continue
        if isinstance(obj, dict):
            out.append(obj)
    return out


def assistant_usages(path: Path | str) -> list[dict[str, Any]]:
    """One entry per API response in a transcript: ``{"id", "model", "usage"}``, deduplicated on
    ``message.id`` (one response may be written as several lines), in file order."""
    seen: dict[str, dict[str, Any]] = {}
    for line in read_jsonl(path):
        if line.get("type") != "assistant":
            continue
        message = line.get("message") or {}
        mid = message.get("id")
        if isinstance(mid, str) and mid not in seen and isinstance(message.get("usage"), dict):
            seen[mid] = {"id": mid, "model": message.get("model"), "usage": message["usage"]}
    return list(seen.values())


@dataclasses.dataclass
class AgentCall:
    """One Agent tool call made by the main loop and what came back for it."""

    tool_use_id: str
    input: dict[str, Any]  # as the model sent it (before any PreToolUse rewrite)
    result_text: str | None  # the tool_result's text (None: no result seen)
    is_error: bool
    tool_use_result: dict[str, Any] | None  # the structured result (agentId, resolvedModel, status, ...)

    @property
    def denied(self) -> bool:
        return self.is_error and (self.result_text or "").startswith("PreToolUse:")


@dataclasses.dataclass
class RunResult(RequestQueries):
    returncode: int
    stdout: str
    stderr: str
    events: list[dict[str, Any]]  # parsed stream-json events (non-JSON lines skipped)
    duration_s: float
    project_dir: Path
    home: Path
    config_dir: Path
    tmp_dir: Path
    env: dict[str, str]
    fake_api: FakeAnthropicAPI
    request_seq_range: tuple[int, int]  # fake API requests [start, end) made during this run

    # --- stream-json ---
    @property
    def session_id(self) -> str | None:
        for event in self.events:
            if event.get("type") == "system" and event.get("subtype") == "init":
                return event.get("session_id")
        for event in self.events:
            if event.get("session_id"):
                return event["session_id"]
        return None

    @property
    def result_event(self) -> dict[str, Any] | None:
        for event in reversed(self.events):
            if event.get("type") == "result":
                return event
        return None

    def events_of(self, type_: str, subtype: str | None = None) -> list[dict[str, Any]]:
        return [e for e in self.events if e.get("type") == type_ and (subtype is None or e.get("subtype") == subtype)]

    def hook_events(self, hook_event_name: str | None = None) -> list[dict[str, Any]]:
        """``system`` events about hooks (``--include-hook-events``): hook_started / hook_response."""
        out = [e for e in self.events if e.get("type") == "system" and str(e.get("subtype", "")).startswith("hook")]
        if hook_event_name is not None:
            out = [e for e in out if e.get("hook_event") == hook_event_name]
        return out

    def agent_calls(self) -> list[AgentCall]:
        """The main loop's Agent/Task tool calls, in order, with their tool results."""
        calls: dict[str, AgentCall] = {}
        for event in self.events:
            if event.get("parent_tool_use_id") is not None:
                continue  # a subagent's own traffic
            message = event.get("message") or {}
            content = message.get("content")
            if not isinstance(content, list):
                continue
            if event.get("type") == "assistant":
                for block in content:
                    if (
                        isinstance(block, dict)
                        and block.get("type") == "tool_use"
                        and block.get("name") in SPAWN_TOOL_NAMES
                    ):
                        calls[block["id"]] = AgentCall(block["id"], dict(block.get("input") or {}), None, False, None)
            elif event.get("type") == "user":
                for block in content:
                    if not (isinstance(block, dict) and block.get("type") == "tool_result"):
                        continue
                    call = calls.get(block.get("tool_use_id"))
                    if call is None:
                        continue
                    call.result_text = _result_text(block.get("content"))
                    call.is_error = bool(block.get("is_error"))
                    tur = event.get("tool_use_result")
                    call.tool_use_result = tur if isinstance(tur, dict) else None
        return list(calls.values())

    def agent_call(self, marker: str) -> AgentCall:
        """The Agent call whose prompt contains ``marker``."""
        found = [c for c in self.agent_calls() if marker in str(c.input.get("prompt", ""))]
        assert found, f"no Agent call for {marker}; calls: {[c.input for c in self.agent_calls()]}"
        return found[-1]

    # --- transcripts ---
    @property
    def projects_dir(self) -> Path:
        return self.config_dir / "projects"

    def session_transcript_paths(self) -> list[Path]:
        """Session transcripts written by this run (``projects/<slug>/<session>.jsonl``)."""
        sid = self.session_id
        pattern = f"*/{sid}.jsonl" if sid else "*/*.jsonl"
        return sorted(self.projects_dir.glob(pattern))

    @property
    def session_transcript(self) -> Path:
        paths = self.session_transcript_paths()
        assert len(paths) == 1, f"expected one session transcript under {self.projects_dir}, found {paths}"
        return paths[0]

    def subagent_transcripts(self) -> dict[str, Path]:
        """agent_id -> ``agent-<id>.jsonl`` under the session's ``subagents/`` dir."""
        sid = self.session_id or "*"
        out = {}
        for path in sorted(self.projects_dir.glob(f"*/{sid}/subagents/agent-*.jsonl")):
            out[path.name[len("agent-") : -len(".jsonl")]] = path
        return out

    def subagent_meta(self, agent_id: str) -> dict[str, Any]:
        path = self.subagent_transcripts()[agent_id].with_suffix(".meta.json")
        return json.loads(path.read_text())

    def transcript_lines(self, path: Path | str | None = None) -> list[dict[str, Any]]:
        return read_jsonl(path if path is not None else self.session_transcript)

    def cost_state(self) -> dict[str, Any] | None:
        """The session transcript's last ``"type": "cost-state"`` line."""
        states = [line for line in self.transcript_lines() if line.get("type") == "cost-state"]
        return states[-1] if states else None

    # --- fake API ---
    @property
    def requests(self) -> list[RecordedRequest]:
        start, end = self.request_seq_range
        return [r for r in self.fake_api.requests if start <= r.seq < end]

    def unfinished_subagents(self) -> list[str]:
        """Scripted subagents that made requests in this run but were never answered their last turn."""
        started = {r.actor for r in self.requests if r.turn is not None and r.actor not in (MAIN, OTHER)}
        return sorted(m for m in started if not self.subagent_finished(m))

    def agent_id_for(self, marker: str) -> str:
        """The subagent's id, from its requests' ``x-claude-code-agent-id`` header."""
        ids = {r.agent_id for r in self.requests_for(marker)}
        assert len(ids) == 1 and None not in ids, f"subagent {marker}: agent ids {ids}\n{self.describe()}"
        return ids.pop()

    def subagent_transcript_for(self, marker: str) -> Path:
        agent_id = self.agent_id_for(marker)
        paths = self.subagent_transcripts()
        assert agent_id in paths, f"no transcript for {marker} (agent {agent_id}) among {sorted(paths)}"
        return paths[agent_id]

    def describe(self) -> str:
        """A compact diagnostic dump for assertion messages."""
        lines = [f"returncode={self.returncode} duration={self.duration_s:.2f}s session={self.session_id}"]
        for r in self.requests:
            lines.append(f"  req#{r.seq} {r.path} actor={r.actor} turn={r.turn} model={r.model} answer={r.answer}")
        for call in self.agent_calls():
            lines.append(
                f"  Agent {call.tool_use_id} {call.input} -> error={call.is_error} {str(call.result_text)[:200]!r}"
            )
        if self.stderr.strip():
            lines.append("  stderr: " + self.stderr.strip()[-2000:])
        if self.fake_api.errors:
            lines.append(f"  fake API errors: {self.fake_api.errors}")
        return "\n".join(lines)


def _result_text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(b.get("text", "") for b in content if isinstance(b, dict) and b.get("type") == "text")
    return ""


# ----- run -------------------------------------------------------------------------------------


def run_claude_command(
    args: list[str],
    *,
    home: Path | str,
    cwd: Path | str | None = None,
    env_extra: dict[str, str | None] | None = None,
    timeout: float = 60,
    claude_bin: str | None = None,
) -> subprocess.CompletedProcess:
    """Run another ``claude`` subcommand (e.g. ``["plugin", "validate", DIR]``) in the same
    isolated environment, with no API at all (``ANTHROPIC_BASE_URL`` points at a closed port).
    Never run the CLI with the real environment: even ``plugin validate`` writes
    ``~/.claude.json``, ``~/.claude/backups/`` and tries to send telemetry."""
    binary = claude_bin or ensure_claude()
    home = Path(home).resolve()
    env = claude_env(home, "http://127.0.0.1:9", env_extra)
    for key in ("CLAUDE_CONFIG_DIR", "TMPDIR"):
        if env.get(key):
            Path(env[key]).mkdir(parents=True, exist_ok=True)
    return subprocess.run(
        [binary, *args],
        cwd=str(cwd or home),
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
        start_new_session=True,
    )


def _kill_group(proc: subprocess.Popen) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)


def run_claude(
    project_dir: Path | str,
    prompt: str,
    *,
    fake_api: FakeAnthropicAPI,
    home: Path | str,
    env_extra: dict[str, str | None] | None = None,
    plugin_dir: Path | str | None = None,
    timeout: float = 120,
    claude_bin: str | None = None,
    include_hook_events: bool = True,
    extra_args: list[str] | None = None,
) -> RunResult:
    """Run ``claude -p`` once in ``project_dir`` against ``fake_api``; see the module docstring.

    Returns when the CLI has exited, which with ``-p`` is after every background subagent has
    finished and the main loop has taken its completion notice (``RunResult.unfinished_subagents()``
    lists any scripted subagent that started but was not answered its last turn: it should be
    empty). Leftover processes of the run (its own process group) are killed. Raises
    ``ClaudeCliError`` when the run takes longer than ``timeout`` seconds.
    """
    binary = claude_bin or ensure_claude()
    project_dir = Path(project_dir).resolve()
    home = Path(home).resolve()
    env = claude_env(home, fake_api.base_url, env_extra)
    config_dir = Path(env.get("CLAUDE_CONFIG_DIR") or home / ".claude")
    tmp_dir = Path(env.get("TMPDIR") or "/tmp")
    for d in (home, config_dir, tmp_dir):
        d.mkdir(parents=True, exist_ok=True)

    cmd = [binary, "-p", prompt, "--output-format", "stream-json", "--verbose", "--dangerously-skip-permissions"]
    if include_hook_events:
        cmd.append("--include-hook-events")
    if plugin_dir is not None:
        cmd += ["--plugin-dir", str(Path(plugin_dir).resolve())]
    cmd += list(extra_args or ())

    start_seq = len(fake_api.requests)
    started = time.monotonic()
    proc = subprocess.Popen(
        cmd,
        cwd=project_dir,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        stdout, stderr = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill_group(proc)
        stdout, stderr = proc.communicate(timeout=10)
        summary = "\n".join(
            f"  req#{r.seq} actor={r.actor} turn={r.turn} answer={r.answer}" for r in fake_api.requests[start_seq:]
        )
        raise ClaudeCliError(
            f"claude -p did not finish within {timeout} s\nrequests:\n{summary}\n"
            f"stdout tail:\n{stdout[-3000:]}\nstderr tail:\n{stderr[-3000:]}"
        ) from None
    finally:
        # the CLI's own leftovers (it was started in its own session): never outlive the test
        _kill_group(proc)
    duration = time.monotonic() - started

    events = []
    for line in stdout.splitlines():
        line = line.strip()
        if line.startswith("{"):
            try:
                events.append(json.loads(line))
            except ValueError:
                pass

    return RunResult(
        returncode=proc.returncode,
        stdout=stdout,
        stderr=stderr,
        events=events,
        duration_s=duration,
        project_dir=project_dir,
        home=home,
        config_dir=config_dir,
        tmp_dir=tmp_dir,
        env=env,
        fake_api=fake_api,
        request_seq_range=(start_seq, len(fake_api.requests)),
    )


def cco_hooks_cli(*args: str, project: Path, home: Path, env_extra: dict | None = None) -> subprocess.CompletedProcess:
    """Run `python -m cco_hooks ARGS` in ``project`` as a user of that throwaway ``home`` would."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CCO_HOOKS_", "CLAUDE_"))}
    env.update(HOME=str(home), CLAUDE_CONFIG_DIR=str(home / ".claude"), **(env_extra or {}))
    return subprocess.run(
        [sys.executable, "-m", "cco_hooks", *args],
        cwd=str(project),
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
