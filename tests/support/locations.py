"""Where the tests find the repository and the captured Claude Code payloads, transcripts and configs."""

import os
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SHARED = REPO.parent / "shared"
if not SHARED.is_dir():  # CI lays shared/ beside the clone
    SHARED = Path(os.environ.get("CCO_HOOKS_SHARED", REPO.parent / "shared"))
REFERENCE = SHARED / "reference"
PAYLOADS = REFERENCE / "payloads-2.1.328"
PUBLIC_PAYLOADS = REFERENCE / "payloads-public"
CCO_CONFIGS = SHARED / "fixtures" / "cco-configs"
