// The printable visit record: its Print button opens the browser's print dialog (a listener, not an onclick="",
// which the Content-Security-Policy refuses).
(function () {
  "use strict";

  document.querySelectorAll("[data-print]").forEach(function (button) {
    button.addEventListener("click", function () { window.print(); });
  });
})();
