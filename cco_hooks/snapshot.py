"""The config snapshot the hooks read: load it, check it is fresh, rebuild and store it when not.

Layers are YAML or JSON (or CCO orchestra configs) and are validated with pydantic: far too slow to
do before every spawn (~100 ms of imports). ``cco_hooks.config.build`` turns them into the routing
config; this module stores it as one plain JSON snapshot together with its format, its key and the
signatures of the layer files (present or not) and agent directories it came from. A load stats
them again and compares: any difference rebuilds it, so an edit takes effect on the next spawn and
a stale snapshot is never used.

Stdlib only: imported by every hook. The config builder (pydantic, yaml) is imported only to rebuild.
"""

import sys

from cco_hooks import __version__, agents, fastjson, files, paths
from cco_hooks.fastos import os

# 2: every snapshot carries the agent definitions' models (``agent_models``) for the counterfactual.
SNAPSHOT_FORMAT = 3  # 3: per-spawn caps (caps, caps_any, rule caps)
SNAPSHOT_CAP = 16 * 1024 * 1024  # bytes; a bounded config makes one of a few hundred KB at most


def _stat_signature(path):
    try:
        st = os.stat(path)
    except OSError:
        return None
    except ValueError:  # a path with a NUL byte
        return None
    return [st.st_mtime_ns, st.st_size, st.st_ino]


def layer_signature(project, env):
    """Stat of every candidate layer (missing ones as ``None``) plus the embedded default."""
    default = paths.default_config_path()
    signature = [["default", default, _stat_signature(default)]]
    for layer, path in paths.config_layer_paths(project, env):
        signature.append([layer, path, _stat_signature(path)])
    return signature


def agent_signature(project, env, plugin_dirs=()):
    """Stat of the agent directories and every agent file in them (adds, edits, removals), and of
    what says which plugins' agents apply (the plugin registry, the settings' ``enabledPlugins``)."""
    signature = [["plugins", path, _stat_signature(path)] for path in paths.plugin_registry_paths(project, env)]
    dirs = [("plugin:" + str(name), directory) for name, directory in plugin_dirs or ()]
    for layer, directory in dirs + paths.agent_dirs(project, env):
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
    """The snapshot, or ``None`` (then it is built again): missing, damaged, over the size cap, or
    not a regular file (a pipe planted there must not hang the hook)."""
    raw = files.read_head(path, SNAPSHOT_CAP + 1)
    if raw is None or len(raw) > SNAPSHOT_CAP:
        return None
    try:
        return fastjson.loads(raw)
    except ValueError:
        return None


def is_fresh(snap, project, env):
    if not isinstance(snap, dict) or snap.get("format") != SNAPSHOT_FORMAT:
        return False
    if snap.get("key") != snapshot_key(project, env):
        return False
    if snap.get("layer_signature") != layer_signature(project, env):
        return False
    if snap.get("agent_signature") != agent_signature(project, env, snap.get("plugin_agent_dirs")):
        return False
    return True


def load(project, env=None):
    """The current snapshot for a project, rebuilt if any layer or agent file changed.

    Never raises for config problems: a broken layer is reported inside the snapshot
    (``broken``) so the hook can fail open and tell the user once.
    """
    env = os.environ if env is None else env
    path = snapshot_path(project, env)
    snap = _read(path)
    if is_fresh(snap, project, env):
        return snap
    layers_signed = layer_signature(project, env)
    try:
        snap = build(project, env)
    except ImportError as exc:
        # pydantic or yaml missing: an install problem, fixed by installing, not by a layer edit, so
        # the verdict is never stored. The plugin on a bare python3 sets them up (builder_env).
        return _unbuilt(project, env, layers_signed, exc)
    except Exception:
        snap = _unbuildable(project, env, layers_signed, sys.exc_info())
    try:
        files.write_private(path, fastjson.dumps(snap))
    except OSError:
        pass  # an unwritable state dir only costs speed: the next run builds it again
    return snap


def build(project, env):
    """A new snapshot from the config layers as they are now (not stored)."""
    env = os.environ if env is None else env
    # Signed before the layers are read: an edit made while they are read makes the next load rebuild.
    layers_signed = layer_signature(project, env)
    # The builder needs pydantic and yaml from site-packages, which `python -S` left off sys.path.
    if sys.flags.no_site:
        import site

        site.main()
    try:
        from cco_hooks.config import build as config_build
    except ImportError:
        from cco_hooks import builder_env  # a bare python3: the plugin's private environment, when ready

        if not builder_env.activate(env):
            raise
        from cco_hooks.config import build as config_build

    routing = config_build.build_routing(project, env)
    signed = agent_signature(project, env, routing["plugin_agent_dirs"])
    return {**_header(project, env, layers_signed, signed), **routing, "told": False}


def _header(project, env, layers_signed, agents_signed):
    """What says which project, environment, layers and agent files a snapshot was built from."""
    return {
        "format": SNAPSHOT_FORMAT,
        "package_version": __version__,
        "key": snapshot_key(project, env),
        "project": project,
        "layer_signature": layers_signed,
        "agent_signature": agents_signed,
    }


def _unbuildable(project, env, layers_signed, exc_info):
    """A snapshot that says the config could not be built, stored like any other: until a layer or
    agent file changes, every hook reads this verdict instead of failing the same way again (the
    config builder's limits should make this unreachable; it is the backstop)."""
    from cco_hooks import hookio

    log_path = hookio.log_error("config snapshot", exc_info, env)
    problem = (
        f"error: config: building the routing config failed ({type(exc_info[1]).__name__}); run `cco-hooks "
        f"config validate` to find the layer, and please report it (details in {log_path})."
    )
    return {
        **_header(project, env, layers_signed, agent_signature(project, env)),
        "plugin_agent_dirs": [],
        "on_error": "allow",  # the layers' own on_error could not be read: fail open
        "problems": [],
        "broken": [problem],
        "told": False,
    }


def _unbuilt(project, env, layers_signed, import_error):
    """A snapshot that says the config builder's packages are missing (spawns proceed unchanged),
    never stored: once they are there, the next hook builds the config. ``unbuilt`` is the message,
    told once per setup attempt (``hook_main``)."""
    from cco_hooks import builder_env

    error = import_error if isinstance(import_error, builder_env.BuilderUnavailable) else None
    error = error or builder_env.unavailable(import_error, env)
    return {
        **_header(project, env, layers_signed, []),
        "plugin_agent_dirs": [],
        "on_error": "allow",  # the layers' own on_error could not be read: fail open
        "problems": [],
        "broken": [f"error: {error.message.removeprefix('cco-hooks: ')}"],
        "unbuilt": {"topic": error.topic, "message": error.message},
        "told": False,
    }


def mark_told(project, env, snap):
    """Remember that this snapshot's problems were shown, so the user is told once."""
    if snap.get("unbuilt"):
        return  # never stored: see _unbuilt
    snap["told"] = True
    try:
        files.write_private(snapshot_path(project, env), fastjson.dumps(snap))
    except OSError:
        pass
