"""Order presets by indication, from the labels and the usual regimens: a coordinator picks one and the order form
is filled with it (every field stays editable)."""

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Preset:
    key: str
    title: str
    summary: str
    product: str | None  # catalog brand, or None to keep the product chosen (any IVIG)
    indications: tuple[str, ...] = ()  # the indications it is meant for; empty: any
    fields: dict = field(default_factory=dict)


PRESETS = {
    preset.key: preset
    for preset in (
        Preset(
            key="octagam-dm",
            title="Octagam 10% for dermatomyositis",
            summary="2 g/kg per cycle split over 5 consecutive days (2–5 allowed), every 4 weeks (Octagam 10% label).",
            product="Octagam 10%",
            indications=("dm",),
            fields={
                "dose_rule": "g_per_kg",
                "dose_amount": "2",
                "regimen": "cycle",
                "days_per_cycle": 5,
                "interval_weeks": 4,
            },
        ),
        Preset(
            key="ivig-pemphigus",
            title="IVIG for pemphigus or pemphigoid",
            summary="2 g/kg per cycle over 5 days, every 4 weeks (2–4 used); off-label for most IVIG products.",
            product=None,
            indications=("pemphigus", "pemphigoid"),
            fields={
                "dose_rule": "g_per_kg",
                "dose_amount": "2",
                "regimen": "cycle",
                "days_per_cycle": 5,
                "interval_weeks": 4,
            },
        ),
        Preset(
            key="rituximab",
            title="Rituximab 1,000 mg days 1 and 15",
            summary="1,000 mg on day 1 and day 15, repeated every 6 months.",
            product="Rituxan",
            fields={
                "dose_rule": "flat_mg",
                "dose_amount": "1000",
                "regimen": "paired",
                "days_per_cycle": 1,
                "second_dose_day": 15,
                "interval_months": 6,
            },
        ),
        Preset(
            key="infliximab",
            title="Infliximab induction and maintenance",
            summary="5 mg/kg at weeks 0, 2 and 6, then every 8 weeks (3–5 mg/kg every 4–8 weeks).",
            product="Remicade",
            fields={
                "dose_rule": "mg_per_kg",
                "dose_amount": "5",
                "regimen": "induction",
                "days_per_cycle": 1,
                "induction_weeks": [0, 2, 6],
                "interval_weeks": 8,
            },
        ),
        Preset(
            key="abatacept",
            title="Abatacept IV induction and maintenance",
            summary="Weight-tiered (below 60 kg 500 mg, 60–100 kg 750 mg, above 100 kg 1,000 mg) at weeks 0, 2 and "
            "4, then every 4 weeks.",
            product="Orencia IV",
            fields={
                "dose_rule": "weight_tiered",
                "regimen": "induction",
                "days_per_cycle": 1,
                "induction_weeks": [0, 2, 4],
                "interval_weeks": 4,
            },
        ),
    )
}
