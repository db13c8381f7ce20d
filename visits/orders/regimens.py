"""Turning a regimen into infusion days. Plain functions, no Django.

Dates are calendar dates in the patient's time zone; the caller puts the preferred
local start time on each date and converts to UTC with the zone's rules for that
date, which keeps 9:00 at 9:00 across daylight-saving changes.
"""

import calendar
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

CYCLE = "cycle"  # IVIG: 2 g/kg over 2-5 consecutive days every 4 weeks
INDUCTION = "induction"  # infliximab weeks 0, 2, 6 then every 8; abatacept weeks 0, 2, 4 then every 4
PAIRED = "paired"  # rituximab day 1 and day 15, repeated every 6 months
WEEKLY = "weekly"  # SCIG
PULSE = "pulse"  # methylprednisolone 3 consecutive days, once

# Without a number of cycles or an end date, plan this far ahead; the order can be extended later.
DEFAULT_HORIZON_DAYS = 183


@dataclass(frozen=True)
class Regimen:
    kind: str
    days_per_cycle: int = 1
    interval_weeks: int | None = None
    induction_weeks: tuple[int, ...] = field(default_factory=tuple)
    second_dose_day: int | None = None
    interval_months: int | None = None
    number_of_cycles: int | None = None
    end_date: date | None = None


@dataclass(frozen=True)
class InfusionDay:
    cycle_number: int
    day_number: int  # day of the cycle: 1..days_per_cycle, or 1 and 15 for paired doses
    on: date


def add_months(day: date, months: int) -> date:
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def cycle_starts(regimen: Regimen, start: date):
    """Yield (cycle number, first day of the cycle) without end."""
    number = 0
    while True:
        number += 1
        if regimen.kind == INDUCTION:
            weeks = list(regimen.induction_weeks)
            if number <= len(weeks):
                yield number, start + timedelta(weeks=weeks[number - 1])
                continue
            last = weeks[-1] if weeks else 0
            yield number, start + timedelta(weeks=last + (number - len(weeks)) * regimen.interval_weeks)
        elif regimen.kind == PAIRED:
            yield number, add_months(start, (number - 1) * regimen.interval_months)
        elif regimen.kind == WEEKLY:
            yield number, start + timedelta(weeks=number - 1)
        elif regimen.kind == PULSE:
            yield number, start
            return
        else:
            yield number, start + timedelta(weeks=(number - 1) * regimen.interval_weeks)


def days_in_cycle(regimen: Regimen) -> list[int]:
    if regimen.kind == PAIRED:
        return [1, regimen.second_dose_day]
    if regimen.kind in (CYCLE, PULSE):
        return list(range(1, regimen.days_per_cycle + 1))
    return [1]


def runs_past(regimen: Regimen, start: date, horizon: date) -> bool:
    """Whether the regimen still has infusion days after ``horizon``. It stops looking there, so a typed 30,000
    cycles or 30,000 weeks between cycles costs a few steps, never a date past year 9999."""
    if not regimen.number_of_cycles and not regimen.end_date:
        return start + timedelta(days=DEFAULT_HORIZON_DAYS) > horizon
    if regimen.end_date and regimen.end_date <= horizon:
        return False
    for number, first in cycle_starts(regimen, start):
        if regimen.number_of_cycles and number > regimen.number_of_cycles:
            return False
        if regimen.end_date and first > regimen.end_date:
            return False
        if first + timedelta(days=max(days_in_cycle(regimen)) - 1) > horizon:
            return True
    return False


def infusion_days(regimen: Regimen, start: date, horizon: date | None = None) -> list[InfusionDay]:
    """Every infusion day of the regimen, bounded by its number of cycles or end date (or the default horizon),
    and never later than ``horizon``."""
    last_day = regimen.end_date or (None if regimen.number_of_cycles else start + timedelta(days=DEFAULT_HORIZON_DAYS))
    if horizon and (last_day is None or last_day > horizon):
        last_day = horizon
    days = []
    for number, first in cycle_starts(regimen, start):
        if regimen.number_of_cycles and number > regimen.number_of_cycles:
            break
        if last_day and first > last_day:
            break
        for day_number in days_in_cycle(regimen):
            on = first + timedelta(days=day_number - 1)
            if last_day is None or on <= last_day:
                days.append(InfusionDay(number, day_number, on))
    return days


def local_start(on: date, at: time, zone: ZoneInfo) -> datetime:
    """The aware datetime of a local wall-clock time on a date (a time skipped by DST moves forward)."""
    naive = datetime.combine(on, at)
    aware = naive.replace(tzinfo=zone)
    # A wall time that does not exist (spring forward) round-trips to a different time; move past the gap.
    round_trip = aware.astimezone(ZoneInfo("UTC")).astimezone(zone)
    return round_trip if round_trip.replace(tzinfo=None) != naive else aware
