"""Vital signs as plain rules (visits/vitals.py): limits and units, action thresholds, and the due list (DESIGN §3).

The due list is a pure function of ``now``; each case pins the clock by passing it.
"""

import datetime as dt
from decimal import Decimal

import pytest

from visits.chart.infusion import vitals
from visits.chart.infusion.vitals import (
    BASELINE,
    DONE,
    DUE,
    END,
    LATE,
    MAXIMUM,
    MISSING,
    OVERDUE,
    POST_30,
    POST_60,
    TITRATION,
    UPCOMING,
    NextIncrease,
    RateEvent,
    Reading,
    TakenSet,
)

T0 = dt.datetime(2026, 11, 20, 15, 0, tzinfo=dt.UTC)  # the infusion starts (9:00 in Chicago)
MAX = Decimal("168.0")
PLAN = [Decimal("42.0"), Decimal("84.0"), Decimal("126.0"), Decimal("168.0")]


def at(minutes: float) -> dt.datetime:
    return T0 + dt.timedelta(minutes=minutes)


def start(minutes=0, rate="42.0"):
    return RateEvent(at(minutes), "start", Decimal(rate))


def raise_to(minutes, rate):
    return RateEvent(at(minutes), "increase", Decimal(rate))


def taken(minutes, phase=TITRATION, spo2=True):
    return TakenSet(at(minutes), phase, spo2)


BASE = taken(-10, BASELINE)


def reading(**changes) -> Reading:
    values = {
        "temperature_c": Decimal("36.8"),
        "pulse": 76,
        "systolic": 124,
        "diastolic": 78,
        "respiratory_rate": 16,
        "spo2": 97,
        "pain": 1,
    }
    return Reading(**(values | changes))


def by_key(items):
    return {item.key: item for item in items}


def statuses(items, phase):
    return [item.status for item in items if item.phase == phase]


# --- units and limits ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fahrenheit", "celsius"),
    [("98.6", "37.0"), ("100.4", "38.0"), ("86", "30.0"), ("113", "45.0"), ("212", "100.0"), ("97.7", "36.5")],
)
def test_fahrenheit_is_converted_to_celsius_to_a_tenth(fahrenheit, celsius):
    assert vitals.celsius_from_fahrenheit(fahrenheit) == Decimal(celsius)


def test_temperature_limits_are_30_to_45_celsius_and_the_same_in_fahrenheit():
    assert vitals.temperature_limits("C") == (Decimal("30"), Decimal("45"))
    assert vitals.temperature_limits("F") == (Decimal("86.0"), Decimal("113.0"))


@pytest.mark.parametrize(("value", "unit"), [("30", "C"), ("45", "C"), ("36.8", "C"), ("86", "F"), ("113", "F")])
def test_temperatures_inside_the_limits_are_accepted(value, unit):
    assert vitals.temperature_problem(value, unit) is None


@pytest.mark.parametrize(
    ("value", "unit", "says"),
    [
        ("29.9", "C", "between 30 and 45 °C"),
        ("45.1", "C", "between 30 and 45 °C"),
        ("85.9", "F", "between 86 and 113 °F"),
        ("113.1", "F", "between 86 and 113 °F"),
    ],
)
def test_temperatures_outside_the_limits_are_refused_in_the_chosen_unit(value, unit, says):
    assert says in vitals.temperature_problem(value, unit)


def test_a_fahrenheit_value_given_as_celsius_is_refused_with_a_hint():
    problem = vitals.temperature_problem("98.6", "C")
    assert "98.6 °C is not a possible temperature" in problem
    assert "It looks like °F" in problem


def test_a_celsius_value_given_as_fahrenheit_is_refused_with_a_hint():
    problem = vitals.temperature_problem("37.2", "F")
    assert "between 86 and 113 °F" in problem
    assert "It looks like °C" in problem


@pytest.mark.parametrize("value", ["abc", "", None, "nan", "Infinity"])
def test_a_temperature_that_is_not_a_number_is_refused(value):
    assert "as a number" in vitals.temperature_problem(value, "C")


def test_an_unknown_temperature_unit_is_refused():
    assert "°C or °F" in vitals.temperature_problem("37", "K")


def test_temperature_celsius_stores_si_from_either_unit():
    assert vitals.temperature_celsius("98.6", "F") == Decimal("37.0")
    assert vitals.temperature_celsius("36.85", "C") == Decimal("36.9")
    with pytest.raises(ValueError, match="not a possible temperature"):
        vitals.temperature_celsius("98.6", "C")


LIMIT_CASES = [
    ("pulse", 20, 250),
    ("systolic", 50, 300),
    ("diastolic", 20, 200),
    ("respiratory_rate", 4, 60),
    ("spo2", 50, 100),
    ("pain", 0, 10),
]


@pytest.mark.parametrize(("name", "low", "high"), LIMIT_CASES)
def test_each_vital_sign_accepts_its_limits_and_refuses_one_beyond(name, low, high):
    assert vitals.limit_problem(name, low) is None
    assert vitals.limit_problem(name, high) is None
    below, above = vitals.limit_problem(name, low - 1), vitals.limit_problem(name, high + 1)
    assert f"between {low} and {high}" in below
    assert f"between {low} and {high}" in above
    assert "DESIGN" not in above  # the nurse reads her own words, not our document's section numbers


@pytest.mark.parametrize("name", [case[0] for case in LIMIT_CASES])
@pytest.mark.parametrize("value", ["abc", "72.5", "", None])
def test_each_vital_sign_must_be_a_whole_number(name, value):
    assert "whole number" in vitals.limit_problem(name, value)


def test_a_very_long_number_is_not_echoed_back():
    assert vitals.limit_problem("pulse", "9" * 40).startswith("That is not a possible pulse")


def test_diastolic_at_or_above_systolic_is_refused_at_the_diastolic():
    problems = vitals.reading_problems(reading(systolic=120, diastolic=120))
    assert list(problems) == ["diastolic"]
    assert "below the systolic" in problems["diastolic"]


def test_a_plausible_reading_has_no_problems_and_spo2_and_pain_may_be_missing():
    assert vitals.reading_problems(reading()) == {}
    assert vitals.reading_problems(reading(spo2=None, pain=None)) == {}


def test_reading_problems_names_every_impossible_field():
    problems = vitals.reading_problems(
        reading(temperature_c=Decimal("50"), pulse=300, systolic=20, respiratory_rate=70, spo2=40, pain=12)
    )
    assert set(problems) == {"temperature_c", "pulse", "systolic", "respiratory_rate", "spo2", "pain"}


# --- thresholds -------------------------------------------------------------------------------------------------


def test_a_normal_reading_has_no_flags():
    assert vitals.flags(reading(), baseline=reading()) == []


@pytest.mark.parametrize(
    ("changes", "flagged", "words"),
    [
        ({"temperature_c": Decimal("38.0")}, True, "Temperature 38.0 °C: 38.0 °C or more"),
        ({"temperature_c": Decimal("37.9")}, False, ""),
        ({"systolic": 180}, True, "Systolic 180 mmHg: 180 or more"),
        ({"systolic": 179}, False, ""),
        ({"systolic": 89, "diastolic": 60}, True, "Systolic 89 mmHg: below 90"),
        ({"systolic": 90, "diastolic": 60}, False, ""),
        ({"pulse": 120}, True, "Pulse 120/min: 120 or more"),
        ({"pulse": 119}, False, ""),
        ({"spo2": 91}, True, "SpO₂ 91%: below 92%"),
        ({"spo2": 92}, False, ""),
        ({"spo2": None}, False, ""),
        ({"respiratory_rate": 25}, True, "Respiratory rate 25/min: more than 24"),
        ({"respiratory_rate": 24}, False, ""),
    ],
)
def test_absolute_thresholds_flag_at_their_edge(changes, flagged, words):
    found = vitals.flags(reading(**changes))
    assert bool(found) is flagged
    if flagged:
        assert found == [words]


BASELINE_READING = reading(temperature_c=Decimal("36.5"), systolic=120, pulse=70)


@pytest.mark.parametrize(
    ("changes", "flagged", "words"),
    [
        ({"temperature_c": Decimal("37.5")}, True, "1.0 °C above the baseline 36.5 °C"),
        ({"temperature_c": Decimal("37.4")}, False, ""),
        ({"systolic": 140}, True, "Systolic 140 mmHg: 20 mmHg above the baseline 120"),
        ({"systolic": 100}, True, "Systolic 100 mmHg: 20 mmHg below the baseline 120"),
        ({"systolic": 139}, False, ""),
        ({"pulse": 90}, True, "Pulse 90/min: 20 above the baseline 70"),
        ({"pulse": 50}, True, "Pulse 50/min: 20 below the baseline 70"),
        ({"pulse": 89}, False, ""),
    ],
)
def test_changes_from_the_baseline_are_flagged(changes, flagged, words):
    found = vitals.flags(reading(**changes), baseline=BASELINE_READING)
    assert bool(found) is flagged
    if flagged:
        assert words in found[0]


def test_changes_from_the_baseline_are_not_judged_without_a_baseline():
    assert vitals.flags(reading(temperature_c=Decimal("37.9"), pulse=110, systolic=170)) == []


def test_one_flag_per_vital_sign_the_absolute_threshold_first():
    found = vitals.flags(reading(temperature_c=Decimal("39.0")), baseline=BASELINE_READING)
    assert found == ["Temperature 39.0 °C: 38.0 °C or more"]


def test_every_vital_sign_past_its_threshold_is_named():
    found = vitals.flags(reading(temperature_c=Decimal("38.5"), systolic=185, pulse=130, spo2=88, respiratory_rate=28))
    assert [flag.split(" ")[0] for flag in found] == ["Temperature", "Systolic", "Pulse", "SpO₂", "Respiratory"]


def test_thresholds_are_editable_data():
    stricter = vitals.Thresholds(fever_c=Decimal("37.8"))
    assert vitals.flags(reading(temperature_c=Decimal("37.8")), thresholds=stricter)
    assert not vitals.flags(reading(temperature_c=Decimal("37.8")))


# --- the next raise ----------------------------------------------------------------------------------------------


def test_the_next_raise_is_the_plans_next_rate_one_interval_after_the_current_one():
    upcoming = vitals.next_increase(events=[start()], plan_rates=PLAN, step_interval_min=30, max_ml_per_hr=MAX)
    assert upcoming == NextIncrease(at(30), Decimal("84.0"))
    later = vitals.next_increase(
        events=[start(), raise_to(35, "84.0")], plan_rates=PLAN, step_interval_min=30, max_ml_per_hr=MAX
    )
    assert later == NextIncrease(at(65), Decimal("126.0"))


def test_after_going_back_to_a_lower_rate_the_next_raise_counts_from_then():
    events = [start(), raise_to(30, "84.0"), RateEvent(at(40), "decrease", Decimal("42.0"))]
    upcoming = vitals.next_increase(events=events, plan_rates=PLAN, step_interval_min=30, max_ml_per_hr=MAX)
    assert upcoming == NextIncrease(at(70), Decimal("84.0"))


def test_a_rate_between_steps_is_raised_to_the_next_step():
    events = [start(rate="50.0")]
    upcoming = vitals.next_increase(events=events, plan_rates=PLAN, step_interval_min=30, max_ml_per_hr=MAX)
    assert upcoming.ml_per_hr == Decimal("84.0")


@pytest.mark.parametrize(
    "events",
    [
        [],
        [start(), RateEvent(at(10), "pause", Decimal(0))],
        [start(), RateEvent(at(10), "stop", Decimal(0))],
        [start(), raise_to(30, "84.0"), raise_to(60, "126.0"), raise_to(90, "168.0")],
    ],
    ids=["not started", "paused", "stopped", "at the maximum"],
)
def test_there_is_no_next_raise_when_not_running_or_at_the_maximum(events):
    assert vitals.next_increase(events=events, plan_rates=PLAN, step_interval_min=30, max_ml_per_hr=MAX) is None


def test_a_fixed_rate_infusion_has_no_next_raise():
    assert (
        vitals.next_increase(events=[start()], plan_rates=[Decimal("42")], step_interval_min=None, max_ml_per_hr=MAX)
        is None
    )


# --- the due list: baseline --------------------------------------------------------------------------------------


def test_before_the_start_the_baseline_is_due_and_the_end_sets_are_to_come():
    items = vitals.due_list(now=at(-20), sets=[])
    assert [(item.key, item.status) for item in items] == [
        ("baseline", DUE),
        ("end", UPCOMING),
        ("post_30", UPCOMING),
        ("post_60", UPCOMING),
    ]


def test_a_baseline_without_spo2_does_not_count():
    items = by_key(vitals.due_list(now=at(-5), sets=[taken(-10, BASELINE, spo2=False)]))
    assert items["baseline"].status == DUE


def test_a_baseline_with_spo2_is_done():
    items = by_key(vitals.due_list(now=at(-5), sets=[BASE]))
    assert items["baseline"].status == DONE
    assert items["baseline"].taken_at == at(-10)


def test_starting_without_a_baseline_leaves_it_missing():
    items = by_key(vitals.due_list(now=at(5), sets=[], events=[start()], started_at=T0, max_ml_per_hr=MAX))
    assert items["baseline"].status == MISSING


def test_a_baseline_taken_after_the_start_does_not_count_as_one():
    items = by_key(
        vitals.due_list(now=at(5), sets=[taken(2, BASELINE)], events=[start()], started_at=T0, max_ml_per_hr=MAX)
    )
    assert items["baseline"].status == MISSING


# --- the due list: while titrating -------------------------------------------------------------------------------


def titrating(now, sets=(), events=None, upcoming=None):
    events = events if events is not None else [start()]
    return vitals.due_list(
        now=now,
        sets=[BASE, *sets],
        events=events,
        started_at=T0,
        max_ml_per_hr=MAX,
        upcoming_increase=upcoming,
    )


@pytest.mark.parametrize(
    ("minute", "status"), [(10, UPCOMING), (14.9, UPCOMING), (15, DUE), (15.5, OVERDUE), (40, OVERDUE)]
)
def test_while_titrating_a_set_is_due_every_15_minutes(minute, status):
    items = [item for item in titrating(at(minute)) if item.phase == TITRATION]
    assert [item.status for item in items] == [status]
    assert items[0].overdue_at == at(15)


def test_each_set_while_titrating_restarts_the_15_minutes():
    items = [item for item in titrating(at(20), sets=[taken(12)]) if item.phase == TITRATION]
    assert [(item.status, item.taken_at, item.overdue_at) for item in items] == [
        (DONE, at(12), at(15)),
        (UPCOMING, None, at(27)),
    ]


def test_a_set_after_its_deadline_shows_the_gap_as_late():
    items = [item for item in titrating(at(25), sets=[taken(22)]) if item.phase == TITRATION]
    assert [(item.status, item.taken_at) for item in items] == [(LATE, at(22)), (UPCOMING, None)]
    assert items[1].overdue_at == at(37)


def test_the_next_raise_needs_a_set_in_the_15_minutes_before_it():
    upcoming = NextIncrease(at(30), Decimal("84.0"))
    sets = [taken(12)]  # keeps the 15-minute rule satisfied until 10:27
    before = by_key(titrating(at(14), sets, upcoming=upcoming))["increase-next"]
    assert (before.status, before.due_at, before.overdue_at) == (UPCOMING, at(15), at(30))
    assert before.label == "Before raising to 84.0 mL/hr"
    assert by_key(titrating(at(20), sets, upcoming=upcoming))["increase-next"].status == DUE
    assert by_key(titrating(at(31), sets, upcoming=upcoming))["increase-next"].status == OVERDUE
    done = by_key(titrating(at(28), [*sets, taken(26)], upcoming=upcoming))["increase-next"]
    assert (done.status, done.taken_at) == (DONE, at(26))


def test_a_raise_with_a_set_in_the_15_minutes_before_it_is_done():
    events = [start(), raise_to(30, "84.0")]
    item = by_key(titrating(at(35), [taken(15), taken(22)], events))["increase-1"]
    assert (item.status, item.taken_at) == (DONE, at(22))


@pytest.mark.parametrize("minute", [14, 31])
def test_a_raise_without_a_set_in_the_15_minutes_before_it_is_missing(minute):
    events = [start(), raise_to(30, "84.0")]
    item = by_key(titrating(at(40), [taken(minute)], events))["increase-1"]
    assert item.status == MISSING


def test_a_part_of_the_infusion_that_ended_without_its_set_leaves_it_missing():
    events = [start(), raise_to(30, "84.0")]
    items = [item for item in titrating(at(35), events=events) if item.key.startswith("titration-1")]
    assert [(item.status, item.overdue_at) for item in items] == [(MISSING, at(15))]


def test_the_15_minute_clock_restarts_at_each_rate_change():
    events = [start(), raise_to(30, "84.0")]
    items = [item for item in titrating(at(40), [taken(15), taken(28)], events) if item.key.startswith("titration-2")]
    assert [(item.status, item.overdue_at) for item in items] == [(UPCOMING, at(45))]


def test_while_paused_sets_stay_due_every_15_minutes():
    events = [start(), RateEvent(at(10), "pause", Decimal(0))]
    items = [item for item in titrating(at(26), [taken(9)], events) if item.key.startswith("titration-2")]
    assert [(item.status, item.overdue_at) for item in items] == [(OVERDUE, at(25))]


# --- the due list: at the maximum rate ---------------------------------------------------------------------------

AT_MAX = [start(), raise_to(30, "84.0"), raise_to(60, "126.0"), raise_to(90, "168.0")]
TITRATION_SETS = [taken(15), taken(28), taken(45), taken(58), taken(75), taken(88)]


def at_maximum(now, sets=()):
    return titrating(now, [*TITRATION_SETS, *sets], AT_MAX)


@pytest.mark.parametrize(
    ("minute", "status"), [(100, UPCOMING), (119, UPCOMING), (120, DUE), (150, DUE), (151, OVERDUE)]
)
def test_at_the_maximum_a_set_is_due_at_30_minutes_and_overdue_at_60(minute, status):
    items = [item for item in at_maximum(at(minute)) if item.phase == MAXIMUM]
    assert [(item.status, item.due_at, item.overdue_at) for item in items] == [(status, at(120), at(150))]


def test_at_the_maximum_each_set_restarts_the_30_to_60_minutes():
    items = [item for item in at_maximum(at(140), [taken(125)]) if item.phase == MAXIMUM]
    assert [(item.status, item.due_at, item.overdue_at) for item in items] == [
        (DONE, at(120), at(150)),
        (UPCOMING, at(155), at(185)),
    ]


def test_at_the_maximum_a_set_after_60_minutes_is_late():
    items = [item for item in at_maximum(at(170), [taken(165)]) if item.phase == MAXIMUM]
    assert [(item.status, item.taken_at) for item in items] == [(LATE, at(165)), (UPCOMING, None)]


def test_titration_rules_are_all_met_by_sets_every_15_minutes_and_before_each_raise():
    items = at_maximum(at(100))
    titration = [item for item in items if item.phase == TITRATION]
    assert titration and all(item.status == DONE for item in titration)
    assert not any(item.is_gap for item in items)


# --- the due list: the end and after ------------------------------------------------------------------------------


def ended(now, sets=(), ended_minute=145):
    return vitals.due_list(
        now=now,
        sets=[BASE, *TITRATION_SETS, taken(120), *sets],
        events=[*AT_MAX, RateEvent(at(ended_minute), "stop", Decimal(0))],
        started_at=T0,
        ended_at=at(ended_minute),
        max_ml_per_hr=MAX,
    )


@pytest.mark.parametrize(("minute", "status"), [(145, DUE), (160, DUE), (161, OVERDUE)])
def test_the_end_set_is_due_at_the_end_and_overdue_15_minutes_later(minute, status):
    assert by_key(ended(at(minute)))["end"].status == status


@pytest.mark.parametrize(
    ("key", "minute", "status"),
    [
        (POST_30, 170, UPCOMING),
        (POST_30, 175, DUE),
        (POST_30, 191, OVERDUE),
        (POST_60, 204, UPCOMING),
        (POST_60, 205, DUE),
        (POST_60, 221, OVERDUE),
    ],
)
def test_sets_are_due_30_and_60_minutes_after_the_end(key, minute, status):
    item = by_key(ended(at(minute), [taken(146, END)]))[key]
    assert item.status == status
    assert item.due_at == at(145 + (30 if key == POST_30 else 60))


def test_sets_recorded_for_the_end_and_after_are_done():
    items = by_key(ended(at(230), [taken(146, END), taken(176, POST_30), taken(206, POST_60)]))
    assert [items[key].status for key in ("end", POST_30, POST_60)] == [DONE, DONE, DONE]


def test_the_maximum_rate_rule_stops_at_the_end_of_the_infusion():
    items = [item for item in ended(at(230)) if item.phase == MAXIMUM]
    assert [item.status for item in items] == [DONE]  # 120; the next (due 150–180) falls after the end at 145


def test_a_complete_visit_has_no_gaps():
    items = ended(at(230), [taken(146, END), taken(176, POST_30), taken(206, POST_60)])
    assert [item for item in items if item.is_gap] == []
    assert vitals.first_needing_action(items) is None


def test_the_list_runs_baseline_infusion_end_and_after_in_order():
    phases = [item.phase for item in ended(at(150))]
    assert phases[0] == BASELINE
    assert phases[-3:] == [END, POST_30, POST_60]


# --- picking what to do now --------------------------------------------------------------------------------------


def test_the_set_to_take_now_is_the_overdue_one_first():
    upcoming = NextIncrease(at(30), Decimal("84.0"))
    items = titrating(at(20), upcoming=upcoming)  # the 15-minute set is overdue; the pre-raise set is due
    chosen = vitals.first_needing_action(items)
    assert (chosen.phase, chosen.status, chosen.overdue_at) == (TITRATION, OVERDUE, at(15))


def test_next_upcoming_is_the_earliest_timed_set_to_come():
    items = titrating(at(5), upcoming=NextIncrease(at(30), Decimal("84.0")))
    assert vitals.first_needing_action(items) is None
    assert vitals.next_upcoming(items).overdue_at == at(15)
