"""EventBridge schedule expressions: AWS's rate and cron syntax, the next run, and the errors."""

from __future__ import annotations

import datetime as dt

import pytest

from lambdalite.invoke.cron import Cron, Rate, ScheduleError, parse

UTC = dt.UTC


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=UTC)


def runs(expression: str, start: str, count: int = 3, zone: str | None = None) -> list[str]:
    schedule = parse(expression, zone)
    assert isinstance(schedule, Cron)
    out, moment = [], at(start)
    for _ in range(count):
        nxt = schedule.next_after(moment)
        assert nxt is not None
        out.append(nxt.strftime("%Y-%m-%d %H:%M %a"))
        moment = nxt
    return out


@pytest.mark.parametrize(("expression", "seconds"), [
    ("rate(1 minute)", 60), ("rate(5 minutes)", 300), ("rate(1 hour)", 3600), ("rate(12 hours)", 43200),
    ("rate(1 day)", 86400), ("rate(7 days)", 604800), (" rate(2 minutes) ", 120),
])
def test_rates(expression: str, seconds: int) -> None:
    assert parse(expression) == Rate(seconds)


@pytest.mark.parametrize(("expression", "fragment"), [
    ("rate(30 seconds)", "at least one minute"),
    ("rate(0 minutes)", "1 or more"),
    ("rate(1 minutes)", "say rate(1 minute)"),
    ("rate(5 minute)", "rate(5 minutes)"),
    ("rate(-1 minutes)", "at least one minute"),
    ("every 5 minutes", "rate(...) or cron(...)"),
    ("cron(0 12 * * ?)", "six fields"),
    ("cron(0 12 * * * *)", "must be ?"),
    ("cron(0 12 ? * ? *)", "must be ?"),
    ("cron(60 12 * * ? *)", "Minutes '60'"),
    ("cron(0 24 * * ? *)", "Hours '24'"),
    ("cron(0 12 32 * ? *)", "Day-of-month"),
    ("cron(0 12 * 13 ? *)", "Month '13'"),
    ("cron(0 12 ? * 8 *)", "Day-of-week '8'"),
    ("cron(0 12 ? * FRI#6 *)", "the week after # is 1 to 5"),
    ("cron(0 12 * * ? 1969)", "Year '1969'"),
    ("cron(5-1 12 * * ? *)", "runs backwards"),
    ("cron(*/0 12 * * ? *)", "step '0'"),
])
def test_bad_expressions_name_their_field(expression: str, fragment: str) -> None:
    with pytest.raises(ScheduleError) as caught:
        parse(expression)
    assert fragment in str(caught.value)


def test_a_time_zone_must_exist() -> None:
    with pytest.raises(ScheduleError, match="not a time zone"):
        parse("cron(0 9 * * ? *)", "Mars/Olympus")


def test_every_day_at_noon() -> None:
    assert runs("cron(0 12 * * ? *)", "2026-12-07 12:00") == \
        ["2026-12-08 12:00 Tue", "2026-12-09 12:00 Wed", "2026-12-10 12:00 Thu"]


def test_every_ten_minutes_on_weekdays() -> None:
    assert runs("cron(0/10 * ? * MON-FRI *)", "2026-12-11 23:45", 3) == \
        ["2026-12-11 23:50 Fri", "2026-12-14 00:00 Mon", "2026-12-14 00:10 Mon"]


def test_aws_day_numbers_start_on_sunday() -> None:
    assert runs("cron(0 8 ? * 1 *)", "2026-12-07 00:00", 2) == ["2026-12-13 08:00 Sun", "2026-12-20 08:00 Sun"]
    assert runs("cron(0 8 ? * 2,6 *)", "2026-12-07 09:00", 2) == ["2026-12-11 08:00 Fri", "2026-12-14 08:00 Mon"]


def test_last_day_and_last_weekday_of_the_month() -> None:
    assert runs("cron(0 0 L * ? *)", "2027-01-15 00:00", 3) == \
        ["2027-01-31 00:00 Sun", "2027-02-28 00:00 Sun", "2027-03-31 00:00 Wed"]
    assert runs("cron(0 0 LW * ? *)", "2027-01-15 00:00", 2) == ["2027-01-29 00:00 Fri", "2027-02-26 00:00 Fri"]


def test_nearest_weekday() -> None:
    # 2027-05-15 is a Saturday: the Friday before; 2027-08-15 a Sunday: the Monday after
    assert runs("cron(0 0 15W 5,8 ? *)", "2027-01-01 00:00", 2) == ["2027-05-14 00:00 Fri", "2027-08-16 00:00 Mon"]
    assert runs("cron(0 0 1W 5 ? *)", "2027-01-01 00:00", 1) == ["2027-05-03 00:00 Mon"]   # 1 May 2027: Sat


def test_nth_and_last_weekday_of_the_month() -> None:
    assert runs("cron(30 9 ? * 3#2 *)", "2026-12-01 00:00", 2) == ["2026-12-08 09:30 Tue", "2027-01-12 09:30 Tue"]
    assert runs("cron(0 18 ? * 6L *)", "2026-12-01 00:00", 2) == ["2026-12-25 18:00 Fri", "2027-01-29 18:00 Fri"]


def test_month_names_ranges_lists_and_years() -> None:
    assert runs("cron(15 10 1 JAN,JUL ? 2027-2028)", "2026-12-07 00:00", 4) == \
        ["2027-01-01 10:15 Fri", "2027-07-01 10:15 Thu", "2028-01-01 10:15 Sat", "2028-07-01 10:15 Sat"]
    assert parse("cron(15 10 1 JAN ? 2027)").next_after(at("2027-02-01 00:00")) is None   # type: ignore[union-attr]


def test_a_time_zone_moves_the_utc_run_with_daylight_saving() -> None:
    assert runs("cron(0 9 * * ? *)", "2027-03-26 12:00", 3, "Europe/Paris") == \
        ["2027-03-27 08:00 Sat", "2027-03-28 07:00 Sun", "2027-03-29 07:00 Mon"]   # UTC: summer time began


def test_the_next_run_is_strictly_after() -> None:
    schedule = parse("cron(0 12 * * ? *)")
    assert isinstance(schedule, Cron)
    assert schedule.next_after(at("2026-12-07 11:59:59")) == at("2026-12-07 12:00")
    assert schedule.next_after(at("2026-12-07 12:00:00")) == at("2026-12-08 12:00")
