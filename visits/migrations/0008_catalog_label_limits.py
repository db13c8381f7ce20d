"""The catalog's label limits per indication, and the fixes an audit against the US labels found.

Weight-based rates in mL/kg/hr (label mL/kg/min × 60). Where a label states two figures for one limit the lower
is used. Where a label asks only for "the minimum infusion rate practicable" for patients at risk of renal
dysfunction or thrombosis, the agency's ceiling of 0.03 mL/kg/min (1.8 mL/kg/hr) is held and marked as policy.
Dose ranges are in the unit of dose_rule per cycle (g/kg for immune globulin, mg for flat doses).
"""

from decimal import Decimal as D

from django.db import migrations

AGENCY_AT_RISK = D("1.8")  # 0.03 mL/kg/min × 60: agency policy where the label gives no number
AGENCY_NOTE = "agency policy: the label asks for the minimum rate practicable"

# name: fields changed on Product, each with the old value (so the migration can be reversed and tested).
PRODUCT_FIXES = {
    "Octagam 10%": {
        "at_risk_max_ml_per_kg_hr": (D("1.98"), D("1.8")),
        "label_notes": (
            None,
            "Octagam 10% US PI (dermatomyositis, section 2): 2 g/kg every 4 weeks over 2-5 consecutive days; start "
            "0.01 mL/kg/min (1 mg/kg/min), raise every 30 min if tolerated to 0.04 mL/kg/min (4 mg/kg/min). At risk "
            "of renal dysfunction or thrombosis the label gives '3.3 mg/kg/min (0.03 mL/kg/min)': the lower figure, "
            "0.03 mL/kg/min (1.8 mL/kg/hr), is used. Also labelled for chronic ITP in adults.",
        ),
    },
    "Privigen": {
        "at_risk_max_ml_per_kg_hr": (None, AGENCY_AT_RISK),
        "at_risk_max_is_agency_policy": (False, True),
        "label_notes": (
            None,
            "Privigen US PI section 2: start 0.005 mL/kg/min (0.5 mg/kg/min); maximum 0.08 mL/kg/min for PI and "
            "CIDP, 0.04 mL/kg/min for chronic ITP. Agency step: +0.01 mL/kg/min every 30 min. At risk: "
            f"{AGENCY_NOTE}; ceiling 0.03 mL/kg/min (1.8 mL/kg/hr).",
        ),
    },
    "Gamunex-C": {
        "at_risk_max_ml_per_kg_hr": (None, AGENCY_AT_RISK),
        "at_risk_max_is_agency_policy": (False, True),
        "label_notes": (
            None,
            "Gamunex-C US PI section 2 (IV doses and rates): start 0.01 mL/kg/min for PI and ITP, 0.02 mL/kg/min "
            "for CIDP, for the first 30 min; maximum 0.08 mL/kg/min. Agency step: +0.01 mL/kg/min every 30 min. "
            f"At risk: {AGENCY_NOTE}; ceiling 0.03 mL/kg/min (1.8 mL/kg/hr).",
        ),
    },
    "Panzyga": {
        "at_risk_max_ml_per_kg_hr": (None, D("1.98")),
        "label_notes": (
            None,
            "Panzyga US PI section 2: start 0.01 mL/kg/min for 30 min, then step every 15-30 min (30 used; agency "
            "step +0.02 mL/kg/min) to 0.14 mL/kg/min (PI), 0.12 (CIDP) or 0.08 (chronic ITP). At risk of renal "
            "dysfunction or thrombosis 3.3 mg/kg/min (0.033 mL/kg/min = 1.98 mL/kg/hr), from the manufacturer's "
            "dosing page.",
        ),
    },
    "Gammagard Liquid": {
        "at_risk_max_ml_per_kg_hr": (None, AGENCY_AT_RISK),
        "at_risk_max_is_agency_policy": (False, True),
        "label_notes": (
            None,
            "Gammagard Liquid US PI section 2: start 0.5 mL/kg/hr for 30 min, raise every 30 min if tolerated to "
            "5 mL/kg/hr (PI) or 5.4 mL/kg/hr (CIDP). Agency step: +1 mL/kg/hr. At risk: "
            f"{AGENCY_NOTE}; ceiling 1.8 mL/kg/hr.",
        ),
    },
    "Rituxan": {
        "min_concentration_mg_per_ml": (None, D("1")),
        "max_concentration_mg_per_ml": (None, D("4")),
    },
    "Remicade": {
        # Remicade US PI section 2 (preparation): the infusion concentration ranges between 0.4 and 4 mg/mL.
        "min_concentration_mg_per_ml": (None, D("0.4")),
        "max_concentration_mg_per_ml": (None, D("4")),
    },
    "Orencia IV": {
        # Orencia US PI section 2.1: the highest weight tier (above 100 kg) is 1,000 mg; no larger dose is labelled.
        "max_single_dose_mg": (None, 1000),
    },
    "Solu-Medrol": {
        # Pulse therapy 500-1,000 mg daily: a larger single dose needs a second confirmation.
        "max_single_dose_mg": (None, 1000),
        "label_notes": (
            None,
            "Pulse of 500-1,000 mg daily for 3 days; given over at least 30-60 min (60 used). Single doses above "
            "1,000 mg need a second confirmation.",
        ),
    },
}


def per_min(value: str) -> D:
    return D(value) * 60


OCTAGAM = "Octagam 10% US PI section 2"
PRIVIGEN = "Privigen US PI section 2"
GAMUNEX = "Gamunex-C US PI section 2, table of IV doses and infusion rates"
PANZYGA = "Panzyga US PI section 2"
GAMMAGARD = "Gammagard Liquid US PI section 2"

# (product, indication, fields, source). Rates not given fall back to the product's own.
LABEL_LIMITS = [
    (
        "Octagam 10%",
        "dm",
        {"start": per_min("0.01"), "step": per_min("0.01"), "interval": 30, "max": per_min("0.04")}
        | {"at_risk": D("1.8"), "dose_rule": "g_per_kg", "dose_min": D("2"), "dose_max": D("2")},
        f"{OCTAGAM} (dermatomyositis): 2 g/kg every 4 weeks over 2-5 days; start 0.01 mL/kg/min, +0.01 every 30 "
        "min to 0.04 mL/kg/min; at risk '3.3 mg/kg/min (0.03 mL/kg/min)', the lower 0.03 used",
    ),
    (
        "Octagam 10%",
        "itp",
        {"start": per_min("0.01"), "step": per_min("0.01"), "interval": 30, "max": per_min("0.12")}
        | {"at_risk": D("1.8"), "dose_rule": "g_per_kg", "dose_min": D("2"), "dose_max": D("2")},
        f"{OCTAGAM} (chronic ITP, adults): 1 g/kg daily for 2 consecutive days; start 0.01 mL/kg/min, up to "
        "0.12 mL/kg/min; at risk 0.03 mL/kg/min as for dermatomyositis",
    ),
    (
        "Privigen",
        "pi",
        {"start": per_min("0.005"), "max": per_min("0.08"), "at_risk": AGENCY_AT_RISK, "policy": True}
        | {"dose_rule": "g_per_kg", "dose_min": D("0.2"), "dose_max": D("0.8")},
        f"{PRIVIGEN} (PI): 200-800 mg/kg every 3-4 weeks; start 0.005, maximum 0.08 mL/kg/min; at risk "
        f"{AGENCY_NOTE} (0.03 mL/kg/min)",
    ),
    (
        "Privigen",
        "cidp",
        {"start": per_min("0.005"), "max": per_min("0.08"), "at_risk": AGENCY_AT_RISK, "policy": True}
        | {"dose_rule": "g_per_kg", "dose_min": D("1"), "dose_max": D("2")},
        f"{PRIVIGEN} (CIDP): loading 2 g/kg, maintenance 1 g/kg every 3 weeks; start 0.005, maximum 0.08 "
        f"mL/kg/min; at risk {AGENCY_NOTE} (0.03 mL/kg/min)",
    ),
    (
        "Privigen",
        "itp",
        {"start": per_min("0.005"), "max": per_min("0.04"), "at_risk": AGENCY_AT_RISK, "policy": True}
        | {"dose_rule": "g_per_kg", "dose_min": D("2"), "dose_max": D("2")},
        f"{PRIVIGEN} (chronic ITP): 1 g/kg daily for 2 days; start 0.005, maximum 0.04 mL/kg/min; at risk "
        f"{AGENCY_NOTE} (0.03 mL/kg/min)",
    ),
    (
        "Gamunex-C",
        "pi",
        {"start": per_min("0.01"), "max": per_min("0.08"), "at_risk": AGENCY_AT_RISK, "policy": True}
        | {"dose_rule": "g_per_kg", "dose_min": D("0.3"), "dose_max": D("0.6")},
        f"{GAMUNEX} (PI): 300-600 mg/kg every 3-4 weeks; start 0.01, maximum 0.08 mL/kg/min; at risk "
        f"{AGENCY_NOTE} (0.03 mL/kg/min)",
    ),
    (
        "Gamunex-C",
        "cidp",
        {"start": per_min("0.02"), "max": per_min("0.08"), "at_risk": AGENCY_AT_RISK, "policy": True}
        | {"dose_rule": "g_per_kg", "dose_min": D("1"), "dose_max": D("2")},
        f"{GAMUNEX} (CIDP): loading 2 g/kg, maintenance 1 g/kg every 3 weeks; start 0.02, maximum 0.08 "
        f"mL/kg/min; at risk {AGENCY_NOTE} (0.03 mL/kg/min)",
    ),
    (
        "Gamunex-C",
        "itp",
        {"start": per_min("0.01"), "max": per_min("0.08"), "at_risk": AGENCY_AT_RISK, "policy": True}
        | {"dose_rule": "g_per_kg", "dose_min": D("2"), "dose_max": D("2")},
        f"{GAMUNEX} (ITP): 2 g/kg; start 0.01, maximum 0.08 mL/kg/min; at risk {AGENCY_NOTE} (0.03 mL/kg/min)",
    ),
    (
        "Panzyga",
        "pi",
        {"start": per_min("0.01"), "max": per_min("0.14"), "at_risk": D("1.98")}
        | {"dose_rule": "g_per_kg", "dose_min": D("0.3"), "dose_max": D("0.6")},
        f"{PANZYGA} (PI): 300-600 mg/kg every 3-4 weeks; start 0.01, maximum 0.14 mL/kg/min; at risk 0.033 "
        "mL/kg/min (manufacturer's dosing page)",
    ),
    (
        "Panzyga",
        "cidp",
        {"start": per_min("0.01"), "max": per_min("0.12"), "at_risk": D("1.98")}
        | {"dose_rule": "g_per_kg", "dose_min": D("1"), "dose_max": D("2")},
        f"{PANZYGA} (CIDP): loading 2 g/kg, maintenance 1-2 g/kg every 3 weeks; start 0.01, maximum 0.12 "
        "mL/kg/min; at risk 0.033 mL/kg/min (manufacturer's dosing page)",
    ),
    (
        "Panzyga",
        "itp",
        {"start": per_min("0.01"), "max": per_min("0.08"), "at_risk": D("1.98")}
        | {"dose_rule": "g_per_kg", "dose_min": D("2"), "dose_max": D("2")},
        f"{PANZYGA} (chronic ITP): 1 g/kg daily for 2 days; start 0.01, maximum 0.08 mL/kg/min; at risk 0.033 "
        "mL/kg/min (manufacturer's dosing page)",
    ),
    (
        "Gammagard Liquid",
        "pi",
        {"start": D("0.5"), "max": D("5"), "at_risk": AGENCY_AT_RISK, "policy": True}
        | {"dose_rule": "g_per_kg", "dose_min": D("0.3"), "dose_max": D("0.6")},
        f"{GAMMAGARD} (PI): 300-600 mg/kg every 3-4 weeks; start 0.5 mL/kg/hr, up to 5 mL/kg/hr; at risk "
        f"{AGENCY_NOTE} (1.8 mL/kg/hr)",
    ),
    (
        "Gammagard Liquid",
        "cidp",
        {"start": D("0.5"), "max": D("5.4"), "at_risk": AGENCY_AT_RISK, "policy": True}
        | {"dose_rule": "g_per_kg", "dose_min": D("1"), "dose_max": D("2")},
        f"{GAMMAGARD} (CIDP): induction 2 g/kg, maintenance 1 g/kg every 3 weeks; start 0.5 mL/kg/hr, up to 5.4 "
        f"mL/kg/hr; at risk {AGENCY_NOTE} (1.8 mL/kg/hr)",
    ),
    (
        "Rituxan",
        "pemphigus",
        {"dose_rule": "flat_mg", "dose_min": D("500"), "dose_max": D("1000")},
        "Rituxan US PI section 2 (pemphigus vulgaris): 1,000 mg on days 1 and 15, then 500 mg at month 12 and "
        "every 6 months; rates as the product's",
    ),
    (
        "Rituxan",
        "other",
        {},
        "Rituxan US PI sections 1-2: labelled for NHL, CLL, rheumatoid arthritis, GPA and MPA, which the catalog "
        "files under other; rates as the product's",
    ),
]


def limit_defaults(fields: dict, source: str) -> dict:
    return {
        "start_ml_per_kg_hr": fields.get("start"),
        "step_ml_per_kg_hr": fields.get("step"),
        "step_interval_min": fields.get("interval"),
        "max_ml_per_kg_hr": fields.get("max"),
        "at_risk_max_ml_per_kg_hr": fields.get("at_risk"),
        "at_risk_is_agency_policy": fields.get("policy", False),
        "dose_rule": fields.get("dose_rule", ""),
        "dose_min": fields.get("dose_min"),
        "dose_max": fields.get("dose_max"),
        "source": source,
    }


def apply_label_limits(apps, schema_editor):
    Product = apps.get_model("visits", "Product")
    LabelLimit = apps.get_model("visits", "LabelLimit")
    for name, changes in PRODUCT_FIXES.items():
        product = Product.objects.filter(name=name).first()
        if product is None:
            continue  # removed from the catalog in the admin
        for field, (_, new) in changes.items():
            setattr(product, field, new)
        product.save()
    for name, indication, fields, source in LABEL_LIMITS:
        product = Product.objects.filter(name=name).first()
        if product is not None:
            LabelLimit.objects.update_or_create(
                product=product, indication=indication, defaults=limit_defaults(fields, source)
            )


def restore_old_values(apps, schema_editor):
    Product = apps.get_model("visits", "Product")
    LabelLimit = apps.get_model("visits", "LabelLimit")
    for name, indication, _, _ in LABEL_LIMITS:
        LabelLimit.objects.filter(product__name=name, indication=indication).delete()
    for name, changes in PRODUCT_FIXES.items():
        product = Product.objects.filter(name=name).first()
        if product is None:
            continue
        for field, (old, _) in changes.items():
            if old is not None or field != "label_notes":
                setattr(product, field, old)
        product.save()


class Migration(migrations.Migration):
    dependencies = [("visits", "0007_label_limits_and_scig")]

    operations = [migrations.RunPython(apply_label_limits, restore_old_values)]
