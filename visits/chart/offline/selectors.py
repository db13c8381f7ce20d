from datetime import timedelta

from django.conf import settings
from django.db.models import F, Q
from django.urls import NoReverseMatch, reverse

from visits.models import ClientWrite, Visit

# What each chart write is, in the nurse's words (the url names of visits.chart.urls).
ENTRY_WORDS = {
    "check_in": "Check-in",
    "check_out": "Check-out",
    "check_in_undo": "Check-in undone",
    "checklist_save": "Checklist answers",
    "checklist_override": "Checklist override",
    "checklist_complete": "Checklist completed",
    "premedication_add": "Premedication",
    "vial_add": "Vial",
    "vial_remove": "Vial removed",
    "infusion_start": "Infusion start",
    "infusion_rate": "Rate change",
    "infusion_end": "Infusion end",
    "vitals_add": "Vital-sign set",
    "assessment_add": "Assessment",
    "reaction_add": "Reaction",
    "addendum_add": "Addendum",
    "outcome_add": "Outcome measure",
}

# Days kept on the tablet: today and tomorrow (DESIGN §4: the nurse's own visits, nothing more).
KEPT_DAYS = 2


def pages_to_keep(days) -> list[str]:
    """The addresses the tablet keeps for offline use: My day, and each chart (with its strip) of her visits today
    and tomorrow (``days`` as My day lists them, today first)."""
    urls = [reverse("visits:today")]
    for day in days[:KEPT_DAYS]:
        for visit in day.visits:
            urls += [reverse("visits:chart", args=[visit.pk]), reverse("visits:next", args=[visit.pk])]
    return urls


def entry_words_by_url(visit: Visit) -> dict[str, str]:
    """Each chart write's address after the chart's own (``vitals/``) → what it is, so the tablet names its waiting
    entries. Only the tail: the page offers no write it does not show a form for."""
    chart = reverse("visits:chart", args=[visit.pk])
    words = {}
    for name, text in ENTRY_WORDS.items():
        try:
            words[reverse(f"visits:{name}", args=[visit.pk]).removeprefix(chart)] = text
        except NoReverseMatch:  # an entry on a row of the chart (a vial removed) is named by its section
            continue
    return words


# The chart lists the latest entries; a visit worked offline from start to end can hold many more.
OFFLINE_ENTRIES_SHOWN = 20


def offline_entries(visit: Visit, *, limit: int | None = OFFLINE_ENTRIES_SHOWN) -> list[ClientWrite]:
    """The visit's entries that waited on a tablet before they were sent, and those the nurse discarded there,
    latest first: ``limit`` of them and one more (so the chart knows there are more), or all with None."""
    late = F("client_at") + timedelta(seconds=settings.RECORDED_OFFLINE_AFTER_S)
    rows = (
        ClientWrite.objects.filter(visit=visit)
        .filter(Q(kept_on_tablet=True) | ~Q(discarded_reason="") | Q(client_at__isnull=False, received_at__gt=late))
        .select_related("user")
        .order_by("-received_at", "-pk")
    )
    kept = list(rows if limit is None else rows[: limit + 1])
    for row in kept:
        row.words = ENTRY_WORDS.get(row.action, row.action)
    return kept
