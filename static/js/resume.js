// After an idle logoff, an in-page save is answered 401 and nothing is swapped, so the form keeps what was typed.
// This asks for the same user's password in place, signs that account in again (accounts/resume/), puts the new
// CSRF token in the page and sends the refused forms again, once each. Someone else signs in on the sign-in page
// instead, so nothing typed by one nurse is ever sent under another's account. The chart's own entries wait in its
// outbox (outbox.js), which asks for the password here and sends them once the session is back.
(function () {
  "use strict";

  var body = document.body;
  var user = body.getAttribute("data-resume-user");
  var url = body.getAttribute("data-resume-url");
  if (!user || !url) { return; }
  var waiting = []; // forms refused for want of a session, sent again after signing in
  var resumed = []; // what else waits for the session: the chart's outbox sends its entries
  var dialog = null;

  function token() {
    try { return JSON.parse(body.getAttribute("hx-headers") || "{}")["X-CSRFToken"] || ""; } catch (e) { return ""; }
  }

  function useToken(value) {
    body.setAttribute("hx-headers", JSON.stringify({ "X-CSRFToken": value }));
    document.querySelectorAll('input[name="csrfmiddlewaretoken"]').forEach(function (input) { input.value = value; });
  }

  function element(tag, attributes, text) {
    var node = document.createElement(tag);
    Object.keys(attributes).forEach(function (name) { node.setAttribute(name, attributes[name]); });
    if (text) { node.textContent = text; }
    return node;
  }

  function build() {
    dialog = element("dialog", { id: "resume-dialog", "aria-labelledby": "resume-title", class: "border-0 rounded-3 shadow p-4" });
    var form = element("form", { id: "resume-form", novalidate: "" });
    form.appendChild(element("h2", { id: "resume-title", class: "h5" }, "You were signed out"));
    form.appendChild(element("p", {}, "Nothing you typed is lost. Type your password (" + user + ") to sign in again; "
      + "what you were saving is then sent."));
    form.appendChild(element("label", { for: "resume-password", class: "form-label" }, "Your password"));
    form.appendChild(element("input", { id: "resume-password", type: "password", autocomplete: "current-password",
      class: "form-control form-control-lg mb-2", required: "" }));
    form.appendChild(element("p", { id: "resume-error", class: "text-danger fw-semibold mb-2", role: "alert" }));
    var buttons = element("div", { class: "d-flex flex-wrap gap-2 align-items-center" });
    buttons.appendChild(element("button", { type: "submit", class: "btn btn-primary btn-lg" }, "Sign in and send"));
    buttons.appendChild(element("a", { href: "/accounts/login/", class: "btn btn-link" }, "Not you? Sign in on the sign-in page"));
    form.appendChild(buttons);
    dialog.appendChild(form);
    body.appendChild(dialog);
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      resume(form);
    });
  }

  function ask() {
    if (!dialog) { build(); }
    if (!dialog.open) { dialog.showModal(); }
    dialog.querySelector("#resume-password").focus();
  }

  function resume(form) {
    var password = form.querySelector("#resume-password");
    var error = form.querySelector("#resume-error");
    error.textContent = "";
    fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "X-CSRFToken": token(), "Content-Type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ username: user, password: password.value }),
    }).then(function (response) {
      return response.json().then(function (data) { return { ok: response.ok, data: data }; });
    }).then(function (answer) {
      if (!answer.ok) {
        error.textContent = answer.data.error || "Not signed in.";
        password.select();
        return;
      }
      useToken(answer.data.csrf);
      password.value = "";
      dialog.close();
      waiting.splice(0).forEach(function (refused) {
        if (refused.isConnected) { refused.requestSubmit ? refused.requestSubmit() : htmx.trigger(refused, "submit"); }
      });
      resumed.forEach(function (callback) { callback(); });
    }).catch(function () {
      error.textContent = "No connection: try again when the tablet is back online.";
    });
  }

  // The outbox (outbox.js) sends chart entries itself: it asks here when one is answered "signed out".
  window.infusionSession = {
    ask: ask,
    onResume: function (callback) { resumed.push(callback); },
  };

  body.addEventListener("htmx:afterRequest", function (event) {
    var xhr = event.detail.xhr;
    if (!xhr || xhr.status !== 401 || !xhr.getResponseHeader("X-Signed-Out")) { return; }
    var source = event.detail.elt;
    if (source && source.tagName === "FORM" && waiting.indexOf(source) < 0) { waiting.push(source); }
    ask();
  });
})();
