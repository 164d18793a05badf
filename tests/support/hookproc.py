"""Run the hooks the way Claude Code does: a real process per event, the command `install` writes.

Shared by the issue-5 tests (hot-path imports, hostile input, concurrency, budgets). Stdlib only.

``Hooks(tmp_path)`` lays out a Claude config dir (the root conftest already points ``HOME``,
``CLAUDE_CONFIG_DIR`` and ``CCO_HOOKS_LEDGER`` at ``tmp_path``), a project, the session transcript
and, per spawn, a subagent transcript built from the real captured one; it builds payloads from the
captured 2.1.328 payloads, and ``run(event, stdin)`` runs ``<python> -S <shim> <event>`` exactly as
``cco_hooks.install.hook_command`` registers it.
"""

from __future__ import annotations

import copy
import json
import os
import shlex
import subprocess
import time
from pathlib import Path

from cco_hooks import ledger, paths
from cco_hooks.cli import install
from tests.support.locations import PAYLOADS

SID = "b8a8b81e-3282-4085-80a5-d0ba9a4a7d23"
EVENTS = ("pre-tool-use", "post-tool-use", "subagent-stop", "stop", "session-end")
PROMPT_MARKER = "PROMPT-TEXT-MUST-NOT-LEAK"
FINAL_TEXT = "report from the subagent"
SUB_LINES = [json.loads(line) for line in (PAYLOADS / "subagent-transcript.jsonl").read_text().splitlines()]


def load(name: str) -> dict:
    return json.loads((PAYLOADS / name).read_text())


def hook_argv(event: str) -> list[str]:
    """The command `cco-hooks install` registers for ``event``, as an argv."""
    return shlex.split(install.hook_command(event))


class Hooks:
    def __init__(self, tmp_path: Path, project: Path | None = None):
        self.tmp = tmp_path
        self.config = Path(os.environ["CLAUDE_CONFIG_DIR"])
        self.ledger = os.environ["CCO_HOOKS_LEDGER"]
        self.project = project or (tmp_path / "proj")
        (self.project / ".claude").mkdir(parents=True, exist_ok=True)
        slug = "".join(c if c.isalnum() else "-" for c in str(self.project))
        self.session_dir = self.config / "projects" / slug
        self.subagents = self.session_dir / SID / "subagents"
        self.subagents.mkdir(parents=True, exist_ok=True)
        self.session_transcript = self.session_dir / f"{SID}.jsonl"
        self.session_transcript.write_text((PAYLOADS / "session-transcript.jsonl").read_text())

    # ----- environment and processes
    def env(self, **extra: str | None) -> dict:
        env = dict(os.environ, CLAUDE_PROJECT_DIR=str(self.project))
        for key, value in extra.items():
            if value is None:
                env.pop(key, None)
            else:
                env[key] = value
        return env

    def run(self, event: str, stdin: bytes | dict | str, timeout: float = 20.0, **extra_env):
        """``(CompletedProcess, wall seconds)`` of one hook process."""
        if isinstance(stdin, dict):
            stdin = json.dumps(stdin).encode()
        elif isinstance(stdin, str):
            stdin = stdin.encode()
        start = time.monotonic()
        proc = subprocess.run(hook_argv(event), input=stdin, capture_output=True, timeout=timeout,
                              env=self.env(**extra_env), cwd=str(self.project))
        return proc, time.monotonic() - start

    def write_config(self, text: str, name: str = "cco-hooks.yaml") -> Path:
        path = self.project / ".claude" / name
        path.write_text(text)
        return path

    # ----- files
    def transcript_path(self, agent_id: str, session: str = SID) -> Path:
        return self.session_dir / session / "subagents" / f"agent-{agent_id}.jsonl"

    def write_transcript(self, agent_id: str, model: str = "claude-opus-5-5", final_text: str = FINAL_TEXT,
                         session: str = SID) -> Path:
        lines = copy.deepcopy(SUB_LINES)
        for obj in lines:
            obj["agentId"] = agent_id
            if obj["type"] == "assistant":
                obj["message"]["model"] = model
                obj["message"]["id"] = obj["message"]["id"] + "-" + agent_id
                for block in obj["message"]["content"]:
                    if block.get("type") == "text":
                        block["text"] = final_text
            elif obj["type"] == "user" and isinstance(obj["message"]["content"], str):
                obj["message"]["content"] = PROMPT_MARKER
        path = self.transcript_path(agent_id, session)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("".join(json.dumps(o) + "\n" for o in lines))
        return path

    # ----- payloads (the captured ones, pointed at this layout)
    def _common(self) -> dict:
        return {"session_id": SID, "transcript_path": str(self.session_transcript), "cwd": str(self.project)}

    def pre(self, tool_use_id: str = "toolu_1", subagent_type: str = "general-purpose", model: str | None = "sonnet",
            background: bool = False, **tool_input) -> dict:
        payload = load("PreToolUse.json")
        payload.update(self._common(), tool_use_id=tool_use_id)
        payload["tool_input"].update(subagent_type=subagent_type, run_in_background=background,
                                     prompt=PROMPT_MARKER + " do it", **tool_input)
        if model is None:
            payload["tool_input"].pop("model", None)
        else:
            payload["tool_input"]["model"] = model
        return payload

    def post_completed(self, tool_use_id: str, agent_id: str, model: str = "claude-opus-5-5",
                       subagent_type: str = "general-purpose") -> dict:
        payload = load("PostToolUse_completed.json")
        payload.update(self._common(), tool_use_id=tool_use_id)
        payload["tool_input"].update(subagent_type=subagent_type, prompt=PROMPT_MARKER + " do it")
        response = payload["tool_response"]
        response.update(agentId=agent_id, resolvedModel=model, agentType=subagent_type, prompt=PROMPT_MARKER)
        response["content"][-1]["text"] = FINAL_TEXT
        return payload

    def post_async(self, tool_use_id: str, agent_id: str) -> dict:
        payload = load("PostToolUse_async_launched.json")
        payload.update(self._common(), tool_use_id=tool_use_id)
        payload["tool_input"]["prompt"] = PROMPT_MARKER
        payload["tool_response"].update(agentId=agent_id, prompt=PROMPT_MARKER)
        return payload

    def stop(self, agent_id: str, agent_type: str = "general-purpose") -> dict:
        payload = load("SubagentStop.json")
        payload.update(self._common(), agent_id=agent_id, agent_type=agent_type,
                       agent_transcript_path=str(self.transcript_path(agent_id)),
                       last_assistant_message=FINAL_TEXT, background_tasks=[])
        return payload

    def session_event(self, name: str) -> dict:
        return dict(self._common(), hook_event_name=name, stop_hook_active=False)

    # ----- ledger
    def records(self) -> tuple[list, int]:
        return ledger.read_records(self.ledger)


def run_main(event: str, stdin) -> tuple[int, bytes]:
    """``hook_main.main([event])`` in this process, stdin/stdout swapped for buffers:
    ``(exit code, stdout bytes)``."""
    import io
    import sys

    from cco_hooks import hook_main

    if isinstance(stdin, dict):
        stdin = json.dumps(stdin).encode()
    elif isinstance(stdin, str):
        stdin = stdin.encode("utf-8", "surrogatepass")
    out = io.BytesIO()
    old = sys.stdin, sys.stdout
    fake_in, fake_out = io.TextIOWrapper(io.BytesIO(stdin)), io.TextIOWrapper(out, write_through=True)
    sys.stdin, sys.stdout = fake_in, fake_out
    try:
        code = hook_main.main([event])
        fake_out.flush()
        return code, out.getvalue()
    finally:
        sys.stdin, sys.stdout = old
        fake_out.detach()


def answer(stdout: bytes):
    """The one JSON object a hook printed, or ``None`` for no output."""
    text = stdout.decode("ascii")
    if not text.strip():
        return None
    assert text.endswith("\n") and text.count("\n") == 1, text
    obj = json.loads(text)
    assert isinstance(obj, dict)
    return obj


# --------------------------------------------------------------------------- what a hook run must leave

SCHEMA_PATH = Path(__file__).resolve().parents[2] / "config" / "ledger.schema.json"
ALIASES = {"haiku", "sonnet", "opus", "fable"}
_validator = None


def _schema_validator():
    global _validator
    if _validator is None:
        import jsonschema

        _validator = jsonschema.Draft202012Validator(json.loads(SCHEMA_PATH.read_text()))
    return _validator


def check_answer(event: str, stdout: bytes) -> None:
    """Nothing, or exactly one JSON object on one line that is a valid answer for ``event``."""
    if not stdout.strip():
        return
    text = stdout.decode("ascii")  # our JSON is ASCII-only: no encoding can garble it
    assert text.endswith("\n") and text.count("\n") == 1, text[:300]
    answer = json.loads(text)
    assert isinstance(answer, dict) and answer, text[:300]
    assert set(answer) <= {"hookSpecificOutput", "systemMessage"}, answer.keys()
    if "systemMessage" in answer:
        assert isinstance(answer["systemMessage"], str) and answer["systemMessage"]
    spec = answer.get("hookSpecificOutput")
    if spec is not None:
        assert event == "pre-tool-use" and spec["hookEventName"] == "PreToolUse"
        if "updatedInput" in spec:
            assert isinstance(spec["updatedInput"], dict) and spec["updatedInput"]["model"] in ALIASES
            assert spec.get("permissionDecision") is None  # a rewrite never widens permissions
        else:
            assert spec["permissionDecision"] == "deny" and isinstance(spec["permissionDecisionReason"], str)


def check_state(hooks: Hooks) -> None:
    """The ledger is whole and valid, no internal error was logged, every file we own is private."""
    records, skipped = ledger.read_records(hooks.ledger)
    assert skipped == 0
    for record in records:
        errors = [e.message for e in _schema_validator().iter_errors(record)]
        assert not errors, (errors, record)
    log = Path(paths.state_dir()) / "errors.log"
    assert not log.exists(), log.read_text()[-3000:]
    for root in (Path(paths.state_dir()), Path(hooks.ledger).parent):
        for path in [root, *root.rglob("*")]:
            if path.exists() and not path.is_symlink():
                mode = path.stat().st_mode & 0o777
                assert mode & 0o077 == 0, f"{path} is {oct(mode)}"
