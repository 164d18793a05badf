"""The compiled config snapshot the hooks read: load it, check it is fresh, rebuild it when not.

Layers are YAML or JSON (or CCO orchestra configs) and are validated with pydantic: far too slow to
do before every spawn (~100 ms of imports). ``cco_hooks.compile`` turns them into one plain JSON
snapshot; this module only stats the layer files (present or not) and the agent directories and
compares them with the signature stored in the snapshot. Any difference rebuilds it, so an edit
takes effect on the next spawn and a stale snapshot is never used.

Stdlib only: imported by every hook.
"""

import os
import sys

from cco_hooks import __version__, agents, fastjson, files, paths

SNAPSHOT_FORMAT = 1


def _stat_signature(path):
    try:
        st = os.stat(path)
    except OSError:
        return None
    except ValueError:  # a path with a NUL byte
        return None
    return [st.st_mtime_ns, st.st_size, st.st_ino]


def default_config_path():
    here = os.path.dirname(os.path.abspath(__file__))
    installed = os.path.join(here, "_config", "default.yaml")
    if os.path.exists(installed):
        return installed
    return os.path.join(os.path.dirname(here), "config", "default.yaml")


def layer_signature(project, env):
    """Stat of every candidate layer (missing ones as ``None``) plus the embedded default."""
    signature = [["default", default_config_path(), _stat_signature(default_config_path())]]
    for layer, path in paths.config_layer_paths(project, env):
        signature.append([layer, path, _stat_signature(path)])
    return signature


def agent_signature(project, env):
    """Stat of the agent directories and every agent file in them (adds, edits, removals)."""
    signature = []
    for layer, directory in paths.agent_dirs(project, env):
        signature.append([layer, directory, _stat_signature(directory)])
        for path in agents.agent_files(directory):
            signature.append([layer, path, _stat_signature(path)])
    return signature


def snapshot_key(project, env):
    return "\0".join(
        [
            project or "",
            env.get("CCO_HOOKS_CONFIG") or "",
            paths.claude_config_dir(env),
            sys.version.split()[0],
            __version__,
        ]
    )


def snapshot_path(project, env):
    key = snapshot_key(project, env)
    return os.path.join(paths.state_dir(env), "snapshots", files.stable_name(key) + ".json")


def _read(path):
    try:
        with open(path, "rb") as f:
            return fastjson.loads(f.read())
    except (OSError, ValueError):
        return None


def is_fresh(snap, project, env):
    if not isinstance(snap, dict) or snap.get("format") != SNAPSHOT_FORMAT:
        return False
    if snap.get("key") != snapshot_key(project, env):
        return False
    if snap.get("layer_signature") != layer_signature(project, env):
        return False
    if snap.get("agent_files") and snap.get("agent_signature") != agent_signature(project, env):
        return False
    return True


def load(project, env=None, rebuild=True):
    """The current snapshot for a project, rebuilt if any layer or agent file changed.

    Never raises for config problems: a broken layer is reported inside the snapshot
    (``broken``) so the hook can fail open and tell the user once.
    """
    env = os.environ if env is None else env
    path = snapshot_path(project, env)
    snap = _read(path)
    if is_fresh(snap, project, env):
        return snap
    if not rebuild:
        return None
    snap = _rebuild(project, env)
    try:
        files.write_private(path, fastjson.dumps(snap))
    except OSError:
        pass  # an unwritable state dir only costs speed: the next run compiles again
    return snap


def _rebuild(project, env):
    # The compiler needs pydantic and yaml from site-packages, which `python -S` left off sys.path.
    if sys.flags.no_site:
        import site

        site.main()
    from cco_hooks.config import build as config_build

    return config_build.build_snapshot(project, env)


def mark_told(project, env, snap):
    """Remember that this snapshot's problems were shown, so the user is told once."""
    snap["told"] = True
    try:
        files.write_private(snapshot_path(project, env), fastjson.dumps(snap))
    except OSError:
        pass
