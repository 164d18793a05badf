"""Calendar days in a time zone: UTC, fixed offsets, IANA names, the machine's local zone."""

import time

import pytest

from cco_hooks import zones


@pytest.fixture
def local_tz(monkeypatch):
    """Set the process's local zone (``TZ``) for one test; restored afterwards."""

    def set_tz(name):
        monkeypatch.setenv("TZ", name)
        time.tzset()

    yield set_tz
    monkeypatch.undo()
    time.tzset()


@pytest.mark.parametrize(
    "ts, epoch",
    [
        ("1970-01-01T00:00:00.000Z", 0.0),
        ("2026-11-25T20:12:51.166Z", 1795637571.166),
        ("2026-11-25T20:12:51Z", 1795637571.0),
        ("2026-11-25T20:12", 1795637520.0),  # no zone: UTC
        ("2026-11-26T01:42:51.166+05:30", 1795637571.166),
        ("2026-11-25T15:12:51.166-05:00", 1795637571.166),
        ("2024-02-29T00:00:00.000Z", 1709164800.0),
    ],
)
def test_ts_epoch_reads_iso_times(ts, epoch):
    assert zones.ts_epoch(ts) == pytest.approx(epoch, abs=1e-6)


@pytest.mark.parametrize("ts", [None, 5, "", "yesterday", "2026-11-25", "2026-13-01T00:00Z", "2026-11-25T20:12+5"])
def test_ts_epoch_refuses_what_is_not_a_time(ts):
    assert zones.ts_epoch(ts) is None


@pytest.mark.parametrize(
    "spec, ts, day",
    [
        ("UTC", "2026-11-24T23:59:59.999Z", "2026-11-24"),
        ("+05:30", "2026-11-24T18:29:59.999Z", "2026-11-24"),
        ("+05:30", "2026-11-24T18:30:00.000Z", "2026-11-25"),
        ("UTC-08:00", "2026-11-25T07:59:00.000Z", "2026-11-24"),
        ("Asia/Kathmandu", "2026-11-24T18:14:59.000Z", "2026-11-24"),  # +05:45: midnight inside an hour
        ("Asia/Kathmandu", "2026-11-24T18:15:00.000Z", "2026-11-25"),
        ("America/New_York", "2026-07-01T03:59:00.000Z", "2026-06-30"),  # summer: -04:00
        ("America/New_York", "2026-12-01T04:59:00.000Z", "2026-11-30"),  # winter: -05:00
        ("America/New_York", "2026-12-01T05:00:00.000Z", "2026-12-01"),
    ],
)
def test_day_of_ts_in_each_kind_of_zone(spec, ts, day):
    zone = zones.zone(spec)
    assert zone.day_of_ts(ts) == day
    assert zone.day_of_ts(ts) == day  # from the cache now
    assert zone.day(zones.ts_epoch(ts)) == day


def test_the_hour_cache_is_right_on_both_sides_of_a_midnight_inside_an_hour():
    """Kathmandu's midnight is at :15 past a UTC hour: that hour is cached by minute, not by hour."""
    zone = zones.zone("Asia/Kathmandu")
    minutes = [f"2026-11-24T18:{m:02d}:00.000Z" for m in range(60)]
    assert [zone.day_of_ts(ts) for ts in minutes] == ["2026-11-24"] * 15 + ["2026-11-25"] * 45
    assert [zone.day_of_ts(ts) for ts in reversed(minutes)] == ["2026-11-25"] * 45 + ["2026-11-24"] * 15


def test_local_follows_the_machines_zone_and_its_daylight_saving_time(local_tz):
    local_tz("Europe/Paris")
    zone = zones.zone("local")
    assert (zone.kind, zone.name) == ("local", "local")
    assert zone.day_of_ts("2026-07-01T22:30:00.000Z") == "2026-07-02"  # +02:00 in summer
    assert zone.day_of_ts("2026-12-01T22:30:00.000Z") == "2026-12-01"  # +01:00 in winter
    assert zones.zone(None).ident == zone.ident  # local is the default
    local_tz("Asia/Kolkata")
    assert zones.zone("local").ident != zone.ident  # days counted in Paris are not Kolkata's


def test_local_on_a_utc_machine_is_utc(local_tz):
    local_tz("UTC")
    zone = zones.zone("local")
    assert zone.is_utc and zone.ident == "UTC" and zone.name == "local"


def test_utc_spellings_and_offset_zero_are_one_zone():
    for spec in ("UTC", "utc", "Z", "GMT", "+00:00", "UTC+00:00"):
        assert zones.zone(spec) is zones.UTC
    assert zones.zone("+05:30").name == "+05:30"
    assert zones.zone("-08").name == "-08:00"


@pytest.mark.parametrize("spec", ["Mars/Olympus", "+25:00", "+05:61", 5, "../etc/passwd"])
def test_an_unknown_zone_says_which_forms_are_accepted(spec):
    with pytest.raises(ValueError, match="UTC, local, a fixed offset such as \\+05:30, or an IANA name"):
        zones.zone(spec)


@pytest.mark.parametrize("spec", ["Europe/Paris", "local", "-08:00", "+14:00"])
@pytest.mark.parametrize("ts", ["0000-01-01T00:00:00.000Z", "0001-01-01T00:30:00.000Z", "9999-12-31T23:59:59.999Z"])
def test_times_the_platform_cannot_convert_keep_their_utc_day(local_tz, spec, ts):
    """A ledger line may hold any year; a day that cannot be converted stays its UTC day, never an error."""
    local_tz("America/Los_Angeles")
    day = zones.zone(spec).day_of_ts(ts)
    assert len(day) == 10 and day[4] == "-" and day[7] == "-"
