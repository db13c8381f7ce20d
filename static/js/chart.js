// The visit chart: what the nurse needs to see after a refused save, and anchors that clear the sticky strip.
//
// 1. The "what is next" strip (#whats-next) sticks to the top of the screen. Its measured height goes into
//    --whats-next-clearance, which app.css uses as the page's scroll-padding-top: "Go there" links,
//    location.hash and scrollIntoView all land below the strip, whatever its height.
// 2. After a refused save (400: correct the form; 409: locked or changed elsewhere) the section comes back with
//    its messages. The first one (the first invalid field, else the section's message block) is scrolled below
//    the strip and focused, so a screen reader reads it and the nurse sees it. htmx swaps these answers because
//    of the responseHandling in base.html's htmx-config. A plain post that is refused renders the whole chart at
//    the form's own address, and gets the same treatment on load.
(function () {
  "use strict";

  var strip = document.getElementById("whats-next");
  var GAP = 8; // px between the strip and what lands below it
  var MESSAGE = '[role="alert"]';
  var FIELD = 'input.is-invalid, select.is-invalid, textarea.is-invalid, [aria-invalid="true"]';
  // What to keep on screen with a field: its label or legend and its message.
  var FIELD_BOX = 'fieldset, [id^="div_"], .mb-3, [class*="col-"]';
  // The last thing placed below the strip, placed again if the strip grows before the nurse scrolls herself.
  var placed = null;

  function clearance() {
    if (!strip) { return 0; }
    return (parseFloat(getComputedStyle(strip).top) || 0) + strip.offsetHeight + GAP;
  }

  function measureStrip() {
    document.documentElement.style.setProperty("--whats-next-clearance", Math.ceil(clearance()) + "px");
    if (placed && placed.isConnected && placed.getBoundingClientRect().top < clearance()) {
      placed.scrollIntoView({ block: "start" });
    }
  }

  function placeBelowStrip(element) {
    measureStrip();
    placed = element;
    element.scrollIntoView({ block: "start" });
  }

  // Tie a hand-written field message to its field (crispy-rendered fields already carry aria-describedby).
  function describeFields(section) {
    section.querySelectorAll(".invalid-feedback").forEach(function (feedback, index) {
      var owner = [feedback.parentElement, feedback.parentElement && feedback.parentElement.parentElement]
        .find(function (element) { return element && element.querySelector(FIELD); });
      if (!owner) { return; }
      if (!feedback.id) { feedback.id = section.id + "-error-" + index; }
      owner.querySelectorAll(FIELD).forEach(function (field) {
        var ids = (field.getAttribute("aria-describedby") || "").split(/\s+/).filter(Boolean);
        if (ids.indexOf(feedback.id) === -1) {
          field.setAttribute("aria-describedby", ids.concat(feedback.id).join(" "));
        }
      });
    });
  }

  function showFirstError(section) {
    describeFields(section);
    var field = Array.prototype.find.call(section.querySelectorAll(FIELD), function (element) {
      return element.type !== "hidden" && !element.disabled;
    });
    var message = section.querySelector(MESSAGE);
    var target = field || message;
    if (!target) { return; }
    var closed = target.closest("details:not([open])");
    while (closed) {
      closed.open = true;
      closed = closed.closest("details:not([open])");
    }
    var box = field ? field.closest(FIELD_BOX) || field : message;
    // Show from the section's heading, or at least from its message, when that still leaves the field on screen.
    var room = window.innerHeight - clearance() - GAP;
    var bottom = box.getBoundingClientRect().bottom;
    var top = [section, message, box].find(function (element) {
      return element && element.getBoundingClientRect().top <= box.getBoundingClientRect().top
        && bottom - element.getBoundingClientRect().top <= room;
    }) || box;
    placeBelowStrip(top);
    if (!field) { message.setAttribute("tabindex", "-1"); }
    target.focus({ preventScroll: true });
  }

  function refusedSectionOnLoad() {
    var here = window.location.pathname;
    var form = Array.prototype.find.call(document.querySelectorAll("form[action]"), function (element) {
      // getAttribute: a field named "action" (the reaction form has one) hides form.action.
      return new URL(element.getAttribute("action"), window.location.href).pathname === here;
    });
    return form && form.closest('section[id^="section-"]');
  }

  if (strip) {
    measureStrip();
    if (window.ResizeObserver) { new ResizeObserver(measureStrip).observe(strip); }
    if (window.location.hash) {
      var anchored = document.getElementById(decodeURIComponent(window.location.hash.slice(1)));
      if (anchored) { placed = anchored; }
    }
  }
  ["wheel", "touchmove", "keydown", "mousedown"].forEach(function (name) {
    window.addEventListener(name, function () { placed = null; }, { passive: true });
  });

  var refused = refusedSectionOnLoad();
  if (refused) { showFirstError(refused); }

  var handled = new WeakSet();
  // 3. Sections marked data-refresh-unless-typed fetch themselves again after any save on the chart (sign-off lists
  //    what is still missing), but never over what the nurse has typed in them: her note or a waiver's reason.
  document.body.addEventListener("htmx:beforeRequest", function (event) {
    var section = event.detail.elt;
    if (!section.hasAttribute || !section.hasAttribute("data-refresh-unless-typed")) { return; }
    if (event.detail.requestConfig && event.detail.requestConfig.verb !== "get") { return; }
    var typed = Array.prototype.some.call(
      section.querySelectorAll("textarea, input[type=text], input[type=password]"),
      function (field) { return field.value.trim() !== ""; }
    );
    if (typed) { event.preventDefault(); }
  });

  // The outbox (outbox.js) sends chart entries itself and says so when a section comes back refused.
  document.body.addEventListener("chart:refused", function (event) { showFirstError(event.target); });

  document.body.addEventListener("htmx:afterSettle", function (event) {
    var xhr = event.detail && event.detail.xhr;
    if (!xhr || (xhr.status !== 400 && xhr.status !== 409) || handled.has(xhr)) { return; }
    var section = event.target.closest && event.target.closest('section[id^="section-"]');
    if (!section) { return; }
    handled.add(xhr);
    showFirstError(section);
  });
})();

// 4. Check-in and check-out (sections/checkin.html) send the tablet's location: the hidden fields are filled before
//    the form goes (htmx or plain POST); without a location it is sent anyway and saved as "location not verified".
//    Listening on the document (capture) covers the form in every version htmx swaps in.
(function () {
  "use strict";

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.matches || !form.matches("form[data-geolocate]") || form.dataset.located) { return; }
    event.preventDefault();
    event.stopImmediatePropagation();
    var status = form.querySelector("[data-geo-status]");
    var button = form.querySelector("button[type=submit]");
    var done = false;
    function send(position, why) {
      if (done) { return; }
      done = true;
      if (position) {
        form.elements.latitude.value = position.coords.latitude;
        form.elements.longitude.value = position.coords.longitude;
        form.elements.accuracy_m.value = Math.round(position.coords.accuracy);
      } else if (status) {
        status.textContent = why + " Saving without a location.";
      }
      button.disabled = false;
      form.dataset.located = "1";
      if (form.requestSubmit) { form.requestSubmit(); } else { form.submit(); }
      delete form.dataset.located;
    }
    if (!navigator.geolocation) { send(null, "This browser cannot share a location."); return; }
    button.disabled = true;
    if (status) { status.textContent = "Finding your location…"; }
    window.setTimeout(function () { send(null, "No location after 15 seconds."); }, 15000);
    navigator.geolocation.getCurrentPosition(
      function (position) { send(position, ""); },
      function () { send(null, "Location not shared."); },
      { enableHighAccuracy: true, timeout: 12000, maximumAge: 60000 }
    );
  }, true);
})();
