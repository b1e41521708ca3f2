"""EventBridge schedule expressions (`rate(...)`, `cron(...)`) as AWS writes them: parsed, checked
(the message names the field), and asked for their next run after a moment. Pure.

cron has six fields: Minutes Hours Day-of-month Month Day-of-week Year, in UTC (or a schedule's
time zone). One of day-of-month and day-of-week must be `?`. Day-of-week is 1-7 = SUN-SAT. Beyond
`*`, `,`, `-` and `/`: `L` (last day of the month; in day-of-week, `5L` the last Thursday), `W`
(`15W`: the weekday nearest the 15th; `LW`: the last weekday), `#` (`3#2`: the second Tuesday).
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

MONTHS = {name: n for n, name in enumerate(["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT",
                                             "NOV", "DEC"], 1)}
DAYS = {name: n for n, name in enumerate(["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"], 1)}
RATE = re.compile(r"rate\(\s*(\d+)\s+(minute|minutes|hour|hours|day|days)\s*\)")
CRON = re.compile(r"cron\((.*)\)")
FIELDS = ("Minutes", "Hours", "Day-of-month", "Month", "Day-of-week", "Year")
RANGES = ((0, 59), (0, 23), (1, 31), (1, 12), (1, 7), (1970, 2199))
SEARCH_DAYS = 366 * 8   # no run within this many days: none at all (a year in the past, Feb 30)


class ScheduleError(ValueError):
    """The expression is not one AWS accepts; the message names the part that is wrong."""


@dataclass(frozen=True)
class Rate:
    seconds: int


@dataclass(frozen=True)
class Cron:
    minutes: frozenset[int]
    hours: frozenset[int]
    days: str            # the day-of-month field as written ("?" when day-of-week decides)
    months: frozenset[int]
    weekdays: str        # the day-of-week field as written ("?" when day-of-month decides)
    years: frozenset[int]
    zone: dt.tzinfo = dt.UTC

    def next_after(self, moment: dt.datetime) -> dt.datetime | None:
        """The first run strictly after `moment` (aware), or None when there is none."""
        local = moment.astimezone(self.zone).replace(second=0, microsecond=0) + dt.timedelta(minutes=1)
        day = local.date()
        for _ in range(SEARCH_DAYS):
            if day.year in self.years and day.month in self.months and self._day_matches(day):
                for hour in sorted(self.hours):
                    for minute in sorted(self.minutes):
                        candidate = dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=self.zone)
                        if candidate >= local:
                            return candidate.astimezone(dt.UTC)
            day += dt.timedelta(days=1)
            local = dt.datetime(day.year, day.month, day.day, tzinfo=self.zone)
        return None

    def _day_matches(self, day: dt.date) -> bool:
        if self.days != "?":
            return _day_of_month(self.days, day)
        return _day_of_week(self.weekdays, day)


def parse(expression: str, timezone: str | None = None) -> Rate | Cron:
    text = expression.strip()
    if text.startswith("rate("):
        return _rate(text, expression)
    if not (m := CRON.fullmatch(text)):
        raise ScheduleError(f"{expression}: a schedule expression is rate(...) or cron(...)")
    fields = m.group(1).split()
    if len(fields) != 6:
        raise ScheduleError(f"{expression}: cron has six fields (Minutes Hours Day-of-month Month Day-of-week "
                            f"Year), not {len(fields)}")
    minutes, hours, days, months, weekdays, years = fields
    if (days == "?") == (weekdays == "?"):
        raise ScheduleError(f"{expression}: one of Day-of-month and Day-of-week must be ?, not both or neither")
    if days != "?":
        _check_day_field(days, expression)
    if weekdays != "?":
        _check_weekday_field(weekdays, expression)
    return Cron(_values(minutes, 0, expression), _values(hours, 1, expression), days,
                _values(months, 3, expression, MONTHS), weekdays, _values(years, 5, expression), _zone(timezone))


def _rate(text: str, expression: str) -> Rate:
    m = RATE.fullmatch(text)
    if m is None:
        raise ScheduleError(f"{expression}: a rate is rate(N minutes|hours|days), at least one minute")
    value, unit = int(m.group(1)), m.group(2)
    if value < 1:
        raise ScheduleError(f"{expression}: the rate must be a whole number 1 or more")
    if (value == 1) != (not unit.endswith("s")):
        raise ScheduleError(f"{expression}: say rate(1 {unit.rstrip('s')}) for one, rate({value} "
                            f"{unit.rstrip('s')}s) for more")
    return Rate(value * {"minute": 60, "hour": 3600, "day": 86400}[unit.rstrip("s")])


def _zone(timezone: str | None) -> dt.tzinfo:
    if not timezone:
        return dt.UTC
    try:
        return ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ScheduleError(f"ScheduleExpressionTimezone {timezone!r} is not a time zone name "
                            "such as Europe/Paris") from None


def _number(text: str, index: int, expression: str, names: dict[str, int] | None = None) -> int:
    low, high = RANGES[index]
    if names and text.upper() in names:
        return names[text.upper()]
    if not text.isdigit() or not low <= int(text) <= high:
        raise ScheduleError(f"{expression}: {FIELDS[index]} {text!r} is not a value from {low} to {high}")
    return int(text)


def _values(field: str, index: int, expression: str, names: dict[str, int] | None = None) -> frozenset[int]:
    low, high = RANGES[index]
    found: set[int] = set()
    for part in field.split(","):
        step = 1
        if "/" in part:
            part, step_text = part.split("/", 1)
            if not step_text.isdigit() or int(step_text) < 1:
                raise ScheduleError(f"{expression}: {FIELDS[index]} step {step_text!r} is not a whole number")
            step = int(step_text)
        if part == "*":
            start, end = low, high
        elif "-" in part:
            first, last = part.split("-", 1)
            start, end = _number(first, index, expression, names), _number(last, index, expression, names)
            if start > end:
                raise ScheduleError(f"{expression}: {FIELDS[index]} range {part!r} runs backwards")
        else:
            start = _number(part, index, expression, names)
            end = high if step > 1 else start
        found.update(range(start, end + 1, step))
    return frozenset(found)


def _check_day_field(field: str, expression: str) -> None:
    if field in ("L", "LW"):
        return
    if m := re.fullmatch(r"(\d+)W", field):
        _number(m.group(1), 2, expression)
        return
    _values(field, 2, expression)


def _check_weekday_field(field: str, expression: str) -> None:
    if m := re.fullmatch(r"(\w+)#(\d)", field):
        _number(m.group(1), 4, expression, DAYS)
        if not 1 <= int(m.group(2)) <= 5:
            raise ScheduleError(f"{expression}: Day-of-week {field!r}: the week after # is 1 to 5")
        return
    if m := re.fullmatch(r"(\w+)L", field):
        _number(m.group(1), 4, expression, DAYS)
        return
    _values(field, 4, expression, DAYS)


def _aws_weekday(day: dt.date) -> int:
    return (day.weekday() + 1) % 7 + 1   # Monday 0 -> 2 ... Sunday 6 -> 1


def _day_of_month(field: str, day: dt.date) -> bool:
    last = calendar.monthrange(day.year, day.month)[1]
    if field == "L":
        return day.day == last
    if field == "LW":
        target = dt.date(day.year, day.month, last)
        while target.weekday() > 4:
            target -= dt.timedelta(days=1)
        return day == target
    if m := re.fullmatch(r"(\d+)W", field):
        wanted = dt.date(day.year, day.month, min(int(m.group(1)), last))
        if wanted.weekday() == 5:   # Saturday: the Friday before, unless that leaves the month
            wanted = wanted - dt.timedelta(days=1) if wanted.day > 1 else wanted + dt.timedelta(days=2)
        elif wanted.weekday() == 6:   # Sunday: the Monday after, unless that leaves the month
            wanted = wanted + dt.timedelta(days=1) if wanted.day < last else wanted - dt.timedelta(days=2)
        return day == wanted
    return day.day in _values(field, 2, field)


def _day_of_week(field: str, day: dt.date) -> bool:
    if m := re.fullmatch(r"(\w+)#(\d)", field):
        weekday = m.group(1).upper()
        number = DAYS.get(weekday) or int(weekday)
        return _aws_weekday(day) == number and (day.day - 1) // 7 + 1 == int(m.group(2))
    if m := re.fullmatch(r"(\w+)L", field):
        weekday = m.group(1).upper()
        number = DAYS.get(weekday) or int(weekday)
        return _aws_weekday(day) == number and day.day + 7 > calendar.monthrange(day.year, day.month)[1]
    return _aws_weekday(day) in _values(field, 4, field, DAYS)
