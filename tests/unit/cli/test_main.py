"""The click layer: every command is documented, and each verb's module is imported only when it runs."""

import subprocess
import sys

from cco_hooks.cli.main import main
from tests.support.locations import REPO


def test_readme_documents_every_command():
    """Every top-level command appears in the README."""
    readme = (REPO / "README.md").read_text()
    for name in main.commands:
        assert f"cco-hooks {name}" in readme, f"README does not mention `cco-hooks {name}`"


def test_the_click_layer_imports_no_verb_module_until_it_runs():
    """Start-up pays only for the verb used: importing the CLI loads no verb module, no pydantic or yaml."""
    code = "import sys, cco_hooks.cli.main; print(' '.join(sorted(sys.modules)))"
    loaded = set(
        subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO
        ).stdout.split()
    )
    verbs = {
        "cco_hooks.cli.install",
        "cco_hooks.cli.config_cmd",
        "cco_hooks.cli.explain",
        "cco_hooks.cli.doctor",
        "cco_hooks.cli.pricing_cmd",
        "cco_hooks.config.build",
        "pydantic",
        "yaml",
    }
    assert not loaded & verbs
    assert not {name for name in loaded if name.startswith("cco_hooks.report")}
