"""What several sections of one chart read, built once per request.

The infusion state (the plan, the rate log, the vital signs and the sets due), the check-in record and what
sign-off still lacks are each read by more than one section. ``chart_state(visit)`` builds each on first use and
keeps it on the visit object, which lives for one request: a section rendered alone (an htmx refresh, the answer to
a post) builds only what it reads, and every save reads the visit again, so nothing kept outlives a write.
"""

from datetime import datetime
from functools import cached_property

from django.utils import timezone

from visits.chart.infusion.services import InfusionState, infusion_state
from visits.chart.signoff.services import Missing, signoff_missing
from visits.models import Visit, VisitVerification


class ChartState:
    def __init__(self, visit: Visit, now: datetime | None = None):
        self.visit = visit
        self.now = now or timezone.now()

    @cached_property
    def infusion(self) -> InfusionState:
        return infusion_state(visit=self.visit, now=self.now)

    @cached_property
    def verifications(self) -> list[VisitVerification]:
        """The live check-in record and the voided ones, in one query."""
        if self.visit.pk is None:
            return []
        return list(VisitVerification.objects.filter(visit=self.visit).select_related("nurse", "voided_by"))

    @property
    def verification(self) -> VisitVerification | None:
        return next((row for row in self.verifications if row.voided_at is None), None)

    @property
    def voided_verifications(self) -> list[VisitVerification]:
        return [row for row in self.verifications if row.voided_at is not None]

    @cached_property
    def signoff_missing(self) -> list[Missing]:
        return signoff_missing(visit=self.visit, now=self.now, state=self.infusion, verification=self.verification)


def chart_state(visit: Visit) -> ChartState:
    state = visit.__dict__.get("_chart_state")
    if state is None:
        state = visit._chart_state = ChartState(visit)
    return state
