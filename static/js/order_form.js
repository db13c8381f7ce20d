// The order form shows only the fields of the regimen chosen (visits/orders/forms.py REGIMEN_FIELDS marks each
// regimen field with data-regimens). Without this script every field of the chosen regimen is still rendered by the
// server after Preview, so the form works without it.
(function () {
  "use strict";

  function showRegimenFields(form) {
    var select = form.querySelector("select[name=regimen]");
    if (!select) { return; }
    var chosen = select.value;
    form.querySelectorAll("[data-regimens]").forEach(function (column) {
      var used = Boolean(chosen) && column.dataset.regimens.split(" ").indexOf(chosen) !== -1;
      column.classList.toggle("d-none", !used);
    });
  }

  function bind() {
    var form = document.getElementById("order-form");
    if (!form) { return; }
    showRegimenFields(form);
    form.addEventListener("change", function (event) {
      if (event.target.name === "regimen") { showRegimenFields(form); }
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", bind);
  } else {
    bind();
  }
})();
