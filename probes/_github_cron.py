"""How often a cron schedule fires, for freshness windows (RUBRIC §2.2).

A schedule is fresh when its last success is within twice its interval, so we need the interval:
the longest gap between two consecutive firings. GitHub Actions takes POSIX cron (five fields,
``*``, lists, ranges, steps, month and weekday names; no ``L``/``W``/``#``). We expand the fields
and walk four years of days (leap days included), which is exact at day granularity and cheap.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Optional

_MONTHS = {name: i for i, name in enumerate(
    ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), start=1)}
_DAYS = {name: i for i, name in enumerate(("sun", "mon", "tue", "wed", "thu", "fri", "sat"))}
_FIELDS = ((0, 59, {}), (0, 23, {}), (1, 31, {}), (1, 12, _MONTHS), (0, 7, _DAYS))
_SPAN_DAYS = 4 * 366  # covers a leap day
_START = date(2001, 1, 1)
MINUTES_PER_DAY = 24 * 60


def _value(text: str, names: dict[str, int]) -> int:
    lowered = text.lower()
    return names[lowered] if lowered in names else int(text)


def _field(text: str, low: int, high: int, names: dict[str, int]) -> Optional[frozenset[int]]:
    """The values one cron field allows, or None when it is not valid cron."""
    values: set[int] = set()
    for part in text.split(",")[:60]:
        body, _, step_text = part.partition("/")
        try:
            step = int(step_text) if step_text else 1
            if body in ("*", "?"):
                start, end = low, high
            elif "-" in body:
                first, _, last = body.partition("-")
                start, end = _value(first, names), _value(last, names)
            else:
                start = _value(body, names)
                end = high if step_text else start
        except (ValueError, KeyError):
            return None
        if step < 1 or start < low or end > high or start > end:
            return None
        values.update(range(start, end + 1, step))
    return frozenset(values) if values else None


def interval_minutes(cron: str) -> Optional[int]:
    """The longest gap between consecutive firings of ``cron``, in minutes; None if unparseable."""
    parts = cron.split()
    if len(parts) != 5:
        return None
    fields = [_field(text, low, high, names) for text, (low, high, names) in zip(parts, _FIELDS)]
    if any(f is None for f in fields):
        return None
    minutes, hours, days, months, weekdays = fields  # type: ignore[misc]
    weekdays = frozenset(d % 7 for d in weekdays)  # 7 is Sunday too
    dom_any, dow_any = parts[2] in ("*", "?"), parts[4] in ("*", "?")
    times = sorted(h * 60 + m for h in hours for m in minutes)
    firing: list[int] = []
    for offset in range(_SPAN_DAYS):
        day = _START + timedelta(days=offset)
        if day.month not in months:
            continue
        dom_ok, dow_ok = day.day in days, (day.isoweekday() % 7) in weekdays
        # POSIX cron: when both day fields are restricted, either one matching is enough
        if (dom_ok or dow_ok) if not (dom_any or dow_any) else (dom_ok and dow_ok):
            firing.append(offset)
    if not firing:
        return None
    day_gap = max((b - a for a, b in zip(firing, firing[1:])), default=0)
    if len(firing) == 1:  # fires once in four years (29 February)
        day_gap = _SPAN_DAYS
    if day_gap > 1:
        return day_gap * MINUTES_PER_DAY
    gaps = [b - a for a, b in zip(times, times[1:])] + [MINUTES_PER_DAY - times[-1] + times[0]]
    return max(gaps)
