"""The coordinator's alert queue: what needs a person to act, most urgent first, and the actions taken on it.

registry (what an alert is), sources and background (one function per kind), selectors (the queue as read),
services, forms, views and urls (acting on it).
"""

# Every source registers itself on import, and the queue shows the kinds in that order: the chart's and the
# schedule's first, then the background jobs'. Importing any module of this package runs this first.
# isort: off
from visits.alerts import sources  # noqa: F401
from visits.alerts import background  # noqa: F401
from visits.alerts import scig_sources  # noqa: F401
from visits.alerts import emergency_sources  # noqa: F401

# isort: on
