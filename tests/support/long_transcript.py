"""A long subagent transcript (a million lines and more), written as Claude Code writes one, with
what it must price to, counted here independently of ``cco_hooks.transcript``.

Most lines are not assistant lines: tool results, user turns, system lines, some quoting
``"type":"assistant"`` inside their text (escaped, so not an assistant line). Each API response is
written as ``blocks`` lines (one per content block) repeating its usage, and every ``grow``-th
response's later lines report larger counts (the reader keeps the largest). Compact JSON, as
Claude Code writes it. Used by the 1M-line test and ``bench/bench_long_transcript.py``.
"""

from __future__ import annotations

import json

MODEL = "claude-opus-5-5"
FINAL_TEXT = "the long run is done"


def _dump(obj) -> str:
    return json.dumps(obj, separators=(",", ":"))


def _assistant(request: int, block: int, usage: dict, final: bool) -> str:
    content = [{"type": "text", "text": FINAL_TEXT}] if final else [{"type": "tool_use", "id": f"toolu_{request}"}]
    return _dump(
        {
            "parentUuid": "p",
            "isSidechain": True,
            "message": {
                "id": f"msg_{request:08d}",
                "type": "message",
                "role": "assistant",
                "model": MODEL,
                "content": content,
                "stop_reason": "end_turn" if final else "tool_use",
                "usage": usage,
            },
            "type": "assistant",
            "uuid": f"u{request}-{block}",
            "timestamp": "2026-11-25T20:12:50.931Z",
            "version": "2.1.328",
        }
    )


FILLERS = (
    _dump({"type": "user", "message": {"role": "user", "content": [{"type": "tool_result", "content": "ok"}]}}),
    _dump({"type": "system", "subtype": "info", "content": 'the log said "type":"assistant" here'}),
    _dump({"type": "user", "message": {"role": "user", "content": "next"}, "uuid": "x"}),
)


def write(path, lines: int, assistant_every: int = 10, blocks: int = 2, grow: int = 7) -> dict:
    """Write about ``lines`` lines to ``path``; returns ``{"requests", "input", "output",
    "cache_read", "lines"}``: what a correct reader finds."""
    expected = {"requests": 0, "input": 0, "output": 0, "cache_read": 0}
    out = []
    written = 0
    request = 0
    while written < lines - blocks:
        if written % assistant_every == 0:
            request += 1
            final = written + blocks + assistant_every >= lines - blocks
            base = {"input_tokens": request % 50 + 1, "output_tokens": request % 9 + 1, "cache_read_input_tokens": 100}
            for block in range(blocks):
                usage = dict(base)
                if request % grow == 0 and block == blocks - 1:
                    usage["output_tokens"] += 1000  # the last block of this response reports more
                out.append(_assistant(request, block, usage, final))
            top = dict(base)
            if request % grow == 0:
                top["output_tokens"] += 1000
            expected["requests"] += 1
            expected["input"] += top["input_tokens"]
            expected["output"] += top["output_tokens"]
            expected["cache_read"] += top["cache_read_input_tokens"]
            written += blocks
            if final:
                break
        else:
            out.append(FILLERS[written % len(FILLERS)])
            written += 1
        if len(out) >= 50_000:
            _flush(path, out)
    _flush(path, out)
    expected["lines"] = written
    return expected


def _flush(path, out: list) -> None:
    with open(path, "a", encoding="utf-8") as f:
        f.write("\n".join(out) + "\n")
    out.clear()
