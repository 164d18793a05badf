"""Where the tests find the repository and their fixtures: captured Claude Code payloads and
transcripts, public payloads, real CCO configs, prices (``tests/fixtures/SOURCES.md``)."""

from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "tests" / "fixtures"
PAYLOADS = FIXTURES / "payloads-2.1.328"
PUBLIC_PAYLOADS = FIXTURES / "payloads-public"
CCO_CONFIGS = FIXTURES / "cco-configs"
