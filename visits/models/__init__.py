"""The visits app's models, one module per capability; every model is importable from ``visits.models``.

orders (catalog, label limits per indication, therapy orders), scheduling (visits, availability, requests), chart
(what the nurse documents), notifications (reminders, follow-ups, deliveries) and scig (teaching and
self-infusion). Migrations keep the app label ``visits``.
"""

from visits.models.alerts import *  # noqa: F403
from visits.models.chart import *  # noqa: F403
from visits.models.notifications import *  # noqa: F403
from visits.models.orders import *  # noqa: F403
from visits.models.scheduling import *  # noqa: F403
from visits.models.scig import *  # noqa: F403
