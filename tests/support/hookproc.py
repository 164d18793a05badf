"""One test harness for the hooks: a Claude Code session on disk, the payloads its hooks receive,
and two ways to deliver them.

Shared by the tests of the hot path (accounting, budgets, imports, hostile input, concurrency) and
the fuzz target. Stdlib only (``jsonschema`` on demand).

``Hooks(tmp_path)`` lays out what Claude Code would have on disk (the root conftest already points
``HOME``, ``CLAUDE_CONFIG_DIR`` and ``CCO_HOOKS_LEDGER`` at ``tmp_path``): a project with its
``.claude`` dir, the Claude config dir's project folder holding the captured session transcript,
and — on demand — subagent transcripts built from the captured ``subagent-transcript.jsonl`` (whole,
cut short with ``upto``, or with a ``torn`` last line) with their ``.meta.json`` files. It builds
every payload from the captured 2.1.328 ones, pointed at this layout (``pre``, ``post_completed``,
``post_async``, ``stop``, ``session_event``; ``decision`` is what the policy would hand the
accounting for a ``pre``). An event is delivered either way:

- as a real hook process: ``run(event, stdin)`` (or ``start`` for one left running) runs
  ``<python> -S <shim> <event>``, exactly the command ``cco-hooks install`` registers
  (``cco_hooks.cli.install.hook_command``), with ``CLAUDE_PROJECT_DIR`` set as Claude Code sets it;
- in this process: ``run_main(event, stdin)`` calls ``hook_main.main`` with stdin and stdout
  swapped for buffers, and ``run_pre`` / ``run_post`` / ``run_stop`` / ``settle`` call the
  functions of ``cco_hooks.accounting`` themselves (with a hand-made policy decision and
  ``prices``).

``read_ledger``, ``records`` and ``pending`` show what the hooks left; ``check_state`` and
``check_answer`` check it as every hook run must leave it.
"""

from __future__ import annotations

import copy
import io
import json
import os
import shlex
import signal
import subprocess
import sys
import tempfile
import time
from functools import cached_property
from pathlib import Path

from cco_hooks import accounting, counterfactual, ledger, paths, pending, pricing
from cco_hooks.cli import install
from tests.support.locations import PAYLOADS

SID = "b8a8b81e-3282-4085-80a5-d0ba9a4a7d23"
EVENTS = ("pre-tool-use", "post-tool-use", "subagent-stop", "stop", "session-end")
PROMPT_MARKER = "PROMPT-TEXT-MUST-NOT-LEAK"
FINAL_TEXT = "report from the subagent"
SUB_LINES = [json.loads(line) for line in (PAYLOADS / "subagent-transcript.jsonl").read_text().splitlines()]
SESSION_LINES = (PAYLOADS / "session-transcript.jsonl").read_text().splitlines(keepends=True)
COST_STATE = json.loads(SESSION_LINES[-1])
# the two requests of the captured subagent, priced on each model (Claude Code's costUSD)
COST = {"claude-opus-5-5": 0.4865, "claude-sonnet-5-5": 0.24325, "claude-haiku-5-5": 0.0516125}
OPUS_RUN = COST["claude-opus-5-5"]


def load(name: str) -> dict:
    return json.loads((PAYLOADS / name).read_text())


def hook_argv(event: str) -> list[str]:
    """The command `cco-hooks install` registers for ``event``, as an argv."""
    return shlex.split(install.hook_command(event))


def _stdin_bytes(stdin: bytes | dict | str) -> bytes:
    if isinstance(stdin, dict):
        return json.dumps(stdin).encode()
    if isinstance(stdin, str):
        return stdin.encode("utf-8", "surrogatepass")
    return stdin


def run_main(event: str, stdin: bytes | dict | str) -> tuple[int, bytes]:
    """``hook_main.main([event])`` in this process, stdin/stdout swapped for buffers:
    ``(exit code, stdout bytes)``."""
    from cco_hooks import hook_main

    out = io.BytesIO()
    old = sys.stdin, sys.stdout
    fake_in, fake_out = io.TextIOWrapper(io.BytesIO(_stdin_bytes(stdin))), io.TextIOWrapper(out, write_through=True)
    sys.stdin, sys.stdout = fake_in, fake_out
    try:
        code = hook_main.main([event])
        fake_out.flush()
        return code, out.getvalue()
    finally:
        sys.stdin, sys.stdout = old
        fake_out.detach()


# Forks and execs argv[2:], passing stdin, stdout and stderr through, and writes the child's own
# peak resident memory (KiB, from wait4) to argv[1]; exits with the child's status.
_MEASURING_LAUNCHER = """
import os, sys
peak_file, argv = sys.argv[1], sys.argv[2:]
pid = os.fork()
if pid == 0:
    os.execv(argv[0], argv)
_pid, status, usage = os.wait4(pid, 0)
with open(peak_file, "w") as f:
    f.write(str(usage.ru_maxrss))
sys.exit(os.waitstatus_to_exitcode(status) % 256)
"""


class Hooks:
    """A Claude Code session laid out under ``tmp_path``, its hooks' payloads, and the hooks run on
    them — as real processes or in this process (see the module docstring)."""

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
        self.session_transcript.write_text("".join(SESSION_LINES))

    @cached_property
    def prices(self) -> pricing.Prices:
        """The shipped price table (no override file), for the accounting calls; a test may replace it."""
        return pricing.load_prices(override_path=str(self.tmp / "no-override.json"))

    # ----------------------------------------------------------------------- files
    def write_config(self, text: str, name: str = "cco-hooks.yaml") -> Path:
        path = self.project / ".claude" / name
        path.write_text(text)
        return path

    def write_user_config(self, text: str, name: str = "cco-hooks.yaml") -> Path:
        """The user's own layer (``$CLAUDE_CONFIG_DIR/<name>``): trusted, unlike the project's."""
        self.config.mkdir(parents=True, exist_ok=True)
        path = self.config / name
        path.write_text(text)
        return path

    def transcript_path(self, agent_id: str, session: str = SID) -> Path:
        return self.session_dir / session / "subagents" / f"agent-{agent_id}.jsonl"

    def transcript_lines(self, agent_id: str, model: str = "claude-opus-5-5", final_text: str = FINAL_TEXT) -> list:
        """The captured subagent transcript's lines, as agent ``agent_id`` on ``model`` would write them."""
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
        return [json.dumps(o) + "\n" for o in lines]

    def write_transcript(
        self,
        agent_id: str,
        model: str = "claude-opus-5-5",
        final_text: str = FINAL_TEXT,
        session: str = SID,
        upto: int | None = None,
        torn: bool = False,
    ) -> Path:
        """The subagent's transcript: whole, or its first ``upto`` lines (``torn``: and half the next)."""
        lines = self.transcript_lines(agent_id, model, final_text)
        keep = lines if upto is None else lines[:upto]
        data = "".join(keep)
        if torn:
            nxt = lines[len(keep)]
            data += nxt[: len(nxt) // 2]
        path = self.transcript_path(agent_id, session)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(data)
        return path

    def write_meta(
        self, agent_id: str, tool_use_id: str = "toolu_1", finished: bool = True, shape: str = "foreground"
    ) -> Path:
        """The ``agent-<id>.meta.json`` Claude Code writes beside a subagent's transcript."""
        meta = {
            "agentType": "general-purpose",
            "description": "d",
            "toolUseId": tool_use_id,
            "requestShape": shape,
            "model": "opus",
            "finished": finished,
        }
        path = self.subagents / f"agent-{agent_id}.meta.json"
        path.write_text(json.dumps(meta))
        return path

    # ----------------------------------------------------------------------- payloads: the captured ones, here
    def base(self) -> dict:
        """The fields every hook payload of this session carries."""
        return {
            "session_id": SID,
            "transcript_path": str(self.session_transcript),
            "cwd": str(self.project),
            "permission_mode": "bypassPermissions",
        }

    def pre(
        self,
        tool_use_id: str = "toolu_1",
        subagent_type: str = "general-purpose",
        model: str | None = "sonnet",
        background: bool = False,
        **tool_input,
    ) -> dict:
        """PreToolUse for an Agent spawn; ``model`` ``None`` (or empty) names no model."""
        payload = load("PreToolUse.json")
        payload.update(self.base(), tool_use_id=tool_use_id)
        payload["tool_input"].update(
            subagent_type=subagent_type, run_in_background=background, prompt=PROMPT_MARKER + " do it", **tool_input
        )
        if model:
            payload["tool_input"]["model"] = model
        else:
            payload["tool_input"].pop("model", None)
        return payload

    def decision(self, pre: dict, enforced: str | None = None, action: str = "none") -> dict:
        """The decision the policy hands the accounting with ``pre`` (the routing already done)."""
        tool_input = pre["tool_input"]
        ruled = action != "none"
        return {
            "action": action,
            "mode": "rewrite",
            "rule": tool_input["subagent_type"] if ruled else None,
            "layer": "project" if ruled else None,
            "source": str(self.project / ".claude" / "cco-hooks.yaml") if ruled else None,
            "reason": "test",
            "requested_model": tool_input.get("model"),
            "enforced_model": enforced,
            "agent_type": tool_input["subagent_type"],
            "effort": None,
            "would": None,
            "updated_input": None,
        }

    def _post(self, template: str, tool_use_id: str, agent_id: str, model: str, model_in: str | None) -> dict:
        payload = load(template)
        payload.update(self.base(), tool_use_id=tool_use_id)
        payload["tool_input"]["prompt"] = PROMPT_MARKER + " do it"
        if model_in:
            payload["tool_input"]["model"] = model_in
        else:
            payload["tool_input"].pop("model", None)
        payload["tool_response"].update(agentId=agent_id, resolvedModel=model, prompt=PROMPT_MARKER)
        return payload

    def post_completed(
        self,
        tool_use_id: str,
        agent_id: str,
        model: str = "claude-opus-5-5",
        subagent_type: str = "general-purpose",
        model_in: str | None = "sonnet",
        final_text: str = FINAL_TEXT,
    ) -> dict:
        """PostToolUse of a foreground spawn that ran on ``model`` (``model_in``: the model its
        tool input named, as captured unless given; ``None``: none)."""
        payload = self._post("PostToolUse_completed.json", tool_use_id, agent_id, model, model_in)
        payload["tool_input"]["subagent_type"] = subagent_type
        payload["tool_response"]["agentType"] = subagent_type
        payload["tool_response"]["content"][-1]["text"] = final_text
        return payload

    def post_async(
        self, tool_use_id: str, agent_id: str, model: str = "claude-haiku-5-5", model_in: str | None = "haiku"
    ) -> dict:
        """PostToolUse of a background spawn, just launched."""
        return self._post("PostToolUse_async_launched.json", tool_use_id, agent_id, model, model_in)

    def stop(
        self,
        agent_id: str,
        agent_type: str = "general-purpose",
        final_text: str = FINAL_TEXT,
        path: Path | str | None = None,
    ) -> dict:
        """SubagentStop; ``path``: the transcript path it names, if not the agent's own."""
        payload = load("SubagentStop.json")
        payload.update(
            self.base(),
            agent_id=agent_id,
            agent_type=agent_type,
            agent_transcript_path=str(path or self.transcript_path(agent_id)),
            last_assistant_message=final_text,
            background_tasks=[],
        )
        return payload

    def in_session(self, payload: dict, session: str) -> dict:
        """``payload`` as another session of the same project would send it (its own session id and
        transcript, a copy of this one's); the ids in it stay as they are."""
        transcript = self.session_dir / f"{session}.jsonl"
        if not transcript.exists():
            transcript.write_text("".join(SESSION_LINES))
        return dict(payload, session_id=session, transcript_path=str(transcript))

    def session_event(self, name: str) -> dict:
        """Stop or SessionEnd."""
        return dict(self.base(), hook_event_name=name, stop_hook_active=False)

    # ----------------------------------------------------------------------- delivery 1: real hook processes
    def env(self, **extra: str | None) -> dict:
        """The environment Claude Code gives a hook; ``NAME=None`` removes a variable."""
        env = dict(os.environ, CLAUDE_PROJECT_DIR=str(self.project))
        for key, value in extra.items():
            if value is None:
                env.pop(key, None)
            else:
                env[key] = value
        return env

    def run(self, event: str, stdin: bytes | dict | str, timeout: float = 20.0, **extra_env):
        """``(CompletedProcess, wall seconds)`` of one hook process."""
        stdin = _stdin_bytes(stdin)
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

    def run_measured(
        self, event: str, stdin: bytes | dict | str, timeout: float = 20.0, **extra_env
    ) -> tuple[subprocess.CompletedProcess, int]:
        """``(CompletedProcess, peak resident memory in bytes)`` of one hook process, past ``timeout``
        seconds killed (``subprocess.TimeoutExpired``).

        The peak is the hook's ``ru_maxrss`` from ``wait4``, taken by a small launcher that forks and
        execs it: Linux carries the forking process's peak into a child's at exec, so forked straight
        from this (large) test process the figure would be this process's own."""
        with tempfile.TemporaryDirectory() as scratch:
            peak_file = os.path.join(scratch, "maxrss")
            launcher = subprocess.Popen(
                [sys.executable, "-S", "-c", _MEASURING_LAUNCHER, peak_file, *hook_argv(event)],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                env=self.env(**extra_env),
                cwd=str(self.project),
                start_new_session=True,  # its own process group: a timeout kills the hook too
            )
            try:
                out, err = launcher.communicate(_stdin_bytes(stdin), timeout=timeout)
            except subprocess.TimeoutExpired:
                os.killpg(launcher.pid, signal.SIGKILL)
                launcher.communicate()
                raise
            with open(peak_file) as f:
                peak = int(f.read()) * 1024  # Linux reports KiB
        return subprocess.CompletedProcess(launcher.args, launcher.returncode, out, err), peak

    def start(self, event: str, argv: list[str] | None = None, **extra_env) -> subprocess.Popen:
        """A hook process left running, its stdin, stdout and stderr pipes; ``argv`` instead of the
        registered command (e.g. the hook code with one function replaced)."""
        return subprocess.Popen(
            argv or hook_argv(event),
            env=self.env(**extra_env),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            cwd=str(self.project),
        )

    # ----------------------------------------------------------------------- delivery 2: in this process
    def run_main(self, event: str, stdin: bytes | dict | str) -> tuple[int, bytes]:
        """The whole hook, ``hook_main.main``, in this process: ``(exit code, stdout bytes)``."""
        return run_main(event, stdin)

    def spend(
        self, n: int, agent_type: str = "general-purpose", model: str = "claude-opus-5-5", session: str = SID
    ) -> None:
        """A whole foreground spawn through the hooks (in process): PreToolUse, SubagentStop, PostToolUse."""
        tool_use_id, agent_id = f"toolu_s{n}", f"as{n}"
        self.write_transcript(agent_id, model=model, session=session)
        for event, payload in (
            ("pre-tool-use", self.pre(tool_use_id, agent_type)),
            ("subagent-stop", self.stop(agent_id, agent_type, path=self.transcript_path(agent_id, session))),
            ("post-tool-use", self.post_completed(tool_use_id, agent_id, model, agent_type)),
        ):
            payload["session_id"] = session
            assert self.run_main(event, payload)[0] == 0

    def run_pre(
        self,
        tool_use_id: str = "toolu_1",
        enforced: str | None = None,
        action: str = "none",
        env: dict | None = None,
        agent_models: dict | None = None,
        **pre,
    ) -> None:
        """The accounting's PreToolUse (``accounting.on_pre_tool_use``) for ``pre(tool_use_id, **pre)``,
        with the counterfactual the hook computes under ``env`` (default: none of Claude Code's model
        variables) and the agent definitions ``agent_models``."""
        payload = self.pre(tool_use_id, **pre)
        would_run = counterfactual.for_spawn(payload, {"agent_models": agent_models or {}}, env or {}, enforced)
        accounting.on_pre_tool_use(payload, self.decision(payload, enforced, action), self.ledger, would_run)

    def run_post(self, payload: dict) -> None:
        accounting.on_post_tool_use(payload, self.ledger, self.prices)
        accounting.settle(self.ledger, self.prices)

    def run_stop(self, payload: dict) -> None:
        accounting.on_subagent_stop(payload, self.ledger, self.prices)
        accounting.settle(self.ledger, self.prices)

    def settle(self, later: float = 0.0, force: bool = False) -> int:
        """``accounting.settle`` as if ``later`` seconds had passed."""
        return accounting.settle(self.ledger, self.prices, now=time.time() + later, force=force)

    # ----------------------------------------------------------------------- what the hooks left
    def read_ledger(self) -> tuple[list, int]:
        """Every ledger record, and the number of lines skipped."""
        return ledger.read_records(self.ledger)

    def records(self, kind: str = "spawn") -> list:
        """The ledger's records of ``kind``; no line skipped, every record valid against the schema."""
        records, skipped = self.read_ledger()
        assert skipped == 0
        for r in records:
            schema_validator().validate(r)
        return [r for r in records if r.get("kind") == kind]

    def pending(self) -> list:
        """The names of the parts waiting in the pending store."""
        try:
            return sorted(n for n in os.listdir(pending.pending_dir(self.ledger)) if n.endswith(".json"))
        except FileNotFoundError:
            return []


def answer(stdout: bytes):
    """The one JSON object a hook printed, or ``None`` for no output."""
    text = stdout.decode("ascii")
    if not text.strip():
        return None
    assert text.endswith("\n") and text.count("\n") == 1, text
    obj = json.loads(text)
    assert isinstance(obj, dict)
    return obj


def only(records: list):
    assert len(records) == 1, records
    return records[0]


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
