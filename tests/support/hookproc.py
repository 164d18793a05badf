"""Run the hooks the way Claude Code does: a real process per event, the command `install` writes.

Shared by the tests of the hot path (imports, hostile input, concurrency, budgets, accounting).
Stdlib only.

``Hooks(tmp_path)`` lays out a Claude config dir (the root conftest already points ``HOME``,
``CLAUDE_CONFIG_DIR`` and ``CCO_HOOKS_LEDGER`` at ``tmp_path``), a project, the session transcript
and, per spawn, a subagent transcript built from the real captured one; it builds payloads from the
captured 2.1.328 payloads, and ``run(event, stdin)`` runs ``<python> -S <shim> <event>`` exactly as
``cco_hooks.cli.install.hook_command`` registers it.

``Scene(tmp_path)`` is the same world for calling the accounting functions in this process.
"""

from __future__ import annotations

import copy
import json
import os
import shlex
import subprocess
import time
from pathlib import Path

from cco_hooks import accounting, ledger, paths, pending, pricing
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
        proc = subprocess.run(
            hook_argv(event),
            input=stdin,
            capture_output=True,
            timeout=timeout,
            env=self.env(**extra_env),
            cwd=str(self.project),
        )
        return proc, time.monotonic() - start

    def write_config(self, text: str, name: str = "cco-hooks.yaml") -> Path:
        path = self.project / ".claude" / name
        path.write_text(text)
        return path

    # ----- files
    def transcript_path(self, agent_id: str, session: str = SID) -> Path:
        return self.session_dir / session / "subagents" / f"agent-{agent_id}.jsonl"

    def write_transcript(
        self, agent_id: str, model: str = "claude-opus-5-5", final_text: str = FINAL_TEXT, session: str = SID
    ) -> Path:
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

    def pre(
        self,
        tool_use_id: str = "toolu_1",
        subagent_type: str = "general-purpose",
        model: str | None = "sonnet",
        background: bool = False,
        **tool_input,
    ) -> dict:
        payload = load("PreToolUse.json")
        payload.update(self._common(), tool_use_id=tool_use_id)
        payload["tool_input"].update(
            subagent_type=subagent_type, run_in_background=background, prompt=PROMPT_MARKER + " do it", **tool_input
        )
        if model is None:
            payload["tool_input"].pop("model", None)
        else:
            payload["tool_input"]["model"] = model
        return payload

    def post_completed(
        self, tool_use_id: str, agent_id: str, model: str = "claude-opus-5-5", subagent_type: str = "general-purpose"
    ) -> dict:
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
        payload.update(
            self._common(),
            agent_id=agent_id,
            agent_type=agent_type,
            agent_transcript_path=str(self.transcript_path(agent_id)),
            last_assistant_message=FINAL_TEXT,
            background_tasks=[],
        )
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


OPUS_RUN = 0.4865  # the captured subagent's two requests on claude-opus-5-5 (Claude Code's costUSD)


def spend(
    hooks: Hooks, n: int, agent_type: str = "general-purpose", model: str = "claude-opus-5-5", session: str = SID
) -> None:
    """A whole foreground spawn through the hooks (in process): PreToolUse, SubagentStop, PostToolUse."""
    tool_use_id, agent_id = f"toolu_s{n}", f"as{n}"
    hooks.write_transcript(agent_id, model=model)
    for event, payload in (
        ("pre-tool-use", hooks.pre(tool_use_id, agent_type)),
        ("subagent-stop", hooks.stop(agent_id, agent_type)),
        ("post-tool-use", hooks.post_completed(tool_use_id, agent_id, model, agent_type)),
    ):
        payload["session_id"] = session
        assert run_main(event, payload)[0] == 0


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


def schema_validator():
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
        errors = [e.message for e in schema_validator().iter_errors(record)]
        assert not errors, (errors, record)
    log = Path(paths.state_dir()) / "errors.log"
    assert not log.exists(), log.read_text()[-3000:]
    for root in (Path(paths.state_dir()), Path(hooks.ledger).parent):
        for path in [root, *root.rglob("*")]:
            if path.exists() and not path.is_symlink():
                mode = path.stat().st_mode & 0o777
                assert mode & 0o077 == 0, f"{path} is {oct(mode)}"


# --------------------------------------------------------------------------- in process: the accounting

SESSION_LINES = (PAYLOADS / "session-transcript.jsonl").read_text().splitlines(keepends=True)
COST_STATE = json.loads(SESSION_LINES[-1])
# the two requests of the captured subagent, priced on each model (Claude Code's costUSD)
COST = {"claude-opus-5-5": 0.4865, "claude-sonnet-5-5": 0.24325, "claude-haiku-5-5": 0.0516125}
SCENE_PROMPT_MARKER = "TOP-SECRET-PROMPT-MARKER"
SCENE_FINAL_MARKER = "FINAL-REPORT-MARKER"


class Scene:
    """A Claude config dir with a session transcript, subagent transcripts and hook payloads, for
    calling the accounting functions directly."""

    def __init__(self, tmp_path: Path):
        self.tmp = tmp_path
        self.config = Path(os.environ["CLAUDE_CONFIG_DIR"])
        self.ledger = os.environ["CCO_HOOKS_LEDGER"]
        self.project = self.config / "projects" / "-home-dev-proj"
        self.project.mkdir(parents=True, exist_ok=True)
        self.session = self.project / f"{SID}.jsonl"
        self.session.write_text("".join(SESSION_LINES))
        self.subagents = self.project / SID / "subagents"
        self.subagents.mkdir(parents=True, exist_ok=True)
        self.prices = pricing.load_prices(override_path=str(tmp_path / "no-override.json"))

    # -- files
    def agent_path(self, agent_id):
        return self.subagents / f"agent-{agent_id}.jsonl"

    def transcript_lines(self, agent_id, model="claude-opus-5-5", final_text=SCENE_FINAL_MARKER):
        lines = copy.deepcopy(SUB_LINES)
        for obj in lines:
            obj["agentId"] = agent_id
            if obj["type"] == "assistant":
                obj["message"]["model"] = model
                for block in obj["message"]["content"]:
                    if block.get("type") == "text":
                        block["text"] = final_text
            elif obj["type"] == "user" and isinstance(obj["message"]["content"], str):
                obj["message"]["content"] = SCENE_PROMPT_MARKER
        return [json.dumps(o) + "\n" for o in lines]

    def write_transcript(self, agent_id, model="claude-opus-5-5", final_text=SCENE_FINAL_MARKER, upto=None, torn=False):
        lines = self.transcript_lines(agent_id, model, final_text)
        keep = lines if upto is None else lines[:upto]
        data = "".join(keep)
        if torn:
            nxt = lines[len(keep)]
            data += nxt[: len(nxt) // 2]
        self.agent_path(agent_id).write_text(data)
        return self.agent_path(agent_id)

    def write_meta(self, agent_id, tool_use_id="toolu_1", finished=True, shape="foreground"):
        meta = {
            "agentType": "general-purpose",
            "description": "d",
            "toolUseId": tool_use_id,
            "requestShape": shape,
            "model": "opus",
            "finished": finished,
        }
        (self.subagents / f"agent-{agent_id}.meta.json").write_text(json.dumps(meta))

    # -- payloads
    def base(self):
        return {
            "session_id": SID,
            "transcript_path": str(self.session),
            "cwd": "/home/dev/proj",
            "permission_mode": "bypassPermissions",
        }

    def pre(self, tool_use_id, requested="sonnet", enforced=None, action="none", background=False, description="a"):
        payload = dict(
            self.base(),
            hook_event_name="PreToolUse",
            tool_name="Agent",
            tool_use_id=tool_use_id,
            tool_input={
                "description": description,
                "prompt": SCENE_PROMPT_MARKER,
                "subagent_type": "general-purpose",
                "run_in_background": background,
            },
        )
        if requested:
            payload["tool_input"]["model"] = requested
        decision = {
            "action": action,
            "mode": "rewrite",
            "rule": "general-purpose" if action != "none" else None,
            "layer": "project" if action != "none" else None,
            "source": "/home/dev/proj/.claude/cco-hooks.yaml" if action != "none" else None,
            "reason": "test",
            "requested_model": requested,
            "enforced_model": enforced,
            "agent_type": "general-purpose",
            "effort": None,
            "would": None,
            "updated_input": None,
        }
        return payload, decision

    def _post(self, template, tool_use_id, agent_id, model, model_in):
        payload = load(template)
        payload.update(self.base())
        payload["tool_use_id"] = tool_use_id
        payload["tool_input"]["prompt"] = SCENE_PROMPT_MARKER
        payload["tool_response"]["prompt"] = SCENE_PROMPT_MARKER
        if model_in:
            payload["tool_input"]["model"] = model_in
        else:
            payload["tool_input"].pop("model", None)
        payload["tool_response"]["agentId"] = agent_id
        payload["tool_response"]["resolvedModel"] = model
        return payload

    def post_completed(
        self, tool_use_id, agent_id, model="claude-opus-5-5", final_text=SCENE_FINAL_MARKER, model_in=None
    ):
        payload = self._post("PostToolUse_completed.json", tool_use_id, agent_id, model, model_in)
        payload["tool_response"]["content"][-1]["text"] = final_text
        return payload

    def post_async(self, tool_use_id, agent_id, model="claude-haiku-5-5", model_in=None):
        return self._post("PostToolUse_async_launched.json", tool_use_id, agent_id, model, model_in)

    def stop(self, agent_id, final_text=SCENE_FINAL_MARKER, path=None):
        payload = load("SubagentStop.json")
        payload.update(self.base())
        payload["agent_id"] = agent_id
        payload["agent_transcript_path"] = str(path or self.agent_path(agent_id))
        payload["last_assistant_message"] = final_text
        return payload

    # -- hook calls
    def run_pre(self, *args, **kwargs):
        payload, decision = self.pre(*args, **kwargs)
        accounting.on_pre_tool_use(payload, decision, self.ledger)

    def run_post(self, payload):
        accounting.on_post_tool_use(payload, self.ledger, self.prices)
        accounting.settle(self.ledger, self.prices)

    def run_stop(self, payload):
        accounting.on_subagent_stop(payload, self.ledger, self.prices)
        accounting.settle(self.ledger, self.prices)

    def settle(self, later=0.0, force=False):
        return accounting.settle(self.ledger, self.prices, now=time.time() + later, force=force)

    def records(self, kind="spawn"):
        records, skipped = ledger.read_records(self.ledger)
        assert skipped == 0
        for r in records:
            schema_validator().validate(r)
        return [r for r in records if r.get("kind") == kind]

    def pending(self):
        try:
            return sorted(n for n in os.listdir(pending.pending_dir(self.ledger)) if n.endswith(".json"))
        except FileNotFoundError:
            return []


def scene_in_clean_cwd(tmp_path: Path, monkeypatch):
    """A ``Scene`` run from an empty cwd, which must stay empty: nothing is ever written relative to
    the cwd. For a fixture: ``yield from scene_in_clean_cwd(tmp_path, monkeypatch)``."""
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    yield Scene(tmp_path)
    assert os.listdir(cwd) == []


def only(records: list):
    assert len(records) == 1, records
    return records[0]
