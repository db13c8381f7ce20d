"""On the tablet (1024×768) what the chart says lands where the nurse can see it: below the sticky "what is next"
strip, not under it. A refused save brings its first message into view and gives it the focus; "Go there" and a
#section-… address put the section's heading below the strip."""

import re

import pytest
from playwright.sync_api import expect

from tests import factories

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Where an element sits once the page has stopped scrolling (the chart scrolls smoothly), next to the strip.
SETTLED_BOXES = """async (selector) => {
  let last = null, still = 0;
  while (still < 6) {
    await new Promise((done) => requestAnimationFrame(done));
    still = window.scrollY === last ? still + 1 : 0;
    last = window.scrollY;
  }
  const box = (element) => { const r = element.getBoundingClientRect(); return { top: r.top, bottom: r.bottom }; };
  return { strip: box(document.getElementById("whats-next")), target: box(document.querySelector(selector)),
           viewport: window.innerHeight };
}"""


@pytest.fixture
def chart_url(live_server, cast):
    """The chart of an infusion running for two hours (42, 84, then 126 mL/hr), of the assigned nurse."""
    order = factories.OrderFactory(patient=cast.patient)
    visit = factories.infusing_visit(nurse_user=cast.assigned_nurse, order=order, patient=cast.patient)
    return f"{live_server.url}/visits/{visit.pk}/"


def assert_below_the_strip(page, selector):
    boxes = page.evaluate(SETTLED_BOXES, selector)
    assert boxes["target"]["top"] >= boxes["strip"]["bottom"], boxes
    assert boxes["target"]["bottom"] <= boxes["viewport"], boxes


def test_a_refused_reaction_shows_its_message_below_the_strip_and_focuses_the_field(page, login, chart_url):
    login("nurse-assigned", factories.PASSWORD)
    page.goto(chart_url)
    expect(page.locator("#whats-next-text")).to_be_visible()
    reactions = page.locator("#section-reactions")
    record = reactions.get_by_role("button", name="Record the reaction")
    record.scroll_into_view_if_needed()

    # No symptom ticked.
    reactions.get_by_text(re.compile(r"^Grade 1:")).click()
    reactions.get_by_text("Continued", exact=True).click()
    record.click()
    message = page.locator("#section-reactions").get_by_text("Tick at least one symptom.")
    expect(message).to_be_visible()
    focused = page.locator("#section-reactions [name=symptoms]").first
    expect(focused).to_be_focused()
    assert_below_the_strip(page, "#section-reactions fieldset:has([name=symptoms]) .invalid-feedback")
    # A screen reader reads the message with the field.
    message_id = message.evaluate("element => element.closest('.invalid-feedback').id")
    assert message_id in focused.get_attribute("aria-describedby").split()

    # Grade 3 without stopping the infusion: refused at the action, further down.
    reactions = page.locator("#section-reactions")
    reactions.get_by_text("Flushing", exact=True).click()
    reactions.get_by_text(re.compile(r"^Grade 3:")).click()
    reactions.get_by_text("Continued", exact=True).click()
    reactions.get_by_role("button", name="Record the reaction").click()
    expect(page.locator("#section-reactions").get_by_text(re.compile("requires stopping"))).to_be_visible()
    expect(page.locator("#section-reactions [name=action]").first).to_be_focused()
    assert_below_the_strip(page, "#section-reactions fieldset:has([name=action]) .invalid-feedback")


def test_go_there_and_a_section_address_land_the_heading_below_the_strip(page, login, live_server, chart_url):
    login("nurse-assigned", factories.PASSWORD)

    # Opened at #section-vitals: the strip loads after the page, and the heading still clears it.
    page.goto(f"{chart_url}#section-vitals")
    expect(page.locator("#whats-next-text")).to_be_visible()
    assert_below_the_strip(page, "#section-vitals h2")

    page.evaluate("window.scrollTo(0, 0)")
    go_there = page.locator("#whats-next").get_by_role("link", name="Go there")
    anchor = go_there.get_attribute("href")
    assert re.fullmatch(r"#section-[a-z]+", anchor), anchor
    go_there.click()
    assert_below_the_strip(page, f"{anchor} h2")
