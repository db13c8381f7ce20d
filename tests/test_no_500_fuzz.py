"""No input, however hostile, answers 5xx.

Walks the URLconf through the access table: every pattern, as each role that may use it (coordinator, assigned
nurse, patient), is opened with hostile query strings, and every form the page renders is posted with hostile values
in its fields (names read from the HTML, the form's own values and CSRF token as the base). Values come from
hypothesis: NUL bytes, surrogates, huge and negative numbers, year-0 and year-9999 dates, 100 kB strings, HTML and
SQL-looking text, empty values, wrong types. A fixed profile (derandomized, a few examples) keeps the run short and
the same on every machine; run it on PostgreSQL too, where a NUL or an overflow is a DataError instead of a quiet
truncation.
"""

from html.parser import HTMLParser
from urllib.parse import quote, urljoin, urlsplit

import pytest
from django.urls import reverse
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from tests.conftest import ROLES, client_for
from tests.test_access_table import LOGIN, TABLE

# The roles the fuzz plays: each page as every one of them that may use it.
PLAYERS = ["coordinator", "assigned_nurse", "patient_user"]
REFUSED = {LOGIN, 403, 404, 405}

PROFILE = hypothesis_settings(
    derandomize=True,
    max_examples=5,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)

# Query parameters the views read, besides those of the GET forms a page renders.
QUERY_NAMES = ["q", "page", "lot", "section", "preset", "week", "day", "date", "start", "nurse", "team", "view", "next"]
# Field names tried on a POST-only URL whose form lives on another page.
GENERIC_FIELDS = ["note", "reason", "text", "value", "date", "starts_at", "ends_at", "nurse", "email", "client_id"]
# Actions that would end the fuzz's own session.
SKIPPED_ACTIONS = ("/accounts/logout/",)

HOSTILE_CONSTANTS = [
    "",
    " ",
    "\x00",
    "abc\x00def",
    "\ud800",
    "x\udfffy",
    "x" * 100_000,
    "9" * 40,
    "-9" * 20,
    "2147483648",
    "9223372036854775808",
    "-2147483649",
    "-1",
    "0",
    "1e309",
    "NaN",
    "Infinity",
    "-Infinity",
    "99999999999999999999.999999999",
    "0.0000000000000000001",
    "9999-12-31",
    "0000-00-00",
    "0001-01-01",
    "1899-12-31",
    "2026-02-30",
    "9999-12-31T23:59",
    "0001-01-01T00:00",
    "25:61",
    "<script>alert(1)</script>",
    "' OR 1=1 --",
    "%_\\",
    "[]",
    "{}",
    "true",
    "on",
    "null",
    "../../etc/passwd",
    "\u202e\ufeff\u200b",
]

HOSTILE = st.one_of(
    st.sampled_from(HOSTILE_CONSTANTS),
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
    st.decimals(allow_nan=True, allow_infinity=True, places=None).map(str),
    st.dates().map(lambda day: day.isoformat()),
    st.text(alphabet=st.sampled_from("\x00\ud800a1-.:/ <>'\"%é"), max_size=12),
)


class FormParser(HTMLParser):
    """The forms of a page: method, action and the (name, value) pairs a browser would send unchanged."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms, self._form, self._select, self._textarea = [], None, None, None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            method = "post" if (attrs.get("hx-post") or (attrs.get("method") or "get").lower() == "post") else "get"
            action = attrs.get("hx-post") or attrs.get("action") or ""
            self._form = {"method": method, "action": action, "fields": {}}
            self.forms.append(self._form)
        if tag == "option" and self._form is not None and self._select is not None:
            fields = self._form["fields"]
            if fields.get(self._select) is None or "selected" in attrs:
                fields[self._select] = attrs.get("value", "")
            return
        if self._form is None or not attrs.get("name"):
            return
        name, fields = attrs["name"], self._form["fields"]
        if tag == "input":
            kind = (attrs.get("type") or "text").lower()
            if kind in ("checkbox", "radio") and "checked" not in attrs:
                fields.setdefault(name, None)
            elif kind not in ("submit", "button", "image", "reset") or name not in fields:
                fields[name] = attrs.get("value") or ("on" if kind == "checkbox" else "")
        elif tag == "button":
            fields.setdefault(name, attrs.get("value") or "")
        elif tag == "select":
            self._select = name
            fields.setdefault(name, None)
        elif tag == "textarea":
            self._textarea = name
            fields[name] = ""

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)

    def handle_data(self, data):
        if self._form is not None and self._textarea:
            self._form["fields"][self._textarea] += data

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        elif tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None


def forms_of(html: str) -> list[dict]:
    parser = FormParser()
    parser.feed(html)
    return parser.forms


def encode(pairs) -> str:
    """A query string or form body as a hostile client would send it: a lone surrogate travels as its raw bytes."""
    return "&".join(
        f"{quote(key.encode('utf-8', 'surrogatepass'))}={quote(value.encode('utf-8', 'surrogatepass'))}"
        for key, value in pairs
    )


def send(client, method, url, pairs, hx=False):
    headers = {"HX-Request": "true"} if hx else {}
    body = encode(pairs)
    try:
        if method == "get":
            response = client.get(f"{url}?{body}" if body else url, headers=headers)
        else:
            response = client.post(url, body, content_type="application/x-www-form-urlencoded", headers=headers)
    except Exception as error:  # the test client re-raises the view's exception: that is a 500
        pytest.fail(f"{method.upper()} {url} with {_shown(pairs)} raised {error!r}")
    assert response.status_code < 500, f"{method.upper()} {url} with {_shown(pairs)}: {response.status_code}"
    return response


def _shown(pairs):
    return [(key, value if len(value) < 80 else f"{value[:20]}…({len(value)} chars)") for key, value in pairs]


def base_pairs(fields: dict) -> list[tuple[str, str]]:
    return [(name, value) for name, value in fields.items() if value is not None]


def fuzz(client, method, url, names, base):
    names = sorted(set(names))

    @PROFILE
    @given(hostile=st.dictionaries(st.sampled_from(names), HOSTILE, min_size=1, max_size=4), hx=st.booleans())
    def run(hostile, hx):
        pairs = [(name, value) for name, value in base if name not in hostile] + list(hostile.items())
        send(client, method, url, pairs, hx=hx)

    run()


CASES = [
    (name, role) for name, row in TABLE.items() for role in PLAYERS if row.expect[ROLES.index(role)] not in REFUSED
]


@pytest.mark.parametrize(("name", "role"), CASES, ids=[f"{name}-{role}" for name, role in CASES])
def test_no_hostile_input_answers_5xx(cast, name, role):
    row = TABLE[name]
    url = reverse(name, kwargs=row.kwargs(cast))
    client = client_for(cast.user(role))
    if row.method == "post":
        fuzz(client, "post", url, GENERIC_FIELDS, [])
        return
    page = send(client, "get", url, [])
    html = page.content.decode("utf-8", "replace") if "html" in page.get("Content-Type", "") else ""
    forms = forms_of(html)
    query_names = QUERY_NAMES + [n for form in forms if form["method"] == "get" for n in form["fields"]]
    fuzz(client, "get", url, query_names, [])
    for form in forms:
        action = urljoin(url, form["action"]) if form["action"] else url
        if form["method"] != "post" or not form["fields"] or urlsplit(action).netloc:
            continue
        if urlsplit(action).path in SKIPPED_ACTIONS:
            continue
        fuzz(client, "post", action, list(form["fields"]), base_pairs(form["fields"]))


def test_the_fuzz_reads_the_forms_a_page_renders(cast):
    """The walk is only as good as its parser: the nurse's chart must yield its section forms, each with fields."""
    row = TABLE["visits:chart"]
    page = client_for(cast.assigned_nurse).get(reverse("visits:chart", kwargs=row.kwargs(cast)))
    posted = [form for form in forms_of(page.content.decode()) if form["method"] == "post" and form["fields"]]
    assert len(posted) >= 5
    assert any("csrfmiddlewaretoken" in form["fields"] for form in posted)
    assert all(name for form in posted for name in form["fields"])


def test_hostile_values_travel_as_a_hostile_client_sends_them():
    assert encode([("q", "a\x00b")]) == "q=a%00b"
    assert encode([("q", "\ud800")]) == "q=%ED%A0%80"  # a lone surrogate as raw bytes, never encoded away
