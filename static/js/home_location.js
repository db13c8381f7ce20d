// "I am at the patient's home": before the form in templates/patients/partials/home_location.html goes (by htmx
// or as a plain post), ask the browser where the tablet is and put it in the hidden fields. Without a location
// nothing is sent: the home's location is never saved empty or guessed.
(function () {
  "use strict";
  if (window.homeLocationBound) { return; } // the partial comes back with each answer, and this script with it
  window.homeLocationBound = true;

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.matches || !form.matches("form[data-home-locate]") || form.dataset.located) { return; }
    event.preventDefault();
    event.stopImmediatePropagation();
    var status = form.querySelector("[data-home-status]");
    var button = form.querySelector("button[type=submit]");
    function say(text) { if (status) { status.textContent = text; } }
    if (!form.elements.confirm.checked) {
      say("Tick the box to confirm you are at the patient's home.");
      form.elements.confirm.focus();
      return;
    }
    if (!navigator.geolocation) { say("This browser cannot share a location; nothing was saved."); return; }
    button.disabled = true;
    say("Finding your location…");
    navigator.geolocation.getCurrentPosition(
      function (position) {
        form.elements.latitude.value = position.coords.latitude;
        form.elements.longitude.value = position.coords.longitude;
        form.elements.accuracy_m.value = Math.round(position.coords.accuracy);
        button.disabled = false;
        say("Saving…");
        form.dataset.located = "1";
        if (form.requestSubmit) { form.requestSubmit(); } else { form.submit(); }
        delete form.dataset.located;
      },
      function () {
        button.disabled = false;
        say("Location not shared; nothing was saved. Allow location for this site and try again.");
      },
      { enableHighAccuracy: true, timeout: 15000, maximumAge: 0 }
    );
  }, true);
})();
