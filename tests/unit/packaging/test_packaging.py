"""A plain (non-editable) install carries everything the hooks and the CLI read at run time."""

import zipfile

from tests.support import venvs
from tests.support.locations import REPO


def test_wheel_ships_config_schemas_and_prices(tmp_path):
    """The wheel holds the embedded default config, the JSON Schemas, the price table and the shim."""
    wheel = venvs.build_wheel(tmp_path)
    names = set(zipfile.ZipFile(wheel).namelist())
    for required in (
        "cco_hooks/_config/default.yaml",
        "cco_hooks/_config/cco-hooks.schema.json",
        "cco_hooks/_config/ledger.schema.json",
        "cco_hooks/_config/report.schema.json",
        "cco_hooks/data/prices.json",
        "cco_hooks/_shim.py",
        "cco_hooks/hook_main.py",
    ):
        assert required in names, f"{required} missing from {wheel.name}"
    # `cco-hook`, the command a committed project registration runs from PATH: the sh launcher, as
    # written (no entry-point wrapper; the installer rewrites only a `#!python` line)
    [script] = [name for name in names if name.endswith(".data/scripts/cco-hook")]
    assert zipfile.ZipFile(wheel).read(script) == (REPO / "bin" / "cco-hook").read_bytes()
