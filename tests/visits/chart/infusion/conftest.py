"""The infusion tests' frozen clock: Friday 20 November 2026, 9:00 in Chicago, the visit's day."""

import datetime as dt

import pytest
import time_machine

NOW = dt.datetime(2026, 11, 20, 15, 0, tzinfo=dt.UTC)


@pytest.fixture
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller
