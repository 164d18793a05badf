"""Headless Chromium (Debian's ``chromium`` package, installed by ``.ci/run``) for pages the tests
render: the DOM after load, a screenshot, and every console message the page caused.

The network is closed to the tests, so the browser is told not to reach out on its own (background
networking, component updates, sync, first-run); the page itself is loaded from a ``file://`` URL.
Console messages are read from the browser's log on stderr (``--enable-logging=stderr --v=0``),
where each is a line ``…:INFO:CONSOLE:<line>] "<message>", source: <url> (<line>)``: a script
error, a ``console.error`` and a Content-Security-Policy refusal all show there.

Also a PNG reader (stdlib ``zlib``) for the few pixels a test looks at in a screenshot.
"""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
import zlib
from pathlib import Path

import pytest

from tests.support.locations import REPO

BROWSERS = ("chromium", "chromium-browser")
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--enable-logging=stderr",
    "--v=0",
)
DARK = ("--blink-settings=preferredColorScheme=0",)  # Blink's enum: 0 dark, 1 light
TIMEOUT = 120


def browser() -> str:
    """The Chromium executable; a test that needs it fails (never skips) when it is missing."""
    for name in BROWSERS:
        found = shutil.which(name)
        if found:
            return found
    pytest.fail("Chromium is not installed: `apt-get install -y chromium` (.ci/run installs it).")


def artifacts_dir() -> Path:
    """Where tests keep what a person may want to look at: ``$CCO_HOOKS_TEST_ARTIFACTS``, else
    ``tests/artifacts/`` (ignored by git)."""
    path = Path(os.environ.get("CCO_HOOKS_TEST_ARTIFACTS") or REPO / "tests" / "artifacts")
    path.mkdir(parents=True, exist_ok=True)
    return path


def console_messages(log: str) -> list[str]:
    """The console messages in a Chromium log."""
    return [line.split("] ", 1)[-1] for line in log.splitlines() if ":CONSOLE" in line]


def _run(page: Path, profile: Path, extra: tuple[str, ...]) -> subprocess.CompletedProcess:
    profile.mkdir(parents=True, exist_ok=True)
    cmd = [browser(), *FLAGS, f"--user-data-dir={profile}", *extra, page.resolve().as_uri()]
    done = subprocess.run(cmd, capture_output=True, text=True, errors="replace", timeout=TIMEOUT, check=False)
    assert done.returncode == 0, f"chromium exited {done.returncode}: {done.stderr[-2000:]}"
    return done


def dump_dom(page: Path, profile: Path, dark: bool = False) -> tuple[str, list[str]]:
    """``(the DOM after load, serialised; the console messages)``."""
    done = _run(page, profile, (*(DARK if dark else ()), "--dump-dom"))
    return done.stdout, console_messages(done.stderr)


def screenshot(page: Path, png: Path, profile: Path, dark: bool = False, size=(1280, 2000)) -> list[str]:
    """Save a screenshot of ``page`` to ``png``; returns the console messages."""
    done = _run(page, profile, (*(DARK if dark else ()), f"--window-size={size[0]},{size[1]}", f"--screenshot={png}"))
    assert png.is_file(), f"chromium wrote no screenshot: {done.stderr[-2000:]}"
    return console_messages(done.stderr)


# ---- a PNG's first rows ------------------------------------------------------------------------


def png_rows(png: Path, count: int) -> tuple[int, list[list[tuple[int, int, int]]]]:
    """``(width, the first count rows as RGB pixels)`` of an 8-bit RGB or RGBA PNG (what Chromium
    writes), unfiltered as the PNG specification says (filters None, Sub, Up, Average, Paeth)."""
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{png} is no PNG"
    pos, idat, header = 8, [], None
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat.append(body)
        pos += 12 + length
    width, _, depth, colour, _, _, interlace = header
    assert depth == 8 and colour in (2, 6) and interlace == 0, f"unexpected PNG format {header}"
    bpp = 3 if colour == 2 else 4
    stride = width * bpp
    raw = zlib.decompressobj().decompress(b"".join(idat), (stride + 1) * count)
    rows, prev = [], bytearray(stride)
    for r in range(count):
        kind, line = raw[r * (stride + 1)], bytearray(raw[r * (stride + 1) + 1 : (r + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b = prev[i]
            c = prev[i - bpp] if i >= bpp else 0
            if kind == 1:
                line[i] = (line[i] + a) & 0xFF
            elif kind == 2:
                line[i] = (line[i] + b) & 0xFF
            elif kind == 3:
                line[i] = (line[i] + (a + b) // 2) & 0xFF
            elif kind == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 0xFF
        rows.append([tuple(line[x * bpp : x * bpp + 3]) for x in range(width)])
        prev = line
    return width, rows


def luminance(rgb: tuple[int, int, int]) -> float:
    """Relative brightness 0-255 (Rec. 709 weights)."""
    r, g, b = rgb
    return 0.2126 * r + 0.7152 * g + 0.0722 * b
