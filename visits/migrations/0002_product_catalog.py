"""The product catalog, from the US labels (DESIGN §3). Editable afterwards in the admin.

Weight-based rates are stored in mL/kg/hr (label mL/kg/min × 60). Where a label
leaves the step open ("increase gradually if tolerated"), the agency's step is
used and label_notes says so.
"""

from decimal import Decimal as D

from django.db import migrations

G = 1000  # mg per gram

CATALOG = [
    {
        "name": "Octagam 10%",
        "drug": "Immune globulin intravenous (human), 10%",
        "therapy": "ivig",
        "manufacturer": "Octapharma",
        "concentration_mg_per_ml": D("100"),
        "vial_sizes_mg": [2 * G, 5 * G, 10 * G, 20 * G, 30 * G],
        "rate_basis": "weight",
        "label_rate_unit": "mL/kg/min",
        "start_ml_per_kg_hr": D("0.6"),
        "step_ml_per_kg_hr": D("0.6"),
        "max_ml_per_kg_hr": D("2.4"),
        "at_risk_max_ml_per_kg_hr": D("1.98"),
        "step_interval_min": 30,
        "label_notes": "Approved for dermatomyositis: 2 g/kg every 4 weeks over 2-5 consecutive days. Start "
        "0.01 mL/kg/min (1 mg/kg/min), raise every 30 min if tolerated to 0.04 mL/kg/min; 0.033 mL/kg/min at most "
        "for patients at risk of renal dysfunction or thrombosis.",
    },
    {
        "name": "Privigen",
        "drug": "Immune globulin intravenous (human), 10% liquid",
        "therapy": "ivig",
        "manufacturer": "CSL Behring",
        "concentration_mg_per_ml": D("100"),
        "vial_sizes_mg": [5 * G, 10 * G, 20 * G, 40 * G],
        "rate_basis": "weight",
        "label_rate_unit": "mL/kg/min",
        "start_ml_per_kg_hr": D("0.3"),
        "step_ml_per_kg_hr": D("0.6"),
        "max_ml_per_kg_hr": D("4.8"),
        "step_interval_min": 30,
        "label_notes": "Start 0.005 mL/kg/min (0.5 mg/kg/min); maximum 0.08 mL/kg/min. Agency step: +0.01 "
        "mL/kg/min every 30 min. For patients at risk the label asks for the minimum practicable rate.",
    },
    {
        "name": "Gamunex-C",
        "drug": "Immune globulin injection (human), 10% caprylate/chromatography purified",
        "therapy": "ivig",
        "manufacturer": "Grifols",
        "concentration_mg_per_ml": D("100"),
        "vial_sizes_mg": [1 * G, 2500, 5 * G, 10 * G, 20 * G, 40 * G],
        "rate_basis": "weight",
        "label_rate_unit": "mL/kg/min",
        "start_ml_per_kg_hr": D("0.6"),
        "step_ml_per_kg_hr": D("0.6"),
        "max_ml_per_kg_hr": D("4.8"),
        "step_interval_min": 30,
        "label_notes": "Start 0.01-0.02 mL/kg/min (the lower start is used); maximum 0.08 mL/kg/min. Agency step: "
        "+0.01 mL/kg/min every 30 min.",
    },
    {
        "name": "Panzyga",
        "drug": "Immune globulin intravenous (human), 10% liquid",
        "therapy": "ivig",
        "manufacturer": "Pfizer",
        "concentration_mg_per_ml": D("100"),
        "vial_sizes_mg": [1 * G, 2500, 5 * G, 10 * G, 20 * G, 30 * G],
        "rate_basis": "weight",
        "label_rate_unit": "mL/kg/min",
        "start_ml_per_kg_hr": D("0.6"),
        "step_ml_per_kg_hr": D("1.2"),
        "max_ml_per_kg_hr": D("7.2"),
        "step_interval_min": 30,
        "label_notes": "Start 0.01 mL/kg/min for 30 min, then step every 15-30 min (30 used) to 0.12 mL/kg/min "
        "(CIDP). Agency step: +0.02 mL/kg/min.",
    },
    {
        "name": "Gammagard Liquid",
        "drug": "Immune globulin infusion (human), 10%",
        "therapy": "ivig",
        "manufacturer": "Takeda",
        "concentration_mg_per_ml": D("100"),
        "vial_sizes_mg": [1 * G, 2500, 5 * G, 10 * G, 20 * G, 30 * G],
        "rate_basis": "weight",
        "label_rate_unit": "mL/kg/hr",
        "start_ml_per_kg_hr": D("0.5"),
        "step_ml_per_kg_hr": D("1.0"),
        "max_ml_per_kg_hr": D("5.0"),
        "step_interval_min": 30,
        "label_notes": "Start 0.5 mL/kg/hr for 30 min, raise every 30 min if tolerated to 5 mL/kg/hr. Agency step: "
        "+1 mL/kg/hr.",
    },
    {
        "name": "Hizentra",
        "drug": "Immune globulin subcutaneous (human), 20% liquid",
        "therapy": "scig",
        "manufacturer": "CSL Behring",
        "route": "SC",
        "concentration_mg_per_ml": D("200"),
        "vial_sizes_mg": [1 * G, 2 * G, 4 * G, 10 * G],
        "rate_basis": "fixed_duration",
        "infusion_duration_min": 60,
        "label_notes": "Weekly at home through several sites at once; first infusions up to 15 mL/hr/site, later "
        "up to 25 mL/hr/site and 50 mL/hr in all. Planned as about 60 min of infusion.",
    },
    {
        "name": "Rituxan",
        "drug": "Rituximab",
        "therapy": "rituximab",
        "manufacturer": "Genentech",
        "concentration_mg_per_ml": D("2"),
        "vial_sizes_mg": [100, 500],
        "rate_basis": "mg_per_hr",
        "first_start_mg_per_hr": D("50"),
        "first_step_mg_per_hr": D("50"),
        "later_start_mg_per_hr": D("100"),
        "later_step_mg_per_hr": D("100"),
        "max_mg_per_hr": D("400"),
        "step_interval_min": 30,
        "label_notes": "Diluted to 1-4 mg/mL (1,000 mg in 500 mL = 2 mg/mL). First infusion 50 mg/hr, +50 mg/hr "
        "every 30 min to 400 mg/hr; later infusions 100 mg/hr, +100 mg/hr every 30 min to 400 mg/hr.",
    },
    {
        "name": "Remicade",
        "drug": "Infliximab",
        "therapy": "infliximab",
        "manufacturer": "Janssen",
        "concentration_mg_per_ml": D("10"),
        "diluted_volume_ml": 250,
        "vial_sizes_mg": [100],
        "rate_basis": "fixed_duration",
        "infusion_duration_min": 120,
        "label_notes": "3-5 mg/kg at weeks 0, 2 and 6, then every 4-8 weeks; diluted in 250 mL and given over at "
        "least 2 hours.",
    },
    {
        "name": "Orencia IV",
        "drug": "Abatacept",
        "therapy": "abatacept",
        "manufacturer": "Bristol-Myers Squibb",
        "concentration_mg_per_ml": D("25"),
        "diluted_volume_ml": 100,
        "vial_sizes_mg": [250],
        "rate_basis": "fixed_duration",
        "infusion_duration_min": 30,
        "label_notes": "Below 60 kg 500 mg; 60-100 kg 750 mg; above 100 kg 1,000 mg; weeks 0, 2, 4 then every 4 "
        "weeks; diluted to 100 mL over 30 min.",
    },
    {
        "name": "Solu-Medrol",
        "drug": "Methylprednisolone sodium succinate",
        "therapy": "methylprednisolone",
        "manufacturer": "Pfizer",
        "concentration_mg_per_ml": D("62.5"),
        "diluted_volume_ml": 250,
        "vial_sizes_mg": [40, 125, 500, 1000],
        "rate_basis": "fixed_duration",
        "infusion_duration_min": 60,
        "label_notes": "Pulse of 500-1,000 mg daily for 3 days; given over at least 30-60 min (60 used).",
    },
    {
        "name": "Cyclophosphamide",
        "drug": "Cyclophosphamide",
        "therapy": "cyclophosphamide",
        "manufacturer": "Baxter",
        "concentration_mg_per_ml": D("20"),
        "diluted_volume_ml": 250,
        "vial_sizes_mg": [500, 1000, 2000],
        "rate_basis": "fixed_duration",
        "infusion_duration_min": 60,
        "label_notes": "Dosed in mg/m2 monthly as ordered; diluted in 250 mL over 60 min unless the order says "
        "otherwise.",
    },
]


def add_catalog(apps, schema_editor):
    Product = apps.get_model("visits", "Product")
    for entry in CATALOG:
        Product.objects.update_or_create(name=entry["name"], defaults=entry)


def remove_catalog(apps, schema_editor):
    apps.get_model("visits", "Product").objects.filter(name__in=[entry["name"] for entry in CATALOG]).delete()


class Migration(migrations.Migration):
    dependencies = [("visits", "0001_initial")]

    operations = [migrations.RunPython(add_catalog, remove_catalog)]
