"""Reads of orders that cross relations; they own the joins so query counts stay flat."""

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count
from django.utils import timezone

from visits.models import TherapyOrder, Visit


@dataclass
class OrderVisits:
    """An order's visits as its page lists them: coming (soonest first) and past (latest first)."""

    coming: list[Visit]
    past: list[Visit]

    @property
    def coming_active(self) -> int:
        """Coming visits that will take place (not cancelled or missed): the number the preview said it would plan."""
        return sum(1 for visit in self.coming if visit.status not in (Visit.Status.CANCELLED, Visit.Status.MISSED))

    @property
    def coming_called_off(self) -> int:
        return len(self.coming) - self.coming_active


def order_visits(*, order: TherapyOrder, now: datetime | None = None) -> OrderVisits:
    """Every visit of the order, with its nurse and the number of reactions, in two queries-worth of joins."""
    now = now or timezone.now()
    visits = list(
        order.visits.select_related("nurse", "patient")
        .annotate(reaction_count=Count("reactions"))
        .order_by("planned_start", "pk")
    )
    coming = [visit for visit in visits if visit.planned_start >= now]
    past = [visit for visit in visits if visit.planned_start < now]
    past.reverse()
    return OrderVisits(coming=coming, past=past)
