"""Vital signs: plausible limits, units, the values that call for action, and which sets are due (DESIGN §3).

Plain functions and data with no Django imports, so each rule can be read next to DESIGN §3 and tested exhaustively
with a frozen clock. Callers turn rows into ``TakenSet`` and ``RateEvent`` and pass ``now`` in.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

# --- limits and units --------------------------------------------------------------------------------------------

CELSIUS = "C"
FAHRENHEIT = "F"
TEMPERATURE_UNITS = {CELSIUS: "°C", FAHRENHEIT: "°F"}

# DESIGN §3 "Impossible values are rejected": values outside these cannot be a living patient's reading (or are typos).
TEMPERATURE_LIMITS_C = (Decimal("30"), Decimal("45"))


@dataclass(frozen=True)
class Limit:
    label: str
    low: int
    high: int
    unit: str
    example: str


LIMITS: dict[str, Limit] = {
    "pulse": Limit("Pulse", 20, 250, "beats/min", "72"),
    "systolic": Limit("Systolic pressure", 50, 300, "mmHg", "120"),
    "diastolic": Limit("Diastolic pressure", 20, 200, "mmHg", "80"),
    "respiratory_rate": Limit("Respiratory rate", 4, 60, "breaths/min", "16"),
    "spo2": Limit("SpO₂", 50, 100, "%", "97"),
    "pain": Limit("Pain", 0, 10, "on 0–10", "2"),
}


def _number(value) -> Decimal:
    if isinstance(value, bool):
        raise TypeError("a number, not a bool")
    number = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    if not number.is_finite():
        raise ValueError("a finite number")
    return number


def celsius_from_fahrenheit(fahrenheit) -> Decimal:
    """°C = (°F − 32) × 5 ÷ 9, to 0.1 °C (half up): 98.6 °F = 37.0 °C."""
    exact = (_number(fahrenheit) - 32) * 5 / 9
    return exact.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def fahrenheit_from_celsius(celsius) -> Decimal:
    """°F = °C × 9 ÷ 5 + 32, to 0.1 °F: 30 °C = 86.0 °F, 45 °C = 113.0 °F."""
    exact = _number(celsius) * 9 / 5 + 32
    return exact.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def _shown(number: Decimal) -> str:
    return format(number.normalize(), "f")


def _entered(number: Decimal, unit: str = "") -> str:
    """The value as typed back to the nurse, unless it is too long to be anything but a slip of the finger."""
    text = _shown(number)
    if len(text) > 8:
        return "That"
    return f"{text} {unit}" if unit else text


def temperature_limits(unit: str) -> tuple[Decimal, Decimal]:
    low, high = TEMPERATURE_LIMITS_C
    if unit == FAHRENHEIT:
        return fahrenheit_from_celsius(low), fahrenheit_from_celsius(high)
    return low, high


def temperature_problem(value, unit: str) -> str | None:
    """Why a temperature in ``unit`` (C or F) cannot be right, in the unit the nurse chose; None when plausible.

    The range is checked on the value as typed (86–113 °F is exactly 30–45 °C), so rounding the conversion never
    lets an impossible value through. A value that fits the other unit says so: 98.6 with °C is most likely °F.
    """
    if unit not in TEMPERATURE_UNITS:
        return "Choose the unit of the temperature: °C or °F."
    try:
        number = _number(value)
    except (TypeError, ValueError, InvalidOperation):
        return "Give the temperature as a number, e.g. 36.8 °C or 98.2 °F."
    low, high = temperature_limits(unit)
    if low <= number <= high:
        return None
    symbol = TEMPERATURE_UNITS[unit]
    message = (
        f"{_entered(number, symbol)} is not a possible temperature: it must be between "
        f"{_shown(low)} and {_shown(high)} {symbol}."
    )
    other = FAHRENHEIT if unit == CELSIUS else CELSIUS
    other_low, other_high = temperature_limits(other)
    if other_low <= number <= other_high:
        message += f" It looks like {TEMPERATURE_UNITS[other]}: choose {TEMPERATURE_UNITS[other]} if so."
    return message


def temperature_celsius(value, unit: str) -> Decimal:
    """The temperature stored (SI, 0.1 °C) from a plausible value in ``unit``."""
    problem = temperature_problem(value, unit)
    if problem:
        raise ValueError(problem)
    number = _number(value)
    if unit == FAHRENHEIT:
        return celsius_from_fahrenheit(number)
    return number.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def limit_problem(name: str, value) -> str | None:
    """Why a whole-number vital sign cannot be right, or None. ``name`` is a key of LIMITS."""
    limit = LIMITS[name]
    try:
        number = _number(value)
    except (TypeError, ValueError, InvalidOperation):
        return f"Give the {limit.label.lower()} as a whole number, e.g. {limit.example}."
    if number != number.to_integral_value():
        return f"Give the {limit.label.lower()} as a whole number, e.g. {limit.example}."
    if not limit.low <= number <= limit.high:
        return (
            f"{_entered(number)} is not a possible {limit.label.lower()}: it must be between "
            f"{limit.low} and {limit.high} {limit.unit}."
        )
    return None


@dataclass(frozen=True)
class Reading:
    """One set of vital signs in SI units; SpO₂ and pain may be missing."""

    temperature_c: Decimal
    pulse: int
    systolic: int
    diastolic: int
    respiratory_rate: int
    spo2: int | None = None
    pain: int | None = None


def reading_problems(reading: Reading) -> dict[str, str]:
    """Every impossible value of a set, by field name (temperature_c in °C). Empty when the set is plausible."""
    problems: dict[str, str] = {}
    temperature = temperature_problem(reading.temperature_c, CELSIUS)
    if temperature:
        problems["temperature_c"] = temperature
    for name in LIMITS:
        value = getattr(reading, name)
        if value is None and name in ("spo2", "pain"):
            continue
        problem = limit_problem(name, value)
        if problem:
            problems[name] = problem
    if "systolic" not in problems and "diastolic" not in problems and reading.diastolic >= reading.systolic:
        problems["diastolic"] = (
            f"The diastolic pressure ({reading.diastolic}) must be below the systolic ({reading.systolic}): "
            "check the order of the two numbers."
        )
    return problems


# --- values that call for action ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Thresholds:
    """DESIGN §3 "Values that call for action are accepted and flagged (defaults, editable)"."""

    fever_c: Decimal = Decimal("38.0")  # temperature ≥ 38.0 °C
    temperature_rise_c: Decimal = Decimal("1.0")  # or ≥ 1 °C above baseline
    systolic_high: int = 180  # systolic ≥ 180
    systolic_low: int = 90  # or < 90
    systolic_change: int = 20  # or ≥ 20 mmHg from baseline
    pulse_high: int = 120  # pulse ≥ 120
    pulse_change: int = 20  # or ≥ 20 from baseline
    spo2_low: int = 92  # SpO₂ < 92 %
    respiratory_rate_high: int = 24  # respiration > 24


DEFAULT_THRESHOLDS = Thresholds()


def _c(value: Decimal) -> str:
    return f"{Decimal(value).quantize(Decimal('0.1'), rounding=ROUND_HALF_UP)} °C"


def _direction(change: int) -> str:
    return "above" if change > 0 else "below"


def flags(
    reading: Reading, *, baseline: Reading | None = None, thresholds: Thresholds = DEFAULT_THRESHOLDS
) -> list[str]:
    """The values of ``reading`` that call for action, in words, one per vital sign (DESIGN §3).

    An absolute threshold is named first; a change from the visit's baseline set is named when no absolute one is
    crossed. ``baseline`` is None for the baseline set itself.
    """
    t = thresholds
    words: list[str] = []
    temperature = Decimal(reading.temperature_c)
    if temperature >= t.fever_c:
        words.append(f"Temperature {_c(temperature)}: {_c(t.fever_c)} or more")
    elif baseline is not None and temperature - Decimal(baseline.temperature_c) >= t.temperature_rise_c:
        rise = temperature - Decimal(baseline.temperature_c)
        words.append(
            f"Temperature {_c(temperature)}: {_c(rise)} above the baseline {_c(baseline.temperature_c)} "
            f"({_c(t.temperature_rise_c)} or more)"
        )
    if reading.systolic >= t.systolic_high:
        words.append(f"Systolic {reading.systolic} mmHg: {t.systolic_high} or more")
    elif reading.systolic < t.systolic_low:
        words.append(f"Systolic {reading.systolic} mmHg: below {t.systolic_low}")
    elif baseline is not None and abs(reading.systolic - baseline.systolic) >= t.systolic_change:
        change = reading.systolic - baseline.systolic
        words.append(
            f"Systolic {reading.systolic} mmHg: {abs(change)} mmHg {_direction(change)} the baseline "
            f"{baseline.systolic} ({t.systolic_change} or more)"
        )
    if reading.pulse >= t.pulse_high:
        words.append(f"Pulse {reading.pulse}/min: {t.pulse_high} or more")
    elif baseline is not None and abs(reading.pulse - baseline.pulse) >= t.pulse_change:
        change = reading.pulse - baseline.pulse
        words.append(
            f"Pulse {reading.pulse}/min: {abs(change)} {_direction(change)} the baseline {baseline.pulse} "
            f"({t.pulse_change} or more)"
        )
    if reading.spo2 is not None and reading.spo2 < t.spo2_low:
        words.append(f"SpO₂ {reading.spo2}%: below {t.spo2_low}%")
    if reading.respiratory_rate > t.respiratory_rate_high:
        words.append(f"Respiratory rate {reading.respiratory_rate}/min: more than {t.respiratory_rate_high}")
    return words


# --- the due list ------------------------------------------------------------------------------------------------

# DESIGN §3 "Vital signs": baseline before starting (with SpO₂); before each rate increase and at least every 15 min
# while titrating; every 30–60 min at maximum rate; at the end; 30 and 60 min after.
TITRATION_EVERY = timedelta(minutes=15)
MAXIMUM_DUE_AFTER = timedelta(minutes=30)
MAXIMUM_OVERDUE_AFTER = timedelta(minutes=60)
BEFORE_INCREASE_WITHIN = TITRATION_EVERY  # a set in the 15 min before a raise counts as "before" it
POST_INFUSION_AFTER = (timedelta(minutes=30), timedelta(minutes=60))
# Sets tied to a moment (the end, 30 and 60 min after) are shown overdue once a titration interval has passed.
POINT_GRACE = TITRATION_EVERY

START, INCREASE, DECREASE, PAUSE, RESUME, STOP = "start", "increase", "decrease", "pause", "resume", "stop"
RUNNING_KINDS = (START, INCREASE, DECREASE, RESUME)

BASELINE, TITRATION, MAXIMUM, END, POST_30, POST_60 = "baseline", "titration", "maximum", "end", "post_30", "post_60"

DONE, UPCOMING, DUE, OVERDUE, LATE, MISSING = "done", "upcoming", "due", "overdue", "late", "missing"
NEEDS_ACTION = (DUE, OVERDUE)


@dataclass(frozen=True)
class TakenSet:
    at: datetime
    phase: str
    has_spo2: bool = True


@dataclass(frozen=True)
class RateEvent:
    at: datetime
    kind: str
    ml_per_hr: Decimal


@dataclass(frozen=True)
class NextIncrease:
    at: datetime
    ml_per_hr: Decimal


@dataclass(frozen=True)
class DueSet:
    """One set of vital signs the visit calls for, and where it stands at ``now``.

    ``status``: done (taken, at ``taken_at``), upcoming (before ``due_at``), due (from ``due_at`` to ``overdue_at``),
    overdue (past ``overdue_at`` and still to take), late (the next set came only at ``taken_at``, after the deadline),
    missing (its moment has passed without a set).
    """

    key: str
    label: str
    phase: str  # the phase a set taken for it is recorded under
    status: str
    rule: str  # DESIGN §3 in words
    due_at: datetime | None = None
    overdue_at: datetime | None = None
    taken_at: datetime | None = None

    @property
    def needs_action(self) -> bool:
        return self.status in NEEDS_ACTION

    @property
    def is_gap(self) -> bool:
        """Shown highlighted: overdue, taken late or missing."""
        return self.status in (OVERDUE, LATE, MISSING)


@dataclass(frozen=True)
class _Segment:
    kind: str  # TITRATION (also while paused or stopped) or MAXIMUM
    starts: datetime
    ends: datetime | None  # None while it lasts


def current_rate(events: Sequence[RateEvent]) -> Decimal | None:
    """The pump rate now: the last event's (0 while paused or stopped); None before the start."""
    return events[-1].ml_per_hr if events else None


def is_running(events: Sequence[RateEvent]) -> bool:
    return bool(events) and events[-1].kind in RUNNING_KINDS


def reached_maximum(events: Sequence[RateEvent], max_ml_per_hr: Decimal) -> datetime | None:
    """When the pump first ran at the plan's maximum, or None."""
    for event in events:
        if event.kind in RUNNING_KINDS and event.ml_per_hr >= max_ml_per_hr:
            return event.at
    return None


def next_increase(
    *,
    events: Sequence[RateEvent],
    plan_rates: Sequence[Decimal],
    step_interval_min: int | None,
    max_ml_per_hr: Decimal,
) -> NextIncrease | None:
    """The plan's next rate above the pump's, one step interval after the current rate began; None when there is
    none (not started, paused or stopped, at the maximum, a fixed-rate infusion, or no higher step)."""
    if not events or not step_interval_min or not is_running(events):
        return None
    last = events[-1]
    if last.ml_per_hr >= max_ml_per_hr:
        return None
    higher = sorted(rate for rate in plan_rates if last.ml_per_hr < rate <= max_ml_per_hr)
    if not higher:
        return None
    return NextIncrease(at=last.at + timedelta(minutes=step_interval_min), ml_per_hr=higher[0])


def _segments(events: Sequence[RateEvent], ended_at: datetime | None, max_ml_per_hr: Decimal) -> list[_Segment]:
    """The infusion cut at every rate event, each part titrating (below the maximum, paused or stopped: every
    15 min) or at the maximum (every 30–60 min)."""
    relevant = [event for event in events if ended_at is None or event.at < ended_at]
    segments = []
    for index, event in enumerate(relevant):
        at_maximum = event.kind in RUNNING_KINDS and event.ml_per_hr >= max_ml_per_hr
        ends = relevant[index + 1].at if index + 1 < len(relevant) else ended_at
        if ends is not None and ends <= event.at:
            continue
        segments.append(_Segment(MAXIMUM if at_maximum else TITRATION, event.at, ends))
    return segments


def _rolling(segment: _Segment, sets: Sequence[TakenSet], now: datetime, number: int) -> list[DueSet]:
    """Sets every interval through one segment of the infusion, counted from its start and then from each set."""
    if segment.kind == MAXIMUM:
        due_after, overdue_after = MAXIMUM_DUE_AFTER, MAXIMUM_OVERDUE_AFTER
        label, phase, rule = "At the maximum rate", MAXIMUM, "every 30–60 min at the maximum rate"
    else:
        due_after = overdue_after = TITRATION_EVERY
        label, phase, rule = "While titrating", TITRATION, "at least every 15 min while titrating"
    end = segment.ends
    items: list[DueSet] = []
    since = segment.starts
    while len(items) < 200:  # more than a day of 15-minute sets; odd data never loops forever
        due_at, overdue_at = since + due_after, since + overdue_after
        key = f"{phase}-{number}-{len(items) + 1}"
        taken = next((s for s in sets if since < s.at <= overdue_at and (end is None or s.at <= end)), None)
        if taken is not None:
            items.append(DueSet(key, label, phase, DONE, rule, due_at, overdue_at, taken.at))
            since = taken.at
            continue
        if end is not None and overdue_at >= end:
            break  # what comes next (a raise, the end of the infusion) asks for its own set
        later = next((s for s in sets if s.at > overdue_at and (end is None or s.at < end)), None)
        if later is not None:
            items.append(DueSet(key, label, phase, LATE, rule, due_at, overdue_at, later.at))
            since = later.at
        elif end is None:
            status = UPCOMING if now < due_at else DUE if now <= overdue_at else OVERDUE
            items.append(DueSet(key, label, phase, status, rule, due_at, overdue_at))
            break
        else:
            items.append(DueSet(key, label, phase, MISSING, rule, due_at, overdue_at))
            since = overdue_at
    return items


def _point(
    key: str,
    label: str,
    phase: str,
    rule: str,
    at: datetime | None,
    sets: Sequence[TakenSet],
    now: datetime,
) -> DueSet:
    taken = next((s for s in sets if s.phase == phase), None)
    overdue_at = None if at is None else at + POINT_GRACE
    if taken is not None:
        return DueSet(key, label, phase, DONE, rule, at, overdue_at, taken.at)
    if at is None or now < at:
        return DueSet(key, label, phase, UPCOMING, rule, at, overdue_at)
    return DueSet(key, label, phase, DUE if now <= overdue_at else OVERDUE, rule, at, overdue_at)


def due_list(
    *,
    now: datetime,
    sets: Sequence[TakenSet],
    events: Sequence[RateEvent] = (),
    started_at: datetime | None = None,
    ended_at: datetime | None = None,
    max_ml_per_hr: Decimal | None = None,
    upcoming_increase: NextIncrease | None = None,
) -> list[DueSet]:
    """Every set of vital signs the visit calls for, in time order, with its status at ``now`` (DESIGN §3).

    - Baseline with SpO₂ before the start: due until the infusion starts, then missing if none was taken.
    - Before each rate increase: a set in the 15 min before it (missing when a raise had none); the plan's next
      raise (``upcoming_increase``) is due in the 15 min before its time and overdue after it.
    - At least every 15 min while below the maximum rate (also while paused or stopped), every 30–60 min at the
      maximum (due at 30, overdue at 60), counted from each rate change and then from each set.
    - At the end, and 30 and 60 min after it: due at that moment, overdue 15 min later.
    """
    sets = sorted(sets, key=lambda s: s.at)
    events = sorted(events, key=lambda e: e.at)
    if started_at is None and events:
        started_at = events[0].at
    items: list[DueSet] = []

    baseline_rule = "baseline before starting, with SpO₂"
    baseline = next(
        (s for s in sets if s.phase == BASELINE and s.has_spo2 and (started_at is None or s.at <= started_at)), None
    )
    if baseline is not None:
        items.append(DueSet("baseline", "Baseline with SpO₂", BASELINE, DONE, baseline_rule, taken_at=baseline.at))
    elif started_at is None:
        items.append(DueSet("baseline", "Baseline with SpO₂", BASELINE, DUE, baseline_rule, overdue_at=None))
    else:
        items.append(DueSet("baseline", "Baseline with SpO₂", BASELINE, MISSING, baseline_rule, overdue_at=started_at))

    if started_at is not None and max_ml_per_hr is not None:
        during = [s for s in sets if s.at > started_at and (ended_at is None or s.at <= ended_at)]
        for number, segment in enumerate(_segments(events, ended_at, max_ml_per_hr), start=1):
            items.extend(_rolling(segment, during, now, number))
        increase_rule = "before each rate increase (within the 15 min before it)"
        for number, event in enumerate((e for e in events if e.kind == INCREASE), start=1):
            opens = event.at - BEFORE_INCREASE_WITHIN
            taken = next((s for s in reversed(sets) if opens <= s.at <= event.at), None)
            label = f"Before raising to {event.ml_per_hr:.1f} mL/hr"
            status = DONE if taken else MISSING
            items.append(
                DueSet(
                    f"increase-{number}",
                    label,
                    TITRATION,
                    status,
                    increase_rule,
                    opens,
                    event.at,
                    taken.at if taken else None,
                )
            )
        if upcoming_increase is not None and ended_at is None:
            opens = upcoming_increase.at - BEFORE_INCREASE_WITHIN
            last_change = events[-1].at if events else started_at
            taken = next((s for s in reversed(sets) if s.at >= opens and s.at > last_change and s.at <= now), None)
            if taken is not None:
                status = DONE
            elif now < opens:
                status = UPCOMING
            else:
                status = DUE if now <= upcoming_increase.at else OVERDUE
            items.append(
                DueSet(
                    "increase-next",
                    f"Before raising to {upcoming_increase.ml_per_hr:.1f} mL/hr",
                    TITRATION,
                    status,
                    increase_rule,
                    opens,
                    upcoming_increase.at,
                    taken.at if taken else None,
                )
            )

    after_end = [s for s in sets if ended_at is not None and s.at >= ended_at - POINT_GRACE]
    items.append(
        _point("end", "At the end of the infusion", END, "at the end of the infusion", ended_at, after_end, now)
    )
    for delay, phase in zip(POST_INFUSION_AFTER, (POST_30, POST_60), strict=True):
        minutes = int(delay.total_seconds() // 60)
        at = None if ended_at is None else ended_at + delay
        items.append(
            _point(phase, f"{minutes} min after the end", phase, f"{minutes} min after the end", at, after_end, now)
        )
    return sorted(items, key=_order)


def _moment(item: DueSet) -> float:
    moment = item.overdue_at or item.due_at
    return moment.timestamp() if moment is not None else float("inf")


def _order(item: DueSet):
    """Baseline first, then the infusion's sets in time order, then the end and the sets after it."""
    rank = {BASELINE: 0, END: 2, POST_30: 3, POST_60: 4}.get(item.phase, 1)
    moment = item.taken_at if item.status == DONE else item.due_at
    return (rank, moment.timestamp() if moment is not None else float("inf"), item.key)


def first_needing_action(items: Sequence[DueSet]) -> DueSet | None:
    """The set to take now: overdue before due, the earliest deadline first."""
    pending = [item for item in items if item.needs_action]
    return min(pending, key=lambda item: (item.status != OVERDUE, _moment(item))) if pending else None


def next_upcoming(items: Sequence[DueSet]) -> DueSet | None:
    """The set to come with the earliest deadline, when none needs action yet."""
    timed = [item for item in items if item.status == UPCOMING and item.due_at is not None]
    return min(timed, key=_moment) if timed else None
