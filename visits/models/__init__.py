"""The visits app's models, one module per capability; every model is importable from ``visits.models``.

orders (catalog and therapy orders), scheduling (visits, availability, requests), chart (what the nurse
documents) and notifications (reminders, follow-ups, deliveries). Migrations keep the app label ``visits``.
"""

from visits.models.chart import *  # noqa: F403
from visits.models.notifications import *  # noqa: F403
from visits.models.orders import *  # noqa: F403
from visits.models.scheduling import *  # noqa: F403
