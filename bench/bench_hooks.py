"""Benchmark the hook processes exactly as `cco-hooks install` registers them.

    python bench/bench_hooks.py [--rounds 40] [--transcript-mb 1] [--keep DIR] [--json FILE]

Each command is a fresh process, spawned with ``os.posix_spawn`` and reaped with ``os.wait4``:
wall time is measured around spawn + wait, peak RSS is that child's own ``ru_maxrss``. In every
round each command runs once, in an order rotated from round to round, so drift (other load on the
machine, CPU frequency) hits all of them alike. Medians over ``--rounds`` rounds.

Commands (all with this interpreter, ``sys.executable``, never a pyenv shell shim):

- ``bare``            ``python -c pass`` — the reference of the latency targets
- ``bare -S``         ``python -S -c pass`` — the floor (no ``site``)
- ``bare, clean venv``  ``<venv>/bin/python -c pass`` — the same interpreter in an empty venv: what
  ``bare`` costs without this machine's site-packages ``.pth`` start-up hooks (see README)
- ``sh -c bare, clean venv``  the same started through ``/bin/sh -c``, as Claude Code starts every
  command hook: the reference for ``pre, portable``, which is measured through the shell too
- ``pre``             PreToolUse of a real spawn payload, project config with rules and a budget
- ``pre, portable``   the same PreToolUse as a committed ``install --scope project`` runs it:
  ``/bin/sh -c 'command -v cco-hook >/dev/null && exec cco-hook pre-tool-use || ...'``, with the
  ``cco-hook`` of a clean venv (no ``--system-site-packages``) that has this checkout's wheel
  installed, as pipx or ``uv tool`` lay it out, first on PATH (its own ledger: no PostToolUse follows)
- ``pre, default``    PreToolUse with no config file at all (the embedded default)
- ``pre, main-loop tool``  PreToolUse of a main-loop Bash call (PreToolUse is registered for every
  tool): it leaves before the snapshot is read
- ``pre, subagent tool``  PreToolUse of a Bash call inside a running subagent: its caps checked
  (snapshot, cursor read and written, the transcript read from its last offset)
- ``pre, broken layer``  PreToolUse under a project layer that is a "billion laughs" (over the
  config limits): the stored broken verdict costs a stat, like a good layer's snapshot
- ``stop, fg``        SubagentStop of a foreground spawn (records its part; PostToolUse follows)
- ``post, fg``        PostToolUse ``completed``: joins and prices the 1 MB transcript, one record
- ``post, bg``        PostToolUse ``async_launched`` of a background spawn (nothing to price yet)
- ``stop, bg``        SubagentStop of that background spawn: prices the 1 MB transcript, one record
- ``statusline``      ``cco-hooks statusline`` as ``install --statusline`` registers it, on the status
  JSON of a session with a running subagent (its 1 MB transcript unchanged since the last refresh,
  so its cost comes from the cache) and a budget; the ledger grows by the other rows' records
  between runs, so each run also reads the new ledger lines and the running totals

The hook commands are ``<python> -S <repo>/cco_hooks/_shim.py <event>`` (``install.hook_command``),
run with the environment Claude Code gives hooks (``CLAUDE_PROJECT_DIR``, ``CLAUDE_CONFIG_DIR``...)
and ``PYTHONDONTWRITEBYTECODE=1`` as set on these machines. Warm-up runs compile the config snapshot
and (through the shim) the modules' ``__pycache__``; the benchmark then checks, with ``python -v``,
that the hooks load their modules from those ``.pyc`` files. Each subagent transcript is ~1 MB,
built from the real lines of ``payloads-2.1.328/subagent-transcript.jsonl`` (distinct message ids,
repeated content-block lines, big tool results); every spawn must end priced in the ledger.

Targets: pre and pre, main-loop tool ≤ 1.3x bare (wall) and ≤ 1.2x bare (peak RSS); post and stop ≤ 2x
bare; statusline ≤ 1.5x bare.
No timing is asserted anywhere in the tests.
"""

import argparse
import copy
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, REPO)

from cco_hooks.cli import install  # noqa: E402

FIXTURES = os.path.join(REPO, "tests", "fixtures")
PAYLOADS = os.path.join(FIXTURES, "payloads-2.1.328")
CCO_CONFIG = os.path.join(FIXTURES, "cco-configs", "orchestra-config.json")
SESSION = "b8a8b81e-3282-4085-80a5-d0ba9a4a7d23"
FINAL_TEXT = "report from SUB-2"

# ~500 bytes, 9**9 strings if expanded: the hooks refuse it while counting (cco_hooks.config.bounded)
BILLION_LAUGHS = (
    'version: 1\na0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]\n'
    + "".join(f"a{n}: &a{n} [" + ", ".join([f"*a{n - 1}"] * 9) + "]\n" for n in range(1, 9))
    + "agents: {python-pro: *a8}\n"
)

TARGETS = {
    "pre": (1.3, 1.2),
    "pre, main-loop tool": (1.3, 1.2),
    "pre, portable": (1.3, 1.2),
    "post, fg": (2.0, None),
    "stop, bg": (2.0, None),
    "statusline": (1.5, None),
}
# Rows whose command runs through /bin/sh -c: their "x clean venv" is against the clean venv's
# `python -c pass` started the same way (Claude Code starts every command hook through the shell).
THROUGH_SHELL = {"pre, portable"}
SHELL_REFERENCE = "sh -c bare, clean venv"
STATUS_SESSION = "5a7e11e0-0000-4000-8000-000000000001"  # the session the status line is drawn for


def load_payload(name):
    with open(os.path.join(PAYLOADS, name), encoding="utf-8") as f:
        return json.load(f)


# ----------------------------------------------------------------------------- fixtures


def compact(obj):
    """A transcript line as Claude Code writes it: JSON with no space after separators."""
    return json.dumps(obj, separators=(",", ":"))


def build_transcript(path, size):
    """A realistic subagent transcript of about ``size`` bytes, from the real captured lines.

    A run of tool-use turns (each API response written as two lines, a thinking block then the
    tool_use, repeating the same usage, as Claude Code writes them), each followed by a big tool
    result, and the real final answer. Distinct message ids and varied usage, so the reader has
    to dedupe and price request by request."""
    with open(os.path.join(PAYLOADS, "subagent-transcript.jsonl"), encoding="utf-8") as f:
        first, tool_use, tool_result, final = (json.loads(line) for line in f if line.strip())
    lines = [compact(first)]
    filler = "".join(f"{i:05d} the quick brown fox jumps over the lazy dog; " for i in range(200))
    turn = 0
    total = len(lines[0]) + 1
    while total < size - 4096:
        turn += 1
        msg = copy.deepcopy(tool_use)
        msg["message"]["id"] = f"msg_bench{turn:08d}"
        msg["uuid"] = f"00000000-0000-4000-8000-{turn:012d}"
        usage = msg["message"]["usage"]
        usage["input_tokens"] = 1000 + turn * 37 % 4000
        usage["cache_read_input_tokens"] = 20000 + turn * 1511 % 60000
        usage["output_tokens"] = 100 + turn * 13 % 900
        thinking = copy.deepcopy(msg)
        thinking["message"]["content"] = [{"type": "thinking", "thinking": "", "signature": "sig" + "x" * 200}]
        result = copy.deepcopy(tool_result)
        tool_id = f"toolu_bench{turn:06d}"
        msg["message"]["content"][0]["id"] = tool_id
        result["message"]["content"][0]["tool_use_id"] = tool_id
        result["message"]["content"][0]["content"] = filler[: 2000 + turn * 997 % 6000]
        for obj in (thinking, msg, result):
            line = compact(obj)
            lines.append(line)
            total += len(line) + 1
    end = copy.deepcopy(final)
    end["message"]["id"] = "msg_bench_final"
    lines.append(compact(end))
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
    return turn + 1  # API requests


class Setup:
    """A throwaway Claude config dir, two projects and the payload files of every round."""

    def __init__(self, root, transcript_bytes):
        self.root = root
        self.home = os.path.join(root, "home")
        self.config_dir = os.path.join(self.home, ".claude")
        self.project = os.path.join(root, "proj")
        self.plain_project = os.path.join(root, "plain")
        self.hostile_project = os.path.join(root, "hostile")
        self.payload_dir = os.path.join(root, "payloads")
        for d in (
            self.config_dir,
            os.path.join(self.project, ".claude", "agents"),
            os.path.join(self.plain_project, ".claude"),
            os.path.join(self.hostile_project, ".claude"),
            self.payload_dir,
        ):
            os.makedirs(d, exist_ok=True)
        shutil.copy(CCO_CONFIG, os.path.join(self.project, ".claude", "cco-hooks.json"))
        with open(os.path.join(self.project, ".claude", "cco-hooks.local.yaml"), "w") as f:
            f.write(
                "version: 1\nbudget: {daily_usd: 1000000, session_usd: 1000000, "
                "per_agent: {python-pro: 1000000}, on_exceed: deny, warn_at: 0.8}\n"
                # caps on every spawn: checked on each tool call a subagent makes
                "caps: {max_tool_calls: 1000000, max_minutes: 100000}\n"
            )
        with open(os.path.join(self.hostile_project, ".claude", "cco-hooks.yaml"), "w") as f:
            f.write(BILLION_LAUGHS)
        for name in ("python-pro", "chief-architect", "code-reviewer"):
            with open(os.path.join(self.project, ".claude", "agents", name + ".md"), "w") as f:
                f.write(f"---\nname: {name}\ndescription: {name}\nmodel: haiku\n---\nYou are {name}.\n")
        slug = "".join(c if c.isalnum() else "-" for c in self.project)
        self.session_dir = os.path.join(self.config_dir, "projects", slug)
        self.subagents = os.path.join(self.session_dir, SESSION, "subagents")
        os.makedirs(self.subagents)
        self.session_transcript = os.path.join(self.session_dir, SESSION + ".jsonl")
        shutil.copy(os.path.join(PAYLOADS, "session-transcript.jsonl"), self.session_transcript)
        self.transcript = os.path.join(root, "agent-template.jsonl")
        self.requests = build_transcript(self.transcript, transcript_bytes)
        self.transcript_size = os.path.getsize(self.transcript)
        self.env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": self.home,
            "CLAUDE_CONFIG_DIR": self.config_dir,
            "CLAUDE_PROJECT_DIR": self.project,
            "CLAUDE_CODE_SESSION_ID": SESSION,
            "CLAUDECODE": "1",
            "PYTHONDONTWRITEBYTECODE": "1",
            "LANG": os.environ.get("LANG", "C.UTF-8"),
        }
        # The default-config spawns never get a PostToolUse here: their pending parts go to a ledger
        # of their own, so they do not pile up in front of the measured spawns' settling.
        self.plain_env = dict(
            self.env,
            CLAUDE_PROJECT_DIR=self.plain_project,
            CCO_HOOKS_LEDGER=os.path.join(root, "plain-ledger", "ledger.jsonl"),
        )
        self.hostile_env = dict(
            self.env,
            CLAUDE_PROJECT_DIR=self.hostile_project,
            CCO_HOOKS_LEDGER=os.path.join(root, "hostile-ledger", "ledger.jsonl"),
        )
        self.ledger = os.path.join(self.config_dir, "cco-hooks", "ledger.jsonl")

    def _write(self, name, obj):
        path = os.path.join(self.payload_dir, name)
        with open(path, "w", encoding="utf-8") as f:
            json.dump(obj, f)
        return path

    def _agent(self, agent_id, tool_use_id, finished):
        path = os.path.join(self.subagents, f"agent-{agent_id}.jsonl")
        os.link(self.transcript, path)
        meta = load_payload("subagent.meta.json")
        meta.update(toolUseId=tool_use_id, agentType="python-pro")
        if finished:
            meta["requestShape"] = "foreground"
        else:
            meta.pop("finished", None)
            meta["requestShape"] = "background"
        with open(path[: -len(".jsonl")] + ".meta.json", "w") as f:
            json.dump(meta, f)
        return path

    def tool_payloads(self, tag):
        """PreToolUse of a Bash call: {"main": in the main loop, "sub": inside a running subagent}."""
        common = {"session_id": SESSION, "transcript_path": self.session_transcript, "cwd": self.project}
        main = load_payload("PreToolUse.json")
        main.update(common, tool_use_id=f"toolu_{tag}m", tool_name="Bash")
        main["tool_input"] = {"command": "ls -la", "description": "list files"}
        sub = dict(main, tool_use_id=f"toolu_{tag}s", agent_id="abenchsub", agent_type="python-pro")
        return {k: self._write(f"{tag}.tool-{k}.json", v) for k, v in (("main", main), ("sub", sub))}

    def spawn_payloads(self, tag, background, project=None):
        """Payload files of one spawn: {"pre", "post", "stop"}."""
        project = project or self.project
        tool_use_id = f"toolu_{tag}"
        agent_id = f"a{tag}"
        transcript = self._agent(agent_id, tool_use_id, finished=not background)
        common = {"session_id": SESSION, "transcript_path": self.session_transcript, "cwd": project}
        pre = load_payload("PreToolUse.json")
        pre.update(common, tool_use_id=tool_use_id)
        pre["tool_input"].update(
            subagent_type="python-pro", model="sonnet", run_in_background=background, prompt="SUB-2 p"
        )
        if background:
            post = load_payload("PostToolUse_async_launched.json")
            post["tool_response"].update(agentId=agent_id)
        else:
            post = load_payload("PostToolUse_completed.json")
            post["tool_response"].update(agentId=agent_id, resolvedModel="claude-haiku-5-5", agentType="python-pro")
            post["tool_response"]["content"][-1]["text"] = FINAL_TEXT
        post.update(common, tool_use_id=tool_use_id)
        post["tool_input"] = dict(pre["tool_input"], model="haiku")
        stop = load_payload("SubagentStop.json")
        stop.update(
            common,
            agent_id=agent_id,
            agent_type="python-pro",
            agent_transcript_path=transcript,
            last_assistant_message=FINAL_TEXT,
            background_tasks=[],
        )
        return {k: self._write(f"{tag}.{k}.json", v) for k, v in (("pre", pre), ("post", post), ("stop", stop))}

    def status_payload(self):
        """The status JSON Claude Code's UI pipes to the statusLine command, for a session of its own
        with one running subagent (a 1 MB transcript, not in the ledger)."""
        subagents = os.path.join(self.session_dir, STATUS_SESSION, "subagents")
        os.makedirs(subagents, exist_ok=True)
        os.link(self.transcript, os.path.join(subagents, "agent-arunning.jsonl"))
        transcript = os.path.join(self.session_dir, STATUS_SESSION + ".jsonl")
        shutil.copy(self.session_transcript, transcript)
        status = {
            "session_id": STATUS_SESSION,
            "transcript_path": transcript,
            "cwd": self.project,
            "model": {"id": "claude-opus-5-5", "display_name": "Opus 5.5"},
            "workspace": {"current_dir": self.project, "project_dir": self.project, "added_dirs": []},
            "version": "2.1.332",
            "output_style": {"name": "default"},
            "cost": {"total_cost_usd": 1.25, "total_duration_ms": 1, "total_api_duration_ms": 1},
            "exceeds_200k_tokens": False,
        }
        return self._write("status.json", status)


# ----------------------------------------------------------------------------- running


def run_child(argv, env, stdin_path, out_path):
    """(wall seconds, peak RSS KiB, exit status) of one child process."""
    actions = [
        (os.POSIX_SPAWN_OPEN, 0, stdin_path, os.O_RDONLY, 0),
        (os.POSIX_SPAWN_OPEN, 1, out_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600),
        (os.POSIX_SPAWN_OPEN, 2, out_path + ".err", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600),
    ]
    start = time.perf_counter()
    pid = os.posix_spawn(argv[0], argv, env, file_actions=actions)
    _, status, usage = os.wait4(pid, 0)
    wall = time.perf_counter() - start
    return wall, usage.ru_maxrss, os.waitstatus_to_exitcode(status)


LAUNCHER_C = r"""
#include <stdio.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>
int main(int argc, char **argv) {  /* rss-launcher OUT CMD...: CMD's own peak RSS (KiB) into OUT */
    pid_t pid = fork();
    if (pid == 0) { execv(argv[2], argv + 2); _exit(127); }
    int status; struct rusage ru;
    if (wait4(pid, &status, 0, &ru) < 0) return 1;
    FILE *f = fopen(argv[1], "w"); fprintf(f, "%ld\n", ru.ru_maxrss); fclose(f);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}
"""


def rss_launcher(root):
    """argv prefix (with ``{out}``) that runs a command and writes its peak RSS (KiB) to ``{out}``.

    A child's ``ru_maxrss`` includes the RSS it had when it called exec: a child forked (or
    posix_spawned) from this ~20 MB benchmark process would report at least that. So the command
    is started by a tiny C launcher (built here with ``cc``), else by GNU time; else ``None``."""
    src = os.path.join(root, "rss-launcher.c")
    exe = os.path.join(root, "rss-launcher")
    with open(src, "w") as f:
        f.write(LAUNCHER_C)
    cc = shutil.which("cc") or shutil.which("gcc")
    if cc and subprocess.run([cc, "-O2", "-o", exe, src], capture_output=True).returncode == 0:
        return [exe, "{out}"], "C launcher (fork + wait4)"
    gnu_time = shutil.which("time") or "/usr/bin/time"
    if os.path.exists(gnu_time):
        probe = subprocess.run([gnu_time, "-f", "%M", "-o", os.devnull, "true"], capture_output=True)
        if probe.returncode == 0:
            return [gnu_time, "-f", "%M", "-o", "{out}"], "GNU time"
    return None, "unavailable (no cc, no GNU time)"


def make_venv(root):
    """An empty venv of this interpreter (no pip, no site-packages .pth files)."""
    venv = os.path.join(root, "venv")
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", venv], check=True)
    return os.path.join(venv, "bin", "python")


def make_installed_venv(root):
    """A clean venv (no pip, no system site-packages) with this checkout's wheel installed, as a
    user's pipx or ``uv tool`` venv holds it: ``bin/cco-hook`` pointed at the venv's python. The
    PreToolUse it runs needs only the standard library (the snapshot is built by the other rows)."""
    from tests.support.venvs import build_wheel  # noqa: PLC0415 - the tests' helper, only here

    wheel_dir = os.path.join(root, "wheel")
    os.makedirs(wheel_dir)
    wheel = build_wheel(__import__("pathlib").Path(wheel_dir))
    venv = os.path.join(root, "installed-venv")
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", venv], check=True)
    python = os.path.join(venv, "bin", "python")
    subprocess.run(
        [sys.executable, "-m", "pip", "--python", python, "install", "-q", "--no-deps", "--no-index", str(wheel)],
        check=True,
    )
    return os.path.join(venv, "bin")


def pyc_check(setup, shim, payload, out):
    """How many cco_hooks modules a hook loaded from __pycache__ (preloaded by the shim's
    ``load_hook_modules`` or imported from a .pyc) vs compiled from source."""
    err, dump = out + ".v", out + ".modules"
    with open(payload, "rb") as stdin, open(err, "wb") as stderr:
        subprocess.run(
            [sys.executable, "-v", "-S", shim, "pre-tool-use"],
            stdin=stdin,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
            env=dict(setup.plain_env, CCO_HOOKS_DEBUG_MODULES=dump),
            check=True,
        )
    with open(err, encoding="utf-8", errors="replace") as f:
        lines = [
            line for line in f.read().splitlines() if line.startswith("# code object from") and "cco_hooks" in line
        ]
    with open(dump, encoding="utf-8") as f:
        preloaded = sum(1 for line in f if line.startswith("cco_hooks.") and line.rstrip().endswith(" preloaded"))
    from_pyc = preloaded + sum(1 for line in lines if ".pyc" in line)
    from_source = sum(1 for line in lines if line.rstrip("'").endswith(".py"))
    return from_pyc, from_source


def create_latency_ms(directory, n=40):
    """Median time to create (and close) an empty file in ``directory``: the hooks create a few."""
    times = []
    for i in range(n):
        path = os.path.join(directory, f".probe-{i}")
        start = time.perf_counter()
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))
        times.append(time.perf_counter() - start)
        os.unlink(path)
    return statistics.median(times) * 1000


def machine():
    cpu = "unknown"
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return {
        "platform": platform.platform(),
        "cpu": cpu,
        "cpus": os.cpu_count(),
        "python": f"{platform.python_implementation()} {platform.python_version()} ({sys.executable})",
        "load average": " ".join(f"{x:.2f}" for x in os.getloadavg()),
    }


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int, default=40)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--rss-rounds", type=int, default=5, help="extra rounds that measure peak RSS only")
    ap.add_argument("--transcript-mb", type=float, default=1.0)
    ap.add_argument("--keep", help="work in this directory and keep it")
    ap.add_argument(
        "--tmp",
        default=os.path.join(REPO, ".cache"),
        help="parent of the throwaway work directory (default: <repo>/.cache; see README: file "
        "creation under /tmp is ~20x slower than elsewhere on the sandboxed machines)",
    )
    ap.add_argument("--json", help="also write the results as JSON to this file")
    ap.add_argument("--no-venv", action="store_true", help="skip the clean-venv baseline")
    args = ap.parse_args(argv)

    if not args.keep:
        os.makedirs(args.tmp, exist_ok=True)
    root = args.keep or tempfile.mkdtemp(prefix="cco-bench-hooks-", dir=args.tmp)
    os.makedirs(root, exist_ok=True)
    try:
        return _run(args, root)
    finally:
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)


def _run(args, root):
    py = sys.executable
    setup = Setup(root, int(args.transcript_mb * 1024 * 1024))
    shim = install.shim_path()
    hook = install.hook_command("pre-tool-use")  # the command string as installed, for the record
    out = os.path.join(root, "out")
    nothing = setup._write("empty.json", {})
    status = setup.status_payload()
    venv_py = None if args.no_venv else make_venv(root)
    installed_bin = None if args.no_venv else make_installed_venv(root)
    # Its own config dir: the snapshot's layer signature names the embedded default config of the
    # package that built it, so the venv's copy and the checkout's would rebuild each other's.
    portable_env = dict(
        setup.env,
        PATH=f"{installed_bin}:/usr/bin:/bin",
        CLAUDE_CONFIG_DIR=os.path.join(root, "portable-home", ".claude"),
        CCO_HOOKS_LEDGER=os.path.join(root, "portable-ledger", "ledger.jsonl"),
    )
    portable = ["/bin/sh", "-c", install.portable_command("pre-tool-use")]

    def hook_argv(event):
        return [py, "-S", shim, event]

    bare = [("bare", [py, "-c", "pass"], setup.env), ("bare -S", [py, "-S", "-c", "pass"], setup.env)]
    if venv_py:
        bare.append(("bare, clean venv", [venv_py, "-c", "pass"], setup.env))
        # Claude Code runs every command hook through a shell: the same, as it would start it
        bare.append(("sh -c bare, clean venv", ["/bin/sh", "-c", f"{venv_py} -c pass"], setup.env))

    def rounds_of(tag):
        fg = setup.spawn_payloads(tag + "f", background=False)
        bg = setup.spawn_payloads(tag + "b", background=True)
        plain = setup.spawn_payloads(tag + "p", background=False, project=setup.plain_project)
        groups = [[(name, argv, env, nothing)] for name, argv, env in bare]
        groups.append(
            [
                ("pre", hook_argv("pre-tool-use"), setup.env, fg["pre"]),
                ("stop, fg", hook_argv("subagent-stop"), setup.env, fg["stop"]),
                ("post, fg", hook_argv("post-tool-use"), setup.env, fg["post"]),
            ]
        )
        groups.append(
            [
                ("pre, bg", hook_argv("pre-tool-use"), setup.env, bg["pre"]),
                ("post, bg", hook_argv("post-tool-use"), setup.env, bg["post"]),
                ("stop, bg", hook_argv("subagent-stop"), setup.env, bg["stop"]),
            ]
        )
        groups.append([("pre, default config", hook_argv("pre-tool-use"), setup.plain_env, plain["pre"])])
        tools = setup.tool_payloads(tag)
        groups.append([("pre, main-loop tool", hook_argv("pre-tool-use"), setup.env, tools["main"])])
        groups.append([("pre, subagent tool", hook_argv("pre-tool-use"), setup.env, tools["sub"])])
        if installed_bin:
            # after "pre" in the same round's first group would not do: the order rotates. The
            # snapshot it reads is built before the rounds (below), by the shim's interpreter.
            ported = setup.spawn_payloads(tag + "q", background=False)
            groups.append([("pre, portable", portable, portable_env, ported["pre"])])
        hostile = setup.spawn_payloads(tag + "h", background=False, project=setup.hostile_project)
        groups.append([("pre, broken layer", hook_argv("pre-tool-use"), setup.hostile_env, hostile["pre"])])
        groups.append([("statusline", hook_argv("statusline"), setup.env, status)])
        return groups

    results = {}
    rss_results = {}
    errors = []
    if installed_bin:
        # The clean venv has no pydantic to build the config snapshot with (a user's pipx venv has):
        # build it once with the venv's package run by this interpreter, site on (pydantic, yaml).
        warm = setup.spawn_payloads("warm", background=False)
        lib = os.path.join(os.path.dirname(installed_bin), "lib")
        [site_packages] = [os.path.join(lib, d, "site-packages") for d in os.listdir(lib)]
        venv_shim = os.path.join(site_packages, "cco_hooks", "_shim.py")
        code = run_child([py, venv_shim, "pre-tool-use"], portable_env, warm["pre"], out)[2]
        with open(out, encoding="utf-8") as f:
            if code != 0 or "updatedInput" not in f.read():
                raise SystemExit(f"building the installed venv's config snapshot failed (exit {code}); see {out}")
    launcher, launcher_name = rss_launcher(root)
    rss_file = os.path.join(root, "rss")
    rss_rounds = args.rss_rounds if launcher else 0
    total = args.warmup + args.rounds + rss_rounds
    for r in range(total):
        groups = rounds_of(f"r{r:03d}")
        k = r % len(groups)
        measure_rss = r >= args.warmup + args.rounds
        for group in groups[k:] + groups[:k]:
            for name, argv, env, payload in group:
                if measure_rss:
                    argv = [a.replace("{out}", rss_file) for a in launcher] + argv
                wall, rss, code = run_child(argv, env, payload, out)
                if measure_rss:
                    with open(rss_file) as f:
                        rss_results.setdefault(name, []).append(int(f.read().split()[0]))
                    continue
                with open(out + ".err", encoding="utf-8", errors="replace") as f:
                    err = f.read()
                with open(out, encoding="utf-8", errors="replace") as f:
                    stdout = f.read()
                if name == "statusline":
                    if code != 0 or err or not stdout.startswith("cco-hooks │ session $1.25 · subagents $"):
                        errors.append(f"{name}: exit {code}, stderr {err[:300]!r}, stdout {stdout[:300]!r}")
                elif code != 0 or err or (stdout.strip() and not isinstance(json.loads(stdout), dict)):
                    errors.append(f"{name}: exit {code}, stderr {err[:300]!r}, stdout {stdout[:300]!r}")
                if r >= args.warmup:
                    results.setdefault(name, []).append(wall)
        if r + 1 == args.warmup:
            pyc = pyc_check(setup, shim, rounds_of("pyc")[len(bare)][0][3], out)
    records = []
    with open(setup.ledger, encoding="utf-8") as f:
        records = [json.loads(line) for line in f if line.strip()]
    priced = [
        r
        for r in records
        if r.get("status") == "completed" and r.get("requests") == setup.requests and r.get("cost_usd")
    ]
    expected = 2 * total

    med = statistics.median
    wall = {name: med(samples) for name, samples in results.items()}
    rss = {name: med(samples) for name, samples in rss_results.items()}
    refs = [("bare", "bare")] + ([("clean venv", "bare, clean venv")] if venv_py else [])

    rows = []
    for name, samples in results.items():
        walls = sorted(samples)
        row = {
            "command": name,
            "median_ms": wall[name] * 1000,
            "p90_ms": walls[int(0.9 * (len(walls) - 1))] * 1000,
            "x_floor": wall[name] / wall["bare -S"],
            "peak_rss_mb": max(rss_results[name]) / 1024 if name in rss else None,
            "target": TARGETS.get(name),
        }
        for label, ref in refs:
            if name in THROUGH_SHELL and label == "clean venv" and SHELL_REFERENCE in wall:
                ref = SHELL_REFERENCE  # both started through /bin/sh -c, as Claude Code starts a hook
            row["x_" + label] = wall[name] / wall[ref]
            row["rss_x_" + label] = rss[name] / rss[ref] if name in rss and ref in rss else None
        if row["target"]:
            row["meets"] = {}
            for label, _ in refs:
                limit, rss_limit = row["target"]
                ok = row["x_" + label] <= limit
                if rss_limit is not None and row["rss_x_" + label] is not None:
                    ok = ok and row["rss_x_" + label] <= rss_limit
                row["meets"][label] = ok
        rows.append(row)

    info = machine()
    print("cco-hooks hook latency benchmark")
    for k, v in info.items():
        print(f"  {k:<13} {v}")
    print(f"  work dir      {root} (creating a file there: {create_latency_ms(setup.config_dir):.3f} ms)")
    print(f"  command       {hook}")
    print(
        f"  rounds        {args.rounds} timed (+{args.warmup} warm-up, +{rss_rounds} for peak RSS via the "
        f"{launcher_name}), order rotated per round"
    )
    print(f"  transcripts   {setup.transcript_size / 1e6:.2f} MB, {setup.requests} API requests each")
    print(
        f"  bytecode      PYTHONDONTWRITEBYTECODE=1; a warm PreToolUse loaded {pyc[0]} cco_hooks modules "
        f"from __pycache__, compiled {pyc[1]} from source"
    )
    print(f"  ledger        {len(priced)} of {expected} spawns priced from their transcripts ({len(records)} records)")
    print()
    cols = "".join(f" {'x ' + label:>11}" for label, _ in refs)
    rcols = "".join(f" {'RSS x ' + label:>14}" for label, _ in refs)
    print(
        f"  ({', '.join(sorted(THROUGH_SHELL))}: x clean venv is against `{SHELL_REFERENCE}`, both through the shell)"
    )
    print(f"  {'command':<20} {'median':>8} {'p90':>8} {'x -S':>6}{cols} {'peak RSS':>9}{rcols}  target")
    for row in rows:
        cells = "".join(f" {row['x_' + label]:10.2f}x" for label, _ in refs)
        rcells = "".join(
            f" {row['rss_x_' + label]:13.2f}x" if row["rss_x_" + label] is not None else f" {'-':>14}"
            for label, _ in refs
        )
        peak = f"{row['peak_rss_mb']:6.1f} MB" if row["peak_rss_mb"] is not None else f"{'-':>9}"
        target = ""
        if row["target"]:
            limit, rss_limit = row["target"]
            target = (
                f"<= {limit}x"
                + (f", RSS <= {rss_limit}x" if rss_limit else "")
                + ": "
                + ", ".join(f"{'ok' if ok else 'MISSED'} vs {label}" for label, ok in row["meets"].items())
            )
        print(
            f"  {row['command']:<20} {row['median_ms']:6.1f}ms {row['p90_ms']:6.1f}ms {row['x_floor']:5.2f}x"
            f"{cells} {peak}{rcells}  {target}"
        )
    if errors:
        print()
        print(f"  {len(errors)} hook run(s) misbehaved; first: {errors[0]}")
    if len(priced) != expected:
        print(f"  WARNING: expected {expected} priced spawns in the ledger, found {len(priced)}")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(
                {
                    "machine": info,
                    "command": hook,
                    "rounds": args.rounds,
                    "rss_launcher": launcher_name,
                    "transcript_bytes": setup.transcript_size,
                    "transcript_requests": setup.requests,
                    "pyc": pyc,
                    "records": len(records),
                    "priced": len(priced),
                    "expected": expected,
                    "errors": errors,
                    "rows": rows,
                },
                f,
                indent=2,
            )
    return 1 if errors or len(priced) != expected else 0


if __name__ == "__main__":
    sys.exit(main())
