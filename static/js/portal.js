// The patient portal: copy the private calendar address.
// Without JavaScript the Copy button stays hidden and the address is selected and copied by hand.
(function () {
  "use strict";

  function selectAll(input) {
    input.focus();
    input.select();
    input.setSelectionRange(0, input.value.length);
  }

  function say(status, text) {
    if (!status) return;
    status.textContent = "";
    // A fresh text node each time, so a second copy is announced again.
    window.setTimeout(function () { status.textContent = text; }, 50);
  }

  function copyByHand(input, status) {
    selectAll(input);
    var copied = false;
    try {
      copied = document.execCommand("copy");
    } catch (error) {
      copied = false;
    }
    say(status, copied ? "Copied" : "The address is selected: copy it with your phone's Copy.");
  }

  function setUp(button) {
    var input = document.getElementById(button.dataset.copyFrom);
    var status = document.getElementById(button.dataset.copyStatus);
    if (!input) return;
    input.addEventListener("focus", function () { input.select(); });
    input.addEventListener("click", function () { selectAll(input); });
    button.addEventListener("click", function () {
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(input.value).then(
          function () { say(status, "Copied"); },
          function () { copyByHand(input, status); }
        );
      } else {
        copyByHand(input, status);
      }
    });
    button.hidden = false;
  }

  function start() {
    document.querySelectorAll("[data-copy-from]").forEach(setUp);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
