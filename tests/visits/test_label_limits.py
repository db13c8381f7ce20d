"""The catalog holds each label's limits per indication, and every plan stays within them.

Sources: each product's US prescribing information, section 2 (Dosage and administration); Panzyga's at-risk
figure from the manufacturer's dosing page. Rates in mL/kg/min × weight × 60 = mL/hr.
"""

import importlib
from decimal import Decimal

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests import factories
from visits import clinical
from visits.models import Indication, LabelLimit, Product, Therapy

D = Decimal


def plan(name, *, indication, weight, at_risk=False, volume=2000):
    protocol = factories.product(name).protocol_for(indication)
    return clinical.titration_plan(protocol=protocol, weight_kg=weight, volume_ml=volume, at_risk=at_risk)


def test_octagam_at_risk_70_kg_is_126_ml_per_hr(db):
    # Octagam 10% PI: at risk "3.3 mg/kg/min (0.03 mL/kg/min)"; the lower figure: 0.03 × 70 × 60 = 126.0.
    result = plan("Octagam 10%", indication="dm", weight=70, at_risk=True)
    assert result.max_ml_per_hr == D("126.0")
    assert factories.product("Octagam 10%").at_risk_max_ml_per_kg_hr == D("1.8")


def test_octagam_for_dermatomyositis_70_kg_maximum_168_ml_per_hr(db):
    # Octagam 10% PI (dermatomyositis): maximum 0.04 mL/kg/min × 70 × 60 = 168.0.
    assert plan("Octagam 10%", indication="dm", weight=70).max_ml_per_hr == D("168.0")


def test_panzyga_at_risk_70_kg_is_at_most_138_6_ml_per_hr(db):
    # Panzyga manufacturer's dosing page: at risk 3.3 mg/kg/min = 0.033 mL/kg/min × 70 × 60 = 138.6.
    for indication in ("pi", "cidp", "itp", "dm", ""):
        assert plan("Panzyga", indication=indication, weight=70, at_risk=True).max_ml_per_hr <= D("138.6")
    assert plan("Panzyga", indication="pi", weight=70, at_risk=True).max_ml_per_hr == D("138.6")


def test_panzyga_maxima_per_indication(db):
    # Panzyga PI section 2: PI 0.14, CIDP 0.12, ITP 0.08 mL/kg/min (× 70 × 60 = 588, 504, 336 mL/hr).
    assert plan("Panzyga", indication="pi", weight=70).max_ml_per_hr == D("588.0")
    assert plan("Panzyga", indication="cidp", weight=70).max_ml_per_hr == D("504.0")
    assert plan("Panzyga", indication="itp", weight=70).max_ml_per_hr == D("336.0")


def test_privigen_maximum_is_168_for_itp_and_336_for_pi_and_cidp_at_70_kg(db):
    # Privigen PI section 2: 0.04 mL/kg/min for chronic ITP, 0.08 for PI and CIDP.
    assert plan("Privigen", indication="itp", weight=70).max_ml_per_hr == D("168.0")
    assert plan("Privigen", indication="pi", weight=70).max_ml_per_hr == D("336.0")
    assert plan("Privigen", indication="cidp", weight=70).max_ml_per_hr == D("336.0")


def test_gamunex_c_starts_cidp_at_0_02_and_pi_at_0_01(db):
    # Gamunex-C PI table of IV doses and rates: CIDP start 2 mg/kg/min (0.02), PI and ITP 1 mg/kg/min (0.01).
    assert plan("Gamunex-C", indication="cidp", weight=70).steps[0].ml_per_hr == D("84.0")
    assert plan("Gamunex-C", indication="pi", weight=70).steps[0].ml_per_hr == D("42.0")


def test_gammagard_cidp_maximum_is_5_4_ml_per_kg_hr(db):
    # Gammagard Liquid PI section 2: CIDP up to 5.4 mL/kg/hr, PI up to 5 mL/kg/hr.
    assert plan("Gammagard Liquid", indication="cidp", weight=70).max_ml_per_hr == D("378.0")
    assert plan("Gammagard Liquid", indication="pi", weight=70).max_ml_per_hr == D("350.0")


def test_every_ivig_product_has_an_at_risk_ceiling_marked_policy_where_the_label_gives_none(db):
    ivig = list(Product.objects.filter(therapy=Therapy.IVIG))
    assert {product.name for product in ivig} >= {"Octagam 10%", "Privigen", "Gamunex-C", "Panzyga", "Gammagard Liquid"}
    for product in ivig:
        assert product.at_risk_max_ml_per_kg_hr is not None, product.name
        for limit in product.label_limits.all():
            assert limit.at_risk_max_ml_per_kg_hr is not None, limit
            assert limit.source
    policy = {product.name for product in ivig if product.at_risk_max_is_agency_policy}
    # "Minimum infusion rate practicable" is all these labels say: the agency's 0.03 mL/kg/min holds.
    assert policy == {"Privigen", "Gamunex-C", "Gammagard Liquid"}
    assert all(
        product.at_risk_max_ml_per_kg_hr == D("1.8") and "agency policy" in product.label_notes
        for product in ivig
        if product.name in policy
    )


def test_concentrations_and_single_dose_ceilings(db):
    rituximab = factories.product("Rituxan")
    assert (rituximab.min_concentration_mg_per_ml, rituximab.max_concentration_mg_per_ml) == (D("1"), D("4"))
    assert factories.product("Solu-Medrol").max_single_dose_mg == 1000


def test_off_label_uses_the_most_conservative_limits_of_the_product(db):
    # Panzyga has no dermatomyositis indication: lowest maximum (ITP 0.08) and the at-risk 0.033.
    limits = factories.product("Panzyga").limits_for("dm")
    assert limits.off_label
    assert limits.protocol.max_ml_per_kg_hr == D("4.8")
    assert limits.protocol.at_risk_max_ml_per_kg_hr == D("1.98")


def test_no_indication_uses_the_products_own_fields(db):
    product = factories.product("Panzyga")
    assert product.limits_for("").protocol == product.protocol()


@pytest.mark.parametrize(
    ("code", "indication"),
    [
        ("M33.10", "dm"),
        ("m33.12", "dm"),
        ("G61.81", "cidp"),
        ("D80.1", "pi"),
        ("D83.9", "pi"),
        ("D84.9", "pi"),
        ("D69.3", "itp"),
        ("L10.0", "pemphigus"),
        ("L12.0", "pemphigoid"),
        ("M05.79", "other"),
        ("D85", "other"),
        ("", ""),
    ],
)
def test_the_indication_follows_the_icd10_code(code, indication):
    assert Indication.for_icd10(code) == indication


def expected_ceiling(product, rows, indication, at_risk):
    """The ceiling in mL/kg/hr by the rules, computed independently of Product.limits_for."""
    row = next((r for r in rows if r["indication"] == indication), None)
    own_max, own_risk = product["max"], product["at_risk"]
    if not indication or not rows:
        maximum, risk = own_max, own_risk
    elif row is not None:
        maximum = row["max"] or own_max
        risk = row["at_risk"] if row["at_risk"] is not None else own_risk
    else:
        maximum = min([r["max"] for r in rows if r["max"] is not None] + [own_max])
        risks = [r["at_risk"] for r in rows if r["at_risk"] is not None] + ([own_risk] if own_risk else [])
        risk = min(risks) if risks else None
    return min(maximum, risk) if at_risk and risk is not None else maximum


def test_no_planned_step_exceeds_the_label_limit_for_the_indication_and_risk(db):
    products = list(Product.objects.filter(rate_basis=Product.RateBasis.WEIGHT).prefetch_related("label_limits"))
    assert len(products) >= 5
    data = {
        product.name: (
            product,
            {"max": product.max_ml_per_kg_hr, "at_risk": product.at_risk_max_ml_per_kg_hr},
            [
                {"indication": r.indication, "max": r.max_ml_per_kg_hr, "at_risk": r.at_risk_max_ml_per_kg_hr}
                for r in product.label_limits.all()
            ],
        )
        for product in products
    }
    indications = [""] + list(Indication.values)

    @settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(
        weight=st.decimals(min_value=2, max_value=350, places=1),
        name=st.sampled_from(sorted(data)),
        indication=st.sampled_from(indications),
        at_risk=st.booleans(),
        volume=st.decimals(min_value=10, max_value=3500, places=0),
    )
    def check(weight, name, indication, at_risk, volume):
        product, own, rows = data[name]
        protocol = product.protocol_for(indication)
        result = clinical.titration_plan(protocol=protocol, weight_kg=weight, volume_ml=volume, at_risk=at_risk)
        ceiling_ml_per_hr = weight * expected_ceiling(own, rows, indication, at_risk)
        assert result.max_ml_per_hr <= ceiling_ml_per_hr
        assert all(step.ml_per_hr <= ceiling_ml_per_hr for step in result.steps)
        if at_risk:  # every IVIG product has an at-risk ceiling, label or policy
            assert protocol.at_risk_max_ml_per_kg_hr is not None

    check()


@pytest.mark.django_db(transaction=True)
def test_the_migration_fixes_a_catalog_holding_the_old_values():
    before = [("visits", "0007_label_limits_and_scig")]
    executor = MigrationExecutor(connection)
    leaves = executor.loader.graph.leaf_nodes()
    try:
        executor.migrate(before)
        executor.loader.build_graph()
        old_apps = executor.loader.project_state(before).apps
        OldProduct = old_apps.get_model("visits", "Product")
        OldLabelLimit = old_apps.get_model("visits", "LabelLimit")
        if not OldProduct.objects.exists():  # a flushed test database: the catalog as 0002 seeded it
            importlib.import_module("visits.migrations.0002_product_catalog").add_catalog(old_apps, None)
        OldLabelLimit.objects.all().delete()
        OldProduct.objects.filter(name="Octagam 10%").update(at_risk_max_ml_per_kg_hr=D("1.98"))
        OldProduct.objects.filter(name__in=["Panzyga", "Privigen", "Gamunex-C", "Gammagard Liquid"]).update(
            at_risk_max_ml_per_kg_hr=None, at_risk_max_is_agency_policy=False
        )
        OldProduct.objects.filter(name="Solu-Medrol").update(max_single_dose_mg=None)

        executor = MigrationExecutor(connection)
        executor.migrate([("visits", "0008_catalog_label_limits")])
        new_apps = executor.loader.project_state([("visits", "0008_catalog_label_limits")]).apps
        NewProduct = new_apps.get_model("visits", "Product")
        NewLabelLimit = new_apps.get_model("visits", "LabelLimit")
        values = dict(NewProduct.objects.values_list("name", "at_risk_max_ml_per_kg_hr"))
        assert values["Octagam 10%"] == D("1.8")
        assert values["Panzyga"] == D("1.98")
        assert values["Privigen"] == values["Gamunex-C"] == values["Gammagard Liquid"] == D("1.8")
        assert NewProduct.objects.get(name="Privigen").at_risk_max_is_agency_policy
        assert NewProduct.objects.get(name="Solu-Medrol").max_single_dose_mg == 1000
        rituximab = NewProduct.objects.get(name="Rituxan")
        assert (rituximab.min_concentration_mg_per_ml, rituximab.max_concentration_mg_per_ml) == (D("1"), D("4"))
        privigen_itp = NewLabelLimit.objects.get(product__name="Privigen", indication="itp")
        assert privigen_itp.max_ml_per_kg_hr == D("2.4") and "Privigen" in privigen_itp.source
        assert not NewLabelLimit.objects.filter(source="").exists()
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(leaves)
    assert LabelLimit.objects.filter(product__name="Panzyga").count() == 3
