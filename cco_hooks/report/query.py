"""What a report covers: the ledgers it reads (paths and globs) and the filters on their spawns."""

import datetime as _dt
import glob
import os

from cco_hooks import agents, files, paths, zones
from cco_hooks.errors import CcoHooksError
from cco_hooks.report.rows import AGENT, DAY, PROJECT, SESSION
from cco_hooks.report.summary_file import SUMMARY_SUFFIX

# ---- filters ---------------------------------------------------------------------------------


def parse_day(text, today, option="--since"):
    """``YYYY-MM-DD``, ``today``, ``yesterday``, ``Nd`` or ``Nw`` (the last N days / weeks, today
    included: ``7d`` is today and the six days before) → ``YYYY-MM-DD`` (a day in the report's
    time zone: ``today`` is today there)."""
    value = (text or "").strip().lower()
    try:
        if value == "today":
            return today.isoformat()
        if value == "yesterday":
            return (today - _dt.timedelta(days=1)).isoformat()
        if value[-1:] in ("d", "w") and value[:-1].isdigit() and int(value[:-1]) > 0:
            days = int(value[:-1]) * (7 if value[-1] == "w" else 1)
            return (today - _dt.timedelta(days=days - 1)).isoformat()
        return _dt.date.fromisoformat(value).isoformat()
    except (ValueError, OverflowError):
        pass
    raise CcoHooksError(
        f'{option} "{text}" is not a date; use YYYY-MM-DD, today, yesterday, or a span such as 7d or 2w.'
    )


class Filters:
    """Which spawns a report covers. Every given filter must match (a repeated option: any value)."""

    def __init__(self, since=None, until=None, sessions=(), projects=(), agents=(), zone=None):
        self.zone = zone or zones.UTC  # the days' time zone
        self.since = since  # YYYY-MM-DD, inclusive
        self.until = until  # YYYY-MM-DD, inclusive
        self.sessions = tuple(sessions)  # session id prefixes
        self.projects = tuple(projects)  # project paths, or bare directory names
        self.agents = tuple(agents)  # agent types (Claude Code's matching) or * ? globs
        if since and until and since > until:
            raise CcoHooksError(f"--since {since} is after --until {until}; nothing can match.")
        self._cache = ({}, {}, {})

    @property
    def empty(self):
        return not (self.since or self.until or self.sessions or self.projects or self.agents)

    def as_json(self):
        return {
            "since": self.since,
            "until": self.until,
            "sessions": list(self.sessions),
            "projects": list(self.projects),
            "agents": list(self.agents),
        }

    def day_of(self, ts):
        """The day of a record's ``ts`` in the report's time zone."""
        return ts[:10] if self.zone.is_utc else self.zone.day_of_ts(ts)

    def day_ok(self, day):
        return not ((self.since and day < self.since) or (self.until and day > self.until))

    def _cached(self, which, value, test):
        cache = self._cache[which]
        ok = cache.get(value)
        if ok is None:
            ok = cache[value] = test(value)
        return ok

    def session_ok(self, session):
        if not self.sessions:
            return True
        return self._cached(0, session, lambda s: s is not None and any(s.startswith(p) for p in self.sessions))

    def project_ok(self, project):
        if not self.projects:
            return True
        return self._cached(1, project, self._project_test)

    def agent_ok(self, agent):
        if not self.agents:
            return True
        return self._cached(2, agent, self._agent_test)

    def _project_test(self, project):
        if project is None:
            return False
        for wanted in self.projects:
            if os.sep in wanted or wanted in (".", "..") or wanted.startswith("~"):
                full = os.path.abspath(os.path.expanduser(wanted))
                if project.rstrip(os.sep) == full.rstrip(os.sep):
                    return True
            elif project == wanted or os.path.basename(project.rstrip(os.sep)) == wanted:
                return True
        return False

    def _agent_test(self, agent):
        name = agents.normalize_agent_name(agent) if agent is not None else ""
        for wanted in self.agents:
            pattern = agents.normalize_agent_name(wanted)
            if agents.glob_match(pattern, name) if agents.is_glob(pattern) else pattern == name:
                return True
        return False

    def key_ok(self, key):
        return (
            self.day_ok(key[DAY])
            and self.session_ok(key[SESSION])
            and self.project_ok(key[PROJECT])
            and self.agent_ok(key[AGENT])
        )


# ---- ledgers ---------------------------------------------------------------------------------


def is_side_file(path):
    """Our own files beside a ledger, which a glob such as ``ledgers/*`` also matches."""
    name = os.path.basename(path)
    return name.endswith((SUMMARY_SUFFIX, ".lock", ".totals.json")) or SUMMARY_SUFFIX + ".tmp." in name


def resolve_ledgers(specs=(), env=None):
    """The ledger files to read: ``specs`` (paths or globs) in order, each file once; with none,
    the live ledger (``CCO_HOOKS_LEDGER``, else the default path), which may not exist yet."""
    if not specs:
        return [paths.ledger_path(None, env)]
    found = []
    seen = set()
    live = os.path.abspath(paths.ledger_path(None, env))
    for spec in specs:
        pattern = os.path.expanduser(spec)
        if glob.has_magic(pattern):
            matches = sorted(p for p in glob.glob(pattern) if os.path.isfile(p) and not is_side_file(p))
            if not matches:
                raise CcoHooksError(
                    f'--ledger "{spec}" matches no file; check the pattern (quote it so the shell leaves it alone).'
                )
        else:
            if not os.path.exists(pattern) and os.path.abspath(pattern) == live:
                pass  # the live ledger before its first record: empty, or written by settling now
            elif not os.path.isfile(pattern):
                what = "does not exist"
                if os.path.exists(pattern):  # a directory, a named pipe, a device: never opened
                    what = f"is {files.kind_of_mode(os.stat(pattern).st_mode)}, not a ledger file"
                raise CcoHooksError(f'--ledger "{spec}" {what}; give the path of a ledger (.jsonl) file.')
            matches = [pattern]
        for path in matches:
            real = os.path.realpath(path)
            if real not in seen:
                seen.add(real)
                found.append(os.path.abspath(path))
    return found
