"""The sections of the visit chart, in the order a visit happens.

Each section has a ``section.py`` in its package under visits/chart/ with ``context(*, visit, user, bound=None)``
giving what its template needs (``bound`` holds forms posted with errors, to show them again), and a template
under templates/visits/chart/sections/. The chart page shows them all; each section saves on its own.
"""

from dataclasses import dataclass
from importlib import import_module


@dataclass(frozen=True)
class Section:
    key: str
    title: str
    module: str

    @property
    def template(self) -> str:
        return f"visits/chart/sections/{self.key}.html"

    def context(self, *, visit, user, bound=None) -> dict:
        return import_module(f"visits.chart.{self.module}.section").context(visit=visit, user=user, bound=bound)


SECTIONS = [
    Section("checkin", "Check-in", "checkin"),
    Section("checklist", "Before the infusion", "checklist"),
    Section("vials", "Vials and lots", "checklist"),
    Section("infusion", "Infusion and rate", "infusion"),
    Section("vitals", "Vital signs", "infusion"),
    Section("reactions", "Reactions", "signoff"),
    Section("signoff", "Observation, note and signature", "signoff"),
    Section("outcomes", "Outcome measures", "signoff"),
]
SECTION_KEYS = {section.key: section for section in SECTIONS}
