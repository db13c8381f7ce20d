/* Vital-sign charts (Chart.js, vendored): every <canvas data-vitals-chart="ID"> is drawn from the JSON in the
   <script id="ID" type="application/json"> that json_script wrote next to it. Charts in sections that htmx swaps in
   are drawn when they arrive. */
(function () {
  "use strict";
  var SERIES = [
    { key: "temperature", label: "Temperature (°C)", axis: "temperature", color: "#d63384" },
    { key: "pulse", label: "Pulse (/min)", axis: "y", color: "#0d6efd" },
    { key: "systolic", label: "Systolic (mmHg)", axis: "y", color: "#dc3545" },
    { key: "diastolic", label: "Diastolic (mmHg)", axis: "y", color: "#fd7e14" },
    { key: "respiratory_rate", label: "Respiration (/min)", axis: "y", color: "#198754" },
    { key: "spo2", label: "SpO₂ (%)", axis: "y", color: "#6f42c1" }
  ];

  function draw(canvas) {
    if (canvas.dataset.drawn || typeof window.Chart === "undefined") { return; }
    var source = document.getElementById(canvas.dataset.vitalsChart);
    if (!source) { return; }
    var data = JSON.parse(source.textContent);
    canvas.dataset.drawn = "1";
    new window.Chart(canvas, {
      type: "line",
      data: {
        labels: data.labels,
        datasets: SERIES.filter(function (series) { return data[series.key]; }).map(function (series) {
          return {
            label: series.label,
            data: data[series.key],
            yAxisID: series.axis,
            borderColor: series.color,
            backgroundColor: series.color,
            spanGaps: true,
            tension: 0
          };
        })
      },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        interaction: { mode: "index", intersect: false },
        plugins: {
          legend: { position: "bottom", labels: { boxWidth: 14 } },
          tooltip: {
            callbacks: {
              title: function (items) {
                var index = items[0].dataIndex;
                return data.labels[index] + (data.phases ? " · " + data.phases[index] : "");
              }
            }
          }
        },
        scales: {
          y: { position: "left", title: { display: true, text: "/min · mmHg · %" } },
          temperature: { position: "right", grid: { drawOnChartArea: false }, title: { display: true, text: "°C" } }
        }
      }
    });
  }

  function drawAll(root) {
    (root || document).querySelectorAll("canvas[data-vitals-chart]").forEach(draw);
  }

  if (window.htmx) { window.htmx.onLoad(drawAll); }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { drawAll(document); });
  } else {
    drawAll(document);
  }
})();
