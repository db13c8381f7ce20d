// The patient's outcome measures over time (MMT-8, CDASI activity and damage, patient global), drawn from the
// data the page carries in <script id="outcome-series" type="application/json">.
(function () {
  "use strict";

  function draw() {
    var source = document.getElementById("outcome-series");
    if (!source || typeof Chart === "undefined") return;
    var series = JSON.parse(source.textContent);
    var labels = series.map(function (row) { return row.measured_on; });

    function line(label, key, color) {
      return {
        label: label,
        data: series.map(function (row) { return row[key]; }),
        borderColor: color,
        backgroundColor: color,
        pointRadius: 5,
        tension: 0,
      };
    }

    function chart(id, datasets, max) {
      var canvas = document.getElementById(id);
      if (!canvas) return;
      new Chart(canvas, {
        type: "line",
        data: { labels: labels, datasets: datasets },
        options: {
          animation: false,
          responsive: true,
          scales: { y: { min: 0, max: max, ticks: { precision: 0 } } },
          plugins: { legend: { display: datasets.length > 1 } },
        },
      });
    }

    chart("outcomes-mmt8", [line("MMT-8", "mmt8", "#0d6efd")], 150);
    chart(
      "outcomes-cdasi",
      [line("CDASI activity", "cdasi_activity", "#dc3545"), line("CDASI damage", "cdasi_damage", "#6c757d")],
      100
    );
    chart("outcomes-global", [line("Patient global", "patient_global", "#198754")], 10);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
})();
