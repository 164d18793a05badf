"""Calendar days in a chosen time zone: where a budget's day and a report's day, week and month begin.

A zone is ``UTC``, ``local`` (the machine's zone, daylight saving time included, through
``time.localtime``), a fixed offset such as ``+05:30`` or ``-08:00``, or an IANA name such as
``Europe/Paris`` (read with ``zoneinfo``, imported only when such a name is used).

The ledger's ``ts`` is UTC (``2026-11-25T20:12:51.166Z``); ``Zone.day_of_ts`` turns it into the
zone's ``YYYY-MM-DD``, caching per hour of ``ts`` (per minute around a midnight), so a report's scan
pays the conversion once per hour of records, not once per line.

Stdlib only and import-light: the budget check uses it when ``budget.timezone`` is set.
"""

import time

_CACHE_CAP = 1 << 16  # cached hours and minutes, at most: then the cache starts again


def _days_from_civil(y, m, d):
    """Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm)."""
    y -= m <= 2
    era = (y if y >= 0 else y - 399) // 400
    yoe = y - era * 400
    doy = (153 * (m + (-3 if m > 2 else 9)) + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


def _digits(text, start, count):
    part = text[start : start + count]
    if len(part) != count or not part.isascii() or not part.isdigit():
        raise ValueError
    return int(part)


def ts_epoch(ts):
    """Seconds since the epoch of an ISO 8601 time ``YYYY-MM-DDTHH:MM[:SS[.fff]]`` with ``Z``, an
    offset ``±HH:MM``, or nothing (then UTC); ``None`` when ``ts`` is not one."""
    try:
        if type(ts) is not str or len(ts) < 16 or ts[4] != "-" or ts[7] != "-" or ts[10] not in "Tt " or ts[13] != ":":
            return None
        year, month, day = _digits(ts, 0, 4), _digits(ts, 5, 2), _digits(ts, 8, 2)
        hour, minute = _digits(ts, 11, 2), _digits(ts, 14, 2)
        if not (1 <= month <= 12 and 1 <= day <= 31 and hour <= 23 and minute <= 59):
            return None
        seconds = 0.0
        rest = ts[16:]
        if rest[:1] == ":":
            end = 1
            while end < len(rest) and (rest[end].isdigit() or rest[end] == "."):
                end += 1
            seconds = float(rest[1:end])
            rest = rest[end:]
        offset = 0
        if rest in ("", "Z", "z"):
            pass
        elif len(rest) == 6 and rest[0] in "+-" and rest[3] == ":":
            offset = (_digits(rest, 1, 2) * 60 + _digits(rest, 4, 2)) * 60
            offset = -offset if rest[0] == "-" else offset
        else:
            return None
    except ValueError:
        return None
    return _days_from_civil(year, month, day) * 86400 + hour * 3600 + minute * 60 + seconds - offset


def parse_offset(text):
    """``+HH:MM`` / ``-HH:MM`` (also ``+HH``, ``UTC+05:30``) → seconds east of UTC, else ``None``."""
    value = text.strip().upper()
    if value.startswith("UTC"):
        value = value[3:]
    if len(value) not in (3, 6) or value[0] not in "+-" or (len(value) == 6 and value[3] != ":"):
        return None
    try:
        hours = _digits(value, 1, 2)
        minutes = _digits(value, 4, 2) if len(value) == 6 else 0
    except ValueError:
        return None
    if hours > 14 or minutes > 59:
        return None
    seconds = (hours * 60 + minutes) * 60
    return -seconds if value[0] == "-" else seconds


class Zone:
    """A time zone for calendar days. ``name`` is how the user wrote it; ``ident`` says what the
    days depend on (for ``local``, the machine's zone settings), so files holding days counted in
    one zone are never read as another's."""

    __slots__ = ("name", "kind", "offset", "tzinfo", "ident", "_hours", "_minutes")

    def __init__(self, name, kind, offset=0, tzinfo=None):
        self.name = name
        self.kind = kind  # "utc" | "offset" | "local" | "iana"
        self.offset = offset
        self.tzinfo = tzinfo
        self.ident = _ident(name, kind)
        self._hours = {}
        self._minutes = {}

    @property
    def is_utc(self):
        return self.kind == "utc" or (self.kind == "offset" and self.offset == 0)

    def day(self, epoch):
        """``YYYY-MM-DD`` in this zone of ``epoch`` (seconds)."""
        if self.kind == "local":
            t = time.localtime(epoch)
        elif self.kind == "iana":
            import datetime  # only for IANA zones: too heavy for the hooks' usual path

            t = datetime.datetime.fromtimestamp(epoch, self.tzinfo).timetuple()
        else:
            t = time.gmtime(epoch + self.offset)
        if not 1 <= t.tm_year <= 9999:
            raise ValueError(f"year {t.tm_year} is not a four-digit year")
        return f"{t.tm_year:04d}-{t.tm_mon:02d}-{t.tm_mday:02d}"

    def day_of_ts(self, ts):
        """The day in this zone of a ledger ``ts``; ``ts[:10]`` when it is not a time (a bad day
        stays bad: the caller checks it) or one the platform cannot convert (year 0, 9999);
        ``None`` when ``ts`` is not a string."""
        if type(ts) is not str:
            return None
        try:
            return self._day_of_ts(ts)
        except (ValueError, OverflowError, OSError):
            return ts[:10]

    def _day_of_ts(self, ts):
        if len(ts) == 24 and ts[23] == "Z":  # the hooks' own form: cache by hour, else by minute
            hour = ts[:13]
            day = self._hours.get(hour)
            if day is not None:
                return day
            minute = ts[:16]
            day = self._minutes.get(minute)
            if day is not None:
                return day
            epoch = ts_epoch(ts)
            if epoch is None:
                return ts[:10]
            start = epoch - (epoch % 3600)
            first = self.day(start)
            if first == self.day(start + 3599):
                if len(self._hours) >= _CACHE_CAP:
                    self._hours.clear()
                self._hours[hour] = first
                return first
            day = self.day(epoch)
            if len(self._minutes) >= _CACHE_CAP:
                self._minutes.clear()
            self._minutes[minute] = day
            return day
        if self.is_utc and (len(ts) == 10 or ts.endswith(("Z", "z"))):
            return ts[:10]
        epoch = ts_epoch(ts)
        if epoch is None:
            return ts[:10]
        return self.day(epoch)


def _ident(name, kind):
    if kind == "utc":
        return "UTC"
    if kind != "local":
        return name
    import os

    try:
        localtime = os.path.realpath("/etc/localtime")
    except (OSError, ValueError):
        localtime = ""
    tz = os.environ.get("TZ", "")
    return f"local:{tz}:{localtime}:{time.tzname[0]}/{time.tzname[1]}:{time.timezone}/{time.altzone}"


UTC = Zone("UTC", "utc")

ZONE_HELP = "UTC, local, a fixed offset such as +05:30, or an IANA name such as Europe/Paris"


def zone(spec, default="local"):
    """The ``Zone`` for ``spec`` (``None`` or empty: ``default``); raises ``ValueError`` saying
    what was wrong when it is none of the forms in ``ZONE_HELP``."""
    if spec is None or (isinstance(spec, str) and not spec.strip()):
        spec = default
    if not isinstance(spec, str):
        raise ValueError(f"time zone {spec!r} is not text; use {ZONE_HELP}.")
    value = spec.strip()
    if value.upper() in ("UTC", "Z", "GMT", "ETC/UTC"):
        return UTC
    if value.lower() == "local":
        if time.timezone == 0 and time.altzone == 0 and not time.daylight:
            return Zone("local", "utc")  # the machine runs on UTC: the same days, the UTC files
        return Zone("local", "local")
    offset = parse_offset(value) if value[:1] in "+-" or value.upper().startswith("UTC") else None
    if offset is not None:
        if offset == 0:
            return UTC
        sign = "-" if offset < 0 else "+"
        return Zone(f"{sign}{abs(offset) // 3600:02d}:{abs(offset) % 3600 // 60:02d}", "offset", offset)
    try:
        import zoneinfo  # only for IANA names: the hooks' usual path never imports it

        return Zone(value, "iana", tzinfo=zoneinfo.ZoneInfo(value))
    except (ImportError, ValueError, OSError) as exc:  # ZoneInfoNotFoundError is a KeyError
        raise ValueError(f"unknown time zone {spec!r}; use {ZONE_HELP}.") from exc
    except KeyError:
        raise ValueError(f"unknown time zone {spec!r}; use {ZONE_HELP}.") from None
