"""The progress bar a long scan draws on a terminal's stderr."""

import time


class Progress:
    """A one-line progress bar on a terminal's stderr, shown once a scan has run about a second;
    called as ``progress(done_bytes, total_bytes)``."""

    def __init__(self, stream, label, delay=1.0, clock=time.monotonic):
        self.stream = stream
        self.label = label
        self.delay = delay
        self.clock = clock
        self.started = clock()
        self.shown = False
        self.last_draw = 0.0

    def __call__(self, done, total):
        now = self.clock()
        if now - self.started < self.delay or now - self.last_draw < 0.1:
            return
        self.last_draw = now
        self.shown = True
        frac = min(1.0, done / total) if total else 1.0
        bar = "#" * int(frac * 30)
        self.stream.write(
            f"\rscanning {self.label} [{bar:<30}] {frac * 100:3.0f}%  {done / 1e6:,.0f}/{total / 1e6:,.0f} MB"
        )
        self.stream.flush()

    def close(self):
        """Wipe the bar if it was drawn."""
        if self.shown:
            self.stream.write("\r\x1b[K")
            self.stream.flush()
