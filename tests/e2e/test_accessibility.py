"""Every page of each role, checked by axe-core (vendored) at the coordinator's tablet and the patient's phone.

WCAG 2.2 AA: no serious or critical violation on any page; at 1024 px no page scrolls sideways either; and on no page
does the browser refuse anything under the Content-Security-Policy (tests/e2e/csp.py). The data are built once with the
tests' factories; each role signs in once and walks all its pages in one browser context.
"""

from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.templatetags.static import static
from django.urls import reverse
from django.utils import timezone

from infusion_site.roles import make_privacy_officer
from tests import factories
from tests.e2e.conftest import sign_in
from tests.e2e.csp import PolicyWatch
from visits.models import FollowUp, Notification, Visit, VisitSignature

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Loaded from the live server's static files, as a <script src>: the page's policy refuses an inline copy.
AXE = "vendor/axe/axe.min.js"
assert (Path(settings.BASE_DIR) / "static" / AXE).is_file()
# The WCAG 2.0, 2.1 and 2.2 A and AA rules; axe's best-practice rules are advice, not the standard we promise.
WCAG_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
BLOCKING = {"serious", "critical"}
SIZES = {"tablet": {"width": 1024, "height": 768}, "phone": {"width": 390, "height": 844}}


def in_app_notice(recipient, key):
    now = timezone.now()
    return Notification.objects.create(
        recipient=recipient,
        channel="in_app",
        kind="chart_unsigned",
        key=key,
        subject="A visit chart is waiting for your signature",
        body="Sign the chart of this morning's visit.",
        url=reverse("visits:today"),
        due_at=now,
        next_attempt_at=now,
        sent_at=now,
    )


@pytest.fixture
def pages(cast):
    """The pages of each role, as paths, over one set of data: a chart in progress, a signed one, an order."""
    nurse, patient = cast.assigned_nurse, cast.patient
    factories.CreatinineFactory(patient=patient)
    factories.AuthorizationFactory(patient=patient)
    factories.DiagnosisFactory(patient=patient)
    in_progress = factories.infusing_visit(
        nurse_user=nurse, patient=patient, order=factories.OrderFactory(patient=patient)
    )
    order = in_progress.order
    signed = factories.VisitFactory(
        order=order,
        nurse=nurse,
        status=Visit.Status.SIGNED,
        planned_start=timezone.now() - timedelta(days=3),
    )
    VisitSignature.objects.create(visit=signed, note="Given without reaction.", signed_by=nurse)
    factories.VisitFactory(order=order, planned_start=timezone.now() + timedelta(days=1))  # unassigned, on the board
    follow_up = FollowUp.objects.create(visit=signed, window=FollowUp.Window.EARLY, due_at=timezone.now())
    in_app_notice(nurse, "a11y-nurse")
    in_app_notice(cast.coordinator, "a11y-coordinator")
    make_privacy_officer(cast.coordinator)
    return {
        None: [reverse("login"), reverse("password_reset")],
        "patient-a": [
            reverse("portal:home"),
            reverse("portal:journal"),
            reverse("portal:preferences"),
            reverse("portal:follow_up", args=[follow_up.pk]),
            reverse("portal:self_infusions"),
            reverse("devices:mine"),
        ],
        "nurse-assigned": [
            reverse("visits:today"),
            reverse("visits:chart", args=[in_progress.pk]),
            reverse("visits:chart", args=[signed.pk]),
            reverse("visits:print", args=[signed.pk]),
            reverse("notifications:inbox"),
            reverse("notifications:preferences"),
            reverse("devices:mine"),
            reverse("mfa:manage"),
            reverse("emergency:start"),
        ],
        "coord": [
            reverse("patients:list"),
            reverse("patients:detail", args=[patient.pk]),
            reverse("orders:detail", args=[order.pk]),
            reverse("orders:create", args=[patient.pk]),
            reverse("schedule:board"),
            reverse("alerts:queue"),
            reverse("alerts:resolved"),
            reverse("patients:visits", args=[patient.pk]),
            reverse("patients:records", args=[patient.pk, "weights"]),
            f"{reverse('schedule:board')}?view=week",  # the board opens on 3 days: every view is walked
            f"{reverse('schedule:board')}?view=day",
            reverse("visits:recall"),
            reverse("notifications:inbox"),
            reverse("devices:staff"),
            reverse("devices:staff_devices", args=[nurse.pk]),
            reverse("emergency:list"),
            reverse("audit:search"),
        ],
    }


# How many lines the navigation bar's brand and items take: their vertical centres, a line apart when > 12 px.
NAV_ROWS = """() => [...document.querySelectorAll('.navbar .navbar-brand, .navbar .nav-item')]
    .filter(item => item.offsetParent !== null)
    .map(item => { const box = item.getBoundingClientRect(); return (box.top + box.bottom) / 2; })
    .sort((a, b) => a - b)
    .reduce((rows, centre, i, all) => rows + (i > 0 && centre - all[i - 1] > 12 ? 1 : 0), 1)"""

# Words of the navigation that wrap inside their item ("Lot / recall", "Sign / out"): an item's text boxes more than
# 12 px apart (a badge beside a word sits a few px lower, on the same line).
NAV_WRAPPED = """() => [...document.querySelectorAll(
      '.navbar .navbar-brand, .navbar .nav-link, .navbar .navbar-text, .navbar .btn')]
    .filter(item => item.offsetParent !== null)
    .filter(item => { const range = document.createRange(); range.selectNodeContents(item);
      const tops = [...range.getClientRects()].filter(rect => rect.width > 1 && rect.height > 1)
        .map(rect => rect.top);
      return tops.length > 1 && Math.max(...tops) - Math.min(...tops) > 12; })
    .map(item => item.textContent.trim())"""


def axe_violations(page, base_url: str) -> list[dict]:
    page.add_script_tag(url=f"{base_url}{static(AXE)}")
    result = page.evaluate("tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", WCAG_AA)
    return [violation for violation in result["violations"] if violation["impact"] in BLOCKING]


def describe(path: str, violation: dict) -> str:
    targets = "; ".join(" ".join(map(str, node["target"])) for node in violation["nodes"][:8])
    more = len(violation["nodes"]) - 8
    return (
        f"{path}: {violation['id']} ({violation['impact']}) — {violation['help']}\n"
        f"    at {targets}{f' … and {more} more' if more > 0 else ''}"
    )


@pytest.mark.parametrize("size", SIZES)
def test_every_page_of_every_role_passes_axe_and_never_scrolls_sideways_on_a_tablet(live_server, browser, pages, size):
    problems = []
    for username, paths in pages.items():
        context = browser.new_context(viewport=SIZES[size], has_touch=True, locale="en-US")
        policy = PolicyWatch(context)
        page = context.new_page()
        page.set_default_timeout(15_000)
        if username:
            sign_in(page, live_server.url, username, factories.PASSWORD)
            page.wait_for_url(lambda url: "/accounts/login/" not in url and "/accounts/mfa/" not in url)
            problems += policy.problems(f"signing in as {username}")
        for path in paths:
            response = page.goto(f"{live_server.url}{path}")
            if response.status != 200 or response.url != f"{live_server.url}{path}":
                problems.append(f"{path}: {username or 'anonymous'} gets {response.status}, not the page")
                continue
            problems += [describe(path, violation) for violation in axe_violations(page, live_server.url)]
            problems += policy.problems(path)
            if size == "tablet":
                widths = page.evaluate(
                    "() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]"
                )
                if widths[0] > widths[1]:
                    problems.append(f"{path}: scrolls sideways at 1024 px ({widths[0]} px wide in {widths[1]} px)")
                if page.evaluate(NAV_ROWS) > 1:
                    problems.append(f"{path}: the navigation wraps onto a second line at 1024 px")
                wrapped = page.evaluate(NAV_WRAPPED)
                if wrapped:
                    problems.append(f"{path}: navigation words wrap at 1024 px: {wrapped}")
        context.close()
    assert not problems, f"{len(problems)} accessibility or policy problem(s) at {size} size:\n" + "\n".join(problems)
