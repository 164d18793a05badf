"""The config's pydantic models and the JSON Schema published from them."""

import json


def test_schema_file_is_generated_from_the_models():
    """config/cco-hooks.schema.json is exactly what the pydantic models generate."""
    from cco_hooks.config.schema import json_schema
    from tests.support.locations import REPO

    on_disk = json.loads((REPO / "config" / "cco-hooks.schema.json").read_text())
    assert on_disk == json_schema(), "regenerate it: cco-hooks config schema > config/cco-hooks.schema.json"


def test_default_and_example_configs_validate_against_the_schema():
    """The embedded default validates against the published JSON Schema."""
    import jsonschema
    import yaml

    from tests.support.locations import REPO

    schema = json.loads((REPO / "config" / "cco-hooks.schema.json").read_text())
    for path in [REPO / "config" / "default.yaml", *(REPO / "config").glob("example*.yaml")]:
        jsonschema.validate(yaml.safe_load(path.read_text()), schema)
