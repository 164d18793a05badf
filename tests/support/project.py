"""A throwaway project directory with config layers and agent files, and spawn inputs."""

import json
import os

import yaml

from cco_hooks import paths, snapshot
from cco_hooks.config import build as config_build


class Project:
    """A throwaway project directory with config layers and agent files."""

    def __init__(self, root):
        self.root = root
        (root / ".claude").mkdir(parents=True, exist_ok=True)

    def write_config(self, content, name="cco-hooks.yaml"):
        path = self.root / ".claude" / name
        if isinstance(content, (dict, list)):
            text = json.dumps(content) if name.endswith(".json") else yaml.safe_dump(content)
        else:
            text = content
        path.write_text(text)
        return path

    def write_user_config(self, content, name="cco-hooks.yaml"):
        """The user's own layer (``$CLAUDE_CONFIG_DIR/<name>``): trusted, unlike the project's."""
        user_dir = paths.claude_config_dir()
        os.makedirs(user_dir, exist_ok=True)
        path = os.path.join(user_dir, name)
        with open(path, "w") as f:
            f.write(content if isinstance(content, str) else yaml.safe_dump(content))
        return path

    def write_agent(self, name, model, directory=None):
        directory = directory or (self.root / ".claude" / "agents")
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / f"{name}.md"
        path.write_text(f"---\nname: {name}\ndescription: does things: well\nmodel: {model}\n---\nYou are {name}.\n")
        return path

    def routing(self):
        """The routing config its layers and agent files add up to (``config.build``)."""
        return config_build.build_routing(str(self.root), dict(os.environ))

    def snapshot(self):
        """The snapshot a hook would read, built afresh and not stored."""
        return snapshot.build(str(self.root), dict(os.environ))


def spawn(subagent_type=None, model=None, **extra):
    tool_input = {"description": "d", "prompt": "p"}
    if subagent_type is not None:
        tool_input["subagent_type"] = subagent_type
    if model is not None:
        tool_input["model"] = model
    tool_input.update(extra)
    return tool_input
