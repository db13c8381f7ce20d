"""The strict Content-Security-Policy: every response carries it, and no template brings back what it forbids.

The policy is the same on every page: scripts and styles only from our own static files (a nonce on full pages, for
a script that truly needs to be inline), no eval, no inline style, nothing framed, no plugin, no other host. The
template scan keeps inline scripts, style="" attributes and on*="" handlers from coming back; the browser walks
(tests/e2e/test_accessibility.py, test_chart_flow.py) catch what JavaScript or a library would add at run time.
"""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.urls import reverse

from tests import factories
from tests.conftest import client_for

TEMPLATES = Path(settings.BASE_DIR) / "templates"
STATIC = Path(settings.BASE_DIR) / "static"

# The policy, directive by directive; script-src carries the page's nonce where the page uses one.
POLICY = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self'",
    "connect-src": "'self'",
    "font-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'none'",
    "frame-ancestors": "'none'",
    "form-action": "'self'",
    "worker-src": "'self'",
    "manifest-src": "'self'",
}
NONCE = re.compile(r"^'self' 'nonce-([A-Za-z0-9+/=]{22,})'$")


def directives(response) -> dict[str, str]:
    assert "Content-Security-Policy-Report-Only" not in response, "the policy is enforced, not only reported"
    header = response["Content-Security-Policy"]
    parts = [part.strip().split(" ", 1) for part in header.split(";") if part.strip()]
    return {name: value for name, value in parts}


def assert_the_policy(response, *, nonce: bool) -> str | None:
    """The exact policy; returns the page's nonce when it has one."""
    policy = directives(response)
    script_src = policy.pop("script-src")
    assert policy == {name: value for name, value in POLICY.items() if name != "script-src"}
    if not nonce:
        assert script_src == "'self'"
        return None
    match = NONCE.match(script_src)
    assert match, f"script-src should be 'self' and the page's nonce, not {script_src!r}"
    return match.group(1)


def script_tags(html: str) -> list[str]:
    return re.findall(r"<script\b[^>]*>", html, flags=re.IGNORECASE)


def assert_no_inline_code(html: str) -> None:
    for tag in script_tags(html):
        # json_script writes data, which is never run: allowed.
        assert "src=" in tag or 'type="application/json"' in tag, f"inline script on the page: {tag}"
    assert not re.search(r"<style\b", html, flags=re.IGNORECASE), "a <style> element on the page"
    assert not re.search(r"\sstyle\s*=", html, flags=re.IGNORECASE), "a style= attribute on the page"
    assert not re.search(r"<[^>]+\son[a-z]+\s*=", html, flags=re.IGNORECASE), "an inline on*= handler on the page"


@pytest.fixture
def visit(cast):
    return factories.infusing_visit(
        nurse_user=cast.assigned_nurse, patient=cast.patient, order=factories.OrderFactory(patient=cast.patient)
    )


@pytest.fixture
def admin_client(db):
    admin = get_user_model().objects.create_superuser("site-admin", "admin@example.org", factories.PASSWORD)
    return client_for(admin)


def test_a_nurses_chart_has_the_exact_policy_and_its_scripts_carry_the_nonce(cast, visit):
    response = client_for(cast.assigned_nurse).get(reverse("visits:chart", args=[visit.pk]))
    assert response.status_code == 200
    nonce = assert_the_policy(response, nonce=True)
    html = response.content.decode()
    # base.html's scripts carry it (a page's own scripts need not: 'self' admits them).
    for script in ("vendor/htmx/htmx.min.js", "vendor/bootstrap/bootstrap.bundle.min.js", "js/outbox.js"):
        (tag,) = [tag for tag in script_tags(html) if script in tag]
        assert f'nonce="{nonce}"' in tag, tag
    assert_no_inline_code(html)


def test_every_response_gets_a_fresh_nonce(cast, visit):
    nurse = client_for(cast.assigned_nurse)
    url = reverse("visits:chart", args=[visit.pk])
    first, second = (assert_the_policy(nurse.get(url), nonce=True) for _ in range(2))
    assert first != second


def test_the_anonymous_sign_in_page_has_the_exact_policy(client, db):
    response = client.get(reverse("login"))
    assert response.status_code == 200
    assert_the_policy(response, nonce=True)
    assert_no_inline_code(response.content.decode())


def test_a_redirect_to_sign_in_has_the_policy_too(client, db):
    response = client.get(reverse("patients:list"))
    assert response.status_code in (302, 401)
    assert_the_policy(response, nonce=False)


def test_the_patients_portal_has_the_exact_policy(cast):
    response = client_for(cast.patient_user).get(reverse("portal:home"))
    assert response.status_code == 200
    assert_the_policy(response, nonce=True)
    assert_no_inline_code(response.content.decode())


def test_an_htmx_partial_has_the_policy_without_a_nonce(cast, visit):
    response = client_for(cast.assigned_nurse).get(reverse("visits:next", args=[visit.pk]), HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert "<html" not in response.content.decode()
    assert_the_policy(response, nonce=False)


@pytest.mark.parametrize(
    "page",
    [
        lambda cast: reverse("admin:index"),
        lambda cast: reverse("admin:patients_patient_changelist"),
        lambda cast: reverse("admin:patients_patient_change", args=[cast.patient.pk]),
        lambda cast: reverse("admin:visits_product_add"),
    ],
)
def test_the_admin_has_the_same_policy_and_no_inline_script(cast, admin_client, page):
    """Django 5.2's admin keeps its scripts in files and its data in data-* attributes: no exception is needed."""
    response = admin_client.get(page(cast))
    assert response.status_code == 200
    assert_the_policy(response, nonce=False)
    for tag in script_tags(response.content.decode()):
        assert "src=" in tag or 'type="application/json"' in tag, tag


def test_the_service_worker_and_the_manifest_have_the_policy(cast):
    nurse = client_for(cast.assigned_nurse)
    for name in ("offline:worker", "offline:manifest", "offline:page"):
        response = nurse.get(reverse(name))
        assert response.status_code == 200, name
        assert_the_policy(response, nonce=False)


def policy_settings(**environment) -> str:
    """CONTENT_SECURITY_POLICY and its report-only twin as a fresh process reads them from the environment."""
    env = {key: value for key, value in os.environ.items() if key != "CSP_REPORT_ONLY"} | environment
    env["DJANGO_SETTINGS_MODULE"] = "infusion_site.settings"
    code = (
        "from django.conf import settings as s; "
        "print(bool(s.CONTENT_SECURITY_POLICY), bool(s.CONTENT_SECURITY_POLICY_REPORT_ONLY), "
        "(s.CONTENT_SECURITY_POLICY or s.CONTENT_SECURITY_POLICY_REPORT_ONLY)['DIRECTIVES']['style-src'])"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=settings.BASE_DIR, capture_output=True, text=True, check=True
    )
    return result.stdout.strip()


def test_the_policy_is_enforced_unless_csp_report_only_is_set():
    assert policy_settings() == "True False [\"'self'\"]"
    assert policy_settings(CSP_REPORT_ONLY="0") == "True False [\"'self'\"]"
    # Report-only sends the same policy to diagnose a page; it never turns the policy off.
    assert policy_settings(CSP_REPORT_ONLY="1") == "False True [\"'self'\"]"


def test_report_only_mode_sends_the_same_policy_as_report_only(client, db, settings):
    settings.CONTENT_SECURITY_POLICY_REPORT_ONLY = settings.CONTENT_SECURITY_POLICY
    settings.CONTENT_SECURITY_POLICY = None
    response = client.get(reverse("login"))
    assert "Content-Security-Policy" not in response
    header = response["Content-Security-Policy-Report-Only"]
    assert "style-src 'self'" in header and "object-src 'none'" in header
    assert "report-uri" not in header and "report-to" not in header  # reports would carry page addresses


# --- What the templates and our scripts may not contain -------------------------------------------------------

FORBIDDEN_IN_TEMPLATES = [
    (re.compile(r"\sstyle\s*=", re.IGNORECASE), 'a style="" attribute (use a class in static/css/app.css)'),
    (re.compile(r"<style\b", re.IGNORECASE), "a <style> element (move it into static/css/app.css)"),
    (re.compile(r"<script\b(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE), "an inline <script> (use a file in static/js/)"),
    (re.compile(r"<[a-z][^>]*\son[a-z]+\s*=", re.IGNORECASE), "an inline on*= handler (use addEventListener)"),
    (re.compile(r"\bhx-on", re.IGNORECASE), "hx-on (htmx evaluates it as code)"),
    (re.compile(r"javascript:", re.IGNORECASE), "a javascript: address"),
]
FORBIDDEN_IN_SCRIPTS = [
    (re.compile(r"""setAttribute\(\s*["']style["']"""), 'setAttribute("style", …) (use element.style or a class)'),
    (re.compile(r"""\sstyle\s*=\s*\\?["']"""), "markup with a style= attribute written from JavaScript"),
    (re.compile(r"<style\b"), "a <style> element written from JavaScript"),
    (re.compile(r"\beval\(|\bnew Function\("), "eval or new Function (the policy has no 'unsafe-eval')"),
]


def findings(text: str, rules) -> list[str]:
    return [why for pattern, why in rules if pattern.search(text)]


def test_the_scan_recognises_what_it_forbids():
    """The scan itself: each forbidden form is found, and what is allowed is not."""
    for bad in (
        '<div style="height: 1px">',
        "<style>.x{}</style>",
        "<script>alert(1)</script>",
        '<script type="module">x()</script>',
        '<button onclick="go()">',
        '<form hx-on::after-request="x">',
        '<a href="javascript:void(0)">',
    ):
        assert findings(bad, FORBIDDEN_IN_TEMPLATES), bad
    for good in (
        "<script src=\"{% static 'js/chart.js' %}\" defer></script>",
        '{{ chart|json_script:"journal-chart-data" }}',
        '<div class="vitals-chart-frame" data-style="x">',
        '<polyline fill="none" stroke="#0a58ca" points="0,0 1,1"/>',
    ):
        assert not findings(good, FORBIDDEN_IN_TEMPLATES), good
    assert findings('el.setAttribute("style", "x")', FORBIDDEN_IN_SCRIPTS)
    assert findings("box.innerHTML = '<span style=\"color: red\">'", FORBIDDEN_IN_SCRIPTS)
    assert findings("new Function('return 1')", FORBIDDEN_IN_SCRIPTS)
    assert not findings('el.style.setProperty("--x", "1px"); el.classList.add("a")', FORBIDDEN_IN_SCRIPTS)


def test_no_template_has_inline_script_style_or_handler():
    problems = []
    for path in sorted(TEMPLATES.rglob("*.html")):
        for number, line in enumerate(path.read_text().splitlines(), start=1):
            problems += [
                f"{path.relative_to(TEMPLATES)}:{number}: {why}" for why in findings(line, FORBIDDEN_IN_TEMPLATES)
            ]
    assert not problems, "\n".join(problems)


def test_our_scripts_write_no_inline_style_and_evaluate_no_code():
    problems = []
    for path in sorted((STATIC / "js").rglob("*.js")):
        for number, line in enumerate(path.read_text().splitlines(), start=1):
            problems += [f"{path.relative_to(STATIC)}:{number}: {why}" for why in findings(line, FORBIDDEN_IN_SCRIPTS)]
    assert not problems, "\n".join(problems)


def test_every_bootstrap_data_icon_is_replaced_by_a_file():
    """Bootstrap draws form, navbar and close icons from data: URIs, refused by img-src 'self'. app.css gives each
    rule the same icon as a file; a Bootstrap upgrade that adds one fails here until it is given its file too."""
    bootstrap = (STATIC / "vendor" / "bootstrap" / "bootstrap.min.css").read_text()
    ours = re.sub(r"/\*.*?\*/", "", (STATIC / "css" / "app.css").read_text(), flags=re.DOTALL)
    overrides = {
        (re.sub(r"\s+", "", selector), prop): file
        for selector, body in re.findall(r"([^{}]+)\{([^{}]*icons/bootstrap/[^{}]*)\}", ours)
        # Absolute: a url() in a custom property is resolved against the stylesheet that uses it, bootstrap.min.css.
        for prop, file in re.findall(r"([-a-z]+):\s*url\(\"/static/(icons/bootstrap/[-a-z]+\.svg)\"\)", body)
    }
    missing = []
    for selector, body in re.findall(r"([^{}]+)\{([^{}]*url\(\"data:[^{}]*)\}", bootstrap):
        for prop in re.findall(r"([-a-z]+):url\(\"data:", body):
            file = overrides.get((re.sub(r"\s+", "", selector), prop))
            if not file or not (STATIC / file).is_file():
                missing.append(f"{selector.strip()} {{ {prop} }}")
    assert not missing, "Bootstrap data: icons without a file in app.css:\n" + "\n".join(missing)
    assert "data:" not in ours
