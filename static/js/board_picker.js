// The board's one shared "Assign…" picker (templates/visits/board/picker_dialog.html). Every card's "Assign…" is a
// link to the picker's own page (views.nurse_picker), so it works without JavaScript; here the link opens the one
// dialog instead and loads the small list of the team's nurses for that card (htmx GET), searched as she types.
// Choosing a nurse posts the assignment like any board action; the dialog closes and the board or the card redraws
// (a conflict comes back on the card with "Assign anyway"). Escape or "Close" closes it and focus returns to the card.
(function () {
  "use strict";

  var SEARCH_DELAY_MS = 250;
  var dialog, input, list, opener, baseUrl, scope, timer;

  function load() {
    var url = baseUrl + (baseUrl.indexOf("?") < 0 ? "?" : "&") + "q=" + encodeURIComponent(input.value.trim());
    if (scope) { url += "&scope=" + encodeURIComponent(scope); }
    window.htmx.ajax("GET", url, { target: list, swap: "innerHTML" });
  }

  function open(link) {
    opener = link;
    baseUrl = link.getAttribute("data-nurse-picker");
    scope = "";
    input.value = "";
    list.textContent = "Loading the team's nurses…";
    dialog.showModal();
    input.focus();
    load();
  }

  function returnFocus() {
    var card = opener && opener.closest("[data-visit]");
    var target = opener && document.body.contains(opener) ? opener : null;
    if (!target && card) {  // the card was redrawn: find it again by its id
      var again = document.getElementById(card.id);
      target = again && again.querySelector("a, button");
    }
    if (target) { target.focus(); }
  }

  document.addEventListener("DOMContentLoaded", function () {
    dialog = document.getElementById("nurse-picker");
    if (!dialog || typeof dialog.showModal !== "function" || !window.htmx) { return; }  // the links still work
    input = document.getElementById("nurse-picker-q");
    list = document.getElementById("nurse-picker-list");

    document.addEventListener("click", function (event) {
      var link = event.target.closest("[data-nurse-picker]");
      if (link) { event.preventDefault(); open(link); return; }
      if (!dialog.open) { return; }
      if (event.target.closest("[data-picker-close]")) { dialog.close(); return; }
      if (event.target.closest("[data-picker-scope]")) { event.preventDefault(); scope = "all"; load(); input.focus(); }
    });

    input.addEventListener("input", function () {
      window.clearTimeout(timer);
      timer = window.setTimeout(load, SEARCH_DELAY_MS);
    });
    input.addEventListener("keydown", function (event) {
      if (event.key === "ArrowDown") {  // from the search straight into the list
        var first = list.querySelector("button");
        if (first) { event.preventDefault(); first.focus(); }
      }
    });
    list.addEventListener("keydown", function (event) {
      if (event.key !== "ArrowDown" && event.key !== "ArrowUp") { return; }
      var buttons = Array.prototype.slice.call(list.querySelectorAll("button"));
      var index = buttons.indexOf(document.activeElement);
      if (index < 0) { return; }
      event.preventDefault();
      if (event.key === "ArrowUp" && index === 0) { input.focus(); return; }
      var next = buttons[Math.min(Math.max(index + (event.key === "ArrowDown" ? 1 : -1), 0), buttons.length - 1)];
      next.focus();
    });
    dialog.querySelector("[data-picker-search]").addEventListener("submit", function (event) {
      event.preventDefault();
      window.clearTimeout(timer);
      load();
    });

    // A nurse was chosen: the request is on its way with its own target (the card or the board); close the dialog.
    document.addEventListener("htmx:beforeRequest", function (event) {
      if (dialog.open && event.target.closest && event.target.closest("[data-picker-choice]")) { dialog.close(); }
    });
    dialog.addEventListener("close", function () { window.setTimeout(returnFocus, 0); });
    document.addEventListener("htmx:afterSettle", function () {
      if (!dialog.open && opener && !document.body.contains(opener)) { returnFocus(); opener = null; }
    });
  });
})();
